//! Signed download URLs (`FileUrl`, `DownloadUrl`): they carry their own authorisation, since
//! clients fetch them exactly as given. HMAC-SHA256 with a key kept in the metadata store, so
//! every node signs and checks alike.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], file_id: &str, user_id: &str, expires_ms: i64) -> Option<HmacSha256> {
    let mut m = HmacSha256::new_from_slice(key).ok()?;
    m.update(format!("download\n{file_id}\n{user_id}\n{expires_ms}").as_bytes());
    Some(m)
}

/// The query string of a download URL: `u=USER&e=EXPIRY&s=SIGNATURE`.
pub fn sign(key: &[u8], file_id: &str, user_id: &str, expires_ms: i64) -> String {
    let sig = mac(key, file_id, user_id, expires_ms)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    form_urlencoded::Serializer::new(String::new())
        .append_pair("u", user_id)
        .append_pair("e", &expires_ms.to_string())
        .append_pair("s", &sig)
        .finish()
}

/// Checks a signature in constant time.
pub fn verify(key: &[u8], file_id: &str, user_id: &str, expires_ms: i64, sig: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    mac(key, file_id, user_id, expires_ms).is_some_and(|m| m.verify_slice(&sig).is_ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sign_and_verify() {
        let q = super::sign(b"key", "f", "u", 10);
        let sig = q.rsplit("s=").next().expect("sig");
        assert!(super::verify(b"key", "f", "u", 10, sig));
        assert!(!super::verify(b"key", "g", "u", 10, sig));
        assert!(!super::verify(b"key", "f", "v", 10, sig));
        assert!(!super::verify(b"key", "f", "u", 11, sig));
        assert!(!super::verify(b"other", "f", "u", 10, sig));
        assert!(!super::verify(b"key", "f", "u", 10, "!!"));
    }
}
