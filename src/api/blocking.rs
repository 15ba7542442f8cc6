//! Blocking forms of the calls, for threads that are allowed to block: OkHttp
//! interceptors and Authenticators, Java executors, `Dispatchers.IO`. One plain call
//! across the FFI instead of the async machinery's four plus a callback into the
//! foreign runtime. Never call them on a UI thread; from async code use the async forms.

use crate::api::session::Session;
use crate::foundation::runtime::block_on;
use crate::types::error::SessionError;
use crate::types::http::{HttpRequest, HttpResponse};

#[uniffi::export]
impl Session {
    /// `execute`, blocking the calling thread until the response or the error. Bounded
    /// by the request timeout (and the refresh timeout when a refresh is due).
    pub fn execute_blocking(&self, request: HttpRequest) -> Result<HttpResponse, SessionError> {
        block_on(self.execute_task(request))
    }

    /// `accessToken`, blocking the calling thread; returns at once while the token is valid.
    pub fn access_token_blocking(&self) -> Result<String, SessionError> {
        block_on(self.access_token_task())
    }

    /// `refreshAfterUnauthorized`, blocking the calling thread.
    pub fn refresh_after_unauthorized_blocking(&self, rejected_access_token: String) -> Result<String, SessionError> {
        block_on(self.refresh_after_unauthorized_task(rejected_access_token))
    }
}
