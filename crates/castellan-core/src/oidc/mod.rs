//! OpenID Connect: claims about a user by scope, ID tokens, the scopes that are OIDC's own.

pub mod claims;
pub mod id_token;

/// Scopes that name OpenID Connect claims or behaviour rather than an API's permissions.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "phone",
    "address",
];

pub fn is_oidc_scope(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope)
}

/// The audience of tokens good only for `/userinfo`.
pub fn userinfo_audience(issuer: &str) -> String {
    format!("{issuer}userinfo")
}
