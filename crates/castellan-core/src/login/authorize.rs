//! `GET /authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1): checking a request,
//! and the code it ends with. Until the client and its redirect URI are known to be right,
//! an error can only be shown on Castellan's own page; after that it goes back to the
//! client (RFC 6749 §4.1.2.1).

use std::collections::HashMap;

use crate::clock::Clock;
use crate::events::RequestContext;
use crate::model::{AuthorizationCode, Client, DATABASE_CONNECTION, Session, User};
use crate::oauth::password::Services;
use crate::oauth::user_tokens::{
    self, FrontChannelCode, FrontChannelScripts, Scripted, UserTokenRequest,
};
use crate::oauth::{OAuthError, audience, scope};
use crate::scripts::Protocol;
use crate::scripts::redirect::{Resume, Suspension};
use crate::secrets::{opaque_token, token_digest};
use crate::store::{Store, StoreError};

/// Codes are exchanged at once by a well-behaved client (RFC 6749 §4.1.2: at most ten minutes).
pub const CODE_LIFETIME: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Default,
    Login,
    None,
    Consent,
}

/// What the authorization endpoint answers with (OAuth 2.0 Multiple Response Type Encoding
/// Practices): a code, tokens, or both (OpenID Connect's hybrid flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    /// Space-separated, in any order, each at most once.
    fn parse(value: &str) -> Option<Self> {
        let mut parsed = ResponseType::default();
        for word in value.split(' ') {
            let flag = match word {
                "code" => &mut parsed.code,
                "id_token" => &mut parsed.id_token,
                "token" => &mut parsed.token,
                _ => return None,
            };
            if std::mem::replace(flag, true) {
                return None;
            }
        }
        Some(parsed)
    }

    /// Tokens come back through the browser: the implicit grant, alone or with a code.
    pub fn has_tokens(self) -> bool {
        self.id_token || self.token
    }
}

/// How the answer reaches the client (OAuth 2.0 Multiple Response Type Encoding Practices,
/// Form Post Response Mode, and Auth0's `web_message` for its iframe and pop-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
    WebMessage,
}

impl ResponseMode {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            "web_message" => Some(Self::WebMessage),
            _ => None,
        }
    }
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    pub audience: Option<String>,
    pub connection: String,
    pub prompt: Prompt,
    pub signup: bool,
    pub login_hint: Option<String>,
    pub code_challenge: Option<String>,
    /// Seconds since the user signed in after which they must sign in again.
    pub max_age: Option<i64>,
    /// The ID token of the user the client expects, unverified until the session is
    /// compared with it.
    pub id_token_hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Not safe to send to the redirect URI: shown on Castellan's error page.
    Page(String),
    /// Sent back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        mode: ResponseMode,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

