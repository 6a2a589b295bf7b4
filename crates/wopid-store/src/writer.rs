//! Group commit for the SQLite engine: one thread owns the writing connection and applies writes
//! in groups.
//!
//! The thread waits for a write, then takes every other write already waiting (up to
//! [`MAX_GROUP`]). It opens one `BEGIN IMMEDIATE` transaction and runs each write inside a
//! savepoint of its own: a write that fails (a constraint, an I/O error) is rolled back to its
//! savepoint and answered with its error, and the others go on. A write whose own check fails
//! (a compare-and-swap that finds a newer revision) changes nothing and is answered `Stale` as
//! usual. The group then commits once; with `synchronous = FULL` that is one fsync of the WAL for
//! all of them. Every caller is answered only after that commit, so an acknowledged write is as
//! durable as a lone one. If the commit itself fails, every write of the group gets the error.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;

use crate::error::{Result, StoreError};

/// The most writes one transaction takes.
const MAX_GROUP: usize = 256;

/// A write waiting for the writer thread.
trait Job: Send {
    /// Applies the write on the connection; `false` when it failed and must be rolled back.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: with the write's own result, or `failed` when its group did not commit.
    fn answer(self: Box<Self>, failed: Option<StoreError>);
}

struct Typed<F, R> {
    f: Option<F>,
    out: Option<Result<R>>,
    reply: tokio::sync::oneshot::Sender<Result<R>>,
}

impl<F, R> Job for Typed<F, R>
where
    F: FnOnce(&Connection) -> Result<R> + Send,
    R: Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else {
            return false;
        };
        let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or(Err(StoreError::Invalid("a database write panicked")));
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn answer(self: Box<Self>, failed: Option<StoreError>) {
        let out = match (self.out, failed) {
            // A write that failed on its own keeps its own error.
            (Some(Err(e)), _) => Err(e),
            (_, Some(e)) => Err(e),
            (Some(ok), None) => ok,
            (None, None) => Err(StoreError::Invalid("a database write was not run")),
        };
        // The caller may have gone away; the write stands all the same.
        let _ = self.reply.send(out);
    }
}

type Queue = mpsc::Sender<Box<dyn Job>>;

/// The handle to the writer thread. Dropping it lets the thread finish its group and stop.
pub(crate) struct Writer {
    queue: Queue,
    #[cfg_attr(not(test), allow(dead_code))]
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the thread that owns `conn` (already in WAL mode with `synchronous = FULL`).
    pub(crate) fn start(conn: Connection) -> Result<Self> {
        let (queue, rx) = mpsc::channel::<Box<dyn Job>>();
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        std::thread::Builder::new()
            .name("wopid-sqlite-writer".into())
            .spawn(move || run(&conn, &rx, &counter))?;
        Ok(Self { queue, commits })
    }

    /// Queues a write and waits until the group it lands in has committed.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn Job> = Box::new(Typed {
            f: Some(f),
            out: None,
            reply,
        });
        self.queue
            .send(job)
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// How many groups have committed.
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

fn run(conn: &Connection, rx: &mpsc::Receiver<Box<dyn Job>>, commits: &AtomicU64) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match apply(conn, &mut group) {
            Ok(failed) => {
                commits.fetch_add(1, Ordering::Relaxed);
                for (job, lost) in group.into_iter().zip(failed) {
                    job.answer(lost);
                }
            }
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                let e = Arc::new(e);
                for job in group {
                    job.answer(Some(StoreError::Sqlite(e.clone())));
                }
            }
        }
    }
}

fn step(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs a group in one transaction. `Err` when the transaction could not be opened or
/// committed (nothing of the group stands); otherwise, per write, the error that took back a
/// write that had succeeded (the transaction was lost under it and begun again), if any.
fn apply(
    conn: &Connection,
    group: &mut [Box<dyn Job>],
) -> rusqlite::Result<Vec<Option<StoreError>>> {
    let mut lost: Vec<Option<StoreError>> = group.iter().map(|_| None).collect();
    // The writes applied in the transaction now open.
    let mut open: Vec<usize> = Vec::new();
    step(conn, "BEGIN IMMEDIATE")?;
    for (i, job) in group.iter_mut().enumerate() {
        step(conn, "SAVEPOINT w")?;
        let ok = job.run(conn);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): the writes
            // applied before this one are gone. Answer them with an error and go on with a new
            // transaction for the rest.
            let gone = Arc::new(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the group's transaction was rolled back".into()),
            ));
            for j in open.drain(..) {
                lost[j] = Some(StoreError::Sqlite(gone.clone()));
            }
            step(conn, "BEGIN IMMEDIATE")?;
            continue;
        }
        if ok {
            step(conn, "RELEASE w")?;
            open.push(i);
        } else {
            step(conn, "ROLLBACK TO w")?;
            step(conn, "RELEASE w")?;
        }
    }
    step(conn, "COMMIT")?;
    Ok(lost)
}
