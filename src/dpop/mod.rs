//! DPoP (RFC 9449): the app's key and the proofs it signs, and a session's nonces,
//! clock and the rules for answers that refuse a proof.

pub(crate) mod key;
pub(crate) mod state;
