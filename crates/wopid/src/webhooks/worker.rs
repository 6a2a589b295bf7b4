//! The delivery worker: one tokio task per `wopid serve`, started by `run` and stopped with it.
//! It claims due deliveries from the queue under a lease (so nodes sharing one PostgreSQL never
//! send the same delivery at once), POSTs them one at a time in queuing order, and records the
//! outcome: 2xx removes the delivery; anything else schedules another attempt with exponential
//! backoff and jitter, until the delivery is older than `webhook_max_age` and is dropped with a
//! warning. It works beside the requests, never in them: a slow receiver delays only other
//! deliveries.

use std::time::Duration;

use rand::Rng as _;
use wopid_store::Delivery;

use crate::state::AppState;

/// Deliveries claimed at once.
const BATCH: u32 = 16;
/// Longest idle wait before the queue is looked at again: deliveries queued by another node or
/// by a CLI command, and leases that ran out, are picked up within this time.
const POLL: Duration = Duration::from_secs(2);

/// What became of a delivery attempt, as counted in `wopid_webhook_deliveries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Not delivered this time; another attempt is scheduled.
    Failed,
    /// Given up: too old, or its receiver is no longer configured.
    Dropped,
    /// The event could not be queued at all.
    Lost,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
            Outcome::Lost => "lost",
        }
    }
}

/// The running worker; dropping it stops the worker (a delivery in flight is abandoned and due
/// again at once for the next start or another node).
pub struct Worker {
    _stop: tokio::sync::watch::Sender<()>,
}

/// Starts the worker when webhooks are configured.
pub fn spawn(state: AppState) -> Option<Worker> {
    if state.config.webhooks.is_empty() {
        return None;
    }
    let client = match reqwest::Client::builder()
        .timeout(state.config.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("wopid/", env!("CARGO_PKG_VERSION"), " webhooks"))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook delivery cannot start");
            return None;
        }
    };
    let (tx, rx) = tokio::sync::watch::channel(());
    tokio::spawn(work(state, client, rx));
    Some(Worker { _stop: tx })
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn work(
    state: AppState,
    client: reqwest::Client,
    mut stop: tokio::sync::watch::Receiver<()>,
) {
    // A claim id of this run: a lease is this process's until it ends or is released.
    let claim = wopid_store::new_id();
    // Long enough for one attempt of each delivery of a batch.
    let lease = ms(state.config.webhook_timeout)
        .saturating_mul(i64::from(BATCH) + 1)
        .saturating_add(30_000);
    loop {
        let now = state.now_ms();
        let batch = match state.meta.claim_deliveries(now, lease, BATCH, &claim).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                Vec::new()
            }
        };
        if batch.is_empty() {
            let wait = match state.meta.next_delivery_due().await {
                Ok(Some(due)) => Duration::from_millis(u64::try_from(due - now).unwrap_or(0)),
                _ => POLL,
            }
            .min(POLL);
            tokio::select! {
                _ = state.webhooks.queued.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        let mut rest = batch.into_iter();
        while let Some(d) = rest.next() {
            tokio::select! {
                _ = deliver(&state, &client, &d) => {}
                _ = stop.changed() => {
                    // Hand the unfinished deliveries back, due at once.
                    for d in std::iter::once(d).chain(rest) {
                        let _ = state.meta.retry_delivery(&d.id, &claim, state.now_ms(), "wopid stopped").await;
                    }
                    return;
                }
            }
        }
    }
}

/// One attempt of one delivery, and its outcome recorded.
async fn deliver(state: &AppState, client: &reqwest::Client, d: &Delivery) {
    let Some(hook) = state.config.webhooks.iter().find(|w| w.url == d.url) else {
        tracing::warn!(delivery = %d.id, event = %d.event, "webhook receiver no longer configured; delivery dropped");
        finish(state, d, Outcome::Dropped).await;
        return;
    };
    let secret = hook.secret.as_ref().map_or("", |s| s.expose());
    let timestamp = (state.now_ms().div_euclid(1000)).to_string();
    let signature = super::sign::signature(secret.as_bytes(), &timestamp, d.payload.as_bytes());
    let sent = client
        .post(&d.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Wopid-Event", &d.event)
        .header("X-Wopid-Delivery", &d.id)
        .header("X-Wopid-Timestamp", &timestamp)
        .header("X-Wopid-Signature", signature)
        .body(d.payload.clone())
        .send()
        .await;
    let error = match sent {
        Ok(r) if r.status().is_success() => {
            finish(state, d, Outcome::Delivered).await;
            return;
        }
        Ok(r) => format!("HTTP {}", r.status().as_u16()),
        // Without the URL: it may hold a credential of the receiver.
        Err(e) => e.without_url().to_string(),
    };
    let now = state.now_ms();
    let next = now.saturating_add(backoff(state, d.attempts));
    if next.saturating_sub(d.created_ms) > ms(state.config.webhook_max_age) {
        tracing::warn!(
            delivery = %d.id,
            event = %d.event,
            url = %crate::config::redact_query(&d.url),
            attempts = d.attempts + 1,
            error = %error,
            "webhook delivery given up: still failing after webhook_max_age"
        );
        finish(state, d, Outcome::Dropped).await;
        return;
    }
    tracing::info!(delivery = %d.id, event = %d.event, attempts = d.attempts + 1, error = %error, "webhook delivery failed; retrying later");
    state.metrics.webhook(Outcome::Failed, 1);
    let claim = d.claim.as_deref().unwrap_or("");
    if let Err(e) = state.meta.retry_delivery(&d.id, claim, next, &error).await {
        tracing::warn!(error = %e, "recording a failed webhook delivery failed");
    }
}

async fn finish(state: &AppState, d: &Delivery, outcome: Outcome) {
    state.metrics.webhook(outcome, 1);
    if let Err(e) = state.meta.finish_delivery(&d.id).await {
        // Left queued: it is sent again once its lease runs out (at least once).
        tracing::warn!(error = %e, delivery = %d.id, "recording a webhook delivery failed");
    }
}

/// The wait before attempt `attempts + 2`: `webhook_retry_initial` doubled per failed attempt, at
/// most `webhook_retry_max`, less a random part of up to a half so that receivers coming back
/// are not hit by every delivery at once.
fn backoff(state: &AppState, attempts: i64) -> i64 {
    let cap = ms(state.config.webhook_retry_max).max(1);
    let shift = u32::try_from(attempts.clamp(0, 40)).unwrap_or(40);
    let full = ms(state.config.webhook_retry_initial)
        .saturating_mul(1_i64 << shift.min(40))
        .min(cap)
        .max(1);
    full - rand::rng().random_range(0..=full / 2)
}
