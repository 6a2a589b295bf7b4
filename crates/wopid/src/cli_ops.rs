//! Operations commands: `wopid check` (are the configured stores reachable?), `wopid migrate-db`
//! (apply the metadata schema migrations) and `wopid migrate` (copy an installation, every table
//! and every version's content, into other engines: resumable, checksums verified, refusing a
//! target that holds another installation).

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use wopid_store::{Blobs, Meta, TABLES, Value, redact_url};

use crate::cli_args::{MigrateArgs, StoreArgs, load_config};

/// How long `check` waits for each store.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);
/// Rows per page when copying a table.
const PAGE: u64 = 500;
/// The target's settings that record a migration in progress or done.
const FROM_KEY: &str = "migrated_from";
const STATE_KEY: &str = "migration_state";

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> anyhow::Result<T> {
    tokio::time::timeout(CHECK_TIMEOUT, f)
        .await
        .with_context(|| format!("{what}: no answer within {} s", CHECK_TIMEOUT.as_secs()))
}

/// `wopid check`: opens both configured stores and pings them; an error (exit 1) when either is
/// unreachable or the schema is not current.
pub async fn check(store: &StoreArgs) -> anyhow::Result<()> {
    let c = load_config(store)?;
    let (meta_url, blobs_url) = (c.meta_url(), c.blobs_url());
    let mut failed = false;
    match bounded("metadata", Meta::open(&meta_url)).await {
        Ok(Ok(m)) => match bounded("metadata", m.ping()).await {
            Ok(Ok(())) => println!("metadata: ok ({})", redact_url(&meta_url)),
            Ok(Err(e)) => fail(&mut failed, "metadata", &meta_url, &e),
            Err(e) => fail(&mut failed, "metadata", &meta_url, &e),
        },
        Ok(Err(e)) => fail(&mut failed, "metadata", &meta_url, &e),
        Err(e) => fail(&mut failed, "metadata", &meta_url, &e),
    }
    match bounded("blobs", Blobs::open(&blobs_url)).await {
        Ok(Ok(b)) => match bounded("blobs", b.ping()).await {
            Ok(Ok(())) => println!("blobs: ok ({})", redact_url(&blobs_url)),
            Ok(Err(e)) => fail(&mut failed, "blobs", &blobs_url, &e),
            Err(e) => fail(&mut failed, "blobs", &blobs_url, &e),
        },
        Ok(Err(e)) => fail(&mut failed, "blobs", &blobs_url, &e),
        Err(e) => fail(&mut failed, "blobs", &blobs_url, &e),
    }
    if failed {
        bail!("a store is unreachable");
    }
    Ok(())
}

fn fail(failed: &mut bool, what: &str, url: &str, e: &dyn std::fmt::Display) {
    *failed = true;
    println!("{what}: FAILED ({}): {e}", redact_url(url));
}

/// `wopid migrate-db`: opening the metadata engine applies the missing migrations.
pub async fn migrate_db(store: &StoreArgs) -> anyhow::Result<()> {
    let c = load_config(store)?;
    let url = c.meta_url();
    let meta = Meta::open(&url)
        .await
        .with_context(|| format!("migrating {}", redact_url(&url)))?;
    meta.ping().await?;
    println!("metadata schema is current ({})", redact_url(&url));
    Ok(())
}

