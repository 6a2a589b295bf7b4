//! Administration commands: users, shares, OAuth clients.

use std::io::BufRead as _;

use anyhow::Context as _;
use wopid_store::{NewUser, OAuthClient, Share};

use crate::auth::password;
use crate::cli::{UsersCommand, open};
use crate::state::AppState;

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(
        pw.len() >= 8,
        "the password must have at least 8 characters"
    );
    Ok(pw)
}

pub(crate) async fn users(cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Add {
            store,
            name,
            email,
            display_name,
            password_stdin,
        } => {
            let state = open(&store).await?;
            if let Some(why) = wopid_proto::names::invalid_user_name_reason(&name) {
                anyhow::bail!("invalid user name: {why}");
            }
            if let Some(why) = display_name
                .as_deref()
                .and_then(wopid_proto::names::invalid_user_name_reason)
            {
                anyhow::bail!("invalid display name: {why}");
            }
            let password_hash = if password_stdin {
                Some(password::hash(&read_password()?)?)
            } else {
                None
            };
            let user = NewUser {
                id: wopid_store::new_id(),
                display_name: display_name.unwrap_or_else(|| name.clone()),
                login: name.clone(),
                email,
                password_hash,
            };
            anyhow::ensure!(
                state.meta.create_user(&user, state.now_ms()).await?,
                "user {name} exists"
            );
            state.meta.root_container(&user.id, state.now_ms()).await?;
            println!(
                "{}",
                serde_json::json!({"user_id": user.id, "login": user.login})
            );
        }
        UsersCommand::Ls { store } => {
            let state = open(&store).await?;
            for u in state.meta.list_users().await? {
                println!("{}\t{}\t{}", u.id, u.login, u.display_name);
            }
        }
        UsersCommand::Passwd {
            store,
            name,
            password_stdin,
        } => {
            anyhow::ensure!(
                password_stdin,
                "pass the new password on standard input with --password-stdin"
            );
            let state = open(&store).await?;
            let u = state
                .meta
                .user_by_login(&name)
                .await?
                .with_context(|| format!("no user {name}"))?;
            state
                .meta
                .set_password_hash(&u.id, &password::hash(&read_password()?)?)
                .await?;
            println!("password of {name} changed");
        }
    }
    Ok(())
}

pub(crate) async fn share(
    state: &AppState,
    target: &str,
    login: &str,
    write: bool,
) -> anyhow::Result<()> {
    let u = state
        .meta
        .user_by_login(login)
        .await?
        .with_context(|| format!("no user {login}"))?;
    let is_file = state.meta.file(target).await?.is_some();
    anyhow::ensure!(
        is_file || state.meta.container(target).await?.is_some(),
        "no file or container {target}"
    );
    state
        .meta
        .put_share(&Share {
            resource_id: target.to_owned(),
            user_id: u.id,
            can_write: write,
        })
        .await?;
    let what = if is_file { "file" } else { "container" };
    println!(
        "{what} {target} shared with {login} ({})",
        if write { "read-write" } else { "read-only" }
    );
    Ok(())
}

pub(crate) async fn add_oauth_client(
    state: &AppState,
    name: &str,
    redirect_uri: &str,
    require_pkce: bool,
) -> anyhow::Result<()> {
    // The name is shown on the sign-in page that asks the user to allow the client.
    if let Some(why) = wopid_proto::names::invalid_user_name_reason(name) {
        anyhow::bail!("invalid client name: {why}");
    }
    anyhow::ensure!(
        redirect_uri.contains("://") && !redirect_uri.contains('#'),
        "the redirect URI must be absolute, without a fragment"
    );
    let client = OAuthClient {
        id: wopid_store::new_id(),
        name: name.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        require_pkce,
    };
    state.meta.add_oauth_client(&client).await?;
    println!(
        "{}",
        serde_json::json!({"client_id": client.id, "name": client.name, "redirect_uri": client.redirect_uri, "require_pkce": client.require_pkce})
    );
    Ok(())
}

pub(crate) async fn discovery(cmd: crate::cli::DiscoveryCommand) -> anyhow::Result<()> {
    use crate::cli::DiscoveryCommand;
    use crate::editors::{Refreshed, load_cached, refresh};
    let (store, fetch) = match cmd {
        DiscoveryCommand::Show { store } => (store, false),
        DiscoveryCommand::Refresh { store } => (store, true),
    };
    let state = open(&store).await?;
    anyhow::ensure!(
        !state.editors.all().is_empty(),
        "no editors are configured (--editor NAME=URL or [[editors]])"
    );
    load_cached(&state).await;
    let mut failed = 0;
    for e in state.editors.all() {
        if fetch && let Refreshed::Failed(why) = refresh(&state, e).await {
            failed += 1;
            println!("{}: refresh failed: {why}", e.config.name);
        }
        match e.loaded() {
            None => println!("{}\t{}\tnot fetched", e.config.name, e.config.discovery),
            Some(l) => {
                let edit: Vec<String> = l.discovery.extensions_with("edit").into_iter().collect();
                let view: Vec<String> = l.discovery.extensions_with("view").into_iter().collect();
                println!(
                    "{}\t{}\tfetched {}\tproof keys: {}\tproof: {:?}",
                    e.config.name,
                    e.config.discovery,
                    crate::clock::iso8601(l.fetched_ms),
                    if l.keys.is_some() { "yes" } else { "no" },
                    e.config.proof
                );
                println!("  edit: {}", edit.join(" "));
                println!("  view: {}", view.join(" "));
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} discovery refresh(es) failed");
    Ok(())
}
