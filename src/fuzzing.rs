//! Entry points for the fuzz harness (tests/fuzz): every parser of untrusted bytes,
//! reachable without a server. Not part of the supported API.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::api::config::SessionConfig;
use crate::engine::settings::{BodyRule, RefreshProtocol};

/// The refresh endpoint's answer, in the OAuth 2.0 or the JSON protocol.
pub fn refresh_answer(json_protocol: bool, status: u16, body: &[u8]) {
    let protocol = if json_protocol {
        RefreshProtocol::Json {
            refresh_token_field: "refreshToken".into(),
            extra_fields: HashMap::new(),
            access_token_pointer: "/data/token".into(),
            refresh_token_pointer: Some("/data/refreshToken".into()),
            expires_in_pointer: Some("/data/expiresIn".into()),
        }
    } else {
        RefreshProtocol::OAuth2 { client_id: None, client_secret: None, scope: None, basic_auth: false }
    };
    let _ = crate::engine::protocol::parse_answer(&protocol, status, body, SystemTime::now());
}

/// A JWT's `exp` claim.
pub fn jwt_expiry(token: &str) {
    let _ = crate::types::jwt::expiry_of(token);
}

/// `WWW-Authenticate` fields, one a line: their challenges, and a step-up among them.
pub fn www_authenticate(fields: &str) {
    let _ = crate::net::challenge::challenges(fields.split('\n'));
    let _ = crate::net::step_up::step_up_challenge(401, fields.split('\n'));
}

/// The "expired" body rule against a response body.
pub fn body_rule(pointer: &str, value: &str, body: &[u8]) {
    let rule = BodyRule { pointer: pointer.into(), values: vec![value.into()] };
    let _ = crate::engine::settings::body_matches(&rule, body);
}

/// Configuration checking, with untrusted text in every text field.
pub fn config(fields: [&str; 5]) {
    let mut c = SessionConfig::new(fields[0]);
    c.refresh_path = fields[1].into();
    c.header_name = fields[2].into();
    c.header_scheme = fields[3].into();
    c.token_hosts = vec![fields[4].into()];
    c.expired_body_rule = Some(BodyRule { pointer: fields[4].into(), values: vec![] });
    let _ = c.into_settings();
}
