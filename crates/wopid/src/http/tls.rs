//! TLS for the single-binary case: a certificate chain and key from PEM files, with rustls. The
//! files are watched and a renewed certificate is picked up by new connections without a
//! restart; a renewal that cannot be read keeps the previous certificate in use (with a warning).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

/// How often the certificate files are checked for a change.
const WATCH_EVERY: Duration = Duration::from_secs(5);

/// The current TLS configuration, reloaded when the files change.
#[derive(Clone)]
pub struct Tls {
    current: Arc<RwLock<TlsAcceptor>>,
}

fn load(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("parsing {}: {e}", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", key.display()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn modified(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

impl Tls {
    /// Loads the certificate and key, and starts watching them.
    pub fn start(cert: PathBuf, key: PathBuf) -> anyhow::Result<Self> {
        let acceptor = load(&cert, &key)?;
        let tls = Self {
            current: Arc::new(RwLock::new(acceptor)),
        };
        let watched = tls.clone();
        tokio::spawn(async move {
            let paths = [cert, key];
            let mut seen = modified(&paths);
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                let now = modified(&paths);
                if now == seen {
                    continue;
                }
                seen = now;
                match load(&paths[0], &paths[1]) {
                    Ok(acceptor) => {
                        if let Ok(mut cur) = watched.current.write() {
                            *cur = acceptor;
                        }
                        tracing::info!("TLS certificate reloaded");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS certificate changed but cannot be loaded; keeping the previous one")
                    }
                }
            }
        });
        Ok(tls)
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> Option<TlsAcceptor> {
        self.current.read().ok().map(|a| a.clone())
    }
}
