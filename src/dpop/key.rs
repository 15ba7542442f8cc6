//! DPoP (RFC 9449): the refresh call and every request that carries a DPoP-bound token
//! also carry a proof, a JWT signed by a key the app holds, over the method, the URL, the
//! time, a unique id and (for API calls) a hash of the token. A stolen token is then
//! useless without the device's key.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Map, Value};
use url::Url;

/// The key that signs DPoP proofs: ES256 (ECDSA on P-256 with SHA-256). Implement it over
/// the Android Keystore or the Secure Enclave so the private key never leaves the
/// device's hardware; `software_dpop_key()` is a key in memory for tests and Linux.
#[uniffi::export(with_foreign)]
pub trait DpopKey: Send + Sync {
    /// The public key as a JWK: `{"kty":"EC","crv":"P-256","x":"…","y":"…"}`.
    fn public_jwk(&self) -> Result<String, DpopKeyError>;
    /// An ES256 signature of `message`, as `r‖s` (64 bytes, as JWS has it) or DER (as the
    /// Android Keystore and `SecKeyCreateSignature` return it).
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, DpopKeyError>;
}

/// An error of the app's `DpopKey`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum DpopKeyError {
    /// The key no longer exists (a device restored from a backup, app data cleared): the
    /// tokens bound to it can never be used again.
    #[error("the DPoP key is gone")]
    Gone,
    /// Any other failure.
    #[error("{detail}")]
    Failed {
        /// What failed; never key material.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for DpopKeyError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        DpopKeyError::Failed { detail: e.reason }
    }
}

fn failed(detail: &str) -> DpopKeyError {
    DpopKeyError::Failed { detail: detail.into() }
}

/// A P-256 key in memory (ring). For tests, Rust apps and Linux; phones should keep the
/// key in their secure hardware. `pkcs8()` exports it for an app's own secure storage.
pub struct SoftwareDpopKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl SoftwareDpopKey {
    /// A new random key.
    pub fn generate() -> Self {
        let rng = SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("the system's random source works");
        Self::from_pkcs8(document.as_ref()).expect("a key ring generated is valid")
    }

    /// The key saved earlier with `pkcs8()`.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, DpopKeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| failed("not a PKCS#8 P-256 key"))?;
        Ok(SoftwareDpopKey { pair, pkcs8: pkcs8.to_vec(), rng })
    }

    /// The private key as PKCS#8 DER: a secret, store it as one.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl fmt::Debug for SoftwareDpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareDpopKey").finish_non_exhaustive()
    }
}

impl DpopKey for SoftwareDpopKey {
    fn public_jwk(&self) -> Result<String, DpopKeyError> {
        // ring gives the uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = self.pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": B64URL.encode(&point[1..33]),
            "y": B64URL.encode(&point[33..65]),
        });
        Ok(jwk.to_string())
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, DpopKeyError> {
        let signature = self.pair.sign(&self.rng, &message).map_err(|_| failed("signing failed"))?;
        Ok(signature.as_ref().to_vec())
    }
}

/// A new P-256 key in memory, for tests and Linux (`SoftwareDpopKey`).
#[uniffi::export]
pub fn software_dpop_key() -> Arc<dyn DpopKey> {
    Arc::new(SoftwareDpopKey::generate())
}

/// What one proof is for.
pub(crate) struct ProofFor<'a> {
    pub method: &'a str,
    pub url: &'a Url,
    /// The token the request carries (API calls); `None` for the refresh call.
    pub access_token: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub now: SystemTime,
}

/// A signed proof: the value of the `DPoP` header.
pub(crate) fn proof(key: &dyn DpopKey, what: &ProofFor<'_>) -> Result<String, DpopKeyError> {
    let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key)? });
    let mut claims = Map::new();
    claims.insert("jti".into(), Value::String(unique_id()?));
    claims.insert("htm".into(), Value::String(what.method.to_owned()));
    claims.insert("htu".into(), Value::String(htu(what.url)));
    let iat = what.now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    claims.insert("iat".into(), Value::from(iat));
    if let Some(token) = what.access_token {
        claims.insert("ath".into(), Value::String(token_hash(token)));
    }
    if let Some(nonce) = what.nonce {
        claims.insert("nonce".into(), Value::String(nonce.to_owned()));
    }
    let input = format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(Value::Object(claims).to_string()));
    let signature = jws_signature(&key.sign(input.clone().into_bytes())?)?;
    Ok(format!("{input}.{}", B64URL.encode(signature)))
}

/// The app's JWK, checked: a P-256 public key, and nothing else of it goes into a proof
/// (a JWK that also holds the private part `d` is refused, never sent).
fn public_jwk(key: &dyn DpopKey) -> Result<Value, DpopKeyError> {
    let jwk: Value = serde_json::from_str(&key.public_jwk()?).map_err(|_| failed("the public JWK is not JSON"))?;
    if jwk.get("d").is_some() {
        return Err(failed("the public JWK holds a private key"));
    }
    let member = |name: &str| jwk.get(name).and_then(Value::as_str).map(str::to_owned);
    match (member("kty").as_deref(), member("crv").as_deref(), member("x"), member("y")) {
        (Some("EC"), Some("P-256"), Some(x), Some(y)) => Ok(json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })),
        _ => Err(failed("the public JWK is not a P-256 EC key")),
    }
}