impl AuthorizeRequest {
    pub fn error(&self, error: &'static str, description: impl Into<String>) -> AuthorizeError {
        AuthorizeError::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            mode: self.response_mode,
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
    let mode =
        match get("response_mode") {
            None => None,
            Some(mode) => Some(ResponseMode::parse(mode).ok_or_else(|| {
                AuthorizeError::Page(format!("Unsupported response_mode: {mode}"))
            })?),
        };
    // Auth0 posts to the app's page only from an origin the client lists as a web origin.
    if mode == Some(ResponseMode::WebMessage) && !client.lists_web_origin_of(&redirect_uri) {
        return Err(AuthorizeError::Page(
            "The redirect_uri's origin is not one of the client's allowed web origins.".into(),
        ));
    }
    let mut request = AuthorizeRequest {
        client,
        redirect_uri,
        response_type: ResponseType::default(),
        response_mode: mode.unwrap_or(ResponseMode::Query),
        state: get("state").map(str::to_string),
        nonce: get("nonce").map(str::to_string),
        scope: get("scope").map(scope::parse).unwrap_or_default(),
        audience: get("audience").map(str::to_string),
        connection: get("connection").unwrap_or(DATABASE_CONNECTION).to_string(),
        prompt: Prompt::Default,
        signup: get("screen_hint") == Some("signup"),
        login_hint: get("login_hint").map(str::to_string),
        code_challenge: None,
        max_age: None,
        id_token_hint: get("id_token_hint").map(str::to_string),
    };
    if let Some(max_age) = get("max_age") {
        request.max_age = Some(
            max_age
                .parse::<u32>()
                .map_err(|_| {
                    request.error("invalid_request", "max_age must be a number of seconds")
                })?
                .into(),
        );
    }
    request.response_type = match get("response_type") {
        Some(value) => ResponseType::parse(value).ok_or_else(|| {
            request.error(
                "unsupported_response_type",
                format!("Unsupported response_type: {value}"),
            )
        })?,
        None => {
            return Err(request.error(
                "invalid_request",
                "Missing required parameter: response_type",
            ));
        }
    };
    let kind = request.response_type;
    if kind.has_tokens() {
        // Tokens never go in a query string, where logs and referrers would keep them.
        match mode {
            None => request.response_mode = ResponseMode::Fragment,
            Some(ResponseMode::Query) => {
                request.response_mode = ResponseMode::Fragment;
                return Err(request.error(
                    "invalid_request",
                    "response_mode=query is not allowed when tokens are returned",
                ));
            }
            Some(_) => {}
        }
    }
    if kind.code && !request.client.has_grant("authorization_code") {
        return Err(request.error(
            "unauthorized_client",
            "The client may not use the authorization code grant",
        ));
    }
    if kind.has_tokens() && !request.client.has_grant(IMPLICIT) {
        return Err(request.error(
            "unauthorized_client",
            "The client may not use the implicit grant",
        ));
    }
    // OpenID Connect Core §3.2.2.1 and §3.3.2.11: an ID token from the authorization
    // endpoint must be bound to the request that asked for it.
    if kind.id_token && request.nonce.is_none() {
        return Err(request.error("invalid_request", "Missing required parameter: nonce"));
    }
    if kind.id_token && !request.scope.iter().any(|s| s == "openid") {
        return Err(request.error(
            "invalid_scope",
            "response_type id_token needs the openid scope",
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
        (None, None) if request.client.is_public() && kind.code => {
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

/// The grant a client needs to receive tokens from the authorization endpoint.
pub const IMPLICIT: &str = "implicit";

/// Whether a signed-in session answers the request without the user signing in again: it
/// began within `max_age`, and is the user an `id_token_hint` names (`hinted`, the hint's
/// verified subject).
pub fn session_serves(
    request: &AuthorizeRequest,
    session: &Session,
    hinted: Option<&str>,
    now: i64,
) -> bool {
    let fresh = request
        .max_age
        .is_none_or(|max_age| now - session.auth_time <= max_age);
    fresh && hinted.is_none_or(|subject| subject == session.user_id)
}

/// Whether the user must be asked before the client gets what it asks: third-party
/// clients only (Auth0 skips first-party ones), and only for scopes the user has not
/// allowed this client on this API before; `prompt=consent` always asks.
pub async fn needs_consent(
    store: &dyn Store,
    request: &AuthorizeRequest,
    user: &User,
) -> Result<bool, StoreError> {
    if request.prompt == Prompt::Consent {
        return Ok(true);
    }
    if request.client.is_first_party {
        return Ok(false);
    }
    let allowed = store
        .find_consent(
            &user.user_id,
            &request.client.client_id,
            consent_audience(request),
        )
        .await?;
    Ok(!allowed.is_some_and(|allowed| request.scope.iter().all(|s| allowed.contains(s))))
}

/// Remembers that the user allowed what the request asks, with what they allowed before.
pub async fn remember_consent(
    store: &dyn Store,
    clock: &dyn Clock,
    request: &AuthorizeRequest,
    user: &User,
) -> Result<(), StoreError> {
    let (user_id, client_id) = (&user.user_id, &request.client.client_id);
    let audience = consent_audience(request);
    let mut allowed = store
        .find_consent(user_id, client_id, audience)
        .await?
        .unwrap_or_default();
    for scope in &request.scope {
        if !allowed.contains(scope) {
            allowed.push(scope.clone());
        }
    }
    store
        .save_consent(user_id, client_id, audience, &allowed, clock.now())
        .await
}

/// Consent is per API; without an audience, for the user's own profile.
fn consent_audience(request: &AuthorizeRequest) -> &str {
    request.audience.as_deref().unwrap_or_default()
}

/// What the authorization endpoint ends a signed-in request with.
#[derive(Debug)]
pub enum Answer {
    /// The code, the tokens, or both (each as the response type asks), and the state.
    Params(Vec<(&'static str, String)>),
    /// The log-in's scripts sent the browser away; it resumes at `/continue` with `state`.
    Redirect(Box<Suspension>),
}

/// The protocol the log-in's scripts see for the request's response type.
fn protocol(kind: ResponseType) -> Protocol {
    match (kind.code, kind.has_tokens()) {
        (true, true) => Protocol::Hybrid,
        (false, _) => Protocol::Implicit,
        (true, false) => Protocol::AuthorizationCode,
    }
}

/// What goes back to the client when the user is signed in. The log-in's scripts run here,
/// before anything is issued, as on Auth0 (where they can redirect the user); for the code
/// flow what they leave is kept with the code. `state` is the log-in's, should a script
/// redirect it; `resume` a log-in coming back through `/continue`.
pub async fn respond(
    services: &Services<'_>,
    request: &AuthorizeRequest,
    user: &User,
    auth_time: i64,
    ctx: &RequestContext,
    state: &str,
    resume: Option<Resume>,
) -> Result<Answer, OAuthError> {
    let kind = request.response_type;
    let scope = request.scope.join(" ");
    let token_request = |user, scripted| UserTokenRequest {
        client: &request.client,
        user,
        audience: request.audience.as_deref(),
        scope: Some(&scope),
        nonce: request.nonce.as_deref(),
        grant_type: None,
        auth_time: Some(auth_time),
        refresh_family: None,
        protocol: protocol(kind),
        request: ctx,
        front_channel: None,
        scripted,
    };
    let (user, scripted) = match user_tokens::front_channel_scripts(
        services,
        &token_request(user, None),
        state,
        resume,
    )
    .await?
    {
        FrontChannelScripts::Redirect(suspension) => return Ok(Answer::Redirect(suspension)),
        FrontChannelScripts::Done(done) => (done.user, done.scripted),
    };
    let code = match kind.code {
        true => Some(
            issue_code(
                services.store,
                services.clock,
                request,
                &user,
                auth_time,
                Some(&scripted),
            )
            .await?,
        ),
        false => None,
    };
    let mut params = Vec::new();
    if kind.has_tokens() {
        let issued = user_tokens::issue(
            services,
            UserTokenRequest {
                front_channel: Some(FrontChannelCode {
                    with_access_token: kind.token,
                    code: code.as_deref(),
                }),
                ..token_request(&user, Some(&scripted))
            },
        )
        .await?;
        if kind.token {
            params.push(("access_token", issued.access_token));
            params.push(("token_type", "Bearer".to_string()));
            params.push(("expires_in", issued.expires_in.to_string()));
            params.push(("scope", issued.scope));
        }
        if let Some(id_token) = issued.id_token.filter(|_| kind.id_token) {
            params.push(("id_token", id_token));
        }
    }
    params.extend(code.map(|code| ("code", code)));
    params.extend(request.state.clone().map(|state| ("state", state)));
    Ok(Answer::Params(params))
}

/// A single-use code for this request and user; the store keeps only its digest.
pub async fn issue_code(
    store: &dyn Store,
    clock: &dyn Clock,
    request: &AuthorizeRequest,
    user: &User,
    auth_time: i64,
    scripted: Option<&Scripted>,
) -> Result<String, OAuthError> {
    let code = opaque_token();
    let scripted = scripted
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| OAuthError::from(crate::error::Error::Internal(e.to_string())))?;
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
            scripted,
        })
        .await?;
    Ok(code)
}
