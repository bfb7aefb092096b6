//! The signature of a JSON Web Token, by the `jsonwebtoken` crate (aws-lc-rs): the
//! `jsonwebtoken` module builds and checks the rest (header, claims) in JavaScript, as the
//! npm package does, and asks here only to sign or verify `header.payload`.
//!
//! Keys: a secret (any bytes) for HS*, a PEM (PKCS#1 or PKCS#8 private key to sign; public
//! key, PKCS#1 public key or certificate to verify) for RS*, PS* and ES*. Encrypted PEMs are
//! not supported.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, crypto};
use rquickjs::{Ctx, Exception, Function, Object};

use super::bytes;

pub(super) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    host.set(
        "jwtSign",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, alg: String, key: String, input: String| -> rquickjs::Result<String> {
                let algorithm = algorithm(&ctx, &alg)?;
                let key = bytes::decode(&ctx, &key)?;
                let key = encoding_key(algorithm, &key)
                    .map_err(|message| Exception::throw_message(&ctx, &message))?;
                crypto::sign(input.as_bytes(), &key, algorithm)
                    .map_err(|e| Exception::throw_message(&ctx, &format!("cannot sign: {e}")))
            },
        )?,
    )?;
    host.set(
        "jwtVerify",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             alg: String,
             key: String,
             input: String,
             signature: String|
             -> rquickjs::Result<bool> {
                let algorithm = algorithm(&ctx, &alg)?;
                let key = bytes::decode(&ctx, &key)?;
                let key = decoding_key(algorithm, &key)
                    .map_err(|message| Exception::throw_message(&ctx, &message))?;
                // A signature that is not base64url or does not fit the key is simply not
                // valid, as for the npm package.
                Ok(crypto::verify(&signature, input.as_bytes(), &key, algorithm).unwrap_or(false))
            },
        )?,
    )?;
    Ok(())
}

/// `none` is not one: signing without a key is the module's, and verifying it is refused.
fn algorithm(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<Algorithm> {
    Ok(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        _ => {
            return Err(Exception::throw_message(
                ctx,
                &format!("\"{name}\" is not a supported algorithm"),
            ));
        }
    })
}

fn encoding_key(algorithm: Algorithm, key: &[u8]) -> Result<EncodingKey, String> {
    let pem = |e: jsonwebtoken::errors::Error| {
        format!("secretOrPrivateKey is not a valid private key for {algorithm:?}: {e}")
    };
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Ok(EncodingKey::from_secret(key)),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(key).map_err(pem),
        _ => EncodingKey::from_rsa_pem(key).map_err(pem),
    }
}

fn decoding_key(algorithm: Algorithm, key: &[u8]) -> Result<DecodingKey, String> {
    let pem = |e: jsonwebtoken::errors::Error| {
        format!("secretOrPublicKey is not a valid public key for {algorithm:?}: {e}")
    };
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Ok(DecodingKey::from_secret(key)),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(key).map_err(pem),
        _ => DecodingKey::from_rsa_pem(key).map_err(pem),
    }
}
