//! TLS client configuration for IMAP (lettre builds its own for SMTP from the
//! same trust roots): the system's roots plus an optional extra CA file, with
//! the ring provider, the only crypto provider linked into the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};
use rustls::{ClientConfig, RootCertStore};

/// Why no TLS client configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file cannot be opened or read.
    #[error("cannot read CA file {}: {source}", path.display())]
    ReadCaFile {
        path: PathBuf,
        #[source]
        source: pem::Error,
    },
    /// A PEM section of the CA file is not a certificate.
    #[error("bad certificate in {}: {source}", path.display())]
    BadCertificate {
        path: PathBuf,
        #[source]
        source: pem::Error,
    },
    /// The CA file holds no certificate at all.
    #[error("no certificate in CA file {}", path.display())]
    NoCertificate { path: PathBuf },
    /// rustls refuses a certificate of the CA file as a trust root.
    #[error("unusable certificate in {}: {source}", path.display())]
    Unusable {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    /// rustls refuses the protocol versions of the provider.
    #[error("TLS setup failed: {0}")]
    Setup(#[source] rustls::Error),
}

/// Reads every certificate in a PEM file.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|source| TlsSetupError::ReadCaFile {
            path: path.to_path_buf(),
            source,
        })?
        .collect();
    let certs = certs.map_err(|source| TlsSetupError::BadCertificate {
        path: path.to_path_buf(),
        source,
    })?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// A client configuration trusting the system roots and `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A broken system certificate is not a reason to refuse all others.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|source| TlsSetupError::Unusable {
                path: path.to_path_buf(),
                source,
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Setup)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
