//! Step-up challenges for apps that send requests themselves (the OkHttp interceptor and
//! `AuthorizedURLSession` hand a step-up answer over as it is): the core reads them, so
//! every language reads them alike.

use crate::net::step_up::step_up_challenge_in;
use crate::types::http::HttpHeader;
use crate::types::step_up::StepUpChallenge;

/// The step-up login a resource server asks for in an answer (its `status` and
/// `headers`): a 401 or 403 whose Bearer or DPoP challenge in `WWW-Authenticate` says
/// `insufficient_user_authentication` (RFC 9470) or `insufficient_scope` (RFC 6750).
/// `None` for any other answer. `execute` reads it itself and fails with
/// `StepUpRequired`.
#[uniffi::export]
pub fn parse_step_up_challenge(status: u16, headers: Vec<HttpHeader>) -> Option<StepUpChallenge> {
    step_up_challenge_in(status, &headers)
}
