//! The tenant's MFA settings in a folder: deploy-cli's `guardianFactors` (`[{name,
//! enabled}]`) and `guardianPolicies` (`{policies: [...]}`), read from the tenant,
//! checked, planned and applied through the same use cases as `/api/v2/guardian/*`.

use castellan_core::directory::guardian;
use castellan_core::mfa::policy::FACTORS;
use castellan_core::store::Store;

use super::ConfigError;
use super::Problem;
use super::plan::{Op, Plan, Step};
use super::read::{Folder, key};
use super::spec::{GuardianFactorSpec, GuardianPoliciesSpec, TenantSpec};
use super::yaml::Seg;

fn failed(e: castellan_core::Error) -> ConfigError {
    ConfigError::Tenant(format!("cannot read the MFA settings: {e}"))
}

/// The tenant's settings into `spec`, as export writes them.
pub async fn read(store: &dyn Store, spec: &mut TenantSpec) -> Result<(), ConfigError> {
    let factors = guardian::factors(store).await.map_err(failed)?;
    spec.guardian_factors = Some(
        factors
            .into_iter()
            .map(|(name, enabled)| GuardianFactorSpec {
                name: name.to_string(),
                enabled,
                trial_expired: None,
            })
            .collect(),
    );
    spec.guardian_policies = Some(GuardianPoliciesSpec {
        policies: guardian::policies(store).await.map_err(failed)?,
    });
    Ok(())
}

fn known(name: &str) -> bool {
    FACTORS.iter().any(|(n, _)| *n == name)
}

/// Names that are no factor, factors turned on that Castellan lacks, a factor named twice,
/// and policies the use case refuses, each at its place in the file.
pub fn check(folder: &Folder, problems: &mut Vec<Problem>) {
    let spec = &folder.spec;
    let mut seen = Vec::new();
    for (i, factor) in spec.guardian_factors.iter().flatten().enumerate() {
        let at = [key("guardianFactors"), Seg::Index(i), key("name")];
        let name = factor.name.as_str();
        let message = if seen.contains(&name) {
            Some(format!("the factor \"{name}\" is named twice"))
        } else if guardian::UNSUPPORTED_FACTORS.contains(&name) {
            factor.enabled.then(|| {
                format!("the factor \"{name}\" is not supported here; it can only be disabled")
            })
        } else if !known(name) {
            Some(format!(
                "\"{name}\" is not an MFA factor; known: {}",
                FACTORS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            None
        };
        if let Some(message) = message {
            problems.push(folder.problem(&at, message));
        }
        seen.push(name);
    }
    if let Some(wanted) = &spec.guardian_policies
        && let Err(e) = guardian::check_policies(&wanted.policies)
    {
        problems.push(folder.problem(&[key("guardianPolicies"), key("policies")], e.to_string()));
    }
}

/// The steps that make the tenant's settings the folder's. Factors Castellan lacks,
/// disabled in the folder (as an Auth0 export has them), need none.
pub fn plan(folder: &Folder, current: &TenantSpec, plan: &mut Plan) {
    let spec = &folder.spec;
    let have = current.guardian_factors.clone().unwrap_or_default();
    for (i, factor) in spec.guardian_factors.iter().flatten().enumerate() {
        if !known(&factor.name) {
            continue;
        }
        let enabled_now = have
            .iter()
            .find(|f| f.name == factor.name)
            .map(|f| f.enabled);
        if enabled_now != Some(factor.enabled) {
            plan.steps.push(Step {
                op: Op::SetGuardianFactor(factor.name.clone(), factor.enabled),
                sign: '~',
                text: format!(
                    "{} the MFA factor {}",
                    if factor.enabled { "enable" } else { "disable" },
                    factor.name
                ),
                at: vec![key("guardianFactors"), Seg::Index(i)],
            });
        }
    }
    if let Some(wanted) = &spec.guardian_policies {
        let wanted = guardian::check_policies(&wanted.policies).unwrap_or_default();
        let now = current
            .guardian_policies
            .clone()
            .unwrap_or_default()
            .policies;
        if wanted != now {
            plan.steps.push(Step {
                op: Op::SetGuardianPolicies(wanted.clone()),
                sign: '~',
                text: format!("change the MFA policies: [{}]", wanted.join(", ")),
                at: vec![key("guardianPolicies")],
            });
        }
    }
}
