use super::Named;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    pub value: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    Rs256,
    Es256,
    EdDsa,
}

impl Named for SigningAlg {
    const ALL: &'static [Self] = &[Self::Rs256, Self::Es256, Self::EdDsa];
    fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenDialect {
    AccessToken,
    AccessTokenAuthz,
    Rfc9068Profile,
    Rfc9068ProfileAuthz,
}

impl Named for TokenDialect {
    const ALL: &'static [Self] = &[
        Self::AccessToken,
        Self::AccessTokenAuthz,
        Self::Rfc9068Profile,
        Self::Rfc9068ProfileAuthz,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::AccessTokenAuthz => "access_token_authz",
            Self::Rfc9068Profile => "rfc9068_profile",
            Self::Rfc9068ProfileAuthz => "rfc9068_profile_authz",
        }
    }
}

impl TokenDialect {
    pub fn carries_permissions(self) -> bool {
        matches!(self, Self::AccessTokenAuthz | Self::Rfc9068ProfileAuthz)
    }

    pub fn is_rfc9068(self) -> bool {
        matches!(self, Self::Rfc9068Profile | Self::Rfc9068ProfileAuthz)
    }
}

/// An API: the audience of access tokens and the scopes they may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceServer {
    pub id: String,
    pub name: String,
    pub identifier: String,
    pub scopes: Vec<Scope>,
    /// Seconds an access token for this API lives.
    pub token_lifetime: i64,
    pub signing_alg: SigningAlg,
    pub enforce_policies: bool,
    pub token_dialect: TokenDialect,
    pub allow_offline_access: bool,
    pub skip_consent_for_verifiable_first_party_clients: bool,
    /// The two built-in APIs: they cannot be changed or deleted.
    pub is_system: bool,
}

impl ResourceServer {
    /// An API with Auth0's defaults: no scopes, a day's tokens, RS256, no RBAC.
    pub fn new(id: String, name: String, identifier: String) -> Self {
        Self {
            id,
            name,
            identifier,
            scopes: vec![],
            token_lifetime: 86_400,
            signing_alg: SigningAlg::Rs256,
            enforce_policies: false,
            token_dialect: TokenDialect::AccessToken,
            allow_offline_access: false,
            skip_consent_for_verifiable_first_party_clients: false,
            is_system: false,
        }
    }

    /// Whether a user's token carries only the scopes the user holds as permissions. The
    /// system APIs always are: nothing of theirs is granted to a user by default.
    pub fn under_rbac(&self) -> bool {
        self.enforce_policies || self.is_system
    }

    pub fn has_scope(&self, value: &str) -> bool {
        self.scopes.iter().any(|s| s.value == value)
    }
}
