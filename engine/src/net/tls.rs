//! TLS for node links, with rustls (the `ring` provider).
//!
//! This module owns the TLS *configuration*: acceptor certificates (PEM files, DER, or a
//! self-signed one generated at start as Go does when TLS is asked for without a certificate),
//! the rustls server and client configurations, and the dialer's certificate verifier. The TLS
//! *sessions* are driven elsewhere: during the EHS handshake by `handshake_io` on a blocking
//! socket, then by the shard's ring in `link_io`, which carries the `rustls::Connection` with the
//! socket.
//!
//! What a user may rely on:
//! - An acceptor with a certificate speaks TLS (1.2 or 1.3, no client certificates) and binds
//!   its handshake to its leaf certificate with `DigestCert` (wire spec §5.2); its registrar
//!   route says `tls: true`.
//! - A dialer accepts any certificate whose handshake signatures verify (Go nodes use
//!   self-signed certificates), unless [`TlsDialOptions::roots`] names trust anchors: then the
//!   chain and the host name are verified as usual. Independently, and by default, it checks
//!   the acceptor's `DigestCert` against the SHA-1 of the leaf certificate it received, which
//!   proves that the peer that knows the cookie also holds that certificate.
//! - No session resumption: every link runs a full TLS handshake.
//!
//! This module never does I/O on a shard thread and never blocks.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use thiserror::Error;

pub use rustls::pki_types::CertificateDer as TlsCertificateDer;

/// A TLS configuration could not be built.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM input could not be read or parsed.
    #[error("TLS {what}: {detail}")]
    Pem {
        /// What was being read ("certificate", "private key", "roots").
        what: &'static str,
        /// Why it failed (file name and parser error).
        detail: String,
    },
    /// The certificate chain is empty.
    #[error("TLS certificate chain is empty")]
    EmptyChain,
    /// rustls refused the configuration (key does not match, unsupported key type, ...).
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// A self-signed certificate could not be generated.
    #[error("generating a self-signed TLS certificate: {0}")]
    Generate(String),
    /// A trust anchor was not acceptable.
    #[error("TLS roots: {0}")]
    Roots(String),
}

/// A certificate chain (leaf first) and its private key, for a TLS acceptor.
///
/// ```no_run
/// # use ergo_engine::TlsCertificate;
/// let from_files = TlsCertificate::from_pem_files("node.crt", "node.key").unwrap();
/// let generated = TlsCertificate::self_signed(&["localhost"]).unwrap();
/// println!("{:?}", generated.fingerprint());
/// ```
pub struct TlsCertificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TlsCertificate {
    /// From DER: the chain (leaf first) and a PKCS#8, PKCS#1 or SEC1 key.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<TlsCertificate, TlsError> {
        if chain.is_empty() {
            return Err(TlsError::EmptyChain);
        }
        Ok(TlsCertificate { chain, key })
    }

    /// From PEM text: every `CERTIFICATE` block of `cert_pem` (leaf first) and the first
    /// private key of `key_pem`.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsCertificate, TlsError> {
        let chain = certificates_from_pem(cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
            what: "private key",
            detail: e.to_string(),
        })?;
        TlsCertificate::from_der(chain, key)
    }

    /// From PEM files, as Go's `tls.LoadX509KeyPair` takes them.
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsCertificate, TlsError> {
        let read = |p: &Path, what| {
            std::fs::read(p).map_err(|e| TlsError::Pem {
                what,
                detail: format!("{}: {e}", p.display()),
            })
        };
        TlsCertificate::from_pem(
            &read(cert.as_ref(), "certificate")?,
            &read(key.as_ref(), "private key")?,
        )
    }

    /// A freshly generated self-signed certificate (ECDSA P-256) for these DNS names or IP
    /// addresses, as a Go node makes one when TLS is enabled without a certificate.
    pub fn self_signed(names: &[&str]) -> Result<TlsCertificate, TlsError> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let ck = rcgen::generate_simple_self_signed(names)
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
        TlsCertificate::from_der(vec![ck.cert.der().clone()], key)
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The raw SHA-1 of the leaf certificate's DER: the `FP` of the certificate digests.
    pub fn fingerprint(&self) -> [u8; 20] {
        ergo_proto::handshake::digest::cert_fingerprint(&self.chain[0])
    }
}

