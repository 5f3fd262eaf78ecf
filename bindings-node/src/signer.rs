//! express-session's cookie signature (the `cookie-signature` package): `value + "." +
//! base64(HMAC-SHA256(secret, value))` without padding, verified in constant time against
//! each secret (the first signs; all verify, for rotation).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{KeyInit, Mac};
use napi::Result;
use napi::bindgen_prelude::{Buffer, Either, Env};
use napi_derive::napi;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::arg_error;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Signs and verifies cookie values with one or more secrets, as express-session does.
#[napi]
pub struct Signer {
    keys: Keys,
}

/// The HMAC keys, the first signing.
#[derive(Clone)]
pub(crate) struct Keys(Vec<HmacSha256>);

/// Length of an HMAC-SHA256 in unpadded base64.
const SIG_CHARS: usize = 43;

fn mac_b64(key: &HmacSha256, value: &[u8]) -> [u8; SIG_CHARS] {
    let mut mac = key.clone();
    mac.update(value);
    let mut out = [0u8; SIG_CHARS];
    let n = STANDARD_NO_PAD
        .encode_slice(mac.finalize().into_bytes(), &mut out)
        .unwrap_or(0);
    debug_assert_eq!(n, SIG_CHARS);
    out
}

impl Keys {
    /// The value part of `signed` (`value.signature`) when any key's signature matches,
    /// compared in constant time against every key.
    pub(crate) fn verify_bytes<'a>(&self, signed: &'a [u8]) -> Option<&'a [u8]> {
        let dot = signed.iter().rposition(|&b| b == b'.')?;
        let (value, sig) = (&signed[..dot], &signed[dot + 1..]);
        let mut ok = subtle::Choice::from(0);
        for key in &self.0 {
            let want = mac_b64(key, value);
            ok |= if sig.len() == SIG_CHARS {
                want.ct_eq(sig)
            } else {
                subtle::Choice::from(0)
            };
        }
        bool::from(ok).then_some(value)
    }
}

#[napi]
impl Signer {
    /// `secrets`: non-empty strings or Buffers; the first signs.
    #[napi(constructor)]
    pub fn new(env: Env, secrets: Vec<Either<String, Buffer>>) -> Result<Self> {
        if secrets.is_empty() {
            return Err(arg_error(&env, "secrets", "must hold at least one secret")?);
        }
        let mut keys = Vec::with_capacity(secrets.len());
        for s in &secrets {
            let bytes: &[u8] = match s {
                Either::A(s) => s.as_bytes(),
                Either::B(b) => b,
            };
            if bytes.is_empty() {
                return Err(arg_error(&env, "secrets", "a secret is empty")?);
            }
            match HmacSha256::new_from_slice(bytes) {
                Ok(k) => keys.push(k),
                Err(_) => return Err(arg_error(&env, "secrets", "unusable secret")?),
            }
        }
        Ok(Signer { keys: Keys(keys) })
    }

    /// `value + "." + signature` with the first secret.
    #[napi]
    pub fn sign(&self, value: String) -> String {
        let sig = mac_b64(&self.keys.0[0], value.as_bytes());
        let mut out = String::with_capacity(value.len() + 1 + sig.len());
        out.push_str(&value);
        out.push('.');
        // base64 output is ASCII
        out.extend(sig.iter().map(|&b| char::from(b)));
        out
    }

    /// The value of a signed string when any secret's signature matches, else `null`.
    #[napi]
    pub fn unsign(&self, signed: String) -> Option<String> {
        self.verify(&signed).map(str::to_owned)
    }
}

impl Signer {
    /// The value part of `signed` when any secret's signature matches.
    pub(crate) fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let value = self.keys.verify_bytes(signed.as_bytes())?;
        // a prefix of `signed` ending before an ASCII dot: still UTF-8
        signed.get(..value.len())
    }

    /// The keys, for the request fast path (`fast.rs`).
    pub(crate) fn keys(&self) -> Keys {
        self.keys.clone()
    }
}
