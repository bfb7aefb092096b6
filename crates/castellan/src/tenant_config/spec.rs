//! The folder's `tenant.yaml`, as types. Keys follow auth0-deploy-cli's `tenant.yaml` for
//! the kinds both have; Castellan's own kinds live under `castellan:`. Objects refer to each
//! other by name (applications by name, APIs by identifier), never by id.
//!
//! Every field other than an object's identity is optional: a field the file leaves out is
//! not managed, so the tenant keeps its value (a new object takes the default), as
//! deploy-cli's updates do. A kind the file leaves out is not managed at all. `export`
//! writes every field of every kind, so an exported folder says everything.

use std::collections::BTreeMap;

use castellan_core::directory::clients::RefreshTokenInput;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<ClientSpec>>,
    #[serde(
        default,
        rename = "resourceServers",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_servers: Option<Vec<ApiSpec>>,
    #[serde(
        default,
        rename = "clientGrants",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_grants: Option<Vec<GrantSpec>>,
    /// Database connections: deploy-cli writes `auth0` connections here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<Vec<ConnectionSpec>>,
    /// Other connections in deploy-cli's files; read as databases (and refused unless their
    /// strategy is `auth0`), never written.
    #[serde(default, skip_serializing)]
    pub connections: Option<Vec<ConnectionSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<RuleSpec>>,
    #[serde(
        default,
        rename = "rulesConfigs",
        skip_serializing_if = "Option::is_none"
    )]
    pub rules_configs: Option<Vec<RulesConfigSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<ActionSpec>>,
    /// Trigger id to its ordered bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<BTreeMap<String, Vec<BindingSpec>>>,
    /// Which MFA factors are enabled, as deploy-cli writes them.
    #[serde(
        default,
        rename = "guardianFactors",
        skip_serializing_if = "Option::is_none"
    )]
    pub guardian_factors: Option<Vec<GuardianFactorSpec>>,
    /// The MFA policy: `{policies: []}` or `{policies: [all-applications]}`.
    #[serde(
        default,
        rename = "guardianPolicies",
        skip_serializing_if = "Option::is_none"
    )]
    pub guardian_policies: Option<GuardianPoliciesSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub castellan: Option<CastellanSpec>,
}

/// One of `GET /api/v2/guardian/factors`' entries; `trial_expired`, which deploy-cli may
/// carry along, is read and ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianFactorSpec {
    pub name: String,
    pub enabled: bool,
    #[serde(default, skip_serializing)]
    pub trial_expired: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardianPoliciesSpec {
    #[serde(default)]
    pub policies: Vec<String>,
}

/// Kinds only Castellan has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CastellanSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupSpec>>,
    #[serde(
        default,
        rename = "defaultAssignments",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_assignments: Option<Vec<DefaultsSpec>>,
    #[serde(
        default,
        rename = "authorizationExtension",
        skip_serializing_if = "Option::is_none"
    )]
    pub extension: Option<ExtensionSpec>,
}

/// An application. `client_secret` is read (to set a known secret, typically through a
/// `##KEYWORD##`) and never written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_first_party: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callbacks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_logout_urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshTokenInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing)]
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub identifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<ScopeSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_policies: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_dialect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_offline_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeSpec {
    pub value: String,
    #[serde(default)]
    pub description: String,
}

/// `client_id` is the application's name, as deploy-cli writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    pub client_id: String,
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Application names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_clients: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// A role not bound to an application (the Management API's roles).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<PermissionSpec>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub permission_name: String,
    pub resource_server_identifier: String,
}

/// `script` is a path relative to the folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// A key of the rules configuration. The value is never written; without one, the value
/// stored under the key is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfigSpec {
    pub key: String,
    #[serde(default, skip_serializing)]
    pub value: Option<String>,
}

/// `code` is a path relative to the folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<DependencySpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<SecretSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_triggers: Option<Vec<TriggerSpec>>,
    /// True: the draft is deployed (deployed again when it changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencySpec {
    pub name: String,
    #[serde(default)]
    pub version: String,
}

/// The value is never written; without one, the value stored under the name is kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    pub name: String,
    #[serde(default, skip_serializing)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingSpec {
    pub action_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleRef>>,
    /// Names of the groups nested in this one (whose members count as its members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mappings: Option<Vec<MappingSpec>>,
}

