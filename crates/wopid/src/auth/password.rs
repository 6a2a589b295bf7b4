//! Password hashing with Argon2id (PHC strings), from the `argon2` crate.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use rand::RngCore as _;

/// Hashes a password with a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hash: {e}"))?;
    Ok(phc.to_string())
}

/// Checks a password against a stored PHC string (constant time inside the crate).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// How many passwords are hashed at once: `configured`, or the number of CPUs for 0.
pub fn concurrency(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    }
}

/// Checks a password against a stored PHC string (or, for `None`, against a dummy hash so that an
/// unknown name takes as long) on the blocking pool, never on the workers serving requests, and
/// at most as many at once as `hashing` has permits: a flood of sign-ins queues here.
pub async fn verify_off_workers(
    hashing: &tokio::sync::Semaphore,
    password: &str,
    phc: Option<String>,
) -> bool {
    let Ok(_permit) = hashing.acquire().await else {
        return false;
    };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match phc {
        Some(h) => verify(&password, &h),
        None => {
            dummy_verify(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Hashes a password on the blocking pool, within the permits of `hashing` (as
/// [`verify_off_workers`]).
pub async fn hash_off_workers(
    hashing: &tokio::sync::Semaphore,
    password: &str,
) -> anyhow::Result<String> {
    let _permit = hashing.acquire().await?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

/// A hash of nothing in particular, verified against when the user does not exist, so a wrong
/// user name takes as long as a wrong password.
pub fn dummy_verify(password: &str) {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0Ojq4wI7UMwSzBhD4JJQ7h4Xp/9cI0kJq8kIBuMtVG8";
    let _ = verify(password, DUMMY);
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn off_worker_checks_answer_like_verify() {
        let h = super::hash("pw").expect("hash");
        let permits = tokio::sync::Semaphore::new(1);
        assert!(super::verify_off_workers(&permits, "pw", Some(h.clone())).await);
        assert!(!super::verify_off_workers(&permits, "no", Some(h)).await);
        assert!(!super::verify_off_workers(&permits, "pw", None).await);
        permits.close();
        assert!(!super::verify_off_workers(&permits, "pw", None).await);
    }

    #[test]
    fn round_trip() {
        let h = super::hash("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &h));
        assert!(!super::verify("wrong", &h));
        assert!(!super::verify("x", "not a hash"));
    }
}
