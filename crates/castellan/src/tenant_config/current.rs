//! The tenant's configuration as it is now, in the folder's terms (names instead of ids),
//! with the ids and secrets that planning and applying need beside it. `export` writes its
//! `spec`; `apply` compares a folder with it.

use std::collections::{BTreeMap, BTreeSet};

use castellan_core::directory::{actions, bootstrap, rules_configs};
use castellan_core::model::{Client, Named, Role, Trigger};
use castellan_core::paging::PageRequest;
use castellan_core::store::{ActionFilter, ClientGrantFilter};

use super::spec::*;
use super::{ConfigError, Tenant};

/// How an extension permission or bound role is known: its application's type and
/// reference (an application's name or an API's identifier) and its name, lower-cased as
/// the store compares it.
pub type AppKey = (String, String, String);

#[derive(Debug, Clone, Default)]
pub struct ActionState {
    pub id: String,
    pub all_changes_deployed: bool,
    pub ever_deployed: bool,
    /// The draft's secrets in clear.
    pub secrets: BTreeMap<String, String>,
}

/// Lower-cased, as roles, groups and extension permissions are unique.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

#[derive(Debug, Default)]
pub struct Current {
    pub spec: TenantSpec,
    /// Application name to client id, and back; the bootstrap administrator is in neither.
    pub client_ids: BTreeMap<String, String>,
    pub client_names: BTreeMap<String, String>,
    pub client_secret_hashes: BTreeMap<String, Option<String>>,
    /// The bootstrap administrator's and the console's client ids: never exported, changed
    /// or deleted.
    pub reserved_clients: BTreeSet<String>,
    pub api_ids: BTreeMap<String, String>,
    /// System API identifier to its scopes: never exported, but others may refer to them.
    pub system_apis: BTreeMap<String, Vec<String>>,
    pub grant_ids: BTreeMap<(String, String), String>,
    pub connection_ids: BTreeMap<String, String>,
    /// The reserved clients enabled on each connection, kept whatever the folder says.
    pub connection_reserved_clients: BTreeMap<String, Vec<String>>,
    /// Folded role name to (id, name) for roles not bound to an application.
    pub role_ids: BTreeMap<String, (String, String)>,
    pub ext_role_ids: BTreeMap<AppKey, String>,
    pub ext_permission_ids: BTreeMap<AppKey, String>,
    /// Folded group name to (id, name).
    pub group_ids: BTreeMap<String, (String, String)>,
    pub mapping_ids: BTreeMap<String, Vec<(MappingSpec, String)>>,
    pub rule_ids: BTreeMap<String, String>,
    /// Rule name to its script, action name to its draft's code.
    pub rule_scripts: BTreeMap<String, String>,
    pub action_codes: BTreeMap<String, String>,
    pub rules_config_values: BTreeMap<String, String>,
    pub actions: BTreeMap<String, ActionState>,
    /// What the export could not say exactly (it says what it left out).
    pub notes: Vec<String>,
}

impl Current {
    /// The reference a folder uses for an application an extension record is bound to.
    pub fn app_ref(&self, application_type: &str, application_id: &str) -> String {
        match application_type {
            "client" => self
                .client_names
                .get(application_id)
                .cloned()
                .unwrap_or_else(|| application_id.to_string()),
            _ => application_id.to_string(),
        }
    }
}

fn all<T>(page: castellan_core::paging::Page<T>) -> Vec<T> {
    page.items
}

/// The bootstrap administrator and the admin console's client: each start makes sure of
/// them, so a folder neither shows nor changes them.
fn is_reserved(t: &Tenant<'_>, client: &Client) -> bool {
    t.bootstrap_client_id == Some(client.client_id.as_str())
        || client.name == bootstrap::ADMIN_CLIENT_NAME
        || client.client_id == castellan_core::login::console::CLIENT_ID
}

