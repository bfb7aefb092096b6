//! `GET /authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1): checking a request,
//! and the code it ends with. Until the client and its redirect URI are known to be right,
//! an error can only be shown on Castellan's own page; after that it goes back to the
//! client (RFC 6749 §4.1.2.1).

use std::collections::HashMap;

use crate::clock::Clock;
use crate::model::{AuthorizationCode, Client, DATABASE_CONNECTION, User};
use crate::oauth::{OAuthError, audience, scope};
use crate::secrets::{opaque_token, token_digest};
use crate::store::Store;

/// Codes are exchanged at once by a well-behaved client (RFC 6749 §4.1.2: at most ten minutes).
pub const CODE_LIFETIME: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Default,
    Login,
    None,
    Consent,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    pub audience: Option<String>,
    pub connection: String,
    pub prompt: Prompt,
    pub signup: bool,
    pub login_hint: Option<String>,
    pub code_challenge: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Not safe to send to the redirect URI: shown on Castellan's error page.
    Page(String),
    /// Sent back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl AuthorizeRequest {
    pub fn error(&self, error: &'static str, description: impl Into<String>) -> AuthorizeError {
        AuthorizeError::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error,
            description: description.into(),
        }
    }
}

/// Parameters may not repeat (RFC 6749 §3.1); `pairs` is the raw query.
pub fn single_valued(
    pairs: Vec<(String, String)>,
) -> Result<HashMap<String, String>, AuthorizeError> {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(AuthorizeError::Page(format!(
                "The parameter {k} is repeated."
            )));
        }
    }
    Ok(map)
}

pub async fn validate(
    store: &dyn Store,
    issuer: &str,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let client_id = get("client_id")
        .ok_or_else(|| AuthorizeError::Page("Missing required parameter: client_id".into()))?;
    let client = store
        .find_client(client_id)
        .await
        .map_err(|_| {
            AuthorizeError::Page(
                "The service is temporarily unavailable; try again shortly.".into(),
            )
        })?
        .ok_or_else(|| AuthorizeError::Page("Unknown client.".into()))?;
    let redirect_uri = match get("redirect_uri") {
        Some(uri) if client.callbacks.iter().any(|c| c == uri) => uri.to_string(),
        Some(_) => {
            return Err(AuthorizeError::Page(
                "The redirect_uri is not one of the client's allowed callback URLs.".into(),
            ));
        }
        None => {
            return Err(AuthorizeError::Page(
                "Missing required parameter: redirect_uri".into(),
            ));
        }
    };
    let mut request = AuthorizeRequest {
        client,
        redirect_uri,
        state: get("state").map(str::to_string),
        nonce: get("nonce").map(str::to_string),
        scope: get("scope").map(scope::parse).unwrap_or_default(),
        audience: get("audience").map(str::to_string),
        connection: get("connection").unwrap_or(DATABASE_CONNECTION).to_string(),
        prompt: Prompt::Default,
        signup: get("screen_hint") == Some("signup"),
        login_hint: get("login_hint").map(str::to_string),
        code_challenge: None,
    };
    match get("response_type") {
        Some("code") => {}
        Some(other) => {
            return Err(request.error(
                "unsupported_response_type",
                format!("Unsupported response_type: {other}"),
            ));
        }
        None => {
            return Err(request.error(
                "invalid_request",
                "Missing required parameter: response_type",
            ));
        }
    }
    if let Some(mode) = get("response_mode").filter(|m| *m != "query") {
        return Err(request.error(
            "invalid_request",
            format!("Unsupported response_mode: {mode}"),
        ));
    }
    if !request.client.has_grant("authorization_code") {
        return Err(request.error(
            "unauthorized_client",
            "The client may not use the authorization code grant",
        ));
    }
    request.prompt = match get("prompt") {
        None => Prompt::Default,
        Some("login") => Prompt::Login,
        Some("none") => Prompt::None,
        Some("consent") => Prompt::Consent,
        Some(other) => {
            return Err(request.error("invalid_request", format!("Unsupported prompt: {other}")));
        }
    };
    match (get("code_challenge"), get("code_challenge_method")) {
        (Some(challenge), Some("S256")) => {
            // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
            if challenge.len() != 43
                || !challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(request.error(
                    "invalid_request",
                    "code_challenge must be a base64url SHA-256 digest",
                ));
            }
            request.code_challenge = Some(challenge.to_string());
        }
        (Some(_), _) => {
            return Err(request.error("invalid_request", "code_challenge_method must be S256"));
        }
        (None, Some(_)) => {
            return Err(request.error(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (None, None) if request.client.is_public() => {
            return Err(request.error(
                "invalid_request",
                "Public clients must use PKCE (code_challenge with S256)",
            ));
        }
        (None, None) => {}
    }
    if let Some(aud) = &request.audience {
        let known = audience::resolve(store, issuer, aud).await.map_err(|_| {
            request.error(
                "temporarily_unavailable",
                "The service is temporarily unavailable",
            )
        })?;
        match known {
            Some(api) => request.audience = Some(api.identifier),
            None => return Err(request.error("access_denied", format!("Service not found: {aud}"))),
        }
    }
    let connection = store
        .find_connection_by_name(&request.connection)
        .await
        .map_err(|_| {
            request.error(
                "temporarily_unavailable",
                "The service is temporarily unavailable",
            )
        })?;
    if !connection.is_some_and(|c| c.enabled_clients.contains(&request.client.client_id)) {
        return Err(request.error(
            "invalid_request",
            format!(
                "The connection {} is not enabled for this client",
                request.connection
            ),
        ));
    }
    Ok(request)
}

/// Third-party clients ask the user before they get anything (Auth0: consent is skipped
/// for first-party clients).
pub fn needs_consent(request: &AuthorizeRequest) -> bool {
    !request.client.is_first_party
}

/// A single-use code for this request and user; the store keeps only its digest.
pub async fn issue_code(
    store: &dyn Store,
    clock: &dyn Clock,
    request: &AuthorizeRequest,
    user: &User,
    auth_time: i64,
) -> Result<String, OAuthError> {
    let code = opaque_token();
    store
        .create_authorization_code(&AuthorizationCode {
            code_hash: token_digest(&code),
            client_id: request.client.client_id.clone(),
            user_id: user.user_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            audience: request.audience.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time,
            expires_at: clock.now() + CODE_LIFETIME,
        })
        .await?;
    Ok(code)
}
