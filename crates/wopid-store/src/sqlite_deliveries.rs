//! The SQLite engine's `WebhookQueue`. Each write is one closure of the group-commit writer, the
//! only writer of the database, so a claim (select the due rows, move their lease) is atomic.

use async_trait::async_trait;
use rusqlite::params;

use crate::deliveries::{self, Delivery, NewDelivery, WebhookQueue};
use crate::error::Result;
use crate::rows::{delivery, delivery_cols};
use crate::sqlite::{SqliteMeta, all, exec, one};

#[async_trait]
impl WebhookQueue for SqliteMeta {
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> Result<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let ds = deliveries.to_vec();
        self.writer
            .write(move |c| {
                for d in &ds {
                    exec(
                        c,
                        "INSERT INTO webhook_deliveries \
                         (id, seq, url, event, payload, created_ms, attempts, next_attempt_ms) \
                         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_deliveries), \
                         ?2, ?3, ?4, ?5, 0, ?5)",
                        params![d.id, d.url, d.event, d.payload, d.created_ms],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        claim: &str,
    ) -> Result<Vec<Delivery>> {
        let claim = claim.to_owned();
        let until = now_ms.saturating_add(lease_ms);
        self.writer
            .write(move |c| {
                let due = all(
                    c,
                    concat!(
                        "SELECT ",
                        delivery_cols!(),
                        " FROM webhook_deliveries WHERE next_attempt_ms <= ?1 ORDER BY seq LIMIT ?2"
                    ),
                    params![now_ms, limit],
                    |r| delivery(r),
                )?;
                let mut out = Vec::with_capacity(due.len());
                for mut d in due {
                    exec(
                        c,
                        "UPDATE webhook_deliveries SET next_attempt_ms = ?1, claim = ?2 WHERE id = ?3",
                        params![until, claim, d.id],
                    )?;
                    d.next_attempt_ms = until;
                    d.claim = Some(claim.clone());
                    out.push(d);
                }
                Ok(out)
            })
            .await
    }

    async fn finish_delivery(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.writer
            .write(move |c| Ok(exec(c, deliveries::FINISH, [id])? > 0))
            .await
    }

    async fn retry_delivery(
        &self,
        id: &str,
        claim: &str,
        next_ms: i64,
        error: &str,
    ) -> Result<bool> {
        let (id, claim, error) = (id.to_owned(), claim.to_owned(), error.to_owned());
        self.writer
            .write(move |c| {
                let n = exec(c, deliveries::RETRY, params![next_ms, error, id, claim])?;
                Ok(n > 0)
            })
            .await
    }

    async fn pending_deliveries(&self, limit: u32) -> Result<Vec<Delivery>> {
        self.read(|c| all(c, deliveries::PENDING, [limit], |r| delivery(r)))
    }

    async fn next_delivery_due(&self) -> Result<Option<i64>> {
        self.read(|c| {
            let due = one(c, deliveries::NEXT_DUE, [], |r| {
                Ok(r.get::<_, Option<i64>>(0)?)
            })?;
            Ok(due.flatten())
        })
    }
}
