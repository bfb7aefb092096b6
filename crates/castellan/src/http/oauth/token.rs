//! `POST /oauth/token` (RFC 6749 §3.2): the body read by `params`, typed by
//! `token_request`, each grant's request handed to its function in core.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_core::oauth::token_request::TokenRequest;
use castellan_core::oauth::user_tokens::UserTokens;
use castellan_core::oauth::{
    OAuthError, authorization_code, client_auth, client_credentials, device_code, mfa_grant,
    password, refresh,
};
use serde_json::{Value, json};

use super::{params, token_request};
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::cors;
use crate::http::error::{OAuthHttpError, no_store};
use crate::http::rate_limit::{Limited, peer_ip, refuse};

/// Token requests are small; anything bigger is not one.
pub const MAX_TOKEN_REQUEST_BYTES: usize = 16 * 1024;

pub async fn token(
    State(s): State<AppState>,
    Context(ctx): Context,
    request: Request,
) -> Result<Response, OAuthHttpError> {
    let ip = peer_ip(&request);
    let origin = cors::cross_origin(&s, request.headers());
    let (params, basic) = params::parse(request).await?;
    let basic_auth = basic.is_some();
    let with_basic = |error: OAuthError| OAuthHttpError { error, basic_auth };
    let (credentials, request) = token_request::read(params, basic)?;
    let limit = match request {
        TokenRequest::ClientCredentials(_) => Limited::ClientCredentials,
        TokenRequest::Password(..) => Limited::PasswordCheck,
        _ => Limited::Authentication,
    };
    if let Some(Err(refusal)) = ip.map(|ip| s.rate_limits.check(limit, ip)) {
        return Ok(refuse(refusal).await);
    }
    cors::admit_client_id(&s, origin.as_deref(), &credentials.client_id, &ctx)
        .await
        .map_err(with_basic)?;
    let grant_type = request.grant_type();
    let services = s.services();
    let authenticated = || async {
        client_auth::authenticate(s.store.as_ref(), &credentials)
            .await
            .map_err(with_basic)
    };
    let body = match request {
        TokenRequest::ClientCredentials(request) => {
            let issued = client_credentials::issue(
                s.store.as_ref(),
                &s.tokens,
                &credentials,
                &request,
                &ctx,
            )
            .await
            .map_err(with_basic)?;
            json!({
                "access_token": issued.minted.token,
                "token_type": "Bearer",
                "expires_in": issued.minted.expires_in,
                "scope": issued.scope,
            })
        }
        TokenRequest::Password(grant, request) => {
            let client = authenticated().await?;
            let issued = password::issue(&services, &client, grant, request, &ctx)
                .await
                .map_err(with_basic)?;
            user_tokens_body(issued)
        }
        TokenRequest::RefreshToken(request) => {
            let client = authenticated().await?;
            let issued = refresh::exchange(&services, &client, request, &ctx)
                .await
                .map_err(with_basic)?;
            user_tokens_body(issued)
        }
        TokenRequest::AuthorizationCode(request) => {
            let client = authenticated().await?;
            let issued = authorization_code::exchange(&services, &client, request, &ctx)
                .await
                .map_err(with_basic)?;
            user_tokens_body(issued)
        }
        TokenRequest::Mfa(grant_type, request) => {
            let client = authenticated().await?;
            let factors = s.factors();
            let issued =
                mfa_grant::exchange(&services, &factors, &client, grant_type, request, &ctx)
                    .await
                    .map_err(with_basic)?;
            let mut body = user_tokens_body(issued.tokens);
            // Auth0: shown to the user once, for the next time their factor is lost.
            if let Some(code) = issued.recovery_code {
                body["recovery_code"] = json!(code);
            }
            body
        }
        TokenRequest::DeviceCode(request) => {
            let client = authenticated().await?;
            let issued = device_code::exchange(&services, &client, request, &ctx)
                .await
                .map_err(with_basic)?;
            user_tokens_body(issued)
        }
    };
    metrics::counter!("castellan_tokens_issued_total", "grant" => grant_type).increment(1);
    Ok((no_store(), Json(body)).into_response())
}

/// RFC 6749 §5.1, plus `id_token` (OpenID Connect Core §3.1.3.3).
fn user_tokens_body(issued: UserTokens) -> Value {
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    });
    if let Some(id_token) = issued.id_token {
        body["id_token"] = json!(id_token);
    }
    if let Some(refresh_token) = issued.refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    body
}
