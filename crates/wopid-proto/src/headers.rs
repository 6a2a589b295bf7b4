//! Small header parsers: `X-WOPI-MaxExpectedSize`, `Range`, sizes.

use crate::error::ProtoError;

/// `X-WOPI-MaxExpectedSize`: absent means the 32-bit signed maximum, as the spec says.
pub fn max_expected_size(raw: Option<&[u8]>) -> Result<u64, ProtoError> {
    match raw {
        None => Ok(i32::MAX as u64),
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or(ProtoError::BadRequest(
                "X-WOPI-MaxExpectedSize is not a non-negative integer",
            )),
    }
}

/// A byte range resolved against the file size: `start..=end`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Parses a `Range` header for a file of `size` bytes. `Ok(None)` means serve the whole file (no
/// header, a unit other than bytes, several ranges, or syntax we ignore as RFC 9110 allows);
/// an unsatisfiable single range is an error (416).
pub fn range(raw: Option<&[u8]>, size: u64) -> Result<Option<ByteRange>, ProtoError> {
    let Some(raw) = raw else { return Ok(None) };
    let Some(spec) = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    let unsatisfiable = ProtoError::RangeNotSatisfiable { size };
    let r = match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            let Some(n) = parse(b) else { return Ok(None) };
            if n == 0 || size == 0 {
                return Err(unsatisfiable);
            }
            ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }
        }
        (false, _) => {
            let Some(start) = parse(a) else {
                return Ok(None);
            };
            let end = if b.is_empty() {
                u64::MAX
            } else if let Some(e) = parse(b) {
                e
            } else {
                return Ok(None);
            };
            if end < start {
                return Ok(None);
            }
            if start >= size {
                return Err(unsatisfiable);
            }
            ByteRange {
                start,
                end: end.min(size - 1),
            }
        }
    };
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges() {
        let r = |s: &str, size| range(Some(s.as_bytes()), size);
        assert_eq!(
            r("bytes=0-9", 100),
            Ok(Some(ByteRange { start: 0, end: 9 }))
        );
        assert_eq!(
            r("bytes=90-", 100),
            Ok(Some(ByteRange { start: 90, end: 99 }))
        );
        assert_eq!(
            r("bytes=-10", 100),
            Ok(Some(ByteRange { start: 90, end: 99 }))
        );
        assert_eq!(
            r("bytes=-1000", 100),
            Ok(Some(ByteRange { start: 0, end: 99 }))
        );
        assert_eq!(
            r("bytes=50-1000", 100),
            Ok(Some(ByteRange { start: 50, end: 99 }))
        );
        assert!(r("bytes=100-", 100).is_err());
        assert!(r("bytes=0-0", 0).is_err());
        assert_eq!(r("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(r("items=0-1", 100), Ok(None));
        assert_eq!(r("bytes=5-1", 100), Ok(None));
        assert_eq!(range(None, 5), Ok(None));
    }

    #[test]
    fn max_size() {
        assert_eq!(max_expected_size(None), Ok(2_147_483_647));
        assert_eq!(max_expected_size(Some(b"10")), Ok(10));
        assert!(max_expected_size(Some(b"-1")).is_err());
        assert!(max_expected_size(Some(b"x")).is_err());
    }

    proptest! {
        #[test]
        fn range_never_panics_and_stays_inside(raw in proptest::collection::vec(any::<u8>(), 0..40), size in 0u64..1_000_000) {
            if let Ok(Some(r)) = range(Some(&raw), size) {
                prop_assert!(r.start <= r.end && r.end < size);
            }
            let _ = max_expected_size(Some(&raw));
        }

        #[test]
        fn range_round_trips(size in 1u64..1_000_000, a in 0u64..1_000_000, len in 1u64..1000) {
            let start = a % size;
            let end = (start + len - 1).min(size - 1);
            let header = format!("bytes={start}-{end}");
            prop_assert_eq!(range(Some(header.as_bytes()), size), Ok(Some(ByteRange { start, end })));
        }
    }
}
