//! A resource server's step-up challenge (RFC 9470 section 3, RFC 6750 section 3.1):
//! a 401 or 403 whose Bearer or DPoP challenge says `insufficient_user_authentication`
//! or `insufficient_scope`. It is no expired token: the server took the token, and wants
//! more of the login (or the grant) behind it.

use crate::net::challenge::{challenges, www_authenticate_fields, Challenge};
use crate::types::http::{HttpHeader, HttpResponse};
use crate::types::step_up::{StepUpChallenge, StepUpReason};

/// The step-up challenge among the `WWW-Authenticate` fields of an answer with `status`,
/// if one is there. RFC 9470 answers 401, RFC 6750 `insufficient_scope` 403; any other
/// status asks for nothing.
pub(crate) fn step_up_challenge<'a>(
    status: u16,
    www_authenticate: impl IntoIterator<Item = &'a str>,
) -> Option<StepUpChallenge> {
    if status != 401 && status != 403 {
        return None;
    }
    challenges(www_authenticate).iter().find_map(read)
}

/// `step_up_challenge` of an answer's status and headers.
pub(crate) fn step_up_challenge_in(status: u16, headers: &[HttpHeader]) -> Option<StepUpChallenge> {
    step_up_challenge(status, www_authenticate_fields(headers))
}

/// `step_up_challenge` of a response `execute` received.
pub(crate) fn step_up_challenge_of(response: &HttpResponse) -> Option<StepUpChallenge> {
    step_up_challenge_in(response.status, &response.headers)
}

fn read(challenge: &Challenge) -> Option<StepUpChallenge> {
    // RFC 9449 section 7.1: a DPoP challenge takes RFC 6750's error codes too.
    let scheme = &challenge.scheme;
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("dpop") {
        return None;
    }
    let reason = match challenge.param("error")? {
        "insufficient_user_authentication" => StepUpReason::InsufficientUserAuthentication,
        "insufficient_scope" => StepUpReason::InsufficientScope,
        _ => return None,
    };
    let text = |name| challenge.param(name).filter(|v| !v.is_empty()).map(str::to_owned);
    Some(StepUpChallenge {
        reason,
        acr_values: text("acr_values"),
        // Not a number of seconds: the server asked for no age the app could pass on.
        max_age: challenge.param("max_age").and_then(|v| v.parse().ok()),
        scope: text("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, fields: &[&str]) -> Option<StepUpChallenge> {
        step_up_challenge(status, fields.iter().copied())
    }

    #[test]
    fn rfc_9470s_example_gives_its_acr_values_and_max_age() {
        let field = r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR""#;
        let found = read(401, &[field]).unwrap();
        assert_eq!(found.reason, StepUpReason::InsufficientUserAuthentication);
        assert_eq!((found.acr_values.as_deref(), found.max_age, found.scope), (Some("myACR"), None, None));
        let found = read(401, &[r#"Bearer error="insufficient_user_authentication", max_age=5"#]).unwrap();
        assert_eq!(found.max_age, Some(5));
    }

    #[test]
    fn a_challenge_after_others_in_any_field_is_found() {
        let fields = [
            r#"Basic realm="x""#,
            r#"Bearer realm="api", DPoP algs="ES256", error="insufficient_scope", scope="read write""#,
        ];
        let found = read(403, &fields).unwrap();
        assert_eq!((found.reason, found.scope.as_deref()), (StepUpReason::InsufficientScope, Some("read write")));
    }

    #[test]
    fn other_errors_schemes_and_statuses_ask_for_no_step_up() {
        assert_eq!(read(401, &[r#"Bearer error="invalid_token""#]), None);
        assert_eq!(read(401, &[r#"Basic error="insufficient_scope""#]), None);
        assert_eq!(read(200, &[r#"Bearer error="insufficient_scope""#]), None);
        assert_eq!(read(401, &[]), None);
    }

    #[test]
    fn a_max_age_that_is_no_number_of_seconds_is_left_out() {
        let found = read(401, &[r#"Bearer error="insufficient_user_authentication", max_age="-1", acr_values="""#]);
        assert_eq!(found.map(|c| (c.max_age, c.acr_values)), Some((None, None)));
    }
}
