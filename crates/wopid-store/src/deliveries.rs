//! The webhook delivery queue: events waiting to be POSTed to a receiver, durable in the metadata
//! store so that a restart loses none, and claimed with a lease so that several wopid nodes
//! sharing one database never send the same delivery at the same time.
//!
//! A claim moves the delivery's next attempt to the end of its lease and records the claimant;
//! a node that dies while sending leaves it to become due again when the lease runs out.

use async_trait::async_trait;

use crate::error::Result;

/// A delivery to queue: one event for one receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The delivery's id, the same on every attempt (`X-Wopid-Delivery`).
    pub id: String,
    /// The receiver's URL.
    pub url: String,
    /// The event type, e.g. `file.saved`.
    pub event: String,
    /// The JSON body, exactly as it is signed and sent.
    pub payload: String,
    pub created_ms: i64,
}

/// A queued delivery, as a claim hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    /// Order of queuing (the store's own counter): oldest first.
    pub seq: i64,
    pub url: String,
    pub event: String,
    pub payload: String,
    pub created_ms: i64,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it is due next (for a claimed one: when its lease ends).
    pub next_attempt_ms: i64,
    /// The claim it was handed out under.
    pub claim: Option<String>,
    /// What went wrong on the last failed attempt.
    pub last_error: Option<String>,
}

#[async_trait]
pub trait WebhookQueue: Send + Sync {
    /// Queues deliveries, all or none, each due at once (at its `created_ms`).
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> Result<()>;
    /// Claims up to `limit` deliveries due at `now_ms` (oldest first) for `lease_ms`: each one's
    /// next attempt moves to `now_ms + lease_ms` and its claim becomes `claim`, in one atomic
    /// step. Deliveries claimed at the same moment by another node are skipped, so parallel
    /// claims never hand out the same delivery twice while its lease runs.
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
        claim: &str,
    ) -> Result<Vec<Delivery>>;
    /// Removes a delivery (delivered, or given up); `false` when it was no longer queued.
    async fn finish_delivery(&self, id: &str) -> Result<bool>;
    /// Records a failed attempt of a delivery still held under `claim`: one more attempt, due
    /// again at `next_ms`. `false` (and nothing changed) when the claim is no longer its own.
    async fn retry_delivery(
        &self,
        id: &str,
        claim: &str,
        next_ms: i64,
        error: &str,
    ) -> Result<bool>;
    /// Queued deliveries, oldest first, at most `limit`.
    async fn pending_deliveries(&self, limit: u32) -> Result<Vec<Delivery>>;
    /// When the earliest queued delivery is due, if any is queued.
    async fn next_delivery_due(&self) -> Result<Option<i64>>;
}

// The statements both engines run alike, with SQLite's `?N` parameters (PostgreSQL's through
// `rows::numbered`).

pub(crate) const FINISH: &str = "DELETE FROM webhook_deliveries WHERE id = ?1";
pub(crate) const RETRY: &str = "UPDATE webhook_deliveries SET attempts = attempts + 1, \
     next_attempt_ms = ?1, claim = NULL, last_error = ?2 WHERE id = ?3 AND claim = ?4";
pub(crate) const PENDING: &str = concat!(
    "SELECT ",
    crate::rows::delivery_cols!(),
    " FROM webhook_deliveries ORDER BY seq LIMIT ?1"
);
pub(crate) const NEXT_DUE: &str = "SELECT MIN(next_attempt_ms) FROM webhook_deliveries";