fn client_spec(c: &Client) -> ClientSpec {
    ClientSpec {
        name: c.name.clone(),
        description: Some(c.description.clone()),
        app_type: Some(c.app_type.name().to_string()),
        is_first_party: Some(c.is_first_party),
        grant_types: Some(c.grant_types.clone()),
        callbacks: Some(c.callbacks.clone()),
        allowed_logout_urls: Some(c.allowed_logout_urls.clone()),
        web_origins: Some(c.web_origins.clone()),
        allowed_origins: Some(c.allowed_origins.clone()),
        token_endpoint_auth_method: Some(c.token_endpoint_auth_method.name().to_string()),
        refresh_token: Some(c.refresh_token.clone().into()),
        client_metadata: Some(c.client_metadata.clone()),
        client_secret: None,
    }
}

pub async fn read(t: &Tenant<'_>) -> Result<Current, ConfigError> {
    let store = t.store;
    let mut cur = Current::default();
    let mut spec = TenantSpec::default();

    let mut clients = Vec::new();
    for c in all(store.list_clients(PageRequest::ALL).await?) {
        if is_reserved(t, &c) {
            cur.reserved_clients.insert(c.client_id.clone());
            continue;
        }
        if cur.client_ids.contains_key(&c.name) {
            return Err(ConfigError::Tenant(format!(
                "two applications are named \"{}\"; the folder names applications, so rename one",
                c.name
            )));
        }
        cur.client_ids.insert(c.name.clone(), c.client_id.clone());
        cur.client_names.insert(c.client_id.clone(), c.name.clone());
        cur.client_secret_hashes
            .insert(c.name.clone(), c.secret_hash.clone());
        clients.push(client_spec(&c));
    }
    clients.sort_by(|a, b| a.name.cmp(&b.name));
    spec.clients = Some(clients);

    let mut apis = Vec::new();
    for api in all(store.list_resource_servers(PageRequest::ALL).await?) {
        if api.is_system {
            cur.system_apis.insert(
                api.identifier.clone(),
                api.scopes.iter().map(|s| s.value.clone()).collect(),
            );
            continue;
        }
        cur.api_ids.insert(api.identifier.clone(), api.id.clone());
        apis.push(ApiSpec {
            name: Some(api.name),
            identifier: api.identifier,
            scopes: Some(
                api.scopes
                    .into_iter()
                    .map(|s| ScopeSpec {
                        value: s.value,
                        description: s.description,
                    })
                    .collect(),
            ),
            token_lifetime: Some(api.token_lifetime),
            signing_alg: Some(api.signing_alg.name().to_string()),
            enforce_policies: Some(api.enforce_policies),
            token_dialect: Some(api.token_dialect.name().to_string()),
            allow_offline_access: Some(api.allow_offline_access),
            skip_consent_for_verifiable_first_party_clients: Some(
                api.skip_consent_for_verifiable_first_party_clients,
            ),
        });
    }
    apis.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    spec.resource_servers = Some(apis);

    let mut grants = Vec::new();
    for g in all(store
        .list_client_grants(&ClientGrantFilter::default(), PageRequest::ALL)
        .await?)
    {
        let Some(name) = cur.client_names.get(&g.client_id).cloned() else {
            continue;
        };
        cur.grant_ids
            .insert((name.clone(), g.audience.clone()), g.id.clone());
        let mut scope = g.scope;
        scope.sort();
        grants.push(GrantSpec {
            client_id: name,
            audience: g.audience,
            scope: Some(scope),
        });
    }
    grants.sort_by(|a, b| (&a.client_id, &a.audience).cmp(&(&b.client_id, &b.audience)));
    spec.client_grants = Some(grants);

    let roles = all(store.list_roles(None, PageRequest::ALL).await?);
    let role_by_id: BTreeMap<String, Role> = roles
        .iter()
        .flat_map(|r| [(r.id.clone(), r.clone()), (r.guid.clone(), r.clone())])
        .collect();
    let groups = store.group_records().await?;
    let group_by_id: BTreeMap<String, String> = groups
        .iter()
        .flat_map(|g| {
            [
                (g.group.id.clone(), g.group.name.clone()),
                (g.group.guid.clone(), g.group.name.clone()),
            ]
        })
        .collect();

    let mut connections = Vec::new();
    let mut defaults = Vec::new();
    for c in all(store.list_connections(PageRequest::ALL).await?) {
        cur.connection_ids.insert(c.name.clone(), c.id.clone());
        let (reserved, named): (Vec<String>, Vec<String>) = c
            .enabled_clients
            .iter()
            .cloned()
            .partition(|id| cur.reserved_clients.contains(id));
        cur.connection_reserved_clients
            .insert(c.name.clone(), reserved);
        let mut enabled: Vec<String> = named
            .iter()
            .filter_map(|id| cur.client_names.get(id).cloned())
            .collect();
        enabled.sort();
        if let Some(d) = &c.default_assignments {
            defaults.push(DefaultsSpec {
                connection: c.name.clone(),
                roles: d
                    .roles
                    .iter()
                    .filter_map(|r| {
                        default_role_name(&mut cur.notes, &c.name, r, &roles, &role_by_id)
                    })
                    .collect(),
                groups: d
                    .groups
                    .iter()
                    .filter_map(|g| {
                        default_group_name(&mut cur.notes, &c.name, g, &group_by_id, &groups)
                    })
                    .collect(),
                on: Some(d.on.name().to_string()),
            });
        }
        connections.push(ConnectionSpec {
            name: c.name,
            strategy: Some(c.strategy),
            enabled_clients: Some(enabled),
            options: Some(c.options),
        });
    }
    connections.sort_by(|a, b| a.name.cmp(&b.name));
    defaults.sort_by(|a, b| a.connection.cmp(&b.connection));
    spec.databases = Some(connections);

    let permissions = store.list_permissions().await?;
    let permission_by_guid: BTreeMap<String, (String, String, String)> = permissions
        .iter()
        .map(|p| {
            (
                p.guid.clone(),
                (
                    p.application_type.clone(),
                    cur.app_ref(&p.application_type, &p.application_id),
                    p.name.clone(),
                ),
            )
        })
        .collect();
    let mut ext_permissions = Vec::new();
    for p in &permissions {
        let application = cur.app_ref(&p.application_type, &p.application_id);
        cur.ext_permission_ids.insert(
            (
                p.application_type.clone(),
                application.clone(),
                fold(&p.name),
            ),
            p.guid.clone(),
        );
        ext_permissions.push(ExtensionPermissionSpec {
            name: p.name.clone(),
            description: Some(p.description.clone()),
            application_type: p.application_type.clone(),
            application,
        });
    }
    ext_permissions.sort_by(|a, b| {
        (&a.application_type, &a.application, &a.name).cmp(&(
            &b.application_type,
            &b.application,
            &b.name,
        ))
    });

    let records = store.role_records().await?;
    let mut plain_roles = Vec::new();
    let mut ext_roles = Vec::new();
    for record in records {
        let role = record.role;
        let mut api_permissions: Vec<PermissionSpec> = all(store
            .list_role_permissions(&role.id, PageRequest::ALL)
            .await?)
        .into_iter()
        .map(|p| PermissionSpec {
            permission_name: p.permission_name,
            resource_server_identifier: p.resource_server_identifier,
        })
        .collect();
        api_permissions.sort();
        match (&role.application_type, &role.application_id) {
            (Some(kind), Some(app)) => {
                let application = cur.app_ref(kind, app);
                cur.ext_role_ids.insert(
                    (kind.clone(), application.clone(), fold(&role.name)),
                    role.id.clone(),
                );
                if !api_permissions.is_empty() {
                    cur.notes.push(format!(
                        "role \"{}\" of application {application} also holds API permissions, which the folder does not carry for roles bound to an application",
                        role.name
                    ));
                }
                let mut names: Vec<String> = record
                    .permissions
                    .iter()
                    .filter_map(|guid| permission_by_guid.get(guid).map(|(_, _, n)| n.clone()))
                    .collect();
                names.sort();
                ext_roles.push(ExtensionRoleSpec {
                    name: role.name.clone(),
                    description: Some(role.description.clone()),
                    application_type: kind.clone(),
                    application,
                    permissions: Some(names),
                });
            }
            _ => {
                cur.role_ids
                    .insert(fold(&role.name), (role.id.clone(), role.name.clone()));
                plain_roles.push(RoleSpec {
                    name: role.name.clone(),
                    description: Some(role.description.clone()),
                    permissions: Some(api_permissions),
                });
            }
        }
    }
    plain_roles.sort_by(|a, b| a.name.cmp(&b.name));
    ext_roles.sort_by(|a, b| {
        (&a.application_type, &a.application, &a.name).cmp(&(
            &b.application_type,
            &b.application,
            &b.name,
        ))
    });
    spec.roles = Some(plain_roles);

    let mut group_specs = Vec::new();
    for g in &groups {
        cur.group_ids.insert(
            fold(&g.group.name),
            (g.group.id.clone(), g.group.name.clone()),
        );
        let mut role_refs: Vec<RoleRef> = g
            .roles
            .iter()
            .filter_map(|guid| role_by_id.get(guid))
            .map(|r| match (&r.application_type, &r.application_id) {
                (Some(kind), Some(app)) => RoleRef::Bound {
                    name: r.name.clone(),
                    application: cur.app_ref(kind, app),
                },
                _ => RoleRef::Name(r.name.clone()),
            })
            .collect();
        role_refs.sort();
        let mut nested: Vec<String> = g
            .nested
            .iter()
            .filter_map(|id| group_by_id.get(id).cloned())
            .collect();
        nested.sort();
        let mut mappings: Vec<MappingSpec> = Vec::new();
        let mut mapping_ids = Vec::new();
        for m in &g.mappings {
            let spec = MappingSpec {
                group_name: m.group_name.clone(),
                connection_name: m.connection_name.clone(),
            };
            mapping_ids.push((spec.clone(), m.id.clone()));
            mappings.push(spec);
        }
        mappings.sort();
        cur.mapping_ids.insert(fold(&g.group.name), mapping_ids);
        group_specs.push(GroupSpec {
            name: g.group.name.clone(),
            description: Some(g.group.description.clone()),
            roles: Some(role_refs),
            nested: Some(nested),
            mappings: Some(mappings),
        });
    }
    group_specs.sort_by(|a, b| a.name.cmp(&b.name));

    let mut rules = Vec::new();
    for r in all(store.list_rules(None, PageRequest::ALL).await?) {
        cur.rule_ids.insert(r.name.clone(), r.id.clone());
        rules.push((
            RuleSpec {
                name: r.name,
                script: None,
                order: Some(r.order),
                enabled: Some(r.enabled),
                stage: Some(r.stage),
            },
            r.script,
        ));
    }
    rules.sort_by_key(|(r, _)| r.order);
    cur.rule_scripts = rules
        .iter()
        .map(|(r, script)| (r.name.clone(), script.clone()))
        .collect();
    spec.rules = Some(rules.into_iter().map(|(r, _)| r).collect());

    cur.rules_config_values = rules_configs::open_all(store, t.master)
        .await?
        .into_iter()
        .collect();
    spec.rules_configs = Some(
        cur.rules_config_values
            .keys()
            .map(|key| RulesConfigSpec {
                key: key.clone(),
                value: None,
            })
            .collect(),
    );

    let mut action_specs = Vec::new();
    let mut by_id = BTreeMap::new();
    for a in all(store
        .list_actions(&ActionFilter::default(), PageRequest::ALL)
        .await?)
    {
        let bound = store.action_triggers_bound(&a.id).await?;
        if !bound.is_empty() && !a.all_changes_deployed {
            cur.notes.push(format!(
                "action \"{}\" has changes that are not deployed: the folder holds the draft, marked deployed: false",
                a.name
            ));
        }
        let secrets = actions::open_secrets(t.master, &a)?;
        by_id.insert(a.id.clone(), a.name.clone());
        cur.action_codes.insert(a.name.clone(), a.code.clone());
        cur.actions.insert(
            a.name.clone(),
            ActionState {
                id: a.id.clone(),
                all_changes_deployed: a.all_changes_deployed,
                ever_deployed: a.deployed.is_some(),
                secrets,
            },
        );
        action_specs.push(ActionSpec {
            name: a.name.clone(),
            code: None,
            runtime: Some(a.runtime.clone()),
            dependencies: Some(Vec::new()),
            secrets: Some(
                a.secrets
                    .iter()
                    .map(|s| SecretSpec {
                        name: s.name.clone(),
                        value: None,
                    })
                    .collect(),
            ),
            supported_triggers: Some(vec![TriggerSpec {
                id: a.trigger.name().to_string(),
                version: Some(a.trigger.version().to_string()),
            }]),
            deployed: Some(a.all_changes_deployed),
        });
    }
    action_specs.sort_by(|a, b| a.name.cmp(&b.name));
    spec.actions = Some(action_specs);

    let mut triggers = BTreeMap::new();
    for trigger in Trigger::ALL {
        let bindings = store.list_action_bindings(*trigger).await?;
        triggers.insert(
            trigger.name().to_string(),
            bindings
                .into_iter()
                .filter_map(|b| {
                    let name = by_id.get(&b.action_id)?.clone();
                    Some(BindingSpec {
                        display_name: Some(b.display_name),
                        action_name: name,
                    })
                })
                .collect(),
        );
    }
    spec.triggers = Some(triggers);

    let settings = store
        .configuration()
        .await?
        .map(|c| c.settings)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| flag(&v).map(|b| (k, b)))
        .collect();
    spec.castellan = Some(CastellanSpec {
        groups: Some(group_specs),
        default_assignments: Some(defaults),
        extension: Some(ExtensionSpec {
            settings: Some(settings),
            permissions: Some(ext_permissions),
            roles: Some(ext_roles),
        }),
    });
    super::guardian::read(store, &mut spec).await?;
    cur.spec = spec;
    Ok(cur)
}

