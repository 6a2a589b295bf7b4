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

/// A single byte range as the `Range` header states it, before the file size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// `bytes=N-` (`end: None`) or `bytes=N-M` with `M >= N`.
    From { start: u64, end: Option<u64> },
    /// `bytes=-N`: the last `N` bytes.
    Suffix(u64),
}

impl RangeSpec {
    /// Reads a `Range` header. `None` means serve the whole file: no header, a unit other than
    /// bytes, several ranges, or syntax we ignore as RFC 9110 allows. Never an error: only the
    /// file size can make a range unsatisfiable.
    pub fn parse(raw: Option<&[u8]>) -> Option<Self> {
        let spec = std::str::from_utf8(raw?)
            .ok()?
            .trim()
            .strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.trim().split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        let parse = |s: &str| s.parse::<u64>().ok();
        match (a.is_empty(), b.is_empty()) {
            (true, true) => None,
            (true, false) => parse(b).map(Self::Suffix),
            (false, _) => {
                let start = parse(a)?;
                let end = if b.is_empty() { None } else { Some(parse(b)?) };
                if end.is_some_and(|e| e < start) {
                    return None;
                }
                Some(Self::From { start, end })
            }
        }
    }

    /// The range within a file of `size` bytes; an unsatisfiable range is an error (416).
    pub fn resolve(self, size: u64) -> Result<ByteRange, ProtoError> {
        let unsatisfiable = ProtoError::RangeNotSatisfiable { size };
        match self {
            Self::Suffix(n) => {
                if n == 0 || size == 0 {
                    return Err(unsatisfiable);
                }
                Ok(ByteRange {
                    start: size.saturating_sub(n),
                    end: size - 1,
                })
            }
            Self::From { start, end } => {
                if start >= size {
                    return Err(unsatisfiable);
                }
                Ok(ByteRange {
                    start,
                    end: end.unwrap_or(u64::MAX).min(size - 1),
                })
            }
        }
    }
}

/// Parses a `Range` header for a file of `size` bytes. `Ok(None)` means serve the whole file (no
/// header, a unit other than bytes, several ranges, or syntax we ignore as RFC 9110 allows);
/// an unsatisfiable single range is an error (416).
pub fn range(raw: Option<&[u8]>, size: u64) -> Result<Option<ByteRange>, ProtoError> {
    RangeSpec::parse(raw).map(|r| r.resolve(size)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The parser before the split into parse and resolve, kept to check the split against.
    /// Parses a `Range` header for a file of `size` bytes. `Ok(None)` means serve the whole file (no
    /// header, a unit other than bytes, several ranges, or syntax we ignore as RFC 9110 allows);
    /// an unsatisfiable single range is an error (416).
    fn reference_range(raw: Option<&[u8]>, size: u64) -> Result<Option<ByteRange>, ProtoError> {
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

    #[test]
    fn range_specs() {
        let p = |s: &str| RangeSpec::parse(Some(s.as_bytes()));
        assert_eq!(
            p("bytes=0-9"),
            Some(RangeSpec::From {
                start: 0,
                end: Some(9)
            })
        );
        assert_eq!(
            p(" bytes= 5 - "),
            Some(RangeSpec::From {
                start: 5,
                end: None
            })
        );
        assert_eq!(p("bytes=-3"), Some(RangeSpec::Suffix(3)));
        for ignored in [
            "bytes=-",
            "bytes=5-1",
            "bytes=a-",
            "bytes=0-1,2-3",
            "items=0-1",
            "0-1",
        ] {
            assert_eq!(p(ignored), None, "{ignored}");
        }
        assert_eq!(RangeSpec::parse(None), None);
        assert_eq!(
            RangeSpec::Suffix(0).resolve(10),
            Err(ProtoError::RangeNotSatisfiable { size: 10 })
        );
        assert_eq!(
            RangeSpec::From {
                start: 10,
                end: None
            }
            .resolve(10),
            Err(ProtoError::RangeNotSatisfiable { size: 10 })
        );
    }

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
        fn split_parser_agrees_with_the_reference(raw in proptest::collection::vec(any::<u8>(), 0..40), size in 0u64..1_000) {
            prop_assert_eq!(range(Some(&raw), size), reference_range(Some(&raw), size));
        }

        #[test]
        fn split_parser_agrees_on_range_shapes(a in "[ 0-9]{0,4}", b in "[ 0-9]{0,4}", size in 0u64..2_000) {
            let header = format!("bytes={a}-{b}");
            prop_assert_eq!(range(Some(header.as_bytes()), size), reference_range(Some(header.as_bytes()), size));
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
