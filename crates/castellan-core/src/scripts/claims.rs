//! Custom claims from scripts, under Auth0's rules: a script may not set a claim the server
//! owns (`sub`, `scope`, `permissions`, `roles`, the OIDC profile, ...), nor one under
//! Auth0's own namespaces. Such a claim is dropped without an error, as Auth0 does, and so
//! is a claim that collides with one the server sets.

use serde_json::{Map, Value};

/// All custom claims of one token together; Auth0's limit.
pub const MAX_CUSTOM_CLAIMS_BYTES: usize = 100 * 1024;

/// Registered JWT claims, OIDC claims and the names Auth0 reserves for itself.
const RESTRICTED: &[&str] = &[
    "acr",
    "act",
    "active",
    "address",
    "amr",
    "at_hash",
    "ath",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "birthdate",
    "c_hash",
    "client_id",
    "cnf",
    "email",
    "email_verified",
    "exp",
    "family_name",
    "gender",
    "given_name",
    "groups",
    "gty",
    "iat",
    "iss",
    "jti",
    "locale",
    "may_act",
    "middle_name",
    "name",
    "nbf",
    "nickname",
    "nonce",
    "org_id",
    "org_name",
    "permissions",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "roles",
    "s_hash",
    "scope",
    "sid",
    "sub",
    "updated_at",
    "website",
    "zoneinfo",
];

const RESERVED_NAMESPACES: &[&str] = &["auth0.com", "webtask.io", "webtask.run"];

pub fn is_restricted(name: &str) -> bool {
    if RESTRICTED.contains(&name) {
        return true;
    }
    let host = name
        .split_once("://")
        .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
    RESERVED_NAMESPACES
        .iter()
        .any(|ns| host == *ns || host.ends_with(&format!(".{ns}")))
}

/// Adds the claims that are allowed; later values of one name replace earlier ones.
pub fn collect(into: &mut Map<String, Value>, claims: impl IntoIterator<Item = (String, Value)>) {
    for (name, value) in claims {
        if !is_restricted(&name) && !value.is_null() {
            into.insert(name, value);
        }
    }
}

pub fn size(claims: &Map<String, Value>) -> usize {
    serde_json::to_vec(claims).map_or(usize::MAX, |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_owned_and_auth0_namespaced_names_are_restricted() {
        for name in [
            "sub",
            "scope",
            "permissions",
            "roles",
            "groups",
            "email",
            "gty",
        ] {
            assert!(is_restricted(name), "{name}");
        }
        assert!(is_restricted("https://tenant.auth0.com/roles"));
        assert!(is_restricted("http://auth0.com/x"));
        assert!(!is_restricted("https://example.com/roles"));
        assert!(!is_restricted("plan"));
        assert!(!is_restricted("https://notauth0.com/x"));
    }
}