/// Whether a store holds an installation: any user, container or file.
async fn holds_data(meta: &Meta) -> anyhow::Result<bool> {
    for t in TABLES
        .iter()
        .filter(|t| matches!(t.name, "users" | "containers" | "files"))
    {
        if meta.count_rows(t).await? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn progress(label: &str, done: u64, total: u64, started: Instant) {
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    eprint!(
        "\r{label}: {done}/{total} ({pct}%) {:.0} s   ",
        started.elapsed().as_secs_f64()
    );
    if done == total {
        eprintln!();
    }
}

/// `wopid migrate`: copies every blob a version (or a chunk) refers to (verifying size and SHA-256), then
/// every table. Rows already in the target are kept, so an interrupted run is resumed by running
/// the same command again. A target holding anything but an unfinished copy of the same source
/// is refused.
pub async fn migrate(a: &MigrateArgs) -> anyhow::Result<()> {
    let source_id = format!("{} {}", redact_url(&a.from_meta), redact_url(&a.from_blobs));
    let from_meta = Meta::open(&a.from_meta)
        .await
        .context("opening --from-meta")?;
    let from_blobs = Blobs::open(&a.from_blobs)
        .await
        .context("opening --from-blobs")?;
    let to_meta = Meta::open(&a.to_meta).await.context("opening --to-meta")?;
    let to_blobs = Blobs::open(&a.to_blobs)
        .await
        .context("opening --to-blobs")?;

    begin(&to_meta, &source_id).await?;
    // Blobs first: a metadata row is never copied before the content it points to.
    copy_blobs(&from_meta, &from_blobs, &to_blobs).await?;
    copy_tables(&from_meta, &to_meta).await?;
    to_meta.put_setting(STATE_KEY, "done").await?;
    eprintln!("migration done: the target now holds a copy of {source_id}");
    Ok(())
}

/// Marks the target as a copy in progress of `source_id`, or resumes one; refuses a target that
/// holds anything else.
async fn begin(to_meta: &Meta, source_id: &str) -> anyhow::Result<()> {
    match (
        to_meta.setting(FROM_KEY).await?,
        to_meta.setting(STATE_KEY).await?,
    ) {
        (Some(from), Some(state)) if from == source_id && state == "copying" => {
            eprintln!("resuming the unfinished copy from {source_id}");
        }
        (Some(from), Some(state)) if state == "done" => {
            bail!("the target already holds a finished copy of {from}: refusing to copy again")
        }
        _ if holds_data(to_meta).await? => {
            bail!("the target metadata store is not empty: refusing to overwrite it")
        }
        _ => {
            to_meta.put_setting(FROM_KEY, source_id).await?;
            to_meta.put_setting(STATE_KEY, "copying").await?;
        }
    }

    Ok(())
}

/// Copies every blob a version or a chunk refers to, verifying size and SHA-256.
async fn copy_blobs(from_meta: &Meta, from_blobs: &Blobs, to_blobs: &Blobs) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    let (mut copied, mut bytes) = (0u64, 0u64);
    // A version made of chunks names no blob of its own: its chunks are listed in `chunks`.
    for name in ["versions", "chunks"] {
        let table = TABLES
            .iter()
            .find(|t| t.name == name)
            .with_context(|| format!("{name} table"))?;
        let col = |c: &str| table.cols.iter().position(|(n, _)| *n == c);
        let (ki, si, hi) = (
            col("blob_key").context("blob_key")?,
            col("size").context("size")?,
            col("sha256").context("sha256")?,
        );
        let total = from_meta.count_rows(table).await?;
        let started = Instant::now();
        let mut done = 0u64;
        while done < total {
            let rows = from_meta.export_rows(table, done, PAGE).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                done += 1;
                let (Value::Text(key), Value::Int(size), Value::Text(sha)) =
                    (&row[ki], &row[si], &row[hi])
                else {
                    bail!("a {name} row without blob key, size or checksum");
                };
                if wopid_store::content_id(key).is_some() || !seen.insert(key.clone()) {
                    continue;
                }
                let expected = (u64::try_from(*size).unwrap_or(0), sha.as_str());
                if copy_blob(from_blobs, to_blobs, key, expected).await? {
                    copied += 1;
                    bytes += expected.0;
                }
                progress("blobs", done, total, started);
            }
        }
        progress("blobs", total, total, started);
    }
    eprintln!(
        "blobs: {copied} copied ({:.1} MB), {} already there and verified",
        bytes as f64 / 1e6,
        seen.len() as u64 - copied
    );

    Ok(())
}

/// Copies every table, page by page; rows already in the target are kept.
async fn copy_tables(from_meta: &Meta, to_meta: &Meta) -> anyhow::Result<()> {
    for t in TABLES.iter() {
        let total = from_meta.count_rows(t).await?;
        let started = Instant::now();
        if !t.keyed {
            // Rows without a key cannot be recognised: a resumed copy starts the table again.
            to_meta.clear_rows(t).await?;
        }
        let mut offset = 0;
        while offset < total {
            let rows = from_meta.export_rows(t, offset, PAGE).await?;
            if rows.is_empty() {
                break;
            }
            let rows: Vec<_> = if t.name == "settings" {
                // The target's own migration markers stay.
                rows.into_iter()
                    .filter(|r| !matches!(&r[0], Value::Text(k) if k == FROM_KEY || k == STATE_KEY))
                    .collect()
            } else {
                rows
            };
            to_meta.import_rows(t, &rows).await?;
            offset += PAGE;
            progress(t.name, offset.min(total), total, started);
        }
        if total == 0 {
            progress(t.name, 0, 0, started);
        }
        let now = to_meta.count_rows(t).await?;
        if now < total {
            bail!(
                "{}: {now} rows in the target for {total} in the source",
                t.name
            );
        }
    }
    Ok(())
}

/// Copies one blob unless the target has it with the right checksum; `Ok(true)` when copied.
async fn copy_blob(
    from: &Blobs,
    to: &Blobs,
    key: &str,
    (size, sha256): (u64, &str),
) -> anyhow::Result<bool> {
    if let Ok(existing) = to.get(key, None).await {
        let (n, sum) = hash_stream(existing).await?;
        if n == size && sum == sha256 {
            return Ok(false);
        }
    }
    let body = from
        .get(key, None)
        .await
        .with_context(|| format!("reading blob {key} from the source"))?;
    let out = to
        .put(key, body, u64::MAX)
        .await
        .with_context(|| format!("writing blob {key} to the target"))?;
    if out.size != size || out.sha256 != sha256 {
        let _ = to.delete(key).await;
        bail!(
            "blob {key}: copied {} bytes with SHA-256 {}, the version says {size} bytes, {sha256}",
            out.size,
            out.sha256
        );
    }
    Ok(true)
}

async fn hash_stream(mut s: wopid_store::BlobStream) -> anyhow::Result<(u64, String)> {
    use futures_util::StreamExt as _;
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = s.next().await {
        let chunk = chunk?;
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    Ok((
        n,
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    ))
}
