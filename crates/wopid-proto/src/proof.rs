//! Proof keys: checking that a WOPI request was signed by the editor wopid trusts
//! (`online/scenarios/proofkeys.rst`).
//!
//! The editor signs `token ‖ URL ‖ timestamp` with RSASSA-PKCS1-v1_5/SHA-256 and sends the
//! signature made with its current key in `X-WOPI-Proof` and the one made with its previous key
//! in `X-WOPI-ProofOld`. Because keys rotate and discovery is cached, three pairings are accepted
//! (Proof with our current key, ProofOld with our current key, Proof with our old key), and the
//! request must be at most 20 minutes old. Everything here is pure: the caller passes the header
//! values, the URL the editor called and the time.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, Pkcs1v15Sign};
use sha2::{Digest as _, Sha256};

use crate::discovery::ProofKeyAttrs;

pub use rsa::RsaPublicKey;

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
pub const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;
/// How old `X-WOPI-TimeStamp` may be: the spec's 20 minutes.
pub const MAX_AGE_MS: i64 = 20 * 60 * 1000;
/// How far ahead of wopid's clock `X-WOPI-TimeStamp` may be, to absorb clock skew.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;
/// Smaller moduli are not keys an editor would publish; refusing them keeps nonsense out.
const MIN_KEY_BITS: usize = 1024;

/// Some generators drop Base64 padding; the bytes are what matter.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The public keys of one editor, from its discovery `<proof-key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofKeys {
    /// The key the editor signs `X-WOPI-Proof` with.
    pub current: RsaPublicKey,
    /// The key it used before the last rotation, if discovery publishes one.
    pub old: Option<RsaPublicKey>,
}

