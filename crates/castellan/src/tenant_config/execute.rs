//! Running a plan's steps through the use cases the APIs use, so every change gets the same
//! validation, and recording each in the tenant log with the command line as the actor.
//! Objects are found by name: ids of objects made earlier in the same run are learnt as
//! they are made.

use std::collections::BTreeMap;

use castellan_core::directory::actions::{
    self, ActionRef, ActionUpdate, BindingInput, NewAction, SecretInput, TriggerRef,
};
use castellan_core::directory::bootstrap::AdminGuard;
use castellan_core::directory::client_grants::NewClientGrant;
use castellan_core::directory::clients::{self, ClientFields, ClientUpdate, NewClient};
use castellan_core::directory::connections::{self, ConnectionFields, DATABASE_STRATEGY};
use castellan_core::directory::extension::permissions::{self as ext_permissions, PermissionInput};
use castellan_core::directory::extension::roles::{self as ext_roles, RoleInput};
use castellan_core::directory::extension::{Editor, configuration, groups};
use castellan_core::directory::resource_servers::{self, ResourceServerFields};
use castellan_core::directory::roles::{NewRole, RoleUpdate};
use castellan_core::directory::rules::{self, NewRule, RuleUpdate};
use castellan_core::directory::{client_grants, guardian, roles, rules_configs};
use castellan_core::model::{AssignOn, DefaultAssignments, Named, Permission, Scope};
use serde_json::Value;

use super::Tenant;
use super::current::{AppKey, Current, fold};
use super::plan::{Op, Step, ext_key};
use super::spec::*;

/// Ids by the names the folder uses.
#[derive(Debug, Clone, Default)]
struct Ids {
    clients: BTreeMap<String, String>,
    grants: BTreeMap<(String, String), String>,
    connections: BTreeMap<String, String>,
    reserved_enabled: BTreeMap<String, Vec<String>>,
    roles: BTreeMap<String, String>,
    ext_roles: BTreeMap<AppKey, String>,
    ext_permissions: BTreeMap<AppKey, String>,
    groups: BTreeMap<String, String>,
    rules: BTreeMap<String, String>,
    actions: BTreeMap<String, String>,
}

pub struct Executor<'a> {
    t: &'a Tenant<'a>,
    current: &'a Current,
    ids: Ids,
}

type Outcome = Result<(), String>;

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn missing(what: &str, name: &str) -> String {
    format!("{what} \"{name}\" is not in the tenant")
}

impl<'a> Executor<'a> {
    pub fn new(t: &'a Tenant<'a>, current: &'a Current) -> Self {
        let ids = Ids {
            clients: current.client_ids.clone(),
            grants: current.grant_ids.clone(),
            connections: current.connection_ids.clone(),
            reserved_enabled: current.connection_reserved_clients.clone(),
            roles: current
                .role_ids
                .iter()
                .map(|(k, (id, _))| (k.clone(), id.clone()))
                .collect(),
            ext_roles: current.ext_role_ids.clone(),
            ext_permissions: current.ext_permission_ids.clone(),
            groups: current
                .group_ids
                .iter()
                .map(|(k, (id, _))| (k.clone(), id.clone()))
                .collect(),
            rules: current.rule_ids.clone(),
            actions: current
                .actions
                .iter()
                .map(|(k, s)| (k.clone(), s.id.clone()))
                .collect(),
        };
        Executor { t, current, ids }
    }