/// A role by name; a role bound to an application (the Authorization Extension's) also
/// names that application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoleRef {
    Name(String),
    Bound {
        name: String,
        #[serde(rename = "applicationId")]
        application: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    #[serde(rename = "groupName")]
    pub group_name: String,
    #[serde(rename = "connectionName")]
    pub connection_name: String,
}

/// A connection's default roles and groups (names), given once per user at `on`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultsSpec {
    pub connection: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionSpec {
    /// `groupsInToken`, `rolesInToken`, ...: the extension's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<BTreeMap<String, bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<ExtensionPermissionSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ExtensionRoleSpec>>,
}

/// `applicationId` is an application's name (`applicationType: client`) or an API's
/// identifier (`resource_server`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionPermissionSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "applicationType")]
    pub application_type: String,
    #[serde(rename = "applicationId")]
    pub application: String,
}

/// A role bound to an application, with the names of its extension permissions (of that
/// application).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRoleSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "applicationType")]
    pub application_type: String,
    #[serde(rename = "applicationId")]
    pub application: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// Fields of Auth0's objects that Castellan does not model: a file may carry them (an
/// Auth0 export does) and they are ignored, each kind named in the plan's notes. Any other
/// unknown key is refused, so a typo does not pass silently.
pub mod ignored {
    pub const TOP_LEVEL: &[&str] = &[
        "tenant",
        "pages",
        "emailProvider",
        "emailTemplates",
        "guardianFactorProviders",
        "guardianFactorTemplates",
        "guardianPhoneFactorMessageTypes",
        "guardianPhoneFactorSelectedProvider",
        "prompts",
        "branding",
        "themes",
        "attackProtection",
        "organizations",
        "logStreams",
        "customDomains",
        "hooks",
        "migrations",
        "forms",
        "flows",
        "flowVaults",
        "flowVaultConnections",
        "selfServiceProfiles",
        "networkACLs",
        "phoneProviders",
        "phoneTemplates",
        "connectionProfiles",
        "userAttributeProfiles",
        "riskAssessments",
        "actionModules",
        "clientCredentials",
        "eventStreams",
        "tokenExchangeProfiles",
        "rateLimitPolicies",
        "supplementalSignals",
    ];
    pub const CLIENT: &[&str] = &[
        "client_id",
        "addons",
        "allowed_clients",
        "callback_url_template",
        "client_aliases",
        "client_authentication_methods",
        "compliance_level",
        "cross_origin_auth",
        "cross_origin_authentication",
        "cross_origin_loc",
        "custom_login_page",
        "custom_login_page_on",
        "custom_login_page_preview",
        "default_organization",
        "encryption_key",
        "express_configuration",
        "form_template",
        "initiate_login_uri",
        "is_token_endpoint_ip_header_trusted",
        "jwt_configuration",
        "logo_uri",
        "mobile",
        "native_social_login",
        "oidc_backchannel_logout",
        "oidc_conformant",
        "oidc_logout",
        "organization_require_behavior",
        "organization_usage",
        "require_proof_of_possession",
        "require_pushed_authorization_requests",
        "resource_server_identifier",
        "session_transfer",
        "signed_request_object",
        "signing_keys",
        "sso",
        "sso_disabled",
        "token_quota",
        "skip_non_verifiable_callback_uri_confirmation_prompt",
    ];
    pub const API: &[&str] = &[
        "id",
        "client_id",
        "is_system",
        "token_lifetime_for_web",
        "signing_secret",
        "consent_policy",
        "authorization_details",
        "token_encryption",
        "proof_of_possession",
        "subject_type_authorization",
        "verificationLocation",
        "options",
    ];
    pub const GRANT: &[&str] = &[
        "id",
        "subject_type",
        "organization_usage",
        "allow_any_organization",
        "authorization_details_types",
        "is_system",
    ];
    pub const CONNECTION: &[&str] = &[
        "id",
        "display_name",
        "realms",
        "is_domain_connection",
        "show_as_button",
        "metadata",
        "authentication",
        "connected_accounts",
    ];
    pub const ROLE: &[&str] = &["id"];
    pub const RULE: &[&str] = &["id"];
    pub const ACTION: &[&str] = &[
        "id",
        "status",
        "all_changes_deployed",
        "built_at",
        "created_at",
        "updated_at",
        "installed_integration_id",
        "integration",
        "deployed_version",
    ];
}
