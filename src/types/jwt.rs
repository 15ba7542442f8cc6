//! Reads the `exp` claim of a JWT access token without verifying it: the server verifies
//! signatures; the client only needs to know when to refresh.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// JWTs drop the padding, but some issuers keep it.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Payloads larger than this are not JWTs an auth server would issue.
const MAX_PAYLOAD_CHARS: usize = 16 * 1024;

/// The expiry in the token's `exp` claim, if the token is a JWT that has one.
pub(crate) fn expiry_of(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.is_empty() || payload.len() > MAX_PAYLOAD_CHARS {
        return None;
    }
    let bytes = BASE64URL.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_f64()?;
    if !exp.is_finite() || !(0.0..=1e11).contains(&exp) {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs_f64(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_with(payload: &str) -> String {
        format!("e30.{}.sig", BASE64URL.encode(payload))
    }

    #[test]
    fn reads_exp_in_seconds() {
        let at = expiry_of(&token_with(r#"{"exp":1700000000}"#)).unwrap();
        assert_eq!(at, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    }

    #[test]
    fn ignores_tokens_that_are_not_jwts() {
        assert_eq!(expiry_of("opaque-token"), None);
        assert_eq!(expiry_of("a.b"), None);
        assert_eq!(expiry_of("a.b.c.d"), None);
        assert_eq!(expiry_of(&token_with(r#"{"sub":"x"}"#)), None);
        assert_eq!(expiry_of(&token_with(r#"{"exp":"soon"}"#)), None);
        assert_eq!(expiry_of(&token_with(r#"{"exp":-5}"#)), None);
        assert_eq!(expiry_of(&token_with("not json")), None);
    }
}
