//! `/keys/signing`: the signing keys, in Auth0's shape, and their rotation and revocation
//! (both through `castellan_core::oauth::keyring`, as `castellan keys rotate` is).
//!
//! Auth0 shows each key's X.509 certificate; Castellan issues none, so `cert` carries the
//! PEM public key, `fingerprint` and `thumbprint` are SHA-256 digests of it, and `pkcs7`
//! is left out. `alg` is added, since a tenant has keys of three algorithms.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{get, post, put};
use castellan_core::model::{KeyRole, Named, SigningAlg, SigningKeyRecord};
use castellan_core::oauth::keys::PublicKeyInfo;
use castellan_core::oidc::claims::timestamp;
use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/keys/signing",
            AnyOf(&["read:signing_keys"]),
            "List the signing keys",
            get(list),
        ),
        endpoint(
            Method::POST,
            "/keys/signing/rotate",
            AnyOf(&["create:signing_keys"]),
            "Rotate the signing key (RS256 unless ?alg= says otherwise)",
            post(rotate),
        ),
        endpoint(
            Method::GET,
            "/keys/signing/{kid}",
            AnyOf(&["read:signing_keys"]),
            "Get a signing key",
            get(read),
        ),
        endpoint(
            Method::PUT,
            "/keys/signing/{kid}/revoke",
            AnyOf(&["update:signing_keys"]),
            "Revoke a previously used signing key",
            put(revoke),
        ),
    ]
}

fn public_key(record: &SigningKeyRecord) -> Result<PublicKeyInfo, ApiError> {
    PublicKeyInfo::from_jwk(&record.public_jwk).ok_or_else(|| {
        castellan_core::Error::Internal(format!("stored JWK {} is unreadable", record.kid)).into()
    })
}

fn wire(record: &SigningKeyRecord, now: i64) -> Result<Value, ApiError> {
    let info = public_key(record)?;
    let role = record.role(now);
    let mut key = Map::new();
    key.insert("kid".into(), json!(record.kid));
    key.insert("alg".into(), json!(record.alg.name()));
    key.insert("cert".into(), json!(info.pem));
    key.insert("fingerprint".into(), json!(info.fingerprint));
    key.insert("thumbprint".into(), json!(info.thumbprint));
    key.insert("current".into(), json!(role == KeyRole::Current));
    key.insert("next".into(), json!(role == KeyRole::Next));
    key.insert("previous".into(), json!(role == KeyRole::Previous));
    key.insert("revoked".into(), json!(role == KeyRole::Revoked));
    // A scheduled switch shows as a `next` key with a `current_since` still to come.
    for (name, at) in [
        ("current_since", record.current_since),
        ("current_until", record.retired_at),
        ("revoked_at", record.revoked_at),
    ] {
        if let Some(at) = at {
            key.insert(name.into(), timestamp(at));
        }
    }
    Ok(Value::Object(key))
}

async fn list(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keyring = &s.tokens.keyring;
    let now = keyring.now();
    let keys = keyring
        .records()
        .await?
        .iter()
        .map(|r| wire(r, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Value::Array(keys)))
}

async fn read(State(s): State<AppState>, Path(kid): Path<String>) -> Result<Json<Value>, ApiError> {
    let keyring = &s.tokens.keyring;
    Ok(Json(wire(&keyring.record(&kid).await?, keyring.now())?))
}

/// Auth0 answers `{cert, kid}` of the key the rotation makes current; `current_since`
/// says when it starts signing, which may be later than now.
async fn rotate(
    State(s): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let alg = match q.get("alg") {
        None => SigningAlg::Rs256,
        Some(name) => SigningAlg::parse(name).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query_string",
                format!(
                    "Query validation error: alg must be one of {}",
                    SigningAlg::expected()
                ),
            )
        })?,
    };
    let keyring = &s.tokens.keyring;
    let promoted = keyring.rotate(&caller.editor(&s), alg).await?;
    let record = keyring.record(&promoted.kid).await?;
    let body = json!({
        "cert": public_key(&record)?.pem,
        "kid": record.kid,
        "current_since": timestamp(promoted.current_since),
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// Auth0 answers `{cert, kid}` of the revoked key.
async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Path(kid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = s.tokens.keyring.revoke(&caller.editor(&s), &kid).await?;
    Ok(Json(
        json!({"cert": public_key(&record)?.pem, "kid": record.kid}),
    ))
}
