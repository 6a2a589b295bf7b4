//! HTTPS served directly: a certificate from PEM files, replaced on disk and picked up by new
//! connections without a restart.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::*;

/// A self-signed certificate for 127.0.0.1, written as `NAME.crt` and `NAME.key`.
fn self_signed(dir: &Path, name: &str) -> Vec<u8> {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .args([
            "-addext",
            "keyUsage=digitalSignature,keyEncipherment",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("openssl runs")
        .status
        .success();
    assert!(ok, "openssl made a certificate");
    std::fs::read(crt).expect("certificate")
}

fn client(trusted_pem: &[u8]) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(trusted_pem).expect("pem");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn https_with_a_certificate_reloaded_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = self_signed(dir.path(), "first");
    let second = self_signed(dir.path(), "second");
    let (crt, key) = (dir.path().join("live.crt"), dir.path().join("live.key"));
    std::fs::copy(dir.path().join("first.crt"), &crt).expect("copy");
    std::fs::copy(dir.path().join("first.key"), &key).expect("copy");
    let (c2, k2) = (crt.clone(), key.clone());
    let s = TestServer::start_with(move |c| {
        c.tls_cert = Some(c2);
        c.tls_key = Some(k2);
    })
    .await;
    assert!(
        s.base.starts_with("https://"),
        "URLs handed out are https: {}",
        s.base
    );
    let id = s.add_file("alice", "a.docx", b"over tls").await;
    let t = s.token("alice", &id, RW).await;
    let url = s.contents_url(&id, &t);
    let got = client(&first)
        .get(&url)
        .send()
        .await
        .expect("https request");
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"over tls");
    // Plain HTTP on the TLS port gets no answer it could mistake for a WOPI response.
    let plain = format!("http://{}", s.base.trim_start_matches("https://"));
    assert!(
        reqwest::Client::new()
            .get(format!("{plain}/healthz"))
            .send()
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );

    // Renew: the new pair replaces the old files; new connections get it within a few seconds.
    std::fs::copy(dir.path().join("second.key"), &key).expect("copy");
    std::fs::copy(dir.path().join("second.crt"), &crt).expect("copy");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if client(&second).get(&url).send().await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        client(&first).get(&url).send().await.is_err(),
        "the old certificate is no longer served"
    );
}