    fn editor(&self) -> Editor<'a> {
        Editor::cli(self.t.store, self.t.clock)
    }

    /// What keeps the configured bootstrap administrator's access, as the API keeps it.
    fn guard(&self) -> AdminGuard {
        AdminGuard::new(self.t.bootstrap_client_id, self.t.issuer)
    }

    fn id(map: &BTreeMap<String, String>, what: &str, name: &str) -> Result<String, String> {
        map.get(name).cloned().ok_or_else(|| missing(what, name))
    }

    fn client_id(&self, name: &str) -> Result<String, String> {
        Self::id(&self.ids.clients, "application", name)
    }

    /// An extension record's application: an application's name becomes its client id;
    /// anything else (an API identifier, an id Castellan does not know) is kept.
    fn application_id(&self, application_type: &str, application: &str) -> String {
        match application_type {
            "client" => self
                .ids
                .clients
                .get(application)
                .cloned()
                .unwrap_or_else(|| application.to_string()),
            _ => application.to_string(),
        }
    }

    fn role_id(&self, r: &RoleRef) -> Result<String, String> {
        match r {
            RoleRef::Name(n) => Self::id(&self.ids.roles, "role", &fold(n)),
            RoleRef::Bound { name, application } => self
                .ids
                .ext_roles
                .iter()
                .find(|((_, a, n), _)| a == application && *n == fold(name))
                .map(|(_, id)| id.clone())
                .ok_or_else(|| format!("role \"{name}\" of {application} is not in the tenant")),
        }
    }

    fn group_id(&self, name: &str) -> Result<String, String> {
        Self::id(&self.ids.groups, "group", &fold(name))
    }

    fn permission_guids(&self, role: &ExtensionRoleSpec) -> Result<Vec<String>, String> {
        role.permissions
            .iter()
            .flatten()
            .map(|p| {
                let k = ext_key(&role.application_type, &role.application, p);
                self.ids
                    .ext_permissions
                    .get(&k)
                    .cloned()
                    .ok_or_else(|| format!("extension permission \"{p}\" is not in the tenant"))
            })
            .collect()
    }

    fn current_ext_role(&self, k: &AppKey) -> Option<&ExtensionRoleSpec> {
        self.current
            .spec
            .castellan
            .as_ref()?
            .extension
            .as_ref()?
            .roles
            .as_ref()?
            .iter()
            .find(|r| ext_key(&r.application_type, &r.application, &r.name) == *k)
    }

    pub async fn run(&mut self, step: &Step) -> Outcome {
        let t = self.t;
        match &step.op {
            Op::CreateApi(a) => {
                resource_servers::create(&self.editor(), api_fields(a, true))
                    .await
                    .map_err(text)?;
            }
            Op::UpdateApi(a) => {
                resource_servers::update(&self.editor(), &a.identifier, api_fields(a, false))
                    .await
                    .map_err(text)?;
            }
            Op::DeleteApi(identifier) => {
                resource_servers::delete(&self.editor(), identifier)
                    .await
                    .map_err(text)?;
            }
            Op::CreateClient(c) => {
                let input = NewClient {
                    client_id: None,
                    fields: client_fields(c, true),
                    secret: c.client_secret.clone(),
                };
                let made = clients::create(&self.editor(), input).await.map_err(text)?;
                self.ids
                    .clients
                    .insert(c.name.clone(), made.client.client_id);
            }
            Op::UpdateClient(c) => {
                let id = self.client_id(&c.name)?;
                let input = ClientUpdate {
                    fields: client_fields(c, false),
                    secret: c.client_secret.clone(),
                };
                clients::update(&self.editor(), &id, input, &self.guard())
                    .await
                    .map_err(text)?;
            }
            Op::DeleteClient(name) => {
                let id = self.client_id(name)?;
                clients::delete(&self.editor(), &id, &self.guard())
                    .await
                    .map_err(text)?;
            }
            Op::CreateGrant(g) => {
                let input = NewClientGrant {
                    client_id: self.client_id(&g.client_id)?,
                    audience: g.audience.clone(),
                    scope: g.scope.clone().unwrap_or_default(),
                };
                let grant = client_grants::create(&self.editor(), t.issuer, input)
                    .await
                    .map_err(text)?;
                self.ids
                    .grants
                    .insert((g.client_id.clone(), g.audience.clone()), grant.id);
            }
            Op::UpdateGrant(g) => {
                let id = self.grant_id(&g.client_id, &g.audience)?;
                let scope = g.scope.clone().unwrap_or_default();
                client_grants::update_scope(&self.editor(), t.issuer, &id, scope, &self.guard())
                    .await
                    .map_err(text)?;
            }
            Op::DeleteGrant(client, audience) => {
                let id = self.grant_id(client, audience)?;
                client_grants::delete(&self.editor(), &id, &self.guard())
                    .await
                    .map_err(text)?;
            }
            Op::CreateRole(r) => {
                let input = NewRole {
                    name: r.name.clone(),
                    description: r.description.clone(),
                };
                let role = roles::create(&self.editor(), input).await.map_err(text)?;
                self.ids.roles.insert(fold(&r.name), role.id.clone());
            }
            Op::UpdateRole(r) => {
                let id = Self::id(&self.ids.roles, "role", &fold(&r.name))?;
                let update = RoleUpdate {
                    name: Some(r.name.clone()),
                    description: r.description.clone(),
                };
                roles::update(&self.editor(), &id, update)
                    .await
                    .map_err(text)?;
            }
            Op::RolePermissions { role, add, remove } => {
                let id = Self::id(&self.ids.roles, "role", &fold(role))?;
                if !add.is_empty() {
                    roles::add_permissions(&self.editor(), &id, &permissions(add))
                        .await
                        .map_err(text)?;
                }
                if !remove.is_empty() {
                    roles::remove_permissions(&self.editor(), &id, &permissions(remove))
                        .await
                        .map_err(text)?;
                }
            }
            Op::DeleteRole(name) => {
                let id = Self::id(&self.ids.roles, "role", &fold(name))?;
                roles::delete(&self.editor(), &id).await.map_err(text)?;
            }
            Op::CreateExtPermission(p) => {
                let made = ext_permissions::create(&self.editor(), self.permission_input(p, None))
                    .await
                    .map_err(text)?;
                self.ids.ext_permissions.insert(
                    ext_key(&p.application_type, &p.application, &p.name),
                    made.guid,
                );
            }
            Op::UpdateExtPermission(p) => {
                let k = ext_key(&p.application_type, &p.application, &p.name);
                let guid = self.ext_permission(&k)?;
                let current = self
                    .current
                    .spec
                    .castellan
                    .iter()
                    .flat_map(|c| c.extension.iter())
                    .flat_map(|e| e.permissions.iter().flatten())
                    .find(|c| ext_key(&c.application_type, &c.application, &c.name) == k)
                    .and_then(|c| c.description.clone());
                ext_permissions::update(&self.editor(), &guid, self.permission_input(p, current))
                    .await
                    .map_err(text)?;
            }
            Op::DeleteExtPermission(k) => {
                let guid = self.ext_permission(k)?;
                ext_permissions::delete(&self.editor(), &guid)
                    .await
                    .map_err(text)?;
            }
            Op::CreateExtRole(r) => {
                let input = RoleInput {
                    name: r.name.clone(),
                    description: r.description.clone().unwrap_or_default(),
                    application_type: r.application_type.clone(),
                    application_id: self.application_id(&r.application_type, &r.application),
                    permissions: self.permission_guids(r)?,
                };
                let made = ext_roles::create(&self.editor(), input)
                    .await
                    .map_err(text)?;
                self.ids.ext_roles.insert(
                    ext_key(&r.application_type, &r.application, &r.name),
                    made.role.id,
                );
            }
            Op::UpdateExtRole(r) => {
                let k = ext_key(&r.application_type, &r.application, &r.name);
                let id = self
                    .ids
                    .ext_roles
                    .get(&k)
                    .cloned()
                    .ok_or_else(|| missing("role", &r.name))?;
                let current = self.current_ext_role(&k).cloned().unwrap_or_default();
                let merged = ExtensionRoleSpec {
                    description: r.description.clone().or(current.description),
                    permissions: r.permissions.clone().or(current.permissions),
                    ..r.clone()
                };
                let input = RoleInput {
                    name: merged.name.clone(),
                    description: merged.description.clone().unwrap_or_default(),
                    application_type: merged.application_type.clone(),
                    application_id: self
                        .application_id(&merged.application_type, &merged.application),
                    permissions: self.permission_guids(&merged)?,
                };
                ext_roles::update(&self.editor(), &id, input)
                    .await
                    .map_err(text)?;
            }
            Op::DeleteExtRole(k) => {
                let id = self
                    .ids
                    .ext_roles
                    .get(k)
                    .cloned()
                    .ok_or_else(|| missing("role", &k.2))?;
                ext_roles::delete(&self.editor(), &id).await.map_err(text)?;
            }
            Op::CreateGroup(g) => {
                let made = groups::create(
                    &self.editor(),
                    &g.name,
                    g.description.as_deref().unwrap_or_default(),
                )
                .await
                .map_err(text)?;
                self.ids.groups.insert(fold(&g.name), made.id);
            }
            Op::UpdateGroup(g) => {
                let id = self.group_id(&g.name)?;
                let description = match &g.description {
                    Some(d) => d.clone(),
                    None => groups::find(t.store, &id).await.map_err(text)?.description,
                };
                groups::update(&self.editor(), &id, &g.name, &description)
                    .await
                    .map_err(text)?;
            }
            Op::GroupRoles { group, add, remove } => {
                let id = self.group_id(group)?;
                if !add.is_empty() {
                    let ids = add
                        .iter()
                        .map(|r| self.role_id(r))
                        .collect::<Result<Vec<_>, _>>()?;
                    groups::add_roles(&self.editor(), &id, &ids)
                        .await
                        .map_err(text)?;
                }
                if !remove.is_empty() {
                    let ids = remove
                        .iter()
                        .map(|r| self.role_id(r))
                        .collect::<Result<Vec<_>, _>>()?;
                    groups::remove_roles(&self.editor(), &id, &ids)
                        .await
                        .map_err(text)?;
                }
            }
            Op::GroupNested { group, add, remove } => {
                let id = self.group_id(group)?;
                if !add.is_empty() {
                    let ids = add
                        .iter()
                        .map(|g| self.group_id(g))
                        .collect::<Result<Vec<_>, _>>()?;
                    groups::add_nested(&self.editor(), &id, &ids)
                        .await
                        .map_err(text)?;
                }
                if !remove.is_empty() {
                    let ids = remove
                        .iter()
                        .map(|g| self.group_id(g))
                        .collect::<Result<Vec<_>, _>>()?;
                    groups::remove_nested(&self.editor(), &id, &ids)
                        .await
                        .map_err(text)?;
                }
            }
            Op::GroupMappings { group, add, remove } => {
                let id = self.group_id(group)?;
                if !add.is_empty() {
                    let entries: Vec<(String, String)> = add
                        .iter()
                        .map(|m| (m.group_name.clone(), m.connection_name.clone()))
                        .collect();
                    groups::add_mappings(&self.editor(), &id, &entries)
                        .await
                        .map_err(text)?;
                }
                if !remove.is_empty() {
                    let ids: Vec<String> = remove.iter().map(|(_, id)| id.clone()).collect();
                    groups::remove_mappings(&self.editor(), &id, &ids)
                        .await
                        .map_err(text)?;
                }
            }
            Op::DeleteGroup(name) => {
                let id = self.group_id(name)?;
                groups::delete(&self.editor(), &id).await.map_err(text)?;
            }
            Op::CreateConnection(c) => {
                let fields = ConnectionFields {
                    name: Some(c.name.clone()),
                    strategy: Some(
                        c.strategy
                            .clone()
                            .unwrap_or_else(|| DATABASE_STRATEGY.into()),
                    ),
                    options: c.options.clone(),
                    enabled_clients: self.enabled_clients(c)?,
                    default_assignments: None,
                };
                let made = connections::create(&self.editor(), fields)
                    .await
                    .map_err(text)?;
                self.ids.connections.insert(c.name.clone(), made.id);
            }
            Op::UpdateConnection(c) => {
                let id = Self::id(&self.ids.connections, "connection", &c.name)?;
                let fields = ConnectionFields {
                    options: c.options.clone(),
                    enabled_clients: self.enabled_clients(c)?,
                    ..Default::default()
                };
                connections::update(&self.editor(), &id, fields)
                    .await
                    .map_err(text)?;
            }
            Op::DeleteConnection(name) => {
                let id = Self::id(&self.ids.connections, "connection", name)?;
                connections::delete(&self.editor(), &id)
                    .await
                    .map_err(text)?;
            }
            Op::SetDefaults(connection, defaults) => {
                let id = Self::id(&self.ids.connections, "connection", connection)?;
                let value = match defaults {
                    Some(d) => Some(DefaultAssignments {
                        roles: d.roles.clone(),
                        groups: d.groups.clone(),
                        on: match d.on.as_deref() {
                            Some(on) => AssignOn::parse(on).ok_or_else(|| {
                                format!("on must be one of: {}", AssignOn::expected())
                            })?,
                            None => AssignOn::default(),
                        },
                    }),
                    None => None,
                };
                let fields = ConnectionFields {
                    default_assignments: Some(value),
                    ..Default::default()
                };
                connections::update(&self.editor(), &id, fields)
                    .await
                    .map_err(text)?;
            }
            Op::MoveRule(name, order) => {
                let id = Self::id(&self.ids.rules, "rule", name)?;
                let update = RuleUpdate {
                    order: Some(*order),
                    ..Default::default()
                };
                rules::update(&self.editor(), t.scripts, &id, update)
                    .await
                    .map_err(text)?;
            }
            Op::CreateRule(r, script) => {
                let input = NewRule {
                    name: r.name.clone(),
                    script: script.clone(),
                    order: r.order,
                    enabled: r.enabled,
                };
                let rule = rules::create(&self.editor(), t.scripts, input)
                    .await
                    .map_err(text)?;
                self.ids.rules.insert(rule.name.clone(), rule.id.clone());
            }
            Op::UpdateRule(r, script) => {
                let id = Self::id(&self.ids.rules, "rule", &r.name)?;
                let update = RuleUpdate {
                    name: None,
                    script: script.clone(),
                    order: r.order,
                    enabled: r.enabled,
                };
                rules::update(&self.editor(), t.scripts, &id, update)
                    .await
                    .map_err(text)?;
            }
            Op::DeleteRule(name) => {
                let id = Self::id(&self.ids.rules, "rule", name)?;
                rules::delete(&self.editor(), &id).await.map_err(text)?;
            }
            Op::SetRulesConfig(k, v) => {
                rules_configs::set(&self.editor(), t.master, k, v)
                    .await
                    .map_err(text)?;
            }
            Op::DeleteRulesConfig(k) => {
                rules_configs::delete(&self.editor(), k)
                    .await
                    .map_err(text)?;
            }
            Op::CreateAction(a, code) => {
                let update = action_update(a);
                let input = NewAction {
                    name: a.name.clone(),
                    supported_triggers: update
                        .supported_triggers
                        .ok_or("supported_triggers is required")?,
                    code: code.clone(),
                    runtime: update.runtime,
                    dependencies: update.dependencies,
                    secrets: update.secrets.unwrap_or_default(),
                };
                let action = actions::create(&self.editor(), t.master, t.scripts, input)
                    .await
                    .map_err(text)?;
                self.ids
                    .actions
                    .insert(action.name.clone(), action.id.clone());
            }
            Op::UpdateAction(a, code) => {
                let id = Self::id(&self.ids.actions, "action", &a.name)?;
                let mut update = action_update(a);
                update.code = code.clone();
                actions::update(&self.editor(), t.master, t.scripts, &id, update)
                    .await
                    .map_err(text)?;
            }
            Op::DeployAction(name) => {
                let id = Self::id(&self.ids.actions, "action", name)?;
                actions::deploy(&self.editor(), &id).await.map_err(text)?;
            }
            Op::DeleteAction(name) => {
                let id = Self::id(&self.ids.actions, "action", name)?;
                actions::delete(&self.editor(), &id, false)
                    .await
                    .map_err(text)?;
            }
            Op::ReplaceBindings(trigger, list) => {
                let wanted = list
                    .iter()
                    .map(|b| BindingInput {
                        action: ActionRef::Name(b.action_name.clone()),
                        display_name: b.display_name.clone(),
                    })
                    .collect();
                actions::replace_bindings(&self.editor(), *trigger, wanted)
                    .await
                    .map_err(text)?;
            }
            Op::UpdateSettings(settings) => {
                let patch = settings
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Bool(*v)))
                    .collect();
                configuration::update_settings(&self.editor(), &patch)
                    .await
                    .map_err(text)?;
            }
            Op::SetGuardianFactor(name, enabled) => {
                guardian::set_factor(&self.editor(), name, *enabled)
                    .await
                    .map_err(text)?;
            }
            Op::SetGuardianPolicies(policies) => {
                guardian::set_policies(&self.editor(), policies)
                    .await
                    .map_err(text)?;
            }
        }
        Ok(())
    }

    fn grant_id(&self, client: &str, audience: &str) -> Result<String, String> {
        self.ids
            .grants
            .get(&(client.to_string(), audience.to_string()))
            .cloned()
            .ok_or_else(|| format!("the grant of \"{client}\" to {audience} is not in the tenant"))
    }

    fn ext_permission(&self, k: &AppKey) -> Result<String, String> {
        self.ids.ext_permissions.get(k).cloned().ok_or_else(|| {
            format!(
                "extension permission \"{}\" of {} is not in the tenant",
                k.2, k.1
            )
        })
    }

    fn permission_input(
        &self,
        p: &ExtensionPermissionSpec,
        current: Option<String>,
    ) -> PermissionInput {
        PermissionInput {
            name: p.name.clone(),
            description: p.description.clone().or(current).unwrap_or_default(),
            application_type: p.application_type.clone(),
            application_id: self.application_id(&p.application_type, &p.application),
        }
    }

    /// The folder's applications, plus the bootstrap administrator where it is enabled.
    fn enabled_clients(&self, c: &ConnectionSpec) -> Result<Option<Vec<String>>, String> {
        let Some(names) = &c.enabled_clients else {
            return Ok(None);
        };
        let mut ids = names
            .iter()
            .map(|n| self.client_id(n))
            .collect::<Result<Vec<_>, _>>()?;
        ids.extend(
            self.ids
                .reserved_enabled
                .get(&c.name)
                .cloned()
                .unwrap_or_default(),
        );
        ids.sort();
        ids.dedup();
        Ok(Some(ids))
    }
}

