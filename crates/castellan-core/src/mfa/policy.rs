//! When a log-in must pass a second factor, and with which factors: the tenant's policy
//! (Auth0's "Require Multi-factor Auth", `PUT /api/v2/guardian/policies`), what the
//! scripts asked for (`context.multifactor`, `api.multifactor.enable`,
//! `api.authentication.challengeWith*`), and a step-up the client asked for in
//! `acr_values`.

use serde_json::{Value, json};

use crate::scripts::engine::MultifactorRequest;
use crate::store::{Store, StoreResult};

/// The `acr` of a log-in that passed a second factor, and the `acr_values` a client sends
/// to ask for one (OpenID Provider Authentication Policy Extension, as Auth0 uses it).
pub const MFA_ACR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

/// The tenant setting holding Guardian's policies: `[]` (never) or `["all-applications"]`
/// (always), Auth0's two values for it.
pub const POLICIES_SETTING: &str = "guardian.policies";
pub const ALWAYS: &str = "all-applications";

/// Guardian's factor names (`/api/v2/guardian/factors/{name}`) that Castellan has, with
/// whether each is enabled before a tenant says otherwise. Email needs mail set up, so it
/// starts off, as on Auth0.
pub const FACTORS: &[(&str, bool)] = &[
    ("otp", true),
    ("webauthn-roaming", true),
    ("webauthn-platform", true),
    ("email", false),
    ("recovery-code", true),
];

/// The setting that holds a factor's `enabled` flag.
pub fn factor_setting(name: &str) -> String {
    format!("guardian.factors.{name}")
}

/// Whether the tenant asks every log-in for a second factor.
pub async fn always(store: &dyn Store) -> StoreResult<bool> {
    let policies = store.find_tenant_setting(POLICIES_SETTING).await?;
    Ok(policies
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|p| p == ALWAYS)))
}

/// Whether the Guardian factor `name` is enabled; `None` for a name Castellan does not have.
pub async fn factor_enabled(store: &dyn Store, name: &str) -> StoreResult<Option<bool>> {
    let Some((_, default)) = FACTORS.iter().find(|(n, _)| *n == name) else {
        return Ok(None);
    };
    let stored = store.find_tenant_setting(&factor_setting(name)).await?;
    Ok(Some(
        stored
            .and_then(|v| v["enabled"].as_bool())
            .unwrap_or(*default),
    ))
}

/// `{"enabled": bool}`, the shape a factor setting is stored in.
pub fn factor_value(enabled: bool) -> Value {
    json!({ "enabled": enabled })
}

/// What a log-in needs before it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// A browser the user remembered may skip the challenge.
    pub allow_remember_browser: bool,
    /// The factor types the scripts named (`otp`, `email`, `webauthn-roaming`…); empty for
    /// any enabled one.
    pub factors: Vec<String>,
    /// Enrol a new factor even if the user has one (`enrollWith*`).
    pub enroll: bool,
}

/// Decides whether a log-in needs a second factor. A script's `provider: 'none'` turns
/// the tenant's policy off for this log-in, as on Auth0; a step-up the client asked for
/// cannot be turned off by it.
pub fn requirement(
    tenant_always: bool,
    scripts: Option<&MultifactorRequest>,
    acr_values: Option<&str>,
) -> Option<Requirement> {
    let step_up = acr_values.is_some_and(|v| v.split_whitespace().any(|acr| acr == MFA_ACR));
    match scripts {
        Some(asked) if asked.provider != "none" => Some(Requirement {
            allow_remember_browser: asked.allow_remember_browser && !step_up,
            factors: asked.factors.clone(),
            enroll: asked.enroll,
        }),
        _ if step_up => Some(Requirement {
            allow_remember_browser: false,
            factors: Vec::new(),
            enroll: false,
        }),
        Some(_) => None,
        None if tenant_always => Some(Requirement {
            allow_remember_browser: true,
            factors: Vec::new(),
            enroll: false,
        }),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(provider: &str, remember: bool) -> MultifactorRequest {
        MultifactorRequest {
            provider: provider.into(),
            allow_remember_browser: remember,
            ..Default::default()
        }
    }

    #[test]
    fn policy_scripts_and_step_up_decide() {
        assert_eq!(requirement(false, None, None), None);
        let always = requirement(true, None, None).unwrap();
        assert!(always.allow_remember_browser);
        assert_eq!(requirement(true, Some(&asked("none", false)), None), None);
        let rule = requirement(false, Some(&asked("any", false)), None).unwrap();
        assert!(!rule.allow_remember_browser);
        let remembered = requirement(false, Some(&asked("guardian", true)), None).unwrap();
        assert!(remembered.allow_remember_browser);
        // A step-up is never skipped, by a script or a remembered browser.
        let step_up = requirement(false, Some(&asked("none", false)), Some(MFA_ACR)).unwrap();
        assert!(!step_up.allow_remember_browser);
        let step_up = requirement(false, Some(&asked("any", true)), Some(MFA_ACR)).unwrap();
        assert!(!step_up.allow_remember_browser);
        assert_eq!(requirement(false, None, Some("urn:other")), None);
    }
}
