//! The tenant's multi-factor settings as Auth0's Guardian endpoints have them: the policy
//! (`/api/v2/guardian/policies`: `[]` or `["all-applications"]`) and which factors are
//! enabled (`/api/v2/guardian/factors/{name}`). Stored as tenant settings (see
//! [`crate::mfa::policy`]); the console and `apply` change them through here too.

use serde_json::json;

use super::Editor;
use crate::audit::MfaChange;
use crate::error::{Error, Result};
use crate::mfa::policy::{self, ALWAYS, FACTORS, POLICIES_SETTING};
use crate::store::Store;

/// Guardian's factor names that Auth0 has and Castellan does not (SMS, push, Duo): they
/// can be turned off (they are), never on.
pub const UNSUPPORTED_FACTORS: &[&str] = &["sms", "push-notification", "duo"];

/// The tenant's policies: empty (a second factor only when a rule, an action or the client
/// asks) or `["all-applications"]`.
pub async fn policies(store: &dyn Store) -> Result<Vec<String>> {
    Ok(if policy::always(store).await? {
        vec![ALWAYS.to_string()]
    } else {
        Vec::new()
    })
}

/// Checks a policy list: Auth0's `all-applications`, at most once; `confidence-score`
/// (adaptive MFA) is refused by name.
pub fn check_policies(wanted: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for p in wanted {
        match p.as_str() {
            ALWAYS => {
                if !out.iter().any(|o| o == ALWAYS) {
                    out.push(ALWAYS.to_string());
                }
            }
            "confidence-score" => {
                return Err(Error::Invalid(
                    "the policy \"confidence-score\" (adaptive MFA) is not supported; use [] or [\"all-applications\"]".into(),
                ));
            }
            other => {
                return Err(Error::Invalid(format!(
                    "policies must be [] or [\"all-applications\"] (got \"{other}\")"
                )));
            }
        }
    }
    Ok(out)
}

pub async fn set_policies(ed: &Editor<'_>, wanted: &[String]) -> Result<Vec<String>> {
    let policies = check_policies(wanted)?;
    let tx = ed.begin().await?;
    tx.save_tenant_setting(POLICIES_SETTING, &json!(policies))
        .await?;
    let change = MfaChange::SetPolicies {
        policies: policies.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(policies)
}

/// Each factor Castellan has, with whether it is enabled, in [`FACTORS`]' order.
pub async fn factors(store: &dyn Store) -> Result<Vec<(&'static str, bool)>> {
    let mut out = Vec::with_capacity(FACTORS.len());
    for (name, _) in FACTORS {
        let enabled = policy::factor_enabled(store, name).await?.unwrap_or(false);
        out.push((*name, enabled));
    }
    Ok(out)
}

/// Enables or disables a factor. A factor Auth0 has and Castellan does not is off: turning
/// it off again changes nothing and succeeds (so an exported Auth0 tenant applies), turning
/// it on is refused. A name Auth0 does not have either is `NotFound`, as on Auth0.
pub async fn set_factor(ed: &Editor<'_>, name: &str, enabled: bool) -> Result<bool> {
    if !FACTORS.iter().any(|(n, _)| *n == name) {
        if UNSUPPORTED_FACTORS.contains(&name) {
            if enabled {
                return Err(Error::Invalid(format!(
                    "the factor \"{name}\" is not supported; supported factors: {}",
                    FACTORS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            return Ok(false);
        }
        return Err(Error::NotFound { kind: "factor" });
    }
    let tx = ed.begin().await?;
    tx.save_tenant_setting(
        &policy::factor_setting(name),
        &policy::factor_value(enabled),
    )
    .await?;
    let change = MfaChange::SetFactor {
        name: name.to_string(),
        enabled,
    };
    ed.commit(tx, [change]).await?;
    Ok(enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn policies_are_never_or_always() {
        assert_eq!(check_policies(&[]).unwrap(), Vec::<String>::new());
        assert_eq!(
            check_policies(&list(&[ALWAYS, ALWAYS])).unwrap(),
            list(&[ALWAYS])
        );
        let adaptive = check_policies(&list(&["confidence-score"])).unwrap_err();
        assert!(adaptive.to_string().contains("adaptive MFA"), "{adaptive}");
        assert!(check_policies(&list(&["sometimes"])).is_err());
    }
}
