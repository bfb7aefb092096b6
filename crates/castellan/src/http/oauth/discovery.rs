//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3) listing what this
//! server serves today, and `/.well-known/jwks.json` with every key whose tokens may live.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use castellan_core::model::{Named, SigningAlg};
use serde_json::{Value, json};

use crate::app::AppState;

pub async fn openid_configuration(State(s): State<AppState>) -> Json<Value> {
    let issuer = &s.settings.issuer;
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.name()).collect();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}authorize"),
        "token_endpoint": format!("{issuer}oauth/token"),
        "end_session_endpoint": format!("{issuer}oidc/logout"),
        "response_types_supported": [
            "code", "id_token", "token", "id_token token", "code id_token", "code token",
            "code id_token token",
        ],
        "response_modes_supported": ["query", "fragment", "form_post", "web_message"],
        "code_challenge_methods_supported": ["S256"],
        "jwks_uri": format!("{issuer}.well-known/jwks.json"),
        "userinfo_endpoint": format!("{issuer}userinfo"),
        "revocation_endpoint": format!("{issuer}oauth/revoke"),
        "device_authorization_endpoint": format!("{issuer}oauth/device/code"),
        "mfa_challenge_endpoint": format!("{issuer}mfa/challenge"),
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "client_credentials",
            "password",
            "http://auth0.com/oauth/grant-type/password-realm",
            "refresh_token",
            castellan_core::oauth::device_code::GRANT_TYPE,
            castellan_core::oauth::mfa_grant::OTP,
            castellan_core::oauth::mfa_grant::OOB,
            castellan_core::oauth::mfa_grant::RECOVERY_CODE,
        ],
        "scopes_supported": castellan_core::oidc::OIDC_SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "claims_supported": [
            "iss", "sub", "aud", "azp", "iat", "exp", "auth_time", "nonce", "at_hash", "c_hash",
            "scope", "gty",
            "permissions", "name", "nickname", "picture", "given_name", "family_name",
            "updated_at", "email", "email_verified",
        ],
        "request_uri_parameter_supported": false,
    }))
}

/// RS256 always (ID tokens use it), and the algorithms of the APIs. While the store cannot
/// say, every key is published: verifying tokens matters more than one SDK's taste.
pub async fn jwks(State(s): State<AppState>) -> impl IntoResponse {
    let algs = match s.store.signing_algs_in_use().await {
        Ok(mut algs) => {
            algs.push(SigningAlg::Rs256);
            algs
        }
        Err(_) => SigningAlg::ALL.to_vec(),
    };
    let keys = s.tokens.keyring.keys();
    // Rotations wait out this lifetime (`jwks_max_age_secs`), so it must be the one sent.
    let cache = format!("public, max-age={}", s.tokens.keyring.jwks_max_age());
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&cache).expect("digits are a valid header value"),
        )],
        Json(keys.jwks(&algs)),
    )
}
