//! `POST /oauth/token` (RFC 6749 §3.2): JSON and form bodies alike (`null` fields ignored,
//! as one official SDK sends `"organization": null`), client authentication by body or by
//! HTTP Basic, grants dispatched by `match`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use castellan_core::model::TokenEndpointAuthMethod;
use castellan_core::oauth::OAuthError;
use castellan_core::oauth::authorization_code::{self, CodeExchange};
use castellan_core::oauth::client_auth::{self, PresentedCredentials};
use castellan_core::oauth::client_credentials::{self, ClientCredentialsRequest};
use castellan_core::oauth::password::{self, PasswordGrantRequest};
use castellan_core::oauth::refresh;
use castellan_core::oauth::user_tokens::UserTokens;
use castellan_core::text::nul_refused;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::body::{content_type, read_limited};
use crate::http::context::Context;
use crate::http::error::{OAuthHttpError, no_store};
use crate::http::input::nul_in_pairs;
use crate::http::rate_limit::{Limited, peer_ip, refuse};

/// Token requests are small; anything bigger is not one.
pub const MAX_TOKEN_REQUEST_BYTES: usize = 16 * 1024;

pub(super) struct TokenParams(HashMap<String, String>);

impl TokenParams {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

pub(super) fn invalid(description: impl Into<String>) -> OAuthHttpError {
    OAuthError::InvalidRequest(description.into()).into()
}

pub(super) async fn parse(
    request: Request,
) -> Result<(TokenParams, Option<(String, String)>), OAuthHttpError> {
    let basic = basic_credentials(&request)?;
    let kind = content_type(&request);
    let bytes = read_limited(request)
        .await
        .map_err(|_| invalid("The request body is too large"))?;
    let params = match kind.as_str() {
        "application/x-www-form-urlencoded" => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|_| invalid("The form body is malformed"))?;
            let mut map = HashMap::new();
            for (k, v) in pairs {
                if map.insert(k.clone(), v).is_some() {
                    // RFC 6749 §3.2: parameters must not be repeated.
                    return Err(invalid(format!("Parameter {k} is repeated")));
                }
            }
            map
        }
        "application/json" => {
            let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) else {
                return Err(invalid("The JSON body is malformed or not an object"));
            };
            let mut map = HashMap::new();
            for (k, v) in object {
                match v {
                    Value::Null => {}
                    Value::String(s) => {
                        map.insert(k, s);
                    }
                    _ => return Err(invalid(format!("Parameter {k} must be a string"))),
                }
            }
            map
        }
        _ => {
            return Err(invalid(
                "Content-Type must be application/x-www-form-urlencoded or application/json",
            ));
        }
    };
    // Before any lookup: PostgreSQL cannot compare NUL, where SQLite would find nothing.
    let presented = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let in_basic = basic.as_ref().map(|(id, secret)| {
        [
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ]
    });
    if let Some(name) = nul_in_pairs(presented.chain(in_basic.into_iter().flatten())) {
        return Err(invalid(nul_refused(&name)));
    }
    Ok((TokenParams(params), basic))
}