/// Why discovery's proof keys cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofKeyError {
    /// No `<proof-key>`, or one without a current key: requests cannot be verified.
    #[error("discovery publishes no current proof key")]
    Missing,
    /// The named attribute is not Base64.
    #[error("proof-key attribute {0} is not Base64")]
    Base64(&'static str),
    /// The named `value`/`oldvalue` attribute is not a CSP public-key blob.
    #[error("proof-key attribute {0} is not an RSA PUBLICKEYBLOB")]
    BadBlob(&'static str),
    /// The `current` or `old` key is not a plausible RSA key (too small, even modulus, …).
    #[error("the {0} proof key is not a usable RSA public key")]
    BadKey(&'static str),
    /// The named blob and the modulus/exponent disagree: the discovery document is broken.
    #[error("proof-key attribute {0} and the modulus/exponent describe different keys")]
    Mismatch(&'static str),
}

/// Which pairing verified. Anything but [`Verified::Proof`] means the editor and wopid disagree
/// on which key is current: keys were rotated, so discovery should be fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// `X-WOPI-Proof` with the current key: the normal case.
    Proof,
    /// `X-WOPI-ProofOld` with the current key: the editor rotated, our discovery is stale.
    ProofOldWithCurrentKey,
    /// `X-WOPI-Proof` with the old key: only the old key matched; the editor machine is behind,
    /// or our discovery changed under it.
    ProofWithOldKey,
}

impl Verified {
    /// True when only the old key matched.
    pub fn old_key_only(self) -> bool {
        self == Self::ProofWithOldKey
    }

    /// True when the discovery docs ask hosts to re-run discovery (keys rotated).
    pub fn refresh_discovery(self) -> bool {
        self != Self::Proof
    }
}

/// Why a request's proof is refused. Every refusal answers 500, as the spec requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The request is unsigned (the caller decides whether signing is required at all).
    #[error("X-WOPI-Proof is missing")]
    MissingProof,
    /// Signed requests always carry their timestamp; without it nothing can be checked.
    #[error("X-WOPI-TimeStamp is missing")]
    MissingTimestamp,
    /// Not a decimal tick count at or after 1970.
    #[error("X-WOPI-TimeStamp is not a number of .NET ticks")]
    BadTimestamp,
    /// Older than [`MAX_AGE_MS`]: a replay, or a badly wrong editor clock.
    #[error("X-WOPI-TimeStamp is {age_ms} ms old, more than 20 minutes")]
    Expired {
        /// How old the timestamp is.
        age_ms: i64,
    },
    /// More than [`MAX_SKEW_MS`] ahead of wopid's clock.
    #[error("X-WOPI-TimeStamp is {ahead_ms} ms ahead of the clock")]
    FromTheFuture {
        /// How far ahead the timestamp is.
        ahead_ms: i64,
    },
    /// No accepted pairing verifies: forged, for another URL or token, or keys rotated.
    #[error("neither X-WOPI-Proof nor X-WOPI-ProofOld verifies with the discovery keys")]
    Invalid,
}

impl ProofError {
    /// The status the spec prescribes for a request that is not signed properly.
    pub fn status(&self) -> u16 {
        500
    }

    /// True when fetching discovery again might make the request verify (new keys).
    pub fn refresh_discovery(&self) -> bool {
        matches!(self, Self::Invalid)
    }
}

impl ProofKeys {
    /// Builds the keys from discovery. Each key may be given as modulus + exponent, as the .NET
    /// `value` blob, or both; when both are given they must describe the same key, since Office
    /// signs with one key whichever form a host reads.
    pub fn from_discovery(attrs: &ProofKeyAttrs) -> Result<Self, ProofKeyError> {
        let current = key_from(
            "current",
            attrs.value.as_deref(),
            attrs.modulus.as_deref(),
            attrs.exponent.as_deref(),
        )?
        .ok_or(ProofKeyError::Missing)?;
        let old = key_from(
            "old",
            attrs.old_value.as_deref(),
            attrs.old_modulus.as_deref(),
            attrs.old_exponent.as_deref(),
        )?;
        Ok(Self { current, old })
    }
}

fn key_from(
    which: &'static str,
    value: Option<&str>,
    modulus: Option<&str>,
    exponent: Option<&str>,
) -> Result<Option<RsaPublicKey>, ProofKeyError> {
    let (value_attr, modulus_attr, exponent_attr) = match which {
        "current" => ("value", "modulus", "exponent"),
        _ => ("oldvalue", "oldmodulus", "oldexponent"),
    };
    let parts = match (present(modulus), present(exponent)) {
        (Some(n), Some(e)) => Some((
            BigUint::from_bytes_be(&b64(n, modulus_attr)?),
            BigUint::from_bytes_be(&b64(e, exponent_attr)?),
        )),
        _ => None,
    };
    let blob = match present(value) {
        Some(v) => {
            Some(parse_csp_blob(&b64(v, value_attr)?).ok_or(ProofKeyError::BadBlob(value_attr))?)
        }
        None => None,
    };
    let (n, e) = match (parts, blob) {
        (Some(parts), Some(blob)) if parts != blob => {
            return Err(ProofKeyError::Mismatch(value_attr));
        }
        (Some(key), _) | (None, Some(key)) => key,
        (None, None) => return Ok(None),
    };
    let key = RsaPublicKey::new(n, e).map_err(|_| ProofKeyError::BadKey(which))?;
    if key.n().bits() < MIN_KEY_BITS {
        return Err(ProofKeyError::BadKey(which));
    }
    Ok(Some(key))
}

fn present(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn b64(s: &str, attr: &'static str) -> Result<Vec<u8>, ProofKeyError> {
    B64.decode(s).map_err(|_| ProofKeyError::Base64(attr))
}

/// Reads a CryptoAPI `PUBLICKEYBLOB` (what .NET's `ExportCspBlob` writes): an 8-byte
/// `BLOBHEADER` (type 6, version 2, RSA algorithm), an `RSAPUBKEY` (`RSA1`, bit length, public
/// exponent), then the modulus, all little-endian. Returns (modulus, exponent).
fn parse_csp_blob(blob: &[u8]) -> Option<(BigUint, BigUint)> {
    let u32_at = |at: usize| -> Option<u32> {
        let bytes: [u8; 4] = blob.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(bytes))
    };
    let (kind, version) = (*blob.first()?, *blob.get(1)?);
    let alg = u32_at(4)?;
    // CALG_RSA_KEYX (0xA400) is what .NET exports; CALG_RSA_SIGN (0x2400) is equally an RSA key.
    if kind != 0x06 || version != 0x02 || !matches!(alg, 0xA400 | 0x2400) {
        return None;
    }
    if blob.get(8..12)? != b"RSA1" {
        return None;
    }
    let bits = usize::try_from(u32_at(12)?).ok()?;
    let exponent = u32_at(16)?;
    let modulus = blob.get(20..)?;
    if bits == 0 || modulus.len() != bits.div_ceil(8) {
        return None;
    }
    Some((BigUint::from_bytes_le(modulus), BigUint::from(exponent)))
}

/// The bytes the editor signs: big-endian lengths, the access token exactly as it appears in
/// the request, the full request URL upper-cased, then the timestamp as a big-endian int64.
pub fn signed_bytes(token: &str, url: &str, timestamp_ticks: i64) -> Vec<u8> {
    let url = upper_invariant(url);
    let mut out = Vec::with_capacity(token.len() + url.len() + 20);
    for part in [token.as_bytes(), url.as_bytes()] {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part);
    }
    out.extend_from_slice(&8u32.to_be_bytes());
    out.extend_from_slice(&timestamp_ticks.to_be_bytes());
    out
}

