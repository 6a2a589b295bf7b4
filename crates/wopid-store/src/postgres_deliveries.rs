//! The PostgreSQL engine's `WebhookQueue`. A claim is one statement: the due rows are picked with
//! `FOR UPDATE SKIP LOCKED`, so nodes claiming at the same moment take different rows, and their
//! lease is moved in the same statement.

use async_trait::async_trait;

use crate::deliveries::{self, Delivery, NewDelivery, WebhookQueue};
use crate::error::Result;
use crate::postgres::PgMeta;
use crate::rows::{delivery, delivery_cols, numbered};

#[async_trait]
impl WebhookQueue for PgMeta {
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> Result<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for d in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries \
                 (id, url, event, payload, created_ms, attempts, next_attempt_ms) \
                 VALUES ($1, $2, $3, $4, $5, 0, $5)",
            )
            .bind(&d.id)
            .bind(&d.url)
            .bind(&d.event)
            .bind(&d.payload)
            .bind(d.created_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        claim: &str,
    ) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(concat!(
            "UPDATE webhook_deliveries SET next_attempt_ms = $2, claim = $3 \
             WHERE id IN (SELECT id FROM webhook_deliveries WHERE next_attempt_ms <= $1 \
             ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
            delivery_cols!()
        ))
        .bind(now_ms)
        .bind(now_ms.saturating_add(lease_ms))
        .bind(claim)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|d| d.seq);
        Ok(out)
    }

    async fn finish_delivery(&self, id: &str) -> Result<bool> {
        let done = sqlx::query(&numbered(deliveries::FINISH))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn retry_delivery(
        &self,
        id: &str,
        claim: &str,
        next_ms: i64,
        error: &str,
    ) -> Result<bool> {
        let done = sqlx::query(&numbered(deliveries::RETRY))
            .bind(next_ms)
            .bind(error)
            .bind(id)
            .bind(claim)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn pending_deliveries(&self, limit: u32) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&numbered(deliveries::PENDING))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery).collect()
    }

    async fn next_delivery_due(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(deliveries::NEXT_DUE)
            .fetch_one(&self.pool)
            .await?)
    }
}
