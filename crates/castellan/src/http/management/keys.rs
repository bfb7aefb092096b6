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
use castellan_core::oidc::claims::rfc3339;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::body::QueryParams;
use crate::http::endpoint::{Endpoint, Scopes::AnyOf, endpoint};
use crate::http::error::ApiError;
use crate::http::guard::Caller;
use crate::http::wire_schema::Shape;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/keys/signing",
            AnyOf(&["read:signing_keys"]),
            "List the signing keys",
            get(list),
        )
        .answers(200, Shape::list_of::<SigningKey>()),
        endpoint(
            Method::POST,
            "/keys/signing/rotate",
            AnyOf(&["create:signing_keys"]),
            "Rotate the signing key (RS256 unless ?alg= says otherwise)",
            post(rotate),
        )
        .answers(201, Shape::of::<KeyCertificate>()),
        endpoint(
            Method::GET,
            "/keys/signing/{kid}",
            AnyOf(&["read:signing_keys"]),
            "Get a signing key",
            get(read),
        )
        .answers(200, Shape::of::<SigningKey>()),
        endpoint(
            Method::PUT,
            "/keys/signing/{kid}/revoke",
            AnyOf(&["update:signing_keys"]),
            "Revoke a previously used signing key",
            put(revoke),
        )
        .answers(200, Shape::of::<KeyCertificate>()),
    ]
}

fn public_key(record: &SigningKeyRecord) -> Result<PublicKeyInfo, ApiError> {
    PublicKeyInfo::from_jwk(&record.public_jwk).ok_or_else(|| {
        castellan_core::Error::Internal(format!("stored JWK {} is unreadable", record.kid)).into()
    })
}

#[derive(Debug, Serialize, ToSchema)]
struct SigningKey {
    kid: String,
    alg: &'static str,
    /// The PEM public key (Castellan issues no certificate).
    cert: String,
    fingerprint: String,
    thumbprint: String,
    current: bool,
    next: bool,
    previous: bool,
    revoked: bool,
    /// A scheduled switch shows as a `next` key with a `current_since` still to come.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_until: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<String>,
}

fn wire(record: &SigningKeyRecord, now: i64) -> Result<SigningKey, ApiError> {
    let info = public_key(record)?;
    let role = record.role(now);
    Ok(SigningKey {
        kid: record.kid.clone(),
        alg: record.alg.name(),
        cert: info.pem,
        fingerprint: info.fingerprint,
        thumbprint: info.thumbprint,
        current: role == KeyRole::Current,
        next: role == KeyRole::Next,
        previous: role == KeyRole::Previous,
        revoked: role == KeyRole::Revoked,
        current_since: record.current_since.and_then(rfc3339),
        current_until: record.retired_at.and_then(rfc3339),
        revoked_at: record.revoked_at.and_then(rfc3339),
    })
}

/// Auth0 answers `{cert, kid}` of the key a rotation makes current (with `current_since`,
/// when it starts signing, which may be later than now) or of the key revoked.
#[derive(Debug, Serialize, ToSchema)]
struct KeyCertificate {
    cert: String,
    kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_since: Option<String>,
}

async fn list(State(s): State<AppState>) -> Result<Json<Vec<SigningKey>>, ApiError> {
    let keyring = &s.tokens.keyring;
    let now = keyring.now();
    let keys = keyring
        .records()
        .await?
        .iter()
        .map(|r| wire(r, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(keys))
}

async fn read(
    State(s): State<AppState>,
    Path(kid): Path<String>,
) -> Result<Json<SigningKey>, ApiError> {
    let keyring = &s.tokens.keyring;
    Ok(Json(wire(&keyring.record(&kid).await?, keyring.now())?))
}

async fn rotate(
    State(s): State<AppState>,
    caller: Caller,
    q: QueryParams,
) -> Result<(StatusCode, Json<KeyCertificate>), ApiError> {
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
    let body = KeyCertificate {
        cert: public_key(&record)?.pem,
        kid: record.kid,
        current_since: rfc3339(promoted.current_since),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Path(kid): Path<String>,
) -> Result<Json<KeyCertificate>, ApiError> {
    let record = s.tokens.keyring.revoke(&caller.editor(&s), &kid).await?;
    Ok(Json(KeyCertificate {
        cert: public_key(&record)?.pem,
        kid: record.kid,
        current_since: None,
    }))
}
