//! Actions (`/api/v2/actions`): drafts edited through the Management API, versions made by
//! deploying them, and each trigger's ordered list of bound actions. Only the deployed
//! snapshot of a bound action ever runs. Secrets are sealed with the master key, bound to
//! the action and the secret's name, and never shown again.

use std::collections::{BTreeMap, BTreeSet};

use super::Editor;
use crate::audit::ScriptChange;
use crate::error::{Error, Result};
use crate::model::{
    Action, ActionBinding, ActionSecret, ActionVersion, DeployedAction, Named, Trigger,
};
use crate::paging::{Page, PageRequest};
use crate::scripts::Scripts;
use crate::secrets::MasterKey;
use crate::store::{ActionFilter, ActionStore, Store, StoreError};

/// The runtimes actions may name; the code runs in Castellan's sandbox whatever the label.
pub const RUNTIMES: &[&str] = &["node22"];
pub const DEFAULT_RUNTIME: &str = "node22";

const MAX_NAME: usize = 255;

/// A trigger as a request names it (`supported_triggers[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRef {
    pub id: String,
    pub version: Option<String>,
}

/// A secret as a request gives it. Without a value, an update keeps the value the action
/// already has under that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInput {
    pub name: String,
    pub value: Option<String>,
}

/// An action to make; without a runtime it gets the default one.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub name: String,
    pub supported_triggers: Vec<TriggerRef>,
    pub code: String,
    pub runtime: Option<String>,
    /// The modules asked for, as `name@version`: none can be given.
    pub dependencies: Option<Vec<String>>,
    pub secrets: Vec<SecretInput>,
}

/// The fields of an update; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct ActionUpdate {
    pub name: Option<String>,
    pub supported_triggers: Option<Vec<TriggerRef>>,
    pub code: Option<String>,
    pub runtime: Option<String>,
    /// The modules asked for, as `name@version`: none can be given.
    pub dependencies: Option<Vec<String>>,
    /// Replaces the whole list.
    pub secrets: Option<Vec<SecretInput>>,
}

/// Which action a binding names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionRef {
    Id(String),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingInput {
    pub action: ActionRef,
    pub display_name: Option<String>,
}

/// A bound action ready to run: its deployed code and its secrets in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct RunnableAction {
    pub id: String,
    pub name: String,
    pub code: String,
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for RunnableAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnableAction")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The trigger a path or a query names.
pub fn trigger(id: &str) -> Option<Trigger> {
    Trigger::parse(id)
}

/// The associated data a secret is sealed with: it cannot be moved to another action or
/// another name.
fn context(action_id: &str, name: &str) -> String {
    format!("action-secret:{action_id}:{name}")
}

fn not_found() -> Error {
    Error::NotFound { kind: "action" }
}

fn conflict(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(_) => {
            Error::Conflict("An action with the same name already exists".into())
        }
        StoreError::NotFound => not_found(),
        other => other.into(),
    }
}

fn check_text(what: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::Invalid(format!("{what} must not be empty")));
    }
    if text.chars().count() > MAX_NAME || text.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "{what} \"{text}\" must be at most {MAX_NAME} characters, without control characters"
        )));
    }
    Ok(())
}

/// Everything an action must satisfy to be stored or deployed, in one place: create,
/// update and deploy all call it (a syntax check of the code belongs here too).
pub fn validate(action: &Action) -> Result<()> {
    check_text("name", &action.name)?;
    if action.code.trim().is_empty() {
        return Err(Error::Invalid("code must not be empty".into()));
    }
    if !RUNTIMES.contains(&action.runtime.as_str()) {
        return Err(Error::Invalid(format!(
            "runtime \"{}\" is not supported; use one of: {}",
            action.runtime,
            RUNTIMES.join(", ")
        )));
    }
    let mut seen = BTreeSet::new();
    for secret in &action.secrets {
        check_text("secret name", &secret.name)?;
        if !seen.insert(secret.name.as_str()) {
            return Err(Error::Invalid(format!(
                "secret \"{}\" is given more than once",
                secret.name
            )));
        }
    }
    Ok(())
}

/// Code that does not compile is refused when it is saved, with its line and column.
async fn check_code(scripts: &Scripts, action: &Action) -> Result<()> {
    scripts
        .check_syntax(
            crate::scripts::engine::ScriptKind::Action,
            &action.name,
            &action.code,
        )
        .await
}

/// Exactly one trigger, known, at the version served.
fn one_trigger(refs: &[TriggerRef]) -> Result<Trigger> {
    let [only] = refs else {
        return Err(Error::Invalid(format!(
            "supported_triggers must name exactly one trigger (one of: {}), not {}",
            Trigger::expected(),
            refs.len()
        )));
    };
    let trigger = Trigger::parse(&only.id).ok_or_else(|| {
        Error::Invalid(format!(
            "trigger \"{}\" is not supported; use one of: {}",
            only.id,
            Trigger::expected()
        ))
    })?;
    match only.version.as_deref() {
        Some(version) if version != trigger.version() => Err(Error::Invalid(format!(
            "trigger {} is served at version {}, not \"{version}\"",
            trigger.name(),
            trigger.version()
        ))),
        _ => Ok(trigger),
    }
}

