//! Audit entries of changes to multi-factor authentication: a user's authentication
//! methods, recovery code and remembered browsers, and the tenant's MFA policy and factors.
//! Never a secret: a TOTP key or recovery code is named by the method's id only.

use serde_json::json;

use super::{Change, Entry};

#[derive(Debug, Clone, PartialEq)]
pub enum MfaChange {
    /// An authentication method added by an administrator, confirmed at once.
    CreateMethod {
        user_id: String,
        id: String,
        kind: &'static str,
    },
    DeleteMethod {
        user_id: String,
        id: String,
        kind: &'static str,
    },
    /// Every method of the user removed, and remembered browsers forgotten: how many
    /// methods there were.
    ResetMethods {
        user_id: String,
        methods: u64,
    },
    RegenerateRecoveryCode {
        user_id: String,
    },
    InvalidateRememberBrowser {
        user_id: String,
    },
    /// The tenant's policies as the change left them.
    SetPolicies {
        policies: Vec<String>,
    },
    SetFactor {
        name: String,
        enabled: bool,
    },
}

impl MfaChange {
    /// Auth0's Guardian log code for the same change, written beside the `sapi` entry so
    /// that log searches for `type:gd_*` find administrators' MFA changes as on Auth0.
    pub(super) fn guardian_type(&self) -> Option<&'static str> {
        match self {
            MfaChange::DeleteMethod { .. } => Some("gd_unenroll"),
            MfaChange::ResetMethods { .. } => Some("gd_user_delete"),
            MfaChange::SetPolicies { .. } | MfaChange::SetFactor { .. } => Some("gd_tenant_update"),
            _ => None,
        }
    }

    pub(super) fn entry(self) -> Entry {
        match self {
            MfaChange::CreateMethod { user_id, id, kind } => Entry::new(
                "create_authentication_method",
                format!("Add a {kind} authentication method to a user"),
                json!({"user_id": user_id, "authentication_method_id": id}),
                json!({"type": kind}),
            ),
            MfaChange::DeleteMethod { user_id, id, kind } => Entry::new(
                "delete_authentication_method",
                format!("Remove a {kind} authentication method from a user"),
                json!({"user_id": user_id, "authentication_method_id": id}),
                json!({"type": kind}),
            ),
            MfaChange::ResetMethods { user_id, methods } => Entry::new(
                "delete_authentication_methods",
                "Remove all authentication methods of a user".into(),
                json!({"user_id": user_id}),
                json!({"methods": methods}),
            ),
            MfaChange::RegenerateRecoveryCode { user_id } => Entry::new(
                "regenerate_recovery_code",
                "Generate a new MFA recovery code for a user".into(),
                json!({"user_id": user_id}),
                json!({}),
            ),
            MfaChange::InvalidateRememberBrowser { user_id } => Entry::new(
                "invalidate_remember_browser",
                "Forget the browsers a user chose to remember for MFA".into(),
                json!({"user_id": user_id}),
                json!({}),
            ),
            MfaChange::SetPolicies { policies } => Entry::new(
                "set_mfa_policies",
                "Set the tenant's multi-factor authentication policy".into(),
                json!({"setting": "guardian.policies"}),
                json!({"policies": policies}),
            ),
            MfaChange::SetFactor { name, enabled } => Entry::new(
                "set_guardian_factor",
                format!(
                    "{} the MFA factor {name}",
                    if enabled { "Enable" } else { "Disable" }
                ),
                json!({"factor": name}),
                json!({"enabled": enabled}),
            ),
        }
    }
}

impl From<MfaChange> for Change {
    fn from(change: MfaChange) -> Self {
        Change::Mfa(change)
    }
}
