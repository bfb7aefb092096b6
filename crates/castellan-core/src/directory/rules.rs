//! Rules (`/api/v2/rules`): stored with their order and flag; running them is the rules
//! runtime's job.

use super::Editor;
use crate::audit::ScriptChange;
use crate::error::{Error, Result};
use crate::model::Rule;
use crate::paging::{Page, PageRequest};
use crate::scripts::Scripts;
use crate::store::{RuleStore, Store, StoreError};

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

/// A rule to make. Without an `order`, it goes after the last one; `enabled` defaults to
/// true.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub name: String,
    pub script: String,
    pub order: Option<i64>,
    pub enabled: Option<bool>,
}

/// Fields left `None` keep their value.
#[derive(Debug, Default, Clone)]
pub struct RuleUpdate {
    pub name: Option<String>,
    pub script: Option<String>,
    pub order: Option<i64>,
    pub enabled: Option<bool>,
}

async fn find<S: RuleStore + ?Sized>(store: &S, id: &str) -> Result<Rule> {
    store
        .find_rule(id)
        .await?
        .ok_or(Error::NotFound { kind: "rule" })
}

pub async fn create(ed: &Editor<'_>, scripts: &Scripts, input: NewRule) -> Result<Rule> {
    check_name(&input.name)?;
    // Compiling may take as long as a rule's deadline: it is done before the transaction,
    // which would hold the store's write lock all that time.
    check_script(scripts, &input.name, &input.script).await?;
    if let Some(order) = input.order {
        check_order(order)?;
    }
    let now = ed.clock.now();
    let mut rule = Rule {
        id: crate::ids::rule_id(),
        name: input.name,
        script: input.script,
        order: 0,
        enabled: input.enabled.unwrap_or(true),
        stage: STAGE.into(),
        created_at: now,
        updated_at: now,
    };
    // Two rules created at once may both pick the same next order; the unique constraint
    // refuses the second, which then tries the order after, in a transaction of its own
    // since a refused statement spoils the one it ran in.
    let mut attempts = if input.order.is_some() { 1 } else { 3 };
    loop {
        let tx = ed.begin().await?;
        rule.order = match input.order {
            Some(order) => order,
            None => tx.next_rule_order().await?,
        };
        match tx.create_rule(&rule).await {
            Ok(()) => {
                let change = ScriptChange::CreateRule {
                    rule_id: rule.id.clone(),
                    name: rule.name.clone(),
                    order: rule.order,
                    enabled: rule.enabled,
                };
                ed.commit(tx, [change]).await?;
                return Ok(rule);
            }
            Err(StoreError::Conflict(_)) if attempts > 1 => attempts -= 1,
            Err(e) => return Err(conflict(e)),
        }
    }
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Rule> {
    find(store, id).await
}

pub async fn list(
    store: &dyn Store,
    enabled: Option<bool>,
    page: PageRequest,
) -> Result<Page<Rule>> {
    Ok(store.list_rules(enabled, page).await?)
}

pub async fn update(
    ed: &Editor<'_>,
    scripts: &Scripts,
    id: &str,
    input: RuleUpdate,
) -> Result<Rule> {
    if let Some(name) = &input.name {
        check_name(name)?;
    }
    if let Some(script) = &input.script {
        // Before the transaction, as on create; the rule's name only labels the errors.
        let name = match &input.name {
            Some(name) => name.clone(),
            None => get(ed.store, id).await?.name,
        };
        check_script(scripts, &name, script).await?;
    }
    if let Some(order) = input.order {
        check_order(order)?;
    }
    let tx = ed.begin().await?;
    let mut rule = find(tx.as_ref(), id).await?;
    let script_changed = input.script.as_ref().is_some_and(|s| *s != rule.script);
    rule.name = input.name.unwrap_or(rule.name);
    rule.script = input.script.unwrap_or(rule.script);
    rule.order = input.order.unwrap_or(rule.order);
    rule.enabled = input.enabled.unwrap_or(rule.enabled);
    rule.updated_at = ed.clock.now();
    match tx.update_rule(&rule).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Error::NotFound { kind: "rule" }),
        Err(e) => return Err(conflict(e)),
    }
    let change = ScriptChange::UpdateRule {
        rule_id: rule.id.clone(),
        name: rule.name.clone(),
        order: rule.order,
        enabled: rule.enabled,
        script_changed,
    };
    ed.commit(tx, [change]).await?;
    Ok(rule)
}

/// Answers the rule as it was.
pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<Rule> {
    let tx = ed.begin().await?;
    let rule = find(tx.as_ref(), id).await?;
    if !tx.delete_rule(&rule.id).await? {
        return Err(Error::NotFound { kind: "rule" });
    }
    let change = ScriptChange::DeleteRule {
        rule_id: rule.id.clone(),
        name: rule.name.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(rule)
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