fn no_dependencies(dependencies: Option<&[String]>) -> Result<()> {
    match dependencies {
        Some(list) if !list.is_empty() => Err(Error::Invalid(format!(
            "dependencies are not supported (Castellan bundles no npm modules): {}",
            list.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Seals the given secrets; one without a value keeps the sealed value `current` holds
/// under its name.
fn seal_secrets(
    master: &MasterKey,
    action_id: &str,
    given: &[SecretInput],
    current: &[ActionSecret],
    now: i64,
) -> Result<Vec<ActionSecret>> {
    given
        .iter()
        .map(|secret| {
            check_text("secret name", &secret.name)?;
            match &secret.value {
                Some(value) => Ok(ActionSecret {
                    sealed_value: master.seal(value.as_bytes(), &context(action_id, &secret.name)),
                    name: secret.name.clone(),
                    updated_at: now,
                }),
                None => current
                    .iter()
                    .find(|s| s.name == secret.name)
                    .cloned()
                    .ok_or_else(|| {
                        Error::Invalid(format!("secret \"{}\" needs a value", secret.name))
                    }),
            }
        })
        .collect()
}

async fn find<S: ActionStore + ?Sized>(store: &S, id: &str) -> Result<Action> {
    store.find_action(id).await?.ok_or_else(not_found)
}

fn secret_names(action: &Action) -> Vec<String> {
    action.secrets.iter().map(|s| s.name.clone()).collect()
}

pub async fn create(
    ed: &Editor<'_>,
    master: &MasterKey,
    scripts: &Scripts,
    input: NewAction,
) -> Result<Action> {
    no_dependencies(input.dependencies.as_deref())?;
    let trigger = one_trigger(&input.supported_triggers)?;
    let now = ed.clock.now();
    let id = crate::ids::action_id();
    let secrets = seal_secrets(master, &id, &input.secrets, &[], now)?;
    let action = Action {
        id,
        name: input.name,
        trigger,
        code: input.code,
        runtime: input.runtime.unwrap_or_else(|| DEFAULT_RUNTIME.into()),
        secrets,
        all_changes_deployed: false,
        deployed: None,
        created_at: now,
        updated_at: now,
    };
    validate(&action)?;
    // Compiling may take as long as an action's deadline: it is done before the
    // transaction, which would hold the store's write lock all that time.
    check_code(scripts, &action).await?;
    let tx = ed.begin().await?;
    tx.create_action(&action).await.map_err(conflict)?;
    let change = ScriptChange::CreateAction {
        action_id: action.id.clone(),
        name: action.name.clone(),
        trigger: action.trigger,
        runtime: action.runtime.clone(),
        secret_names: secret_names(&action),
    };
    ed.commit(tx, [change]).await?;
    Ok(action)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Action> {
    find(store, id).await
}

pub async fn list(
    store: &dyn Store,
    filter: &ActionFilter,
    page: PageRequest,
) -> Result<Page<Action>> {
    Ok(store.list_actions(filter, page).await?)
}

/// `before` with `input`'s fields, checked. A change to the code, runtime or secrets leaves
/// changes undeployed.
fn edited(master: &MasterKey, before: &Action, input: &ActionUpdate, now: i64) -> Result<Action> {
    let mut action = before.clone();
    if let Some(name) = &input.name {
        action.name = name.clone();
    }
    if let Some(triggers) = &input.supported_triggers {
        action.trigger = one_trigger(triggers)?;
    }
    if let Some(code) = &input.code {
        action.code = code.clone();
    }
    if let Some(runtime) = &input.runtime {
        action.runtime = runtime.clone();
    }
    if let Some(secrets) = &input.secrets {
        action.secrets = seal_secrets(master, &action.id, secrets, &before.secrets, now)?;
    }
    validate(&action)?;
    if action.code != before.code
        || action.runtime != before.runtime
        || action.secrets != before.secrets
    {
        action.all_changes_deployed = false;
    }
    action.updated_at = now;
    Ok(action)
}

/// An action bound to a trigger cannot move to another one.
pub async fn update(
    ed: &Editor<'_>,
    master: &MasterKey,
    scripts: &Scripts,
    id: &str,
    input: ActionUpdate,
) -> Result<Action> {
    no_dependencies(input.dependencies.as_deref())?;
    let now = ed.clock.now();
    if input.code.is_some() {
        // New code is compiled before the transaction, as on create; the draft is read
        // here only to see whether the code is new and to name it in errors.
        let before = get(ed.store, id).await?;
        let action = edited(master, &before, &input, now)?;
        if action.code != before.code {
            check_code(scripts, &action).await?;
        }
    }
    let tx = ed.begin().await?;
    let before = find(tx.as_ref(), id).await?;
    let action = edited(master, &before, &input, now)?;
    if action.trigger != before.trigger {
        let bound = tx.action_triggers_bound(id).await?;
        if !bound.is_empty() {
            return Err(Error::Invalid(format!(
                "the action is bound to {}; remove it from the bindings before changing its trigger",
                names(&bound)
            )));
        }
    }
    tx.update_action(&action).await.map_err(conflict)?;
    let change = ScriptChange::UpdateAction {
        action_id: action.id.clone(),
        name: action.name.clone(),
        trigger: action.trigger,
        runtime: action.runtime.clone(),
        secret_names: secret_names(&action),
        code_changed: action.code != before.code,
    };
    ed.commit(tx, [change]).await?;
    Ok(action)
}

fn names(triggers: &[Trigger]) -> String {
    triggers
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refused while the action is bound to a trigger, unless `force`, which unbinds it.
/// Answers the action as it was.
pub async fn delete(ed: &Editor<'_>, id: &str, force: bool) -> Result<Action> {
    let tx = ed.begin().await?;
    let action = find(tx.as_ref(), id).await?;
    if !force {
        let bound = tx.action_triggers_bound(id).await?;
        if !bound.is_empty() {
            return Err(Error::Invalid(format!(
                "the action is bound to {}; remove the bindings first or delete with force=true",
                names(&bound)
            )));
        }
    }
    match tx.delete_action(id, force).await {
        Ok(true) => {}
        Ok(false) => return Err(not_found()),
        Err(StoreError::Conflict(_)) => {
            return Err(Error::Invalid(
                "the action is bound to a trigger; remove the bindings first or delete with force=true"
                    .into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let change = ScriptChange::DeleteAction {
        action_id: action.id.clone(),
        name: action.name.clone(),
        force,
    };
    ed.commit(tx, [change]).await?;
    Ok(action)
}

/// Makes a new version from the draft as it is now: from then on that snapshot is what runs
/// wherever the action is bound.
pub async fn deploy(ed: &Editor<'_>, id: &str) -> Result<ActionVersion> {
    let tx = ed.begin().await?;
    let action = find(tx.as_ref(), id).await?;
    validate(&action)?;
    let version = ActionVersion {
        id: crate::ids::action_id(),
        action_id: action.id.clone(),
        number: 0,
        code: action.code,
        runtime: action.runtime,
        secrets: action.secrets,
        created_at: ed.clock.now(),
    };
    // Two deployments at once may pick the same number; the second tries once more. The
    // store deploys in a savepoint, so a refused attempt leaves the transaction usable.
    let mut attempts = 2;
    let deployed = loop {
        match tx.deploy_action(&version).await {
            Ok(stored) => break stored,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(StoreError::Conflict(_)) if attempts > 1 => attempts -= 1,
            Err(e) => return Err(e.into()),
        }
    };
    let change = ScriptChange::DeployAction {
        action_id: deployed.action_id.clone(),
        name: action.name,
        version_id: deployed.id.clone(),
        number: deployed.number,
    };
    ed.commit(tx, [change]).await?;
    Ok(deployed)
}

/// A trigger's bindings in execution order, each with its action.
pub async fn bindings(store: &dyn Store, trigger: Trigger) -> Result<Vec<(ActionBinding, Action)>> {
    let mut out = Vec::new();
    for binding in store.list_action_bindings(trigger).await? {
        // A binding's action cannot be deleted while bound, so it is there.
        let action = get(store, &binding.action_id).await?;
        out.push((binding, action));
    }
    Ok(out)
}

/// Replaces the trigger's whole ordered list (Auth0's semantics). Every action must exist,
/// support the trigger, have been deployed, and appear once; otherwise nothing changes.
pub async fn replace_bindings(
    ed: &Editor<'_>,
    trigger: Trigger,
    wanted: Vec<BindingInput>,
) -> Result<Vec<(ActionBinding, Action)>> {
    let now = ed.clock.now();
    let tx = ed.begin().await?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, input) in wanted.into_iter().enumerate() {
        let (found, named) = match &input.action {
            ActionRef::Id(id) => (tx.find_action(id).await?, format!("id \"{id}\"")),
            ActionRef::Name(name) => (
                tx.find_action_by_name(name).await?,
                format!("name \"{name}\""),
            ),
        };
        let action = found.ok_or_else(|| {
            Error::Invalid(format!("bindings[{i}]: there is no action with {named}"))
        })?;
        if action.trigger != trigger {
            return Err(Error::Invalid(format!(
                "bindings[{i}]: action \"{}\" supports {}, not {}",
                action.name,
                action.trigger.name(),
                trigger.name()
            )));
        }
        if action.deployed.is_none() {
            return Err(Error::Invalid(format!(
                "bindings[{i}]: action \"{}\" has never been deployed; deploy it first",
                action.name
            )));
        }
        if !seen.insert(action.id.clone()) {
            return Err(Error::Invalid(format!(
                "bindings[{i}]: action \"{}\" is bound more than once",
                action.name
            )));
        }
        let display_name = match input.display_name {
            Some(display_name) => {
                check_text(&format!("bindings[{i}].display_name"), &display_name)?;
                display_name
            }
            None => action.name.clone(),
        };
        let binding = ActionBinding {
            id: crate::ids::action_id(),
            trigger,
            action_id: action.id.clone(),
            display_name,
            created_at: now,
            updated_at: now,
        };
        out.push((binding, action));
    }
    let list: Vec<ActionBinding> = out.iter().map(|(b, _)| b.clone()).collect();
    match tx.replace_action_bindings(trigger, &list).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::Conflict(
                "an action changed while the bindings were being replaced; nothing was changed, try again"
                    .into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let change = ScriptChange::ReplaceBindings {
        trigger,
        action_ids: out.iter().map(|(_, a)| a.id.clone()).collect(),
    };
    ed.commit(tx, [change]).await?;
    Ok(out)
}

/// The draft's secrets in clear, by name: what `castellan apply` compares a file's values
/// with, so giving the same value again changes nothing.
pub fn open_secrets(master: &MasterKey, action: &Action) -> Result<BTreeMap<String, String>> {
    action
        .secrets
        .iter()
        .map(|secret| {
            let plain = master
                .open(&secret.sealed_value, &context(&action.id, &secret.name))
                .map_err(|e| {
                    Error::Internal(format!("action {} secret {}: {e}", action.id, secret.name))
                })?;
            let value = String::from_utf8(plain).map_err(|_| {
                Error::Internal(format!(
                    "action {} secret {}: not UTF-8",
                    action.id, secret.name
                ))
            })?;
            Ok((secret.name.clone(), value))
        })
        .collect()
}

/// What the log-in pipeline runs for `trigger`: each bound action's deployed code with its
/// secrets opened, in binding order.
pub async fn bound(
    store: &dyn Store,
    master: &MasterKey,
    trigger: Trigger,
) -> Result<Vec<RunnableAction>> {
    store
        .bound_actions(trigger)
        .await?
        .into_iter()
        .map(
            |DeployedAction {
                 id,
                 name,
                 code,
                 secrets,
             }| {
                let secrets = secrets
                    .into_iter()
                    .map(|(secret, sealed)| {
                        let plain = master.open(&sealed, &context(&id, &secret)).map_err(|e| {
                            Error::Internal(format!("action {id} secret {secret}: {e}"))
                        })?;
                        let value = String::from_utf8(plain).map_err(|_| {
                            Error::Internal(format!("action {id} secret {secret}: not UTF-8"))
                        })?;
                        Ok((secret, value))
                    })
                    .collect::<Result<_>>()?;
                Ok(RunnableAction {
                    id,
                    name,
                    code,
                    secrets,
                })
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action() -> Action {
        Action {
            id: "a".into(),
            name: "Add claims".into(),
            trigger: Trigger::PostLogin,
            code: "exports.onExecutePostLogin = async () => {};".into(),
            runtime: DEFAULT_RUNTIME.into(),
            secrets: vec![],
            all_changes_deployed: false,
            deployed: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn validation() {
        assert!(validate(&action()).is_ok());
        let secret = |name: &str| ActionSecret {
            name: name.into(),
            sealed_value: String::new(),
            updated_at: 0,
        };
        for bad in [
            Action {
                name: " ".into(),
                ..action()
            },
            Action {
                code: "\n".into(),
                ..action()
            },
            Action {
                runtime: "node12".into(),
                ..action()
            },
            Action {
                secrets: vec![secret("A"), secret("A")],
                ..action()
            },
            Action {
                secrets: vec![secret("")],
                ..action()
            },
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn triggers() {
        let t = |id: &str, version: Option<&str>| TriggerRef {
            id: id.into(),
            version: version.map(String::from),
        };
        assert_eq!(
            one_trigger(&[t("post-login", None)]).unwrap(),
            Trigger::PostLogin
        );
        assert_eq!(
            one_trigger(&[t("post-user-registration", Some("v2"))]).unwrap(),
            Trigger::PostUserRegistration
        );
        assert!(one_trigger(&[]).is_err());
        assert!(one_trigger(&[t("post-login", Some("v1"))]).is_err());
        assert!(one_trigger(&[t("pre-user-registration", None)]).is_err());
        assert!(one_trigger(&[t("post-login", None), t("post-login", None)]).is_err());
    }
}
