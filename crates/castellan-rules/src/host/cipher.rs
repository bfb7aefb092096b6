//! AES for `crypto.createCipheriv`/`createDecipheriv`, by aws-lc-rs: CBC over whole blocks
//! (the module streams, pads and unpads, so `update` can hand back what it has, as Node's
//! does) and GCM in one piece (`final` hands back everything, so nothing unauthenticated is
//! ever released).

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use rquickjs::{Ctx, Exception, Function, Object};

use super::bytes;

/// Node's message when a GCM tag does not match (OpenSSL's, through Node).
const UNAUTHENTICATED: &str = "Unsupported state or unable to authenticate data";

pub(super) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    host.set(
        "aesCbc",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             encrypt: bool,
             key: String,
             iv: String,
             data: String|
             -> rquickjs::Result<String> {
                let key = bytes::decode(&ctx, &key)?;
                let iv = bytes::decode(&ctx, &iv)?;
                let mut data = bytes::decode(&ctx, &data)?;
                cbc(encrypt, &key, &iv, &mut data)
                    .map_err(|message| Exception::throw_message(&ctx, message))?;
                Ok(bytes::encode(&data))
            },
        )?,
    )?;
    host.set(
        "aesGcmSeal",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             key: String,
             iv: String,
             aad: String,
             data: String|
             -> rquickjs::Result<String> {
                let key = gcm_key(&ctx, &key)?;
                let nonce = gcm_nonce(&ctx, &iv)?;
                let mut data = bytes::decode(&ctx, &data)?;
                key.seal_in_place_append_tag(
                    nonce,
                    Aad::from(bytes::decode(&ctx, &aad)?),
                    &mut data,
                )
                .map_err(|_| Exception::throw_message(&ctx, "encryption failed"))?;
                Ok(bytes::encode(&data))
            },
        )?,
    )?;
    host.set(
        "aesGcmOpen",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             key: String,
             iv: String,
             aad: String,
             data: String,
             tag: String|
             -> rquickjs::Result<String> {
                let key = gcm_key(&ctx, &key)?;
                let nonce = gcm_nonce(&ctx, &iv)?;
                let mut sealed = bytes::decode(&ctx, &data)?;
                let tag = bytes::decode(&ctx, &tag)?;
                if tag.len() != aead::MAX_TAG_LEN {
                    return Err(Exception::throw_message(&ctx, UNAUTHENTICATED));
                }
                sealed.extend_from_slice(&tag);
                let plain = key
                    .open_in_place(nonce, Aad::from(bytes::decode(&ctx, &aad)?), &mut sealed)
                    .map_err(|_| Exception::throw_message(&ctx, UNAUTHENTICATED))?;
                Ok(bytes::encode(plain))
            },
        )?,
    )?;
    Ok(())
}

fn cbc(encrypt: bool, key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), &'static str> {
    let algorithm = match key.len() {
        16 => &AES_128,
        24 => &AES_192,
        32 => &AES_256,
        _ => return Err("Invalid key length"),
    };
    let iv: [u8; 16] = iv.try_into().map_err(|_| "Invalid initialization vector")?;
    if !data.len().is_multiple_of(16) {
        return Err("data not multiple of block length");
    }
    if data.is_empty() {
        return Ok(());
    }
    let key = || UnboundCipherKey::new(algorithm, key).map_err(|_| "Invalid key length");
    if encrypt {
        EncryptingKey::cbc(key()?)
            .and_then(|k| {
                k.less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)))
            })
            .map(drop)
            .map_err(|_| "encryption failed")
    } else {
        DecryptingKey::cbc(key()?)
            .and_then(|k| k.decrypt(data, DecryptionContext::Iv128(FixedLength::from(iv))))
            .map(drop)
            .map_err(|_| "decryption failed")
    }
}

fn gcm_key(ctx: &Ctx<'_>, key: &str) -> rquickjs::Result<LessSafeKey> {
    let key = bytes::decode(ctx, key)?;
    let algorithm = match key.len() {
        16 => &aead::AES_128_GCM,
        24 => &aead::AES_192_GCM,
        32 => &aead::AES_256_GCM,
        _ => return Err(Exception::throw_range(ctx, "Invalid key length")),
    };
    UnboundKey::new(algorithm, &key)
        .map(LessSafeKey::new)
        .map_err(|_| Exception::throw_range(ctx, "Invalid key length"))
}

/// aws-lc-rs takes GCM's standard 96-bit nonce only; Node takes other lengths too, which
/// rules do not use.
fn gcm_nonce(ctx: &Ctx<'_>, iv: &str) -> rquickjs::Result<Nonce> {
    Nonce::try_assume_unique_for_key(&bytes::decode(ctx, iv)?).map_err(|_| {
        Exception::throw_range(
            ctx,
            "Invalid initialization vector (GCM takes a 12-byte IV here)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbc_round_trips_over_whole_blocks_and_refuses_a_partial_one() {
        let (key, iv) = ([7u8; 32], [9u8; 16]);
        let mut data = *b"sixteen byte blksixteen byte blk";
        cbc(true, &key, &iv, &mut data).unwrap();
        assert_ne!(&data, b"sixteen byte blksixteen byte blk");
        cbc(false, &key, &iv, &mut data).unwrap();
        assert_eq!(&data, b"sixteen byte blksixteen byte blk");
        assert!(cbc(true, &key, &iv, &mut [0u8; 15]).is_err());
        assert_eq!(
            cbc(true, &[0u8; 10], &iv, &mut []),
            Err("Invalid key length")
        );
    }
}
