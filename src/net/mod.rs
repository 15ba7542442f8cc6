//! The wire: reqwest with rustls and the platform verifier, the transport and
//! redirect rules, and `WWW-Authenticate` parsing.

pub(crate) mod challenge;
pub(crate) mod redirect;
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod wire;
