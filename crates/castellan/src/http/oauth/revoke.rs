//! `POST /oauth/revoke` (RFC 7009): ends a refresh token's family. The client
//! authenticates as at the token endpoint; unknown tokens get the same empty 200.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use castellan_core::oauth::{client_auth, refresh};

use super::params::{RequestError, parse, presented};
use crate::app::AppState;
use crate::http::context::Context;
use crate::http::cors;
use crate::http::error::{OAuthHttpError, no_store};

pub async fn revoke(
    State(s): State<AppState>,
    Context(ctx): Context,
    request: Request,
) -> Result<Response, OAuthHttpError> {
    let origin = cors::cross_origin(&s, request.headers());
    let (mut params, basic) = parse(request).await?;
    let basic_auth = basic.is_some();
    let credentials = presented(&mut params, basic)?;
    let token = params.require("token").map_err(RequestError::from)?;
    let client = client_auth::authenticate(s.store.as_ref(), &credentials)
        .await
        .map_err(|error| OAuthHttpError { error, basic_auth })?;
    cors::admit(&s, origin.as_deref(), &client, &ctx).await?;
    refresh::revoke(s.store.as_ref(), &client, &token).await?;
    Ok((StatusCode::OK, no_store()).into_response())
}
