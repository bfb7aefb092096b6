//! `POST /oauth/device/code` (RFC 8628 §3.1): read like a token request, form or JSON, the
//! client identified as at the token endpoint.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use castellan_core::oauth::client_auth;
use castellan_core::oauth::device_code::{self, DeviceAuthorizationRequest};
use serde_json::json;

use super::params::{parse, presented};
use crate::app::AppState;
use crate::http::error::{OAuthHttpError, no_store};

pub async fn device_code(
    State(s): State<AppState>,
    request: Request,
) -> Result<Response, OAuthHttpError> {
    let (mut params, basic) = parse(request).await?;
    let basic_auth = basic.is_some();
    let with_basic = |error| OAuthHttpError { error, basic_auth };
    let credentials = presented(&mut params, basic)?;
    let client = client_auth::authenticate(s.store.as_ref(), &credentials)
        .await
        .map_err(with_basic)?;
    let request = DeviceAuthorizationRequest {
        scope: params.take("scope"),
        audience: params.take("audience"),
    };
    let issued = device_code::authorize(&s.services(), &client, request)
        .await
        .map_err(with_basic)?;
    let body = json!({
        "device_code": issued.device_code,
        "user_code": issued.user_code,
        "verification_uri": issued.verification_uri,
        "verification_uri_complete": issued.verification_uri_complete,
        "expires_in": issued.expires_in,
        "interval": issued.interval,
    });
    Ok((no_store(), Json(body)).into_response())
}
