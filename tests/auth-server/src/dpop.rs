//! DPoP (RFC 9449) as a server checks it: the proof's signature by the key in its own
//! header, method, URL, time window, replay, token hash and nonce. Tokens issued with a
//! proof are bound to the key's thumbprint (RFC 7638).

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::Value;

/// How far `iat` may be from the server's clock, either way.
const IAT_WINDOW_SECS: u64 = 60;

pub struct DpopRules {
    pub require_nonce: bool,
    /// Seconds this server's clock is ahead of the machine's (negative: behind): it
    /// checks `iat` and dates its answers with it, like a server whose clock differs
    /// from the phone's.
    pub clock_offset_secs: i64,
    /// A resource's refusal names a Bearer challenge too, in the same field, as servers
    /// that take both schemes do: `Bearer realm="api", DPoP algs="ES256", error="..."`.
    pub combined_challenges: bool,
    /// Resources ask for a nonce of their own (RFC 9449 section 9), not the one `/login`
    /// and the token endpoint ask for (section 8): a resource server beside its
    /// authorization server on one origin, each with its own nonces.
    pub separate_resource_nonce: bool,
    /// Resources' 200s come as a cache (a CDN) serves a copy it has held this long: with
    /// `Age: N` and the `Date` of when the server made it, N seconds ago (RFC 9111 section 5.1).
    pub cached_age_secs: u64,
    nonce: String,
    resource_nonce: String,
    nonces_issued: u64,
    seen_jti: HashSet<String>,
}

/// What a request must match.
pub struct Expected<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// The access token the request carries (resource requests).
    pub access_token: Option<&'a str>,
    /// A resource request, not a token request: which nonce it needs.
    pub resource: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The proof is missing, malformed, badly signed, or for another request.
    Invalid(&'static str),
    /// The proof lacks the current nonce: retry with the one in the `DPoP-Nonce` header.
    UseNonce,
}

impl DpopRules {
    pub fn new(require_nonce: bool) -> Self {
        let mut rules = DpopRules {
            require_nonce,
            clock_offset_secs: 0,
            combined_challenges: false,
            separate_resource_nonce: false,
            cached_age_secs: 0,
            nonce: String::new(),
            resource_nonce: String::new(),
            nonces_issued: 0,
            seen_jti: HashSet::new(),
        };
        rules.rotate_nonce();
        rules
    }

    /// The server's own time.
    pub fn now(&self) -> SystemTime {
        let by = std::time::Duration::from_secs(self.clock_offset_secs.unsigned_abs());
        if self.clock_offset_secs >= 0 {
            SystemTime::now() + by
        } else {
            SystemTime::now() - by
        }
    }

    /// The nonce proofs for a resource (`resource`) or a token request need now.
    pub fn nonce(&self, resource: bool) -> &str {
        if resource && self.separate_resource_nonce {
            &self.resource_nonce
        } else {
            &self.nonce
        }
    }

    pub fn rotate_nonce(&mut self) {
        self.nonce = self.new_nonce("n");
        self.resource_nonce = self.new_nonce("r");
    }

    fn new_nonce(&mut self, prefix: &str) -> String {
        self.nonces_issued += 1;
        let mut bytes = [0u8; 12];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("random");
        format!("{prefix}{}-{}", self.nonces_issued, B64URL.encode(bytes))
    }

    /// Checks `proof` against `expected`; the key's thumbprint when it holds.
    pub fn check(&mut self, proof: Option<&str>, expected: &Expected<'_>) -> Result<String, Refusal> {
        let proof = proof.ok_or(Refusal::Invalid("DPoP proof JWT not provided"))?;
        let (header, claims) = verified(proof)?;
        let claim = |name: &str| claims.get(name).and_then(Value::as_str);
        if claim("htm") != Some(expected.method) {
            return Err(Refusal::Invalid("htm mismatch"));
        }
        if claim("htu") != Some(expected.url.split(['?', '#']).next().unwrap_or_default()) {
            return Err(Refusal::Invalid("htu mismatch"));
        }
        let now = self.now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let iat = claims.get("iat").and_then(Value::as_u64).ok_or(Refusal::Invalid("iat missing"))?;
        if iat.abs_diff(now) > IAT_WINDOW_SECS {
            return Err(Refusal::Invalid("iat outside the window"));
        }
        if let Some(token) = expected.access_token {
            let hash = B64URL.encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()));
            if claim("ath") != Some(hash.as_str()) {
                return Err(Refusal::Invalid("ath mismatch"));
            }
        }
        if self.require_nonce && claim("nonce") != Some(self.nonce(expected.resource)) {
            return Err(Refusal::UseNonce);
        }
        let jti = claim("jti").filter(|j| !j.is_empty()).ok_or(Refusal::Invalid("jti missing"))?;
        if !self.seen_jti.insert(jti.to_owned()) {
            return Err(Refusal::Invalid("jti replayed"));
        }
        Ok(thumbprint(&header["jwk"]))
    }
}

/// The proof's header and claims, once its signature verified with the key its header names.
fn verified(proof: &str) -> Result<(Value, Value), Refusal> {
    let bad = Refusal::Invalid;
    let parts: Vec<&str> = proof.split('.').collect();
    let [header, claims, signature] = parts[..] else { return Err(bad("not a JWT")) };
    let decode = |part: &str| -> Result<Value, Refusal> {
        let bytes = B64URL.decode(part).map_err(|_| bad("not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| bad("not JSON"))
    };
    let (header_json, claims_json) = (decode(header)?, decode(claims)?);
    if header_json["typ"] != "dpop+jwt" || header_json["alg"] != "ES256" {
        return Err(bad("typ or alg"));
    }
    let jwk = &header_json["jwk"];
    if jwk.get("d").is_some() || jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return Err(bad("jwk"));
    }
    let coordinate = |name: &str| jwk[name].as_str().and_then(|c| B64URL.decode(c).ok()).filter(|c| c.len() == 32);
    let (Some(x), Some(y)) = (coordinate("x"), coordinate("y")) else { return Err(bad("jwk coordinates")) };
    let point: Vec<u8> = [&[4u8][..], &x, &y].concat();
    let signature = B64URL.decode(signature).map_err(|_| bad("signature encoding"))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| bad("signature"))?;
    Ok((header_json, claims_json))
}

/// RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
pub fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        jwk["crv"].as_str().unwrap_or_default(),
        jwk["kty"].as_str().unwrap_or_default(),
        jwk["x"].as_str().unwrap_or_default(),
        jwk["y"].as_str().unwrap_or_default()
    );
    B64URL.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()))
}
