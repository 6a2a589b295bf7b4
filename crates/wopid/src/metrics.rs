//! The request metrics of one wopid process: counters and one histogram behind a mutex that is
//! never held across an await. The registry lives in `AppState`, so there are no globals; the
//! HTTP layer's middleware records each request under the label its handler attached.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use wopid_proto::Operation;

use crate::error::StoreFailure;

/// The label of a WOPI request, attached to its response by the handler that parsed the
/// operation (also when the request is refused), and read by the metrics middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpLabel {
    pub name: &'static str,
    /// The operation is decided by the file's lock (its 409s are lock conflicts).
    pub checks_lock: bool,
}

impl OpLabel {
    pub fn of(op: &Operation) -> Self {
        Self {
            name: op.name(),
            checks_lock: op.checks_lock(),
        }
    }

    /// A route's label (`healthz`, `download`…), never a lock operation.
    pub fn route(name: &'static str) -> Self {
        Self {
            name,
            checks_lock: false,
        }
    }
}

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    lock_conflicts: BTreeMap<&'static str, u64>,
    store_errors: BTreeMap<&'static str, u64>,
    proof_failures: BTreeMap<String, u64>,
    bytes_in: u64,
    bytes_out: u64,
    webhooks: BTreeMap<crate::webhooks::worker::Outcome, u64>,
}

/// The metrics of one wopid process.
#[derive(Default)]
pub struct Metrics(Mutex<Registry>);

impl Metrics {
    /// A request refused because its proof-key signature did not verify (by editor).
    pub fn proof_failed(&self, editor: &str) {
        if let Ok(mut r) = self.0.lock() {
            *r.proof_failures
                .entry(editor.chars().take(64).collect())
                .or_default() += 1;
        }
    }

    /// Webhook deliveries by outcome.
    pub fn webhook(&self, outcome: crate::webhooks::worker::Outcome, n: u64) {
        if let Ok(mut r) = self.0.lock() {
            *r.webhooks.entry(outcome).or_default() += n;
        }
    }

    pub fn record(
        &self,
        op: OpLabel,
        status: u16,
        secs: f64,
        bytes: (u64, u64),
        store: Option<StoreFailure>,
    ) {
        let Ok(mut r) = self.0.lock() else { return };
        let (checks_lock, op) = (op.checks_lock, op.name);
        *r.requests.entry((op, status)).or_default() += 1;
        let h = r.latency.entry(op).or_default();
        h.count += 1;
        h.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        if status == 409 && checks_lock {
            *r.lock_conflicts.entry(op).or_default() += 1;
        }
        if let Some(f) = store {
            let kind = if f.unavailable {
                "unavailable"
            } else {
                "failed"
            };
            *r.store_errors.entry(kind).or_default() += 1;
        }
        r.bytes_in += bytes.0;
        r.bytes_out += bytes.1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let Ok(r) = self.0.lock() else {
            return String::new();
        };
        let mut out = String::new();
        out.push_str(
            "# HELP wopid_requests_total HTTP requests by WOPI operation (or route) and status.\n",
        );
        out.push_str("# TYPE wopid_requests_total counter\n");
        for ((op, status), n) in &r.requests {
            let _ = writeln!(
                out,
                "wopid_requests_total{{op=\"{op}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP wopid_request_duration_seconds Request latency by operation.\n");
        out.push_str("# TYPE wopid_request_duration_seconds histogram\n");
        for (op, h) in &r.latency {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "wopid_request_duration_seconds_bucket{{op=\"{op}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "wopid_request_duration_seconds_bucket{{op=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "wopid_request_duration_seconds_sum{{op=\"{op}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "wopid_request_duration_seconds_count{{op=\"{op}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP wopid_lock_conflicts_total Lock operations and saves refused with 409.\n",
        );
        out.push_str("# TYPE wopid_lock_conflicts_total counter\n");
        for (op, n) in &r.lock_conflicts {
            let _ = writeln!(out, "wopid_lock_conflicts_total{{op=\"{op}\"}} {n}");
        }
        out.push_str(
            "# HELP wopid_store_errors_total Requests failed by the metadata or blob store.\n",
        );
        out.push_str("# TYPE wopid_store_errors_total counter\n");
        for kind in ["failed", "unavailable"] {
            let n = r.store_errors.get(kind).copied().unwrap_or(0);
            let _ = writeln!(out, "wopid_store_errors_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP wopid_proof_failures_total Requests refused for a missing, stale or wrong proof.\n");
        out.push_str("# TYPE wopid_proof_failures_total counter\n");
        for (editor, n) in &r.proof_failures {
            let editor = editor.replace(['\\', '"', '\n'], "_");
            let _ = writeln!(out, "wopid_proof_failures_total{{editor=\"{editor}\"}} {n}");
        }
        out.push_str("# HELP wopid_bytes_received_total Request body bytes (by Content-Length).\n");
        out.push_str("# TYPE wopid_bytes_received_total counter\n");
        let _ = writeln!(out, "wopid_bytes_received_total {}", r.bytes_in);
        out.push_str("# HELP wopid_bytes_sent_total Response body bytes (by Content-Length).\n");
        out.push_str("# TYPE wopid_bytes_sent_total counter\n");
        let _ = writeln!(out, "wopid_bytes_sent_total {}", r.bytes_out);
        out.push_str("# HELP wopid_webhook_deliveries_total Webhook delivery attempts by outcome (lost: could not be queued).\n");
        out.push_str("# TYPE wopid_webhook_deliveries_total counter\n");
        for (outcome, n) in &r.webhooks {
            let _ = writeln!(
                out,
                "wopid_webhook_deliveries_total{{outcome=\"{}\"}} {n}",
                outcome.label()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_failures_are_counted_per_editor() {
        let m = Metrics::default();
        m.proof_failed("collabora");
        m.proof_failed("collabora");
        m.proof_failed("we\"ird");
        let text = m.render();
        assert!(
            text.contains("wopid_proof_failures_total{editor=\"collabora\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("wopid_proof_failures_total{editor=\"we_ird\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn conflicts_count_for_lock_operations_only() {
        let m = Metrics::default();
        m.record(OpLabel::of(&Operation::Lock), 409, 0.0, (0, 0), None);
        m.record(
            OpLabel::of(&Operation::CheckFileInfo),
            409,
            0.0,
            (0, 0),
            None,
        );
        let text = m.render();
        assert!(
            text.contains("wopid_lock_conflicts_total{op=\"Lock\"} 1"),
            "{text}"
        );
        assert!(
            !text.contains("wopid_lock_conflicts_total{op=\"CheckFileInfo\"}"),
            "{text}"
        );
    }
}
