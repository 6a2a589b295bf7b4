//! The command line: `wopid serve` and the dispatch of the other commands (`cli_admin`,
//! `cli_ops`). The arguments are `cli_args`.

use std::sync::Arc;

use anyhow::Context as _;

pub use crate::cli_args::*;
use crate::clock::SystemClock;
use crate::config::EXAMPLE;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Files(cmd) => crate::cli_admin::files(cmd).await,
        Command::Token(cmd) => crate::cli_admin::token(cmd).await,
        Command::Config(ConfigCommand::Example) => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Command::Users(cmd) => crate::cli_admin::users(cmd).await,
        Command::Check { store } => crate::cli_ops::check(&store).await,
        Command::MigrateDb { store } => crate::cli_ops::migrate_db(&store).await,
        Command::Migrate(args) => crate::cli_ops::migrate(&args).await,
        Command::Share {
            store,
            target,
            user,
            read_only: _,
            write,
            remove: false,
        } => crate::cli_admin::share(&open(&store).await?, &target, &user, write).await,
        Command::Share {
            store,
            target,
            user,
            remove: true,
            ..
        } => crate::cli_admin::unshare(&open(&store).await?, &target, &user).await,
        Command::Discovery(cmd) => crate::cli_admin::discovery(cmd).await,
        Command::ApiKeys(cmd) => crate::cli_keys::api_keys(cmd).await,
        Command::OauthClients(OAuthClientsCommand::Add {
            store,
            name,
            redirect_uri,
            pkce_optional,
        }) => {
            crate::cli_admin::add_oauth_client(
                &open(&store).await?,
                &name,
                &redirect_uri,
                !pkce_optional,
            )
            .await
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let c = load_config(&args.store)?;
    let listener = tokio::net::TcpListener::bind(c.listen)
        .await
        .with_context(|| format!("binding {}", c.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if c.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let state = crate::prepare(c, Arc::new(SystemClock), &listener).await?;
    println!("listening on {scheme}://{addr}");

    crate::run(state, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
