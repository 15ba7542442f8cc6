//! Redirects are followed only within the hosts that may receive the token, so a
//! redirect never carries it (in any header name) to another host.

use std::collections::HashSet;

use reqwest::redirect::Policy;

const MAX_REDIRECTS: usize = 10;

pub(crate) fn policy(token_hosts: HashSet<String>) -> Policy {
    Policy::custom(move |attempt| {
        let allowed = attempt.url().host_str().is_some_and(|h| token_hosts.contains(&h.to_ascii_lowercase()));
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if allowed {
            attempt.follow()
        } else {
            // Hand the 3xx to the app, which can follow it without the session's token.
            attempt.stop()
        }
    })
}
