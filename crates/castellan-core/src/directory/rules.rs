//! Rules (`/api/v2/rules`): stored with their order and flag; running them is the rules
//! runtime's job.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::Rule;
use crate::paging::{Page, PageRequest};
use crate::scripts::Scripts;
use crate::store::{Store, StoreError};

/// The only stage Auth0 still runs rules in.
pub const STAGE: &str = "login_success";

/// Auth0: letters, digits, spaces and '-', not starting or ending with a space or '-'.
fn check_name(name: &str) -> Result<()> {
    let allowed = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !allowed || !ends(name.chars().next()) || !ends(name.chars().last()) || name.len() > 255 {
        return Err(Error::Invalid(format!(
            "name \"{name}\" must be letters, digits, spaces and '-', start and end with a letter or digit, at most 255 characters"
        )));
    }
    Ok(())
}

async fn check_script(scripts: &Scripts, name: &str, script: &str) -> Result<()> {
    if script.trim().is_empty() {
        return Err(Error::Invalid("script must not be empty".into()));
    }
    scripts
        .check_syntax(crate::scripts::engine::ScriptKind::Rule, name, script)
        .await
}

fn check_order(order: i64) -> Result<()> {
    if order < 0 {
        return Err(Error::Invalid("order must be 0 or more".into()));
    }
    Ok(())
}

fn conflict(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(_) => {
            Error::Conflict("A rule with the same name or order already exists".into())
        }
        other => other.into(),
    }
}

#[derive(Debug, Default, Clone)]
pub struct RuleChange {
    pub name: Option<String>,
    pub script: Option<String>,
    pub order: Option<i64>,
    pub enabled: Option<bool>,
}

/// Without an `order`, the rule goes after the last one; `enabled` defaults to true.
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    scripts: &Scripts,
    new: RuleChange,
) -> Result<Rule> {
    let name = new
        .name
        .ok_or_else(|| Error::Invalid("name is required".into()))?;
    let script = new
        .script
        .ok_or_else(|| Error::Invalid("script is required".into()))?;
    check_name(&name)?;
    check_script(scripts, &name, &script).await?;
    if let Some(order) = new.order {
        check_order(order)?;
    }
    let now = clock.now();
    let mut rule = Rule {
        id: crate::ids::rule_id(),
        name,
        script,
        order: 0,
        enabled: new.enabled.unwrap_or(true),
        stage: STAGE.into(),
        created_at: now,
        updated_at: now,
    };
    // Two rules created at once may both pick the same next order; the unique constraint
    // refuses the second, which then tries the order after.
    let mut attempts = if new.order.is_some() { 1 } else { 3 };
    loop {
        rule.order = match new.order {
            Some(order) => order,
            None => store.next_rule_order().await?,
        };
        match store.create_rule(&rule).await {
            Ok(()) => return Ok(rule),
            Err(StoreError::Conflict(_)) if attempts > 1 => attempts -= 1,
            Err(e) => return Err(conflict(e)),
        }
    }
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Rule> {
    store
        .find_rule(id)
        .await?
        .ok_or(Error::NotFound { kind: "rule" })
}

pub async fn list(
    store: &dyn Store,
    enabled: Option<bool>,
    page: PageRequest,
) -> Result<Page<Rule>> {
    Ok(store.list_rules(enabled, page).await?)
}

pub async fn update(
    store: &dyn Store,
    clock: &dyn Clock,
    scripts: &Scripts,
    id: &str,
    change: RuleChange,
) -> Result<Rule> {
    let mut rule = get(store, id).await?;
    if let Some(name) = change.name {
        check_name(&name)?;
        rule.name = name;
    }
    if let Some(script) = change.script {
        check_script(scripts, &rule.name, &script).await?;
        rule.script = script;
    }
    if let Some(order) = change.order {
        check_order(order)?;
        rule.order = order;
    }
    if let Some(enabled) = change.enabled {
        rule.enabled = enabled;
    }
    rule.updated_at = clock.now();
    match store.update_rule(&rule).await {
        Ok(()) => Ok(rule),
        Err(StoreError::NotFound) => Err(Error::NotFound { kind: "rule" }),
        Err(e) => Err(conflict(e)),
    }
}

pub async fn delete(store: &dyn Store, id: &str) -> Result<()> {
    if store.delete_rule(id).await? {
        Ok(())
    } else {
        Err(Error::NotFound { kind: "rule" })
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn rule_names() {
        for good in ["a", "Add roles", "x-1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", " a", "a-", "a_b", "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