impl Clone for TlsCertificate {
    fn clone(&self) -> Self {
        TlsCertificate {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for TlsCertificate {
    /// Shows the leaf fingerprint, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsCertificate")
            .field("chain_len", &self.chain.len())
            .field(
                "fingerprint",
                &ergo_proto::handshake::digest::hex_string(&self.fingerprint()),
            )
            .finish_non_exhaustive()
    }
}

/// Every `CERTIFICATE` block of a PEM text, in order (for chains and trust anchors).
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what: "certificate",
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::EmptyChain);
    }
    Ok(chain)
}

/// Whether and how an acceptor speaks TLS.
#[derive(Debug, Clone, Default)]
pub enum AcceptorTls {
    /// Plain TCP.
    #[default]
    Off,
    /// TLS with a certificate generated at start for the host part of the node name (Go does
    /// this when TLS is enabled without a certificate).
    SelfSigned,
    /// TLS with this certificate.
    Certificate(TlsCertificate),
}

/// How this node's dialer treats acceptors that speak TLS.
#[derive(Debug, Clone)]
pub struct TlsDialOptions {
    /// Trust anchors to verify the acceptor's chain and host name against. `None` (the
    /// default): any certificate is accepted, as Go nodes use self-signed ones (Go's
    /// `InsecureSkipVerify`); handshake signatures are still verified.
    pub roots: Option<Vec<CertificateDer<'static>>>,
    /// Check the acceptor's `DigestCert` against the SHA-1 of the certificate received
    /// (default on; Go checks it too).
    pub check_fingerprint: bool,
}

impl Default for TlsDialOptions {
    fn default() -> Self {
        TlsDialOptions {
            roots: None,
            check_fingerprint: true,
        }
    }
}

/// ECDSA over P-521 with SHA-512: the signatures of Go Ergo's generated certificates (its
/// `GenerateSelfSignedCert` makes P-521 keys), which `ring` cannot check. Verification only
/// (RustCrypto's `p521`): we can dial such acceptors, not serve with such a key.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl rustls::pki_types::SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), rustls::pki_types::InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let bad = |_| rustls::pki_types::InvalidSignature;
        let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(bad)?;
        let sig = p521::ecdsa::Signature::from_der(signature).map_err(bad)?;
        key.verify(message, &sig).map_err(bad)
    }

    fn public_key_alg_id(&self) -> rustls::pki_types::AlgorithmIdentifier {
        rustls::pki_types::alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> rustls::pki_types::AlgorithmIdentifier {
        rustls::pki_types::alg_id::ECDSA_SHA512
    }
}

static P521_SHA512: EcdsaP521Sha512 = EcdsaP521Sha512;
static P521_ALGS: [&dyn rustls::pki_types::SignatureVerificationAlgorithm; 1] = [&P521_SHA512];

/// `ring`'s provider, plus P-521 signature verification.
fn provider() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| {
        let mut p = rustls::crypto::ring::default_provider();
        let base = p.signature_verification_algorithms;
        let mut all = base.all.to_vec();
        all.push(&P521_SHA512);
        let mut mapping = base.mapping.to_vec();
        mapping.push((SignatureScheme::ECDSA_NISTP521_SHA512, &P521_ALGS));
        // Made once per process and kept: the provider wants `'static` tables.
        p.signature_verification_algorithms = rustls::crypto::WebPkiSupportedAlgorithms {
            all: Box::leak(all.into_boxed_slice()),
            mapping: Box::leak(mapping.into_boxed_slice()),
        };
        Arc::new(p)
    })
    .clone()
}

/// An acceptor's TLS: its rustls configuration and the fingerprint its digests bind.
#[derive(Clone)]
pub(crate) struct ServerSide {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) fingerprint: [u8; 20],
}

impl ServerSide {
    pub(crate) fn new(cert: &TlsCertificate) -> Result<ServerSide, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(cert.chain.clone(), cert.key.clone_key())?;
        // Nothing resumes: do not spend bytes on session tickets.
        config.send_tls13_tickets = 0;
        Ok(ServerSide {
            config: Arc::new(config),
            fingerprint: cert.fingerprint(),
        })
    }
}

/// The dialer's TLS: one rustls client configuration per node.
#[derive(Clone)]
pub(crate) struct ClientSide {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) check_fingerprint: bool,
    /// Certificates are checked against trust anchors and the host name.
    verifies_names: bool,
}

