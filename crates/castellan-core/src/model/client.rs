use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Named;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppType {
    Native,
    Spa,
    RegularWeb,
    NonInteractive,
}

impl Named for AppType {
    const ALL: &'static [Self] = &[
        Self::Native,
        Self::Spa,
        Self::RegularWeb,
        Self::NonInteractive,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Spa => "spa",
            Self::RegularWeb => "regular_web",
            Self::NonInteractive => "non_interactive",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEndpointAuthMethod {
    None,
    ClientSecretPost,
    ClientSecretBasic,
}

impl Named for TokenEndpointAuthMethod {
    const ALL: &'static [Self] = &[Self::None, Self::ClientSecretPost, Self::ClientSecretBasic];
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
        }
    }
}

/// Whether an exchange of a refresh token replaces it (Auth0's `rotation_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RotationType {
    Rotating,
    NonRotating,
}

/// Whether refresh tokens end at all (Auth0's `expiration_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExpirationType {
    Expiring,
    NonExpiring,
}

/// How a client's refresh tokens rotate and end: Auth0's `refresh_token` object, whose
/// shape it keeps on the wire and in storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefreshTokenSettings {
    pub rotation_type: RotationType,
    pub expiration_type: ExpirationType,
    /// Seconds after its first exchange during which a rotating token may be exchanged
    /// again without counting as reuse (concurrent tabs, retried requests).
    pub leeway: i64,
    /// Seconds a family lives from its first token, however often it is exchanged.
    pub token_lifetime: i64,
    /// Takes precedence over `token_lifetime`.
    pub infinite_token_lifetime: bool,
    /// Seconds a token lives unused.
    pub idle_token_lifetime: i64,
    /// Takes precedence over `idle_token_lifetime`.
    pub infinite_idle_token_lifetime: bool,
}

impl RefreshTokenSettings {
    pub fn rotating(&self) -> bool {
        self.rotation_type == RotationType::Rotating
    }

    fn lifetime(&self, seconds: i64, infinite: bool) -> Option<i64> {
        (self.expiration_type == ExpirationType::Expiring && !infinite).then_some(seconds)
    }

    /// The family's lifetime from its first token; none when it never ends.
    pub fn absolute_lifetime(&self) -> Option<i64> {
        self.lifetime(self.token_lifetime, self.infinite_token_lifetime)
    }

    /// How long a token lives unused; none when disuse never ends it.
    pub fn idle_lifetime(&self) -> Option<i64> {
        self.lifetime(self.idle_token_lifetime, self.infinite_idle_token_lifetime)
    }
}

/// An application. The secret is held only as a hash; the clear text exists once, in the
/// answer to its creation or rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub app_type: AppType,
    pub is_first_party: bool,
    pub grant_types: Vec<String>,
    pub callbacks: Vec<String>,
    pub allowed_logout_urls: Vec<String>,
    pub web_origins: Vec<String>,
    /// Origins whose browser code may call the authentication API (Auth0's "Allowed
    /// Origins (CORS)"), beyond `web_origins` and the callbacks' origins.
    pub allowed_origins: Vec<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub refresh_token: RefreshTokenSettings,
    pub client_metadata: BTreeMap<String, String>,
    pub secret_hash: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Client {
    pub fn has_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Public clients (SPAs, native apps with `none`) cannot keep a secret.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }

    /// Whether a page at `uri` may be sent a `web_message` answer: its origin is one of
    /// `web_origins` (Auth0 posts to no other).
    pub fn lists_web_origin_of(&self, uri: &str) -> bool {
        super::origin::lists_origin_of(uri, &self.web_origins)
    }

    /// Whether a browser at `origin` (an `Origin` header: `https://app.example.com`) may
    /// call the token endpoint cross-origin: the origin is one of `allowed_origins` or
    /// `web_origins`, or under a `*.` of one of them by one label, or the origin of one of
    /// the `callbacks` (Auth0 lets those in too). Anything else, `null` included, is not.
    pub fn allows_origin(&self, origin: &str) -> bool {
        super::origin::allows(
            origin,
            self.allowed_origins.iter().chain(&self.web_origins),
            &self.callbacks,
        )
    }
}
