//! The clock. Everything that depends on time (lock expiry, token expiry, modification times)
//! asks an injected `Clock`, so tests can move time by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
        let now = std::time::SystemTime::now();
        now.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_ms)))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `2009-06-15T13:45:30.0000000Z`: ISO 8601 in UTC with seven fractional digits, as WOPI wants.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// Parses an ISO 8601 / RFC 3339 UTC time (as `iso8601` writes it) into epoch milliseconds.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(
            super::iso8601(1_245_073_530_123),
            "2009-06-15T13:45:30.1230000Z"
        );
        assert_eq!(
            super::parse_iso8601("2009-06-15T13:45:30.1230000Z"),
            Some(1_245_073_530_123)
        );
        assert_eq!(
            super::parse_iso8601("2009-06-15T13:45:30Z"),
            Some(1_245_073_530_000)
        );
        assert_eq!(super::parse_iso8601("yesterday"), None);
    }
}
