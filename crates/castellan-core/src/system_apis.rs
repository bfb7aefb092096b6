//! The two APIs every tenant has from its first start, with the scope lists Auth0 tooling
//! expects to find on them.

use crate::model::{ResourceServer, Scope};

pub const MANAGEMENT_API_NAME: &str = "Castellan Management API";
pub const AUTHZ_API_NAME: &str = "auth0-authorization-extension-api";
pub const AUTHZ_API_IDENTIFIER: &str = "urn:auth0-authz-api";

/// Scopes of the Management API v2 (Auth0's names), plus `castellan:admin` for the console.
pub const MANAGEMENT_SCOPES: &[&str] = &[
    "read:users",
    "create:users",
    "update:users",
    "delete:users",
    "read:users_app_metadata",
    "create:users_app_metadata",
    "update:users_app_metadata",
    "delete:users_app_metadata",
    "read:current_user",
    "update:current_user_metadata",
    "create:current_user_metadata",
    "delete:current_user_metadata",
    "update:current_user_identities",
    "create:current_user_device_credentials",
    "delete:current_user_device_credentials",
    "read:user_idp_tokens",
    "create:user_tickets",
    "read:clients",
    "create:clients",
    "update:clients",
    "delete:clients",
    "read:client_keys",
    "create:client_keys",
    "update:client_keys",
    "delete:client_keys",
    "read:client_summary",
    "read:client_credentials",
    "create:client_credentials",
    "update:client_credentials",
    "delete:client_credentials",
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "read:connections",
    "create:connections",
    "update:connections",
    "delete:connections",
    "read:connections_options",
    "update:connections_options",
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
    "read:roles",
    "create:roles",
    "update:roles",
    "delete:roles",
    "read:role_members",
    "create:role_members",
    "delete:role_members",
    "read:groups",
    "read:group_members",
    "read:rules",
    "create:rules",
    "update:rules",
    "delete:rules",
    "read:rules_configs",
    "update:rules_configs",
    "delete:rules_configs",
    "read:actions",
    "create:actions",
    "update:actions",
    "delete:actions",
    "read:triggers",
    "update:triggers",
    "read:logs",
    "read:logs_users",
    "read:stats",
    "read:tenant_settings",
    "update:tenant_settings",
    "read:signing_keys",
    "create:signing_keys",
    "update:signing_keys",
    "read:grants",
    "delete:grants",
    "blacklist:tokens",
    "read:refresh_tokens",
    "delete:refresh_tokens",
    "read:sessions",
    "delete:sessions",
    "read:attack_protection",
    "update:attack_protection",
    "read:anomaly_blocks",
    "delete:anomaly_blocks",
    "read:email_templates",
    "create:email_templates",
    "update:email_templates",
    "read:email_provider",
    "create:email_provider",
    "update:email_provider",
    "delete:email_provider",
    "read:prompts",
    "update:prompts",
    "read:branding",
    "update:branding",
    "delete:branding",
    "read:authentication_methods",
    "create:authentication_methods",
    "update:authentication_methods",
    "delete:authentication_methods",
    "read:guardian_factors",
    "update:guardian_factors",
    "read:guardian_enrollments",
    "delete:guardian_enrollments",
    "read:mfa_policies",
    "update:mfa_policies",
    "castellan:admin",
];

/// The Management API scopes an end user's token may carry without holding them as
/// permissions: Auth0's current-user scopes, which reach the token's own user only.
pub const CURRENT_USER_SCOPES: &[&str] = &[
    "read:current_user",
    "update:current_user_metadata",
    "create:current_user_metadata",
    "delete:current_user_metadata",
    "update:current_user_identities",
    "create:current_user_device_credentials",
    "delete:current_user_device_credentials",
];

/// The Authorization Extension's resource-server scopes (hyphenated `resource-server`, as
/// the extension registers them).
pub const AUTHZ_SCOPES: &[&str] = &[
    "read:users",
    "read:applications",
    "read:connections",
    "read:configuration",
    "update:configuration",
    "read:groups",
    "create:groups",
    "update:groups",
    "delete:groups",
    "read:roles",
    "create:roles",
    "update:roles",
    "delete:roles",
    "read:permissions",
    "create:permissions",
    "update:permissions",
    "delete:permissions",
    "read:resource-server",
    "create:resource-server",
    "update:resource-server",
    "delete:resource-server",
];

/// Whether a user's token may carry `scope` for `api` without holding it: the current-user
/// scopes of the Management API, which its routes limit to the token's own user.
pub fn is_self_service_scope(api: &ResourceServer, scope: &str) -> bool {
    api.is_system && api.identifier != AUTHZ_API_IDENTIFIER && CURRENT_USER_SCOPES.contains(&scope)
}

/// `{issuer}api/v2/`; the issuer always ends in `/`.
pub fn management_api_identifier(issuer: &str) -> String {
    format!("{issuer}api/v2/")
}

/// The `https://{host}/api/v2/` form the official SDKs build from a bare domain, accepted
/// as the same API.
pub fn management_api_https_alias(issuer: &str) -> Option<String> {
    let rest = issuer
        .strip_prefix("http://")
        .or_else(|| issuer.strip_prefix("https://"))?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("https://{host}/api/v2/"))
}

fn scopes(values: &[&str]) -> Vec<Scope> {
    values
        .iter()
        .map(|v| Scope {
            value: (*v).to_string(),
            description: String::new(),
        })
        .collect()
}

pub fn management_api(issuer: &str, id: String) -> ResourceServer {
    system_api(
        id,
        MANAGEMENT_API_NAME,
        management_api_identifier(issuer),
        MANAGEMENT_SCOPES,
    )
}

pub fn authz_api(id: String) -> ResourceServer {
    system_api(
        id,
        AUTHZ_API_NAME,
        AUTHZ_API_IDENTIFIER.to_string(),
        AUTHZ_SCOPES,
    )
}

fn system_api(id: String, name: &str, identifier: String, values: &[&str]) -> ResourceServer {
    ResourceServer {
        scopes: scopes(values),
        is_system: true,
        ..ResourceServer::new(id, name.to_string(), identifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_is_the_https_form_of_the_issuer_host() {
        assert_eq!(
            management_api_https_alias("http://127.0.0.1:8080/").as_deref(),
            Some("https://127.0.0.1:8080/api/v2/")
        );
        assert_eq!(
            management_api_identifier("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/api/v2/"
        );
    }

    #[test]
    fn current_user_scopes_are_management_scopes() {
        for scope in CURRENT_USER_SCOPES {
            assert!(MANAGEMENT_SCOPES.contains(scope), "{scope}");
        }
    }

    #[test]
    fn scope_lists_have_no_duplicates() {
        for list in [MANAGEMENT_SCOPES, AUTHZ_SCOPES] {
            let mut sorted = list.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len());
        }
    }
}