/// The extension's settings are booleans, or its `"yes"`/`"no"` in old documents.
fn flag(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) if s == "yes" || s == "true" => Some(true),
        serde_json::Value::String(s) if s == "no" || s == "false" => Some(false),
        _ => None,
    }
}

/// A default role as a name; an id becomes the role's name. Roles bound to an application
/// and roles that no longer exist cannot be named, and are left out with a note.
fn default_role_name(
    notes: &mut Vec<String>,
    connection: &str,
    reference: &str,
    roles: &[Role],
    by_id: &BTreeMap<String, Role>,
) -> Option<String> {
    let found = by_id.get(reference).cloned().or_else(|| {
        roles
            .iter()
            .find(|r| r.application_id.is_none() && fold(&r.name) == fold(reference))
            .cloned()
    });
    match found {
        Some(r) if r.application_id.is_none() => Some(r.name),
        Some(r) => {
            notes.push(format!(
                "the default assignments of connection {connection} name role \"{}\", which is bound to an application and cannot be named in the folder; it is left out",
                r.name
            ));
            None
        }
        None => {
            notes.push(format!(
                "the default assignments of connection {connection} name role \"{reference}\", which no longer exists; it is left out"
            ));
            None
        }
    }
}

fn default_group_name(
    notes: &mut Vec<String>,
    connection: &str,
    reference: &str,
    by_id: &BTreeMap<String, String>,
    groups: &[castellan_core::model::GroupRecord],
) -> Option<String> {
    let found = by_id.get(reference).cloned().or_else(|| {
        groups
            .iter()
            .find(|g| fold(&g.group.name) == fold(reference))
            .map(|g| g.group.name.clone())
    });
    if found.is_none() {
        notes.push(format!(
            "the default assignments of connection {connection} name group \"{reference}\", which no longer exists; it is left out"
        ));
    }
    found
}
