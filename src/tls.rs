//! TLS with rustls: certificates are verified by the platform (Android's and iOS's
//! trust stores, the system store elsewhere) through rustls-platform-verifier. The
//! crypto provider is ring: it builds for every Android and iOS target with the
//! platform's clang alone, where aws-lc-rs also wants cmake and a matching toolchain.

use std::sync::Arc;

use rustls::ClientConfig;

use crate::error::SessionError;

pub(crate) fn client_config() -> Result<ClientConfig, SessionError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| SessionError::InvalidConfig { detail: format!("TLS verifier: {e}") })?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SessionError::InvalidConfig { detail: format!("TLS: {e}") })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols =
        if cfg!(feature = "http2") { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(config)
}
