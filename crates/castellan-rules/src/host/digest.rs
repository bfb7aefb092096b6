//! Hashes, HMACs, PBKDF2, random bytes and constant-time comparison for the `crypto`
//! module: aws-lc-rs for all but MD5, which aws-lc-rs does not offer (RustCrypto's `md-5`).

use std::num::NonZeroU32;

use aws_lc_rs::{constant_time, digest, hmac, pbkdf2, rand};
use md5::Digest as _;
use rquickjs::{Ctx, Exception, Function, Object};

use super::bytes;

/// The most `randomBytes` and `pbkdf2Sync` hand back at once. Host memory is outside the
/// runtime's limit, so a script must not get to size it; rules ask for a few dozen bytes.
const MAX_OUTPUT: usize = 1 << 20;

#[derive(Clone, Copy)]
enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// Node's names (OpenSSL's), in any case, with or without the dash.
    fn named(name: &str) -> Option<Hash> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Hash::Md5,
            "sha1" | "sha-1" => Hash::Sha1,
            "sha224" | "sha-224" => Hash::Sha224,
            "sha256" | "sha-256" => Hash::Sha256,
            "sha384" | "sha-384" => Hash::Sha384,
            "sha512" | "sha-512" => Hash::Sha512,
            _ => return None,
        })
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Hash::Md5 => return md5::Md5::digest(data).to_vec(),
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha224 => &digest::SHA224,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Hash::Md5 => return hmac_md5(key, data),
            Hash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha224 => hmac::HMAC_SHA224,
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
            Hash::Sha512 => hmac::HMAC_SHA512,
        };
        hmac::sign(&hmac::Key::new(algorithm, key), data)
            .as_ref()
            .to_vec()
    }

    fn pbkdf2(self) -> Option<pbkdf2::Algorithm> {
        match self {
            Hash::Sha1 => Some(pbkdf2::PBKDF2_HMAC_SHA1),
            Hash::Sha256 => Some(pbkdf2::PBKDF2_HMAC_SHA256),
            Hash::Sha384 => Some(pbkdf2::PBKDF2_HMAC_SHA384),
            Hash::Sha512 => Some(pbkdf2::PBKDF2_HMAC_SHA512),
            Hash::Md5 | Hash::Sha224 => None,
        }
    }
}

/// RFC 2104 over MD5 (block 64 bytes), which aws-lc-rs's HMAC does not cover.
fn hmac_md5(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..16].copy_from_slice(&md5::Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = md5::Md5::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = md5::Md5::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

pub(super) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    host.set(
        "hashSupported",
        Function::new(ctx.clone(), |name: String| Hash::named(&name).is_some())?,
    )?;
    host.set(
        "digest",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, name: String, data: String| -> rquickjs::Result<String> {
                let hash = Hash::named(&name)
                    .ok_or_else(|| Exception::throw_message(&ctx, "Digest method not supported"))?;
                Ok(bytes::encode(&hash.digest(&bytes::decode(&ctx, &data)?)))
            },
        )?,
    )?;
    host.set(
        "hmac",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, name: String, key: String, data: String| -> rquickjs::Result<String> {
                let hash = Hash::named(&name).ok_or_else(|| {
                    Exception::throw_message(&ctx, &format!("Invalid digest: {name}"))
                })?;
                let key = bytes::decode(&ctx, &key)?;
                Ok(bytes::encode(
                    &hash.hmac(&key, &bytes::decode(&ctx, &data)?),
                ))
            },
        )?,
    )?;
    host.set(
        "pbkdf2",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             password: String,
             salt: String,
             iterations: f64,
             length: f64,
             name: String|
             -> rquickjs::Result<String> {
                let algorithm = Hash::named(&name).and_then(Hash::pbkdf2).ok_or_else(|| {
                    Exception::throw_type(&ctx, &format!("Invalid digest: {name}"))
                })?;
                let iterations = count(iterations)
                    .and_then(|n| NonZeroU32::new(u32::try_from(n).ok()?))
                    .ok_or_else(|| {
                        Exception::throw_range(&ctx, "iterations must be a positive 32-bit integer")
                    })?;
                let length = count(length).filter(|n| *n <= MAX_OUTPUT).ok_or_else(|| {
                    Exception::throw_range(
                        &ctx,
                        &format!("keylen must be an integer from 0 to {MAX_OUTPUT}"),
                    )
                })?;
                let mut out = vec![0; length];
                pbkdf2::derive(
                    algorithm,
                    iterations,
                    &bytes::decode(&ctx, &salt)?,
                    &bytes::decode(&ctx, &password)?,
                    &mut out,
                );
                Ok(bytes::encode(&out))
            },
        )?,
    )?;
    host.set(
        "randomBytes",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, size: f64| -> rquickjs::Result<String> {
                let size = count(size).filter(|n| *n <= MAX_OUTPUT).ok_or_else(|| {
                    Exception::throw_range(
                        &ctx,
                        &format!("size must be an integer from 0 to {MAX_OUTPUT}"),
                    )
                })?;
                let mut out = vec![0; size];
                rand::fill(&mut out).map_err(|_| {
                    Exception::throw_message(&ctx, "the system's random source failed")
                })?;
                Ok(bytes::encode(&out))
            },
        )?,
    )?;
    host.set(
        "timingSafeEqual",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, a: String, b: String| -> rquickjs::Result<bool> {
                let (a, b) = (bytes::decode(&ctx, &a)?, bytes::decode(&ctx, &b)?);
                Ok(constant_time::verify_slices_are_equal(&a, &b).is_ok())
            },
        )?,
    )?;
    Ok(())
}

/// A whole, non-negative number that fits in memory, or nothing.
fn count(value: f64) -> Option<usize> {
    (value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value)).then_some(value as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_md5_matches_rfc_2104_vector() {
        // RFC 2104, section "Test Vectors", the second one.
        let mac = hmac_md5(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "750c783e6ab0b503eaa86e310a5db738");
    }
}
