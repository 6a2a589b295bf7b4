//! Signed download URLs (`FileUrl`, `DownloadUrl`): they carry their own authorisation, since
//! clients fetch them exactly as given. HMAC-SHA256 with a key kept in the metadata store, so
//! every node signs and checks alike. A URL names the token that asked for it (by the token's
//! hash, never the token), and works only while that token does.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The URL signing key, keyed into HMAC once: every signature starts from a copy of this state,
/// instead of hashing the key's two padded blocks again (CheckFileInfo signs two URLs).
#[derive(Clone)]
pub struct UrlKey(HmacSha256);

impl UrlKey {
    pub fn new(key: &[u8]) -> Result<Self, hmac::digest::InvalidLength> {
        HmacSha256::new_from_slice(key).map(Self)
    }

    /// A MAC under this key, ready for its message.
    pub fn mac(&self) -> HmacSha256 {
        self.0.clone()
    }
}

fn mac(key: &UrlKey, file_id: &str, user_id: &str, expires_ms: i64, token_ref: &str) -> HmacSha256 {
    let mut m = key.mac();
    // "download\n{file_id}\n{user_id}\n{expires_ms}\n{token_ref}", fed piece by piece.
    for part in [
        "download",
        file_id,
        user_id,
        expires_ms.to_string().as_str(),
    ] {
        m.update(part.as_bytes());
        m.update(b"\n");
    }
    m.update(token_ref.as_bytes());
    m
}

/// The query string of a download URL: `u=USER&e=EXPIRY&t=TOKEN_REF&s=SIGNATURE`.
pub fn sign(
    key: &UrlKey,
    file_id: &str,
    user_id: &str,
    expires_ms: i64,
    token_ref: &str,
) -> String {
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        mac(key, file_id, user_id, expires_ms, token_ref)
            .finalize()
            .into_bytes(),
    );
    form_urlencoded::Serializer::new(String::new())
        .append_pair("u", user_id)
        .append_pair("e", &expires_ms.to_string())
        .append_pair("t", token_ref)
        .append_pair("s", &sig)
        .finish()
}

/// Checks a signature in constant time.
pub fn verify(
    key: &UrlKey,
    file_id: &str,
    user_id: &str,
    expires_ms: i64,
    token_ref: &str,
    sig: &str,
) -> bool {
    let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    mac(key, file_id, user_id, expires_ms, token_ref)
        .verify_slice(&sig)
        .is_ok()
}

/// The signature of a user's avatar URL: HMAC-SHA256 of the user id under the URL signing key,
/// in a domain of its own so it can never pass for a download signature.
fn avatar_mac(key: &UrlKey, user_id: &str) -> HmacSha256 {
    let mut m = key.mac();
    m.update(b"avatar\n");
    m.update(user_id.as_bytes());
    m
}

/// The avatar URL handed to editors in `UserExtraInfo`: signed, since the editor's page fetches
/// it from another site, without wopid's session cookie.
pub fn avatar_url(state: &crate::state::AppState, user_id: &str) -> String {
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(avatar_mac(&state.url_key, user_id).finalize().into_bytes());
    [state.base.as_str(), "/avatar/", user_id, ".svg?s=", &sig].concat()
}

/// Whether `sig` is the signature of `user_id`'s avatar URL.
pub fn avatar_verify(key: &UrlKey, user_id: &str, sig: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig.as_bytes())
        .is_ok_and(|sig| avatar_mac(key, user_id).verify_slice(&sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::UrlKey;

    fn key(k: &[u8]) -> UrlKey {
        UrlKey::new(k).expect("any key length")
    }

    #[test]
    fn sign_and_verify() {
        let k = &key(b"key");
        let q = super::sign(k, "f", "u", 10, "r");
        let sig = q.rsplit("s=").next().expect("sig");
        assert!(super::verify(k, "f", "u", 10, "r", sig));
        assert!(!super::verify(k, "g", "u", 10, "r", sig));
        assert!(!super::verify(k, "f", "v", 10, "r", sig));
        assert!(!super::verify(k, "f", "u", 11, "r", sig));
        assert!(!super::verify(k, "f", "u", 10, "q", sig));
        assert!(!super::verify(&key(b"other"), "f", "u", 10, "r", sig));
        assert!(!super::verify(k, "f", "u", 10, "r", "!!"));
    }

    #[test]
    fn the_signed_message_is_the_documented_one() {
        use hmac::Mac as _;
        let mut m = super::HmacSha256::new_from_slice(b"key").expect("any key length");
        m.update(b"download\nf1\nu1\n1234\nref");
        let expected = m.finalize().into_bytes();
        let ours = super::mac(&key(b"key"), "f1", "u1", 1234, "ref");
        assert_eq!(ours.finalize().into_bytes(), expected);
    }

    #[test]
    fn the_avatar_message_is_the_documented_one() {
        use hmac::Mac as _;
        let mut m = super::HmacSha256::new_from_slice(b"key").expect("any key length");
        m.update(b"avatar\nu1");
        let expected = m.finalize().into_bytes();
        let ours = super::avatar_mac(&key(b"key"), "u1");
        assert_eq!(ours.finalize().into_bytes(), expected);
    }
}
