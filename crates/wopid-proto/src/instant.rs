//! `Millis`: an instant as wopid stores and compares it, milliseconds since the Unix epoch (UTC),
//! with its conversions: `Duration`, ISO 8601 as WOPI writes it, and the .NET ticks of
//! `X-WOPI-TimeStamp`. No clock here: `now` comes from the caller.

use std::time::Duration;

use crate::proof::UNIX_EPOCH_TICKS;

/// An instant in milliseconds since 1970-01-01T00:00:00Z. Arithmetic saturates: no instant wopid
/// handles is near the ends of `i64`, and a garbled input must not panic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(i64);

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Millis {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);

    pub const fn from_ms(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_ms(self) -> i64 {
        self.0
    }

    /// The instant `d` after the epoch (saturating).
    pub fn from_duration_since_epoch(d: Duration) -> Self {
        Self(duration_ms(d))
    }

    /// The time since the epoch; `None` before it.
    pub fn since_epoch(self) -> Option<Duration> {
        u64::try_from(self.0).ok().map(Duration::from_millis)
    }

    /// `self + d`, saturating (an expiry far in the future stays far in the future).
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_ms(d)))
    }

    /// `self - d`, saturating.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(duration_ms(d)))
    }

    /// How long after `earlier` this is; `None` if `earlier` is later.
    pub fn duration_since(self, earlier: Self) -> Option<Duration> {
        u64::try_from(self.0.checked_sub(earlier.0)?)
            .ok()
            .map(Duration::from_millis)
    }

    /// `2009-06-15T13:45:30.1230000Z`: ISO 8601 in UTC with seven fractional digits, as WOPI
    /// writes `LastModifiedTime`. Instants outside the years the calendar handles print as the
    /// epoch.
    pub fn to_iso8601(self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
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

    /// Parses an ISO 8601 / RFC 3339 time (any offset; surrounding spaces ignored), as
    /// [`Millis::to_iso8601`] writes it and editors echo it back.
    pub fn parse_iso8601(s: &str) -> Option<Self> {
        let t =
            time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                .ok()?;
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Self)
    }

    /// The .NET ticks (100 ns since 0001-01-01) of `X-WOPI-TimeStamp`.
    pub fn to_ticks(self) -> i64 {
        crate::proof::unix_ms_to_ticks(self.0)
    }

    /// The instant of an `X-WOPI-TimeStamp` value (saturating for ticks before the epoch's range).
    pub fn from_ticks(ticks: i64) -> Self {
        Self(ticks.saturating_sub(UNIX_EPOCH_TICKS).div_euclid(10_000))
    }
}

impl std::fmt::Display for Millis {
    /// ISO 8601, as [`Millis::to_iso8601`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_iso8601())
    }
}

impl From<i64> for Millis {
    fn from(ms: i64) -> Self {
        Self(ms)
    }
}

impl From<Millis> for i64 {
    fn from(m: Millis) -> i64 {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso8601() {
        assert_eq!(Millis::EPOCH.to_iso8601(), "1970-01-01T00:00:00.0000000Z");
        let t = Millis::from_ms(1_245_073_530_123);
        assert_eq!(t.to_iso8601(), "2009-06-15T13:45:30.1230000Z");
        assert_eq!(t.to_string(), "2009-06-15T13:45:30.1230000Z");
        assert_eq!(
            Millis::parse_iso8601("2009-06-15T13:45:30.1230000Z"),
            Some(t)
        );
        assert_eq!(
            Millis::parse_iso8601(" 2009-06-15T13:45:30Z "),
            Some(Millis::from_ms(1_245_073_530_000))
        );
        assert_eq!(
            Millis::parse_iso8601("2009-06-15T15:45:30.123+02:00"),
            Some(t)
        );
        assert_eq!(Millis::parse_iso8601("yesterday"), None);
        assert_eq!(Millis::parse_iso8601(""), None);
        // Out of the calendar's range: printed as the epoch, never a panic.
        assert_eq!(
            Millis::from_ms(i64::MAX).to_iso8601(),
            "1970-01-01T00:00:00.0000000Z"
        );
    }

    #[test]
    fn ticks() {
        assert_eq!(Millis::EPOCH.to_ticks(), UNIX_EPOCH_TICKS);
        assert_eq!(
            Millis::from_ticks(635_655_897_610_773_532),
            Millis::from_ms(1_429_992_961_077)
        );
        // Agrees with the proof module's conversions.
        assert_eq!(
            Millis::from_ticks(635_655_897_610_773_532).as_ms(),
            crate::proof::ticks_to_unix_ms(635_655_897_610_773_532)
        );
        let _ = Millis::from_ticks(i64::MIN);
        let _ = Millis::from_ms(i64::MAX).to_ticks();
    }

    #[test]
    fn durations() {
        let t = Millis::from_ms(1_000);
        assert_eq!(t.since_epoch(), Some(Duration::from_secs(1)));
        assert_eq!(Millis::from_ms(-1).since_epoch(), None);
        assert_eq!(
            Millis::from_duration_since_epoch(Duration::from_millis(1_500)),
            Millis::from_ms(1_500)
        );
        assert_eq!(
            t.saturating_add(Duration::from_secs(2)),
            Millis::from_ms(3_000)
        );
        assert_eq!(
            t.saturating_sub(Duration::from_secs(2)),
            Millis::from_ms(-1_000)
        );
        assert_eq!(
            Millis::from_ms(i64::MAX).saturating_add(Duration::MAX),
            Millis::from_ms(i64::MAX)
        );
        assert_eq!(
            Millis::from_ms(3_000).duration_since(t),
            Some(Duration::from_secs(2))
        );
        assert_eq!(t.duration_since(Millis::from_ms(3_000)), None);
        assert_eq!(
            Millis::from_ms(i64::MAX).duration_since(Millis::from_ms(i64::MIN)),
            None
        );
    }

    proptest! {
        #[test]
        fn iso8601_round_trips(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = Millis::from_ms(ms);
            prop_assert_eq!(Millis::parse_iso8601(&t.to_iso8601()), Some(t));
        }

        #[test]
        fn ticks_round_trip(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = Millis::from_ms(ms);
            prop_assert_eq!(Millis::from_ticks(t.to_ticks()), t);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,60}", ticks: i64, ms: i64) {
            let _ = Millis::parse_iso8601(&s);
            let _ = Millis::from_ticks(ticks);
            let _ = Millis::from_ms(ms).to_iso8601();
            let _ = Millis::from_ms(ms).to_ticks();
        }
    }
}
