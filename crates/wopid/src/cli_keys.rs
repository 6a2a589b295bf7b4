//! `wopid api-keys add|list|revoke`: the keys of the management API.

use crate::auth::api_key::{self, Scope};
use crate::cli_args::{ApiKeysCommand, open};

pub(crate) async fn api_keys(cmd: ApiKeysCommand) -> anyhow::Result<()> {
    match cmd {
        ApiKeysCommand::Add {
            store,
            name,
            scope,
            origins,
        } => {
            let state = open(&store).await?;
            let scope = Scope::parse(&scope).ok_or_else(|| anyhow::anyhow!("unknown scope"))?;
            let (record, key) = api_key::create(&state, &name, scope, origins)
                .await?
                .map_err(|why| anyhow::anyhow!("{why}"))?;
            println!(
                "{}",
                serde_json::json!({
                    "id": record.id,
                    "name": record.name,
                    "scope": record.scope,
                    "origins": record.origins,
                    "key": key.expose(),
                })
            );
            eprintln!("Keep the key now: wopid stores only its hash and cannot show it again.");
        }
        ApiKeysCommand::List { store } => {
            let state = open(&store).await?;
            for k in api_key::list(&state).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.scope,
                    if k.revoked { "revoked" } else { "active" },
                    k.name,
                    k.origins.join(" ")
                );
            }
        }
        ApiKeysCommand::Revoke { store, id } => {
            let state = open(&store).await?;
            anyhow::ensure!(api_key::revoke(&state, &id).await?, "no API key {id}");
            println!("API key {id} revoked");
        }
    }
    Ok(())
}
