//! `api.redirect.encodeToken` and `validateToken` (Auth0's "Redirect with Actions"): HS256
//! JWTs that carry data to the page a log-in redirects to and back to `/continue`. Auth0
//! checks that the signature is valid, that the token has not expired and that its `state`
//! claim is the `/continue` request's state; so does this.
//!
//! The claims are the payload's, with `iss` (the server's domain), `sub` (the user),
//! `iat`, `exp` and `state` set by the host over anything of the same name in the payload,
//! so that a script cannot make a token that passes for another log-in's.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rquickjs::{Ctx, Exception, Function, Object};
use serde::Deserialize;
use serde_json::{Map, Value};

/// What the prelude adds to the payload.
#[derive(Deserialize)]
struct Minted {
    iss: String,
    sub: String,
    state: String,
    /// Seconds.
    lifetime: f64,
}

/// The longest a token may live: a day is far beyond the 15 minutes a suspended log-in
/// waits, and keeps `exp` well within what a JWT library reads.
const MAX_LIFETIME: f64 = 86_400.0;

pub(super) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    host.set(
        "redirectEncodeToken",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             secret: String,
             payload: String,
             minted: String|
             -> rquickjs::Result<String> {
                encode(&secret, &payload, &minted, now())
                    .map_err(|m| Exception::throw_type(&ctx, &m))
            },
        )?,
    )?;
    host.set(
        "redirectValidateToken",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             secret: String,
             token: String,
             state: String|
             -> rquickjs::Result<String> {
                validate(&secret, &token, &state).map_err(|m| Exception::throw_message(&ctx, &m))
            },
        )?,
    )?;
    Ok(())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn encode(secret: &str, payload: &str, minted: &str, now: u64) -> Result<String, String> {
    let mut claims: Map<String, Value> = match serde_json::from_str(payload) {
        Ok(Value::Object(map)) => map,
        _ => return Err("the payload must be an object".into()),
    };
    let minted: Minted =
        serde_json::from_str(minted).map_err(|_| "the token's settings are malformed")?;
    if !(minted.lifetime > 0.0 && minted.lifetime <= MAX_LIFETIME) {
        return Err(format!(
            "expiresInSeconds must be between 1 and {MAX_LIFETIME}"
        ));
    }
    // Whole seconds, as `exp` is; a fraction rounds down but never to nothing.
    let lifetime = (minted.lifetime.floor() as u64).max(1);
    claims.insert("iss".into(), Value::String(minted.iss));
    claims.insert("sub".into(), Value::String(minted.sub));
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + lifetime).into());
    claims.insert("state".into(), Value::String(minted.state));
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("the token could not be made: {e}"))
}

/// The token's claims, as JSON, once it is found sound.
fn validate(secret: &str, token: &str, state: &str) -> Result<String, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
            "The session token is invalid: the token has expired".to_owned()
        }
        _ => format!("The session token is invalid: {e}"),
    })?;
    if data.claims.get("state").and_then(Value::as_str) != Some(state) {
        return Err(
            "The session token is invalid: its state is not the /continue request's".into(),
        );
    }
    serde_json::to_string(&data.claims).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINTED: &str = r#"{"iss":"tenant.example","sub":"auth0|1","state":"s1","lifetime":60}"#;

    #[test]
    fn a_token_made_here_validates_for_its_state_only() {
        let token = encode("k", r#"{"answer":42,"state":"forged"}"#, MINTED, now()).unwrap();
        let claims: Value = serde_json::from_str(&validate("k", &token, "s1").unwrap()).unwrap();
        assert_eq!(claims["answer"], 42);
        assert_eq!(claims["state"], "s1");
        assert_eq!(claims["iss"], "tenant.example");
        assert_eq!(claims["sub"], "auth0|1");
        assert!(validate("k", &token, "s2").is_err());
        assert!(validate("other", &token, "s1").is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = encode("k", "{}", MINTED, now() - 120).unwrap();
        assert!(validate("k", &token, "s1").unwrap_err().contains("expired"));
    }
}
