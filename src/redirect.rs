//! Redirects are followed only where the first request could have gone with the token:
//! a host that may receive it, over a transport the session allows, never from https
//! down to http. Any other redirect is handed back to the app as the 3xx it is, so a
//! redirect never carries the token (in any header name) anywhere else.

use reqwest::redirect::Policy;

use crate::config::Settings;

const MAX_REDIRECTS: usize = 10;

pub(crate) fn policy(settings: &Settings) -> Policy {
    let rules = settings.transport_rules();
    Policy::custom(move |attempt| {
        let downgrade =
            attempt.previous().last().is_some_and(|from| from.scheme() == "https") && attempt.url().scheme() != "https";
        let allowed = !downgrade && rules.allows_token(attempt.url());
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if allowed {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}