/// `Authorization: Basic` with form-encoded id and secret (RFC 6749 §2.3.1).
fn basic_credentials(request: &Request) -> Result<Option<(String, String)>, OAuthHttpError> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthHttpError {
        error: OAuthError::InvalidClient("Malformed Basic authentication".into()),
        basic_auth: true,
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid(
            "Only Basic authentication is accepted at the token endpoint",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| -> Result<String, OAuthHttpError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| malformed())?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

pub(super) fn presented(
    params: &TokenParams,
    basic: Option<(String, String)>,
) -> Result<PresentedCredentials, OAuthHttpError> {
    match basic {
        Some((id, secret)) => {
            if params.get("client_secret").is_some() {
                return Err(invalid(
                    "Use one client authentication method, not Basic and client_secret both",
                ));
            }
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(invalid(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            Ok(PresentedCredentials {
                client_id: id,
                client_secret: Some(secret),
                method: TokenEndpointAuthMethod::ClientSecretBasic,
            })
        }
        None => {
            let id = params
                .get("client_id")
                .ok_or_else(|| invalid("Missing required parameter: client_id"))?;
            let client_secret = params.get("client_secret").map(str::to_string);
            let method = match client_secret {
                Some(_) => TokenEndpointAuthMethod::ClientSecretPost,
                None => TokenEndpointAuthMethod::None,
            };
            Ok(PresentedCredentials {
                client_id: id.to_string(),
                client_secret,
                method,
            })
        }
    }
}

/// The grants this endpoint serves, dispatched by `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    ClientCredentials,
    Password,
    RefreshToken,
    AuthorizationCode,
}

impl Grant {
    fn parse(grant_type: &str) -> Option<Self> {
        match grant_type {
            client_credentials::GRANT_TYPE => Some(Self::ClientCredentials),
            password::PASSWORD | password::PASSWORD_REALM => Some(Self::Password),
            refresh::GRANT_TYPE => Some(Self::RefreshToken),
            authorization_code::GRANT_TYPE => Some(Self::AuthorizationCode),
            _ => None,
        }
    }
}

pub async fn token(
    State(s): State<AppState>,
    Context(ctx): Context,
    request: Request,
) -> Result<Response, OAuthHttpError> {
    let ip = peer_ip(&request);
    let (params, basic) = parse(request).await?;
    let basic_auth = basic.is_some();
    let with_basic = |error: OAuthError| OAuthHttpError { error, basic_auth };
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| invalid("Missing required parameter: grant_type"))?
        .to_string();
    let credentials = presented(&params, basic)?;
    let Some(grant) = Grant::parse(&grant_type) else {
        let unsupported = format!("Unsupported grant type: {grant_type}");
        return Err(OAuthError::UnsupportedGrantType(unsupported).into());
    };
    let limit = match grant {
        Grant::ClientCredentials => Limited::ClientCredentials,
        Grant::Password => Limited::PasswordCheck,
        _ => Limited::Authentication,
    };
    if let Some(Err(refusal)) = ip.map(|ip| s.rate_limits.check(limit, ip)) {
        return Ok(refuse(refusal).await);
    }
    let services = password::Services {
        store: s.store.as_ref(),
        tokens: &s.tokens,
        passwords: &s.passwords,
        clock: s.clock.as_ref(),
        scripts: s.scripts.as_ref(),
    };
    let authenticated = || async {
        client_auth::authenticate(s.store.as_ref(), &credentials)
            .await
            .map_err(with_basic)
    };
    let body = match grant {
        Grant::ClientCredentials => {
            let request = ClientCredentialsRequest {
                audience: params.get("audience").map(str::to_string),
                scope: params.get("scope").map(str::to_string),
            };
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
        Grant::Password => {
            let request = PasswordGrantRequest {
                grant_type: &grant_type,
                username: params.get("username"),
                password: params.get("password"),
                realm: params.get("realm"),
                audience: params.get("audience"),
                scope: params.get("scope"),
            };
            let issued = password::issue(&services, &authenticated().await?, &request, &ctx)
                .await
                .map_err(with_basic)?;
            user_tokens_body(issued)
        }
        Grant::RefreshToken => {
            let presented = params.get("refresh_token");
            let client = authenticated().await?;
            let issued =
                refresh::exchange(&services, &client, presented, params.get("scope"), &ctx)
                    .await
                    .map_err(with_basic)?;
            user_tokens_body(issued)
        }
        Grant::AuthorizationCode => {
            let exchange = CodeExchange {
                code: params.get("code"),
                redirect_uri: params.get("redirect_uri"),
                code_verifier: params.get("code_verifier"),
            };
            let client = authenticated().await?;
            let issued = authorization_code::exchange(&services, &client, &exchange, &ctx)
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