impl ClientSide {
    pub(crate) fn new(opts: &TlsDialOptions) -> Result<ClientSide, TlsError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let mut config = match &opts.roots {
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
                .with_no_client_auth(),
            Some(roots) => {
                let mut store = RootCertStore::empty();
                for r in roots {
                    store
                        .add(r.clone())
                        .map_err(|e| TlsError::Roots(e.to_string()))?;
                }
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
                        .build()
                        .map_err(|e| TlsError::Roots(e.to_string()))?;
                builder.with_webpki_verifier(verifier).with_no_client_auth()
            }
        };
        config.resumption = Resumption::disabled();
        Ok(ClientSide {
            config: Arc::new(config),
            check_fingerprint: opts.check_fingerprint,
            verifies_names: opts.roots.is_some(),
        })
    }

    /// A client session towards `host` (a DNS name or an IP address). A host that is no valid
    /// server name is an error when certificates are checked against names; otherwise the name
    /// is not looked at, and any valid one stands in.
    pub(crate) fn connect(&self, host: &str) -> Result<rustls::ClientConnection, rustls::Error> {
        let name = match ServerName::try_from(host.to_string()) {
            Ok(n) => n,
            Err(e) if self.verifies_names => {
                return Err(rustls::Error::General(format!("{host}: {e}")))
            }
            Err(_) => ServerName::try_from("localhost").expect("a valid name"),
        };
        rustls::ClientConnection::new(self.config.clone(), name)
    }
}

/// Accepts any certificate, but verifies the handshake signatures made with its key: the
/// binding to the peer is then done by the certificate digest of the EHS handshake.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_round_trips_through_pem_parsing_and_configs() {
        let c = TlsCertificate::self_signed(&["localhost", "127.0.0.1"]).unwrap();
        assert_eq!(c.chain().len(), 1);
        assert_eq!(
            c.fingerprint(),
            ergo_proto::handshake::digest::cert_fingerprint(&c.chain()[0])
        );
        ServerSide::new(&c).unwrap();
        ClientSide::new(&TlsDialOptions::default()).unwrap();
        ClientSide::new(&TlsDialOptions {
            roots: Some(c.chain().to_vec()),
            check_fingerprint: true,
        })
        .unwrap();
        assert!(format!("{c:?}").contains("fingerprint"));
    }

    /// A P-521 certificate and a SHA-512 signature by its key, made with OpenSSL (as Go Ergo's
    /// generated certificates are P-521).
    #[test]
    fn p521_signatures_of_go_style_certificates_verify() {
        use rustls::pki_types::SignatureVerificationAlgorithm;
        let cert_pem = include_bytes!("../../tests/fixtures/p521-cert.pem");
        let cert = CertificateDer::from_pem_slice(cert_pem).unwrap();
        let msg = include_bytes!("../../tests/fixtures/p521-message.txt");
        let sig = include_bytes!("../../tests/fixtures/p521-message.sig");
        // The subject public key: the last 133 bytes of its SPKI are the uncompressed point.
        let spki = include_bytes!("../../tests/fixtures/p521-spki.der");
        let point = &spki[spki.len() - 133..];
        assert_eq!(point[0], 0x04);
        P521_SHA512.verify_signature(point, msg, sig).unwrap();
        let mut tampered = msg.to_vec();
        tampered[0] ^= 1;
        assert!(P521_SHA512.verify_signature(point, &tampered, sig).is_err());
        assert!(P521_SHA512.verify_signature(point, msg, &sig[1..]).is_err());
        // Offered in handshakes, and found for the certificate's key by rustls.
        let algs = provider().signature_verification_algorithms;
        assert!(algs
            .supported_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
        // The key is the certificate's own (its SPKI is inside the certificate).
        assert!(cert.windows(spki.len()).any(|w| w == &spki[..]));
    }

    #[test]
    fn bad_pem_is_an_error_not_a_panic() {
        assert!(matches!(
            TlsCertificate::from_pem(b"nothing here", b"nor here"),
            Err(TlsError::EmptyChain)
        ));
        assert!(
            TlsCertificate::from_pem_files("/nonexistent/a.crt", "/nonexistent/a.key")
                .unwrap_err()
                .to_string()
                .contains("a.crt")
        );
        assert!(
            TlsCertificate::from_der(vec![], TlsCertificate::self_signed(&["x"]).unwrap().key)
                .is_err()
        );
    }
}
