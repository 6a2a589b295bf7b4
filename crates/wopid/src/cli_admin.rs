//! Administration commands: files, tokens, users, shares, OAuth clients, discovery.

use std::io::BufRead as _;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;
use wopid_store::{BlobStream, OAuthClient, ResourceKind};

use crate::auth::{Perms, password};
use crate::cli_args::{FilesCommand, TokenCommand, UsersCommand, open};
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
            admin,
        } => {
            let state = open(&store).await?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let account = crate::ops::users::Account {
                login: &name,
                display_name: display_name.as_deref(),
                email: email.as_deref(),
                password: password.as_deref(),
                admin,
            };
            let user = crate::ops::users::create(&state, account)
                .await
                .map_err(|e| anyhow::anyhow!("user {name}: {e}"))?;
            println!(
                "{}",
                serde_json::json!({"user_id": user.id, "login": user.login, "admin": user.admin})
            );
        }
        UsersCommand::Disable { store, name } => {
            let state = open(&store).await?;
            let u = state
                .meta
                .user_by_login(&name)
                .await?
                .with_context(|| format!("no user {name}"))?;
            crate::ops::users::disable(&state, &u.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("user {name} disabled");
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
    let on = on_resource(state, target).await?;
    let is_file = matches!(on, crate::ops::sharing::Resource::File(_));
    crate::ops::files::share(state, None, on.shared(), &u.id, write).await?;
    let what = if is_file { "file" } else { "container" };
    println!(
        "{what} {target} shared with {login} ({})",
        if write { "read-write" } else { "read-only" }
    );
    Ok(())
}

/// The file or container `target` names, for `share`.
async fn on_resource(
    state: &AppState,
    target: &str,
) -> anyhow::Result<crate::ops::sharing::Resource> {
    match crate::ops::shares::resource(state, target).await {
        Ok(r) => Ok(r),
        Err(crate::error::ApiError::Proto(wopid_proto::ProtoError::NotFound)) => {
            anyhow::bail!("no file or container {target}")
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes the share of the user signed in as `login` on a file or container.
pub(crate) async fn unshare(state: &AppState, target: &str, login: &str) -> anyhow::Result<()> {
    let u = state
        .meta
        .user_by_login(login)
        .await?
        .with_context(|| format!("no user {login}"))?;
    let on = on_resource(state, target).await?;
    anyhow::ensure!(
        crate::ops::files::unshare(state, None, on.shared(), &u.id).await?,
        "{target} is not shared with {login}"
    );
    println!("share of {target} with {login} removed");
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

pub(crate) async fn discovery(cmd: crate::cli_args::DiscoveryCommand) -> anyhow::Result<()> {
    use crate::cli_args::DiscoveryCommand;
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
                    wopid_proto::Millis::from_ms(l.fetched_ms).to_iso8601(),
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

pub(crate) async fn files(cmd: FilesCommand) -> anyhow::Result<()> {
    match cmd {
        FilesCommand::Add {
            store,
            name,
            user,
            container,
            path,
        } => {
            let state = open(&store).await?;
            let body: BlobStream = match path {
                Some(p) => {
                    let f = tokio::fs::File::open(&p)
                        .await
                        .with_context(|| format!("opening {}", p.display()))?;
                    Box::pin(tokio_util::io::ReaderStream::new(f))
                }
                None => Box::pin(futures_util::stream::empty()),
            };
            let f = crate::ops::files::add_file(&state, &user, &name, container.as_deref(), body)
                .await?;
            println!("{}", f.id);
        }
        FilesCommand::Ls { store } => {
            let state = open(&store).await?;
            for f in state.meta.list_files(None).await? {
                let lock = if f.lock_id.is_some() && f.lock_expires_ms > state.clock.now_ms() {
                    "locked"
                } else {
                    "-"
                };
                println!(
                    "{}\t{}\t{}\tv{}\t{}\t{}",
                    f.id,
                    f.size,
                    wopid_proto::Millis::from_ms(f.modified_ms).to_iso8601(),
                    f.version,
                    lock,
                    f.name
                );
            }
        }
        FilesCommand::Get { store, id, out } => {
            let state = open(&store).await?;
            let file = crate::ops::load(&state, &id).await?;
            let mut dl = crate::ops::content::get_file(&state, &file, u64::MAX, None).await?;
            let mut file = tokio::fs::File::create(&out).await?;
            while let Some(chunk) = dl.body.next().await {
                file.write_all(&chunk?).await?;
            }
            file.sync_all().await?;
        }
        FilesCommand::Versions { store, id } => {
            let state = open(&store).await?;
            for v in crate::ops::files::versions(&state, &id).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    v.version,
                    v.size,
                    wopid_proto::Millis::from_ms(v.modified_ms).to_iso8601(),
                    v.sha256,
                    v.author_id
                );
            }
        }
        FilesCommand::Restore { store, id, version } => {
            let state = open(&store).await?;
            let f = crate::ops::files::restore(&state, None, &id, version).await?;
            println!(
                "restored version {version} of {} as version {}",
                f.id, f.version
            );
        }
    }
    Ok(())
}

pub(crate) async fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Issue {
            store,
            file,
            user,
            read_only,
            no_write_relative,
            ttl,
            for_editor: editor,
        } => {
            let state = open(&store).await?;
            let f = crate::ops::load(&state, &file).await?;
            let u = state
                .meta
                .user_by_login(&user)
                .await?
                .with_context(|| format!("no user {user}"))?;
            // The token can grant no more than the user's access to the file.
            let access = crate::auth::access::file_access(&state, &u.id, &f).await?;
            let Some(max) = access.perms() else {
                anyhow::bail!(
                    "{user} has no access to {file}: share it first (wopid share {file} --user {user})"
                );
            };
            let perms = Perms::new(!read_only && max.can_write(), !no_write_relative);

            if let Some(e) = &editor {
                anyhow::ensure!(
                    state.editors.get(e).is_some(),
                    "no editor {e} is configured"
                );
            }
            let fresh = crate::auth::issue::Purpose::Fresh {
                client: editor.as_deref(),
                kind: ResourceKind::File,
                id: &f.id,
                perms,
                ttl,
                epoch: None,
            };
            let issued = crate::auth::issue::issue(&state, &u.id, fresh).await?;
            let (t, expires) = (issued.token, issued.expires_ms);
            let out = serde_json::json!({
                "access_token": t.expose(),
                "access_token_ttl": expires,
                "wopi_src": state.wopi_src(&f.id),
                "file_id": f.id,
            });
            println!("{out}");
        }
        TokenCommand::Revoke { store, user, file } => {
            let state = open(&store).await?;
            let u = state
                .meta
                .user_by_login(&user)
                .await?
                .context("no such user")?;
            let n = state.meta.revoke_tokens(&u.id, file.as_deref()).await?;
            println!("revoked {n} tokens");
        }
    }
    Ok(())
}
