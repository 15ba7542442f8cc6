//! The wire: reqwest with rustls and the platform verifier, the transport and
//! redirect rules, `WWW-Authenticate` parsing and the step-up challenges it carries.

pub(crate) mod challenge;
pub(crate) mod redirect;
pub(crate) mod step_up;
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod wire;