/// RFC 9449 section 4.2: the request URL without userinfo, query and fragment.
fn htu(url: &Url) -> String {
    let mut bare = url.clone();
    // Fails only for URLs without a host, which no request has.
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    bare.set_query(None);
    bare.set_fragment(None);
    bare.to_string()
}

/// `ath`: base64url of the SHA-256 of the access token.
pub(crate) fn token_hash(token: &str) -> String {
    B64URL.encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()))
}

fn unique_id() -> Result<String, DpopKeyError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).map_err(|_| failed("no random source"))?;
    Ok(B64URL.encode(bytes))
}

/// The JWS form of an ES256 signature (`r‖s`, 32 bytes each) from either that form or
/// DER (`SEQUENCE { INTEGER r, INTEGER s }`).
fn jws_signature(signature: &[u8]) -> Result<[u8; 64], DpopKeyError> {
    if let Ok(raw) = <[u8; 64]>::try_from(signature) {
        return Ok(raw);
    }
    let bad = || failed("the signature is neither r||s nor DER");
    let body = match signature {
        [0x30, len, body @ ..] if usize::from(*len) == body.len() => body,
        _ => return Err(bad()),
    };
    let (r, rest) = der_integer(body).ok_or_else(bad)?;
    let (s, rest) = der_integer(rest).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let mut raw = [0u8; 64];
    raw[32 - r.len()..32].copy_from_slice(r);
    raw[64 - s.len()..].copy_from_slice(s);
    Ok(raw)
}

/// One DER INTEGER of at most 32 significant bytes (its leading zero bytes dropped) and
/// what follows it.
fn der_integer(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let [0x02, len, rest @ ..] = bytes else { return None };
    let len = usize::from(*len);
    if len == 0 || len > rest.len() {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    let first_significant = value.iter().position(|&b| b != 0).unwrap_or(value.len());
    let value = &value[first_significant..];
    (value.len() <= 32).then_some((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    fn verify(key: &SoftwareDpopKey, jwt: &str) -> (Value, Value) {
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let signature = B64URL.decode(parts[2]).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.pair.public_key().as_ref())
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the proof's signature verifies with the key's public half");
        let decode = |p: &str| serde_json::from_slice::<Value>(&B64URL.decode(p).unwrap()).unwrap();
        (decode(parts[0]), decode(parts[1]))
    }

    #[test]
    fn a_proof_is_signed_by_the_key_and_names_method_url_time_token_and_nonce() {
        let key = SoftwareDpopKey::generate();
        let url = Url::parse("https://api.example.com/v1/orders?id=7#top").unwrap();
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_900_000_000);
        let what = ProofFor { method: "POST", url: &url, access_token: Some("tok"), nonce: Some("n1"), now };

        let (header, claims) = verify(&key, &proof(&key, &what).unwrap());

        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], serde_json::from_str::<Value>(&key.public_jwk().unwrap()).unwrap());
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://api.example.com/v1/orders", "no query, no fragment");
        assert_eq!(claims["iat"], 1_900_000_000);
        assert_eq!(claims["ath"], token_hash("tok"));
        assert_eq!(claims["nonce"], "n1");
        let second = proof(&key, &what).unwrap();
        assert_ne!(claims["jti"], verify(&key, &second).1["jti"], "every proof has its own id");
    }

    /// Fails before `htu` dropped the userinfo: the password was signed into the proof.
    #[test]
    fn a_proofs_htu_has_no_user_name_or_password() {
        let key = SoftwareDpopKey::generate();
        let url = Url::parse("https://alice:s3cret@api.example.com/v1/orders?id=7").unwrap();
        let what = ProofFor { method: "GET", url: &url, access_token: None, nonce: None, now: SystemTime::now() };

        let (_, claims) = verify(&key, &proof(&key, &what).unwrap());

        assert_eq!(claims["htu"], "https://api.example.com/v1/orders");
    }

    #[test]
    fn a_der_signature_becomes_the_jws_form() {
        // r with a leading zero (its high bit set), s short (leading zeros dropped).
        let r: Vec<u8> = std::iter::once(0x80).chain(1..=31).collect();
        let s: Vec<u8> = (1..=30).collect();
        let mut der = vec![0x30, 0, 0x02, 33, 0x00];
        der.extend(&r);
        der.extend([0x02, 30]);
        der.extend(&s);
        der[1] = (der.len() - 2) as u8;

        let raw = jws_signature(&der).unwrap();

        assert_eq!(&raw[..32], &r[..]);
        assert_eq!(&raw[32..34], &[0, 0]);
        assert_eq!(&raw[34..], &s[..]);
        assert!(jws_signature(&[0x30, 2, 0x02, 0]).is_err());
        assert!(jws_signature(&[1, 2, 3]).is_err());
    }

    #[test]
    fn a_jwk_holding_the_private_key_is_never_put_in_a_proof() {
        struct Leaky;
        impl DpopKey for Leaky {
            fn public_jwk(&self) -> Result<String, DpopKeyError> {
                Ok(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"secret"}"#.into())
            }
            fn sign(&self, _: Vec<u8>) -> Result<Vec<u8>, DpopKeyError> {
                Ok(vec![0; 64])
            }
        }
        let url = Url::parse("https://api.example.com/").unwrap();
        let what = ProofFor { method: "GET", url: &url, access_token: None, nonce: None, now: SystemTime::now() };
        assert!(matches!(proof(&Leaky, &what), Err(DpopKeyError::Failed { .. })));
    }
}
