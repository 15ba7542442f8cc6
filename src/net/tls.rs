//! TLS with rustls: certificates are verified by the platform (Android's and iOS's
//! trust stores, the system store elsewhere) through rustls-platform-verifier. The
//! crypto provider is ring: it builds for every Android and iOS target with the
//! platform's clang alone, where aws-lc-rs also wants cmake and a matching toolchain.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::foundation::runtime::may_block;
use crate::types::error::SessionError;

pub(crate) fn client_config() -> Result<ClientConfig, SessionError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| SessionError::InvalidConfig { detail: format!("TLS verifier: {e}") })?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SessionError::InvalidConfig { detail: format!("TLS: {e}") })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(OffTheNetworkThread(verifier)))
        .with_no_client_auth();
    config.alpn_protocols =
        if cfg!(feature = "http2") { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(config)
}

/// The platform verifier, run so that it cannot stall the runtime's worker: Apple's
/// SecTrustEvaluateWithError and Android's TrustManager may fetch intermediates or
/// revocation data over the network before they answer.
#[derive(Debug)]
struct OffTheNetworkThread<V>(V);

impl<V: ServerCertVerifier> ServerCertVerifier for OffTheNetworkThread<V> {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        may_block(|| self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.0.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.0.root_hint_subjects()
    }
}