/// Upper case as .NET's `ToUpperInvariant`: one character for one (so `ß` stays `ß`), which
/// differs from Rust's `to_uppercase` only for characters that expand.
fn upper_invariant(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// The `X-WOPI-TimeStamp` value (.NET ticks) of a Unix time in milliseconds, as editors send it.
pub fn unix_ms_to_ticks(ms: i64) -> i64 {
    ms.saturating_mul(10_000).saturating_add(UNIX_EPOCH_TICKS)
}

/// The Unix time in milliseconds of an `X-WOPI-TimeStamp` value.
pub fn ticks_to_unix_ms(ticks: i64) -> i64 {
    (ticks - UNIX_EPOCH_TICKS).div_euclid(10_000)
}

/// Verifies a request's proof headers.
///
/// `token` is the `access_token` query value exactly as the request carries it (still
/// percent-encoded); `url` is the full URL the editor called (public scheme and host, path and
/// raw query); the header values are passed as received. `now_ms` is wopid's clock, in Unix
/// milliseconds. A garbled signature simply fails to verify, so a valid `X-WOPI-ProofOld` still
/// rescues a garbled `X-WOPI-Proof`, as the validator expects.
pub fn verify(
    keys: &ProofKeys,
    token: &str,
    url: &str,
    timestamp: Option<&str>,
    proof: Option<&str>,
    proof_old: Option<&str>,
    now_ms: i64,
) -> Result<Verified, ProofError> {
    let ticks: i64 = timestamp
        .ok_or(ProofError::MissingTimestamp)?
        .trim()
        .parse()
        .map_err(|_| ProofError::BadTimestamp)?;
    if ticks < UNIX_EPOCH_TICKS {
        return Err(ProofError::BadTimestamp);
    }
    let age_ms = now_ms.saturating_sub(ticks_to_unix_ms(ticks));
    if age_ms > MAX_AGE_MS {
        return Err(ProofError::Expired { age_ms });
    }
    if age_ms < -MAX_SKEW_MS {
        return Err(ProofError::FromTheFuture { ahead_ms: -age_ms });
    }
    let proof = proof.ok_or(ProofError::MissingProof)?;
    let digest = Sha256::digest(signed_bytes(token, url, ticks));
    let verifies = |key: &RsaPublicKey, signature: Option<&str>| {
        signature
            .and_then(|s| B64.decode(s.trim()).ok())
            .is_some_and(|sig| {
                key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
                    .is_ok()
            })
    };
    if verifies(&keys.current, Some(proof)) {
        Ok(Verified::Proof)
    } else if verifies(&keys.current, proof_old) {
        Ok(Verified::ProofOldWithCurrentKey)
    } else if keys
        .old
        .as_ref()
        .is_some_and(|old| verifies(old, Some(proof)))
    {
        Ok(Verified::ProofWithOldKey)
    } else {
        // ProofOld with the old key is deliberately never tried: it proves nothing current.
        Err(ProofError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Discovery;
    use proptest::prelude::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!("../tests/fixtures/proof/proof-key-vectors.json");
    const VALIDATOR_CASES: &str = include_str!("../tests/fixtures/proof/validator_proofs.json");
    const VALIDATOR_DISCOVERY: &str = include_str!("../tests/fixtures/discovery/validator.xml");
    const OFFICE_DISCOVERY: &str = include_str!("../tests/fixtures/discovery/office.xml");

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap_or(Value::Null)
    }

    fn text<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_default()
    }

    fn vector_attrs(v: &Value) -> ProofKeyAttrs {
        let (cur, old) = (&v["keys"]["current"], &v["keys"]["old"]);
        let s = |v: &Value, k: &str| v[k].as_str().map(str::to_owned);
        ProofKeyAttrs {
            value: s(cur, "value"),
            modulus: s(cur, "modulus"),
            exponent: s(cur, "exponent"),
            old_value: s(old, "oldvalue"),
            old_modulus: s(old, "oldmodulus"),
            old_exponent: s(old, "oldexponent"),
        }
    }

    fn keys_of_discovery(xml: &str) -> ProofKeys {
        let d = Discovery::parse(xml.as_bytes()).expect("discovery parses");
        ProofKeys::from_discovery(d.proof_key.as_ref().expect("has proof-key"))
            .expect("usable keys")
    }

    fn vector_cases() -> (ProofKeys, Vec<Value>) {
        let v = json(VECTORS);
        let keys = ProofKeys::from_discovery(&vector_attrs(&v)).expect("vector keys");
        let cases = v["cases"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 8);
        (keys, cases)
    }

    #[test]
    fn signed_bytes_layout_matches_the_vectors() {
        let (_, cases) = vector_cases();
        for c in cases {
            let ticks = c["timestamp_ticks"].as_i64().expect("ticks");
            let bytes = signed_bytes(text(&c, "access_token"), text(&c, "url"), ticks);
            let want = B64.decode(text(&c, "signed_data_b64")).expect("b64");
            assert_eq!(bytes, want, "{}", text(&c, "id"));
            assert_eq!(Some(bytes.len() as u64), c["signed_data_length"].as_u64());
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex, text(&c, "signed_data_sha256_hex"));
        }
    }

    #[test]
    fn signed_bytes_by_hand() {
        let b = signed_bytes(
            "tok",
            "https://h/wopi/files/1?access_token=tok",
            0x0102030405060708,
        );
        let mut want = vec![0, 0, 0, 3];
        want.extend_from_slice(b"tok");
        want.extend_from_slice(&[0, 0, 0, 39]);
        want.extend_from_slice(b"HTTPS://H/WOPI/FILES/1?ACCESS_TOKEN=TOK");
        want.extend_from_slice(&[0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(b, want);
        // The token is signed as given, never upper-cased; ß does not expand.
        assert_eq!(&signed_bytes("aß", "ß", 0)[4..7], "aß".as_bytes());
        assert_eq!(&signed_bytes("", "é", 0)[8..10], "É".as_bytes());
        assert_eq!(&signed_bytes("", "ß", 0)[8..10], "ß".as_bytes());
    }

    #[test]
    fn all_eight_vectors() {
        let (keys, cases) = vector_cases();
        for c in cases {
            let id = text(&c, "id");
            let ticks = c["timestamp_ticks"].as_i64().expect("ticks");
            let ts = ticks.to_string();
            let got = verify(
                &keys,
                text(&c, "access_token"),
                text(&c, "url"),
                Some(&ts),
                Some(text(&c, "x_wopi_proof")),
                Some(text(&c, "x_wopi_proof_old")),
                ticks_to_unix_ms(ticks),
            );
            let v = &c["verifies"];
            let want = if v["proof_with_current_key"] == true {
                Ok(Verified::Proof)
            } else if v["proof_old_with_current_key"] == true {
                Ok(Verified::ProofOldWithCurrentKey)
            } else if v["proof_with_old_key"] == true {
                Ok(Verified::ProofWithOldKey)
            } else {
                Err(ProofError::Invalid)
            };
            assert_eq!(got, want, "{id}");
            assert_eq!(got.is_ok(), c["expected_valid"] == true, "{id}");
        }
    }

    #[test]
    fn the_vector_keys_are_the_office_fixture_keys() {
        let (keys, _) = vector_cases();
        assert_eq!(keys_of_discovery(OFFICE_DISCOVERY), keys);
        assert_eq!(keys.current.n().bits(), 2048);
    }

    #[test]
    fn each_key_form_alone_gives_the_same_key() {
        let full = vector_attrs(&json(VECTORS));
        let both = ProofKeys::from_discovery(&full).expect("both forms");
        let only_value = ProofKeyAttrs {
            modulus: None,
            exponent: None,
            old_modulus: None,
            old_exponent: None,
            ..full.clone()
        };
        let only_parts = ProofKeyAttrs {
            value: None,
            old_value: None,
            ..full.clone()
        };
        assert_eq!(ProofKeys::from_discovery(&only_value), Ok(both.clone()));
        assert_eq!(ProofKeys::from_discovery(&only_parts), Ok(both.clone()));
        let no_old = ProofKeyAttrs {
            old_value: None,
            old_modulus: None,
            old_exponent: None,
            ..full.clone()
        };
        assert_eq!(ProofKeys::from_discovery(&no_old).map(|k| k.old), Ok(None));
    }

    #[test]
    fn unusable_keys_are_refused() {
        let full = vector_attrs(&json(VECTORS));
        let table = [
            (ProofKeyAttrs::default(), ProofKeyError::Missing),
            (
                ProofKeyAttrs {
                    value: full.old_value.clone(),
                    ..full.clone()
                },
                ProofKeyError::Mismatch("value"),
            ),
            (
                ProofKeyAttrs {
                    old_value: full.value.clone(),
                    ..full.clone()
                },
                ProofKeyError::Mismatch("oldvalue"),
            ),
            (
                ProofKeyAttrs {
                    modulus: Some("not base64!".to_owned()),
                    ..full.clone()
                },
                ProofKeyError::Base64("modulus"),
            ),
            (
                ProofKeyAttrs {
                    value: Some("BgIAAACkAABSU0ExAAgAAAEAAQ==".to_owned()),
                    ..full.clone()
                },
                ProofKeyError::BadBlob("value"),
            ),
            (
                ProofKeyAttrs {
                    value: None,
                    modulus: Some("AQAB".to_owned()),
                    ..full.clone()
                },
                ProofKeyError::BadKey("current"),
            ),
        ];
        for (attrs, want) in table {
            assert_eq!(
                ProofKeys::from_discovery(&attrs),
                Err(want.clone()),
                "{want}"
            );
        }
    }

    #[test]
    fn every_discovery_fixture_has_consistent_keys() {
        for xml in [
            OFFICE_DISCOVERY,
            VALIDATOR_DISCOVERY,
            include_str!("../tests/fixtures/discovery/collabora.xml"),
            include_str!("../tests/fixtures/discovery/onlyoffice.xml"),
        ] {
            let keys = keys_of_discovery(xml);
            assert!(keys.old.is_some());
        }
    }

    #[test]
    fn the_validator_cases() {
        let keys = keys_of_discovery(VALIDATOR_DISCOVERY);
        let cases = json(VALIDATOR_CASES)["cases"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(cases.len(), 7);
        for c in cases {
            let name = text(&c, "name");
            let got = verify(
                &keys,
                text(&c, "access_token"),
                text(&c, "url"),
                Some(text(&c, "timestamp")),
                Some(text(&c, "proof")),
                Some(text(&c, "proof_old")),
                c["now_ms"].as_i64().expect("now_ms"),
            );
            match text(&c, "outcome") {
                "proof" => assert_eq!(got, Ok(Verified::Proof), "{name}"),
                "proof_old_with_current" => {
                    assert_eq!(got, Ok(Verified::ProofOldWithCurrentKey), "{name}")
                }
                "proof_with_old" => assert_eq!(got, Ok(Verified::ProofWithOldKey), "{name}"),
                "invalid" => assert_eq!(got, Err(ProofError::Invalid), "{name}"),
                "expired" => assert!(matches!(got, Err(ProofError::Expired { .. })), "{name}"),
                other => panic!("unknown outcome {other}"),
            }
            assert_eq!(got.is_ok(), c["accepted"] == true, "{name}");
        }
    }

    #[test]
    fn refresh_hints() {
        assert!(!Verified::Proof.refresh_discovery());
        assert!(Verified::ProofOldWithCurrentKey.refresh_discovery());
        assert!(Verified::ProofWithOldKey.refresh_discovery());
        assert!(Verified::ProofWithOldKey.old_key_only());
        assert!(!Verified::ProofOldWithCurrentKey.old_key_only());
        assert!(ProofError::Invalid.refresh_discovery());
        assert!(!ProofError::Expired { age_ms: 1 }.refresh_discovery());
        assert_eq!(ProofError::MissingProof.status(), 500);
    }

    /// A request signed with the current key (vector case 1) and the clock at its timestamp.
    fn good_request() -> (ProofKeys, Value, i64) {
        let (keys, cases) = vector_cases();
        let c = cases[0].clone();
        let ticks = c["timestamp_ticks"].as_i64().expect("ticks");
        (keys, c, ticks)
    }

    #[test]
    fn freshness_window() {
        let (keys, c, ticks) = good_request();
        let at = ticks_to_unix_ms(ticks);
        let ts = ticks.to_string();
        let run = |now_ms: i64| {
            verify(
                &keys,
                text(&c, "access_token"),
                text(&c, "url"),
                Some(&ts),
                Some(text(&c, "x_wopi_proof")),
                None,
                now_ms,
            )
        };
        assert_eq!(run(at + MAX_AGE_MS), Ok(Verified::Proof));
        assert_eq!(
            run(at + MAX_AGE_MS + 1),
            Err(ProofError::Expired {
                age_ms: MAX_AGE_MS + 1
            })
        );
        assert_eq!(run(at - MAX_SKEW_MS), Ok(Verified::Proof));
        assert_eq!(
            run(at - MAX_SKEW_MS - 1),
            Err(ProofError::FromTheFuture {
                ahead_ms: MAX_SKEW_MS + 1
            })
        );
        assert_eq!(ticks_to_unix_ms(UNIX_EPOCH_TICKS), 0);
        assert_eq!(ticks_to_unix_ms(635_655_897_610_773_532), 1_429_992_961_077);
        assert_eq!(unix_ms_to_ticks(0), UNIX_EPOCH_TICKS);
        assert_eq!(unix_ms_to_ticks(1_429_992_961_077), 635_655_897_610_770_000);
        assert_eq!(
            ticks_to_unix_ms(unix_ms_to_ticks(1_767_225_600_123)),
            1_767_225_600_123
        );
    }

    #[test]
    fn refuses_missing_garbled_and_misdirected_requests() {
        let (keys, c, ticks) = good_request();
        let ts = ticks.to_string();
        let now = ticks_to_unix_ms(ticks);
        let (token, url, proof) = (
            text(&c, "access_token"),
            text(&c, "url"),
            text(&c, "x_wopi_proof"),
        );
        let run =
            |token: &str, url: &str, ts: Option<&str>, proof: Option<&str>, old: Option<&str>| {
                verify(&keys, token, url, ts, proof, old, now)
            };
        assert_eq!(
            run(token, url, Some(&ts), None, Some(proof)),
            Err(ProofError::MissingProof)
        );
        assert_eq!(
            run(token, url, None, Some(proof), None),
            Err(ProofError::MissingTimestamp)
        );
        assert_eq!(
            run(token, url, Some("soon"), Some(proof), None),
            Err(ProofError::BadTimestamp)
        );
        assert_eq!(
            run(token, url, Some("-5"), Some(proof), None),
            Err(ProofError::BadTimestamp)
        );
        assert_eq!(
            run(token, url, Some("99999999999999999999"), Some(proof), None),
            Err(ProofError::BadTimestamp)
        );
        assert_eq!(
            run(token, url, Some(&ts), Some("!!!"), Some("%%")),
            Err(ProofError::Invalid)
        );
        assert_eq!(
            run(token, url, Some(&ts), Some(""), None),
            Err(ProofError::Invalid)
        );
        // The URL is compared upper-cased, so its case does not matter; anything else does.
        assert_eq!(
            run(
                token,
                &url.to_ascii_lowercase(),
                Some(&ts),
                Some(proof),
                None
            ),
            Ok(Verified::Proof)
        );
        let other_url = url.replace("contoso.com", "evil.example");
        assert_eq!(
            run(token, &other_url, Some(&ts), Some(proof), None),
            Err(ProofError::Invalid)
        );
        let http = url.replacen("https://", "http://", 1);
        assert_eq!(
            run(token, &http, Some(&ts), Some(proof), None),
            Err(ProofError::Invalid)
        );
        assert_eq!(
            run(
                &token.to_ascii_uppercase(),
                url,
                Some(&ts),
                Some(proof),
                None
            ),
            Err(ProofError::Invalid)
        );
        let later = (ticks + 1).to_string();
        assert_eq!(
            run(token, url, Some(&later), Some(proof), None),
            Err(ProofError::Invalid)
        );
        // Whitespace around header values is not part of them.
        let padded = format!(" {proof} ");
        assert_eq!(
            run(token, url, Some(&format!(" {ts}")), Some(&padded), None),
            Ok(Verified::Proof)
        );
    }

    #[test]
    fn proof_old_alone_with_the_old_key_is_refused() {
        // Vector "proof-signed-with-old-key-1": its X-WOPI-Proof verifies with the old key.
        // Sent as X-WOPI-ProofOld (with a garbled Proof), it must not be accepted.
        let (keys, cases) = vector_cases();
        let c = &cases[4];
        let ticks = c["timestamp_ticks"].as_i64().expect("ticks");
        let got = verify(
            &keys,
            text(c, "access_token"),
            text(c, "url"),
            Some(&ticks.to_string()),
            Some("SU5WQUxJRA=="),
            Some(text(c, "x_wopi_proof")),
            ticks_to_unix_ms(ticks),
        );
        assert_eq!(got, Err(ProofError::Invalid));
        // Without an old key, a signature by it verifies with nothing.
        let current_only = ProofKeys {
            current: keys.current.clone(),
            old: None,
        };
        let got = verify(
            &current_only,
            text(c, "access_token"),
            text(c, "url"),
            Some(&ticks.to_string()),
            Some(text(c, "x_wopi_proof")),
            None,
            ticks_to_unix_ms(ticks),
        );
        assert_eq!(got, Err(ProofError::Invalid));
    }

    proptest! {
        #[test]
        fn verify_never_panics(
            token in "\\PC{0,20}",
            url in "\\PC{0,40}",
            ts in proptest::option::of("-?[0-9]{0,20}"),
            proof in proptest::option::of("[A-Za-z0-9+/=]{0,400}"),
            old in proptest::option::of("\\PC{0,40}"),
            now in any::<i64>(),
        ) {
            let (keys, _) = vector_cases();
            let _ = verify(&keys, &token, &url, ts.as_deref(), proof.as_deref(), old.as_deref(), now);
        }

        #[test]
        fn key_parsing_never_panics(
            blob in proptest::collection::vec(any::<u8>(), 0..300),
            n in proptest::collection::vec(any::<u8>(), 0..300),
            e in proptest::collection::vec(any::<u8>(), 0..6),
        ) {
            let enc = |b: &[u8]| Some(B64.encode(b));
            let mut header = vec![6u8, 2, 0, 0, 0, 0xA4, 0, 0];
            header.extend_from_slice(b"RSA1");
            header.extend_from_slice(&blob);
            for attrs in [
                ProofKeyAttrs { value: enc(&blob), ..Default::default() },
                ProofKeyAttrs { value: enc(&header), ..Default::default() },
                ProofKeyAttrs { modulus: enc(&n), exponent: enc(&e), ..Default::default() },
                ProofKeyAttrs { value: enc(&header), modulus: enc(&n), exponent: enc(&e), ..Default::default() },
            ] {
                let _ = ProofKeys::from_discovery(&attrs);
            }
        }
    }
}
