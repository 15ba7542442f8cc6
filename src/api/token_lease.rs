//! A token the OkHttp interceptor may reuse while the session says it is still the one
//! to send. Every call through UniFFI's Kotlin bindings costs microseconds (JNA builds
//! a structure per argument and per result); the interceptor needs the token for every
//! request. So it holds a lease and asks `refreshkit_token_lease_is_current`, a C
//! function of two integers that JNA's direct mapping calls without any structure.

use std::fmt;
use std::panic::catch_unwind;

use crate::api::session::Session;
use crate::dpop::state::is_dpop_token_type;
use crate::engine::lease;
use crate::engine::token_set::TokenSet;
use crate::foundation::runtime::block_on;
use crate::types::error::SessionError;
use crate::types::tokens::Redacted;

/// The access token and what identifies it. Printing it (`Debug`, Kotlin's `toString()`, Swift's
/// `description`) never shows the token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct TokenLease {
    /// The token to send.
    pub access_token: String,
    /// Which token this is in the session's history of tokens.
    pub generation: u64,
    /// Which session handed it out, for the quick check that a lease is still current.
    pub session_id: u64,
    /// A DPoP-bound token: every request needs its own headers from `tokenHeadersFor`
    /// (a proof is made for one request), so headers must not be reused.
    pub needs_proof: bool,
}

impl fmt::Debug for TokenLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenLease")
            .field("access_token", &Redacted)
            .field("generation", &self.generation)
            .field("session_id", &self.session_id)
            .field("needs_proof", &self.needs_proof)
            .finish()
    }
}

/// What Kotlin's `toString()` and Swift's `description` show: no Rust notation, no secret.
impl fmt::Display for TokenLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenLease(accessToken=<redacted>, generation={}, sessionId={}, needsProof={})",
            self.generation, self.session_id, self.needs_proof
        )
    }
}

#[uniffi::export]
impl Session {
    /// `accessTokenBlocking`, with what `refreshkit_token_lease_is_current` needs to
    /// tell, cheaply, whether the token may still be sent.
    pub fn access_token_lease_blocking(&self) -> Result<TokenLease, SessionError> {
        let session_id = self.registry_id();
        let current = block_on(self.current_tokens_task())?;
        Ok(self.lease(&current, session_id))
    }

    /// `accessTokenLeaseBlocking` for async callers (a coroutine that may be
    /// cancelled while a refresh is due).
    pub async fn access_token_lease(&self) -> Result<TokenLease, SessionError> {
        let session_id = self.registry_id();
        let current = self.run(self.current_tokens_task()).await?;
        Ok(self.lease(&current, session_id))
    }
}

impl Session {
    fn lease(&self, current: &TokenSet, session_id: u64) -> TokenLease {
        let needs_proof = is_dpop_token_type(current.tokens.token_type.as_deref());
        TokenLease {
            access_token: current.tokens.access_token.clone(),
            generation: current.generation,
            session_id,
            needs_proof,
        }
    }
}

/// 1 when the session `session_id` would send the token of `generation` right now
/// without refreshing first (the same test `access_token` makes), else 0: for a token
/// that was replaced, is expiring, has a refresh in flight, or a session signed out or
/// gone. Never blocks on the network and never unwinds.
#[no_mangle]
pub extern "C" fn refreshkit_token_lease_is_current(session_id: u64, generation: u64) -> i8 {
    let current = catch_unwind(|| lease::is_current(session_id, generation));
    i8::from(current.unwrap_or(false))
}