fn api_fields(a: &ApiSpec, create: bool) -> ResourceServerFields {
    ResourceServerFields {
        name: a.name.clone(),
        identifier: create.then(|| a.identifier.clone()),
        scopes: a.scopes.as_ref().map(|s| {
            s.iter()
                .map(|s| Scope {
                    value: s.value.clone(),
                    description: s.description.clone(),
                })
                .collect()
        }),
        token_lifetime: a.token_lifetime,
        signing_alg: a.signing_alg.clone(),
        enforce_policies: a.enforce_policies,
        token_dialect: a.token_dialect.clone(),
        allow_offline_access: a.allow_offline_access,
        skip_consent_for_verifiable_first_party_clients: a
            .skip_consent_for_verifiable_first_party_clients,
    }
}

fn client_fields(c: &ClientSpec, create: bool) -> ClientFields {
    ClientFields {
        name: create.then(|| c.name.clone()),
        description: c.description.clone(),
        app_type: c.app_type.clone(),
        is_first_party: c.is_first_party,
        grant_types: c.grant_types.clone(),
        callbacks: c.callbacks.clone(),
        allowed_logout_urls: c.allowed_logout_urls.clone(),
        web_origins: c.web_origins.clone(),
        allowed_origins: c.allowed_origins.clone(),
        token_endpoint_auth_method: c.token_endpoint_auth_method.clone(),
        refresh_token: c.refresh_token.clone(),
        client_metadata: c.client_metadata.clone(),
    }
}

fn permissions(p: &[PermissionSpec]) -> Vec<Permission> {
    p.iter()
        .map(|p| Permission {
            resource_server_identifier: p.resource_server_identifier.clone(),
            permission_name: p.permission_name.clone(),
        })
        .collect()
}

fn action_update(a: &ActionSpec) -> ActionUpdate {
    ActionUpdate {
        name: None,
        supported_triggers: a.supported_triggers.as_ref().map(|t| {
            t.iter()
                .map(|t| TriggerRef {
                    id: t.id.clone(),
                    version: t.version.clone(),
                })
                .collect()
        }),
        code: None,
        runtime: a.runtime.clone(),
        dependencies: a.dependencies.as_ref().map(|d| {
            d.iter()
                .map(|d| format!("{}@{}", d.name, d.version))
                .collect()
        }),
        secrets: a.secrets.as_ref().map(|s| {
            s.iter()
                .map(|s| SecretInput {
                    name: s.name.clone(),
                    value: s.value.clone(),
                })
                .collect()
        }),
    }
}
