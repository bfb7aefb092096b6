//! What a folder must satisfy before anything is planned: each object named once, every
//! name it refers to known (in the folder or in the tenant), code for every new rule and
//! action, and values for secrets the tenant does not hold yet. Every problem names its
//! place in the file; all of them are reported at once. Values themselves are checked by
//! the use cases, when the plan is rehearsed.

use std::collections::{BTreeMap, BTreeSet};

use castellan_core::directory::extension::configuration::SETTINGS;
use castellan_core::model::{AssignOn, Named, Trigger};

use super::Problem;
use super::current::{Current, fold};
use super::plan::Planner;
use super::read::{Folder, key};
use super::spec::*;
use super::yaml::Seg;

struct Checker<'a> {
    folder: &'a Folder,
    delete_missing: bool,
    management_audiences: &'a [String],
    problems: Vec<Problem>,
}

fn at(kind: &[&str], i: usize, field: &str) -> Vec<Seg> {
    let mut p: Vec<Seg> = kind.iter().map(|k| key(k)).collect();
    p.push(Seg::Index(i));
    if !field.is_empty() {
        p.push(key(field));
    }
    p
}

impl Checker<'_> {
    fn report(&mut self, path: Vec<Seg>, message: String) {
        self.problems.push(self.folder.problem(&path, message));
    }

    /// The names of one kind once the plan has run.
    fn after(
        &self,
        desired: Option<Vec<String>>,
        current: impl Iterator<Item = String>,
    ) -> BTreeSet<String> {
        match desired {
            Some(d) if self.delete_missing => d.into_iter().collect(),
            Some(d) => d.into_iter().chain(current).collect(),
            None => current.collect(),
        }
    }

    /// Refuses a second object with the same identity.
    fn unique(&mut self, kind: &[&str], ids: Vec<String>, what: &str) {
        let mut seen = BTreeMap::new();
        for (i, id) in ids.into_iter().enumerate() {
            if let Some(first) = seen.insert(id.clone(), i) {
                self.report(
                    at(kind, i, ""),
                    format!(
                        "{what} \"{id}\" is also at {}[{first}]; name each once",
                        kind.join(".")
                    ),
                );
            }
        }
    }

    fn audience(&self, a: &str) -> String {
        if self.management_audiences[1..].iter().any(|x| x == a) {
            self.management_audiences[0].clone()
        } else {
            a.to_string()
        }
    }
}

pub fn check(
    folder: &Folder,
    current: &Current,
    delete_missing: bool,
    management_audiences: &[String],
) -> Vec<Problem> {
    let mut c = Checker {
        folder,
        delete_missing,
        management_audiences,
        problems: Vec::new(),
    };
    let spec = &folder.spec;
    let castellan = spec.castellan.clone().unwrap_or_default();
    let extension = castellan.extension.clone().unwrap_or_default();

    // Applications.
    let clients = spec.clients.clone();
    if let Some(list) = &clients {
        c.unique(
            &["clients"],
            list.iter().map(|x| x.name.clone()).collect(),
            "application",
        );
        for (i, client) in list.iter().enumerate() {
            if client.name == castellan_core::directory::bootstrap::ADMIN_CLIENT_NAME {
                c.report(
                    at(&["clients"], i, "name"),
                    "this name is the bootstrap administrator's, which the folder does not manage"
                        .into(),
                );
            }
        }
    }
    let client_names = c.after(
        clients.map(|l| l.into_iter().map(|x| x.name).collect()),
        current.client_ids.keys().cloned(),
    );

    // APIs and the scopes each will define.
    let mut scopes: BTreeMap<String, Vec<String>> = current.system_apis.clone();
    let current_apis = current.spec.resource_servers.clone().unwrap_or_default();
    let desired_apis = spec.resource_servers.clone();
    if let Some(list) = &desired_apis {
        c.unique(
            &["resourceServers"],
            list.iter().map(|x| x.identifier.clone()).collect(),
            "API",
        );
    }
    let keep_current = desired_apis.is_none() || !delete_missing;
    if keep_current {
        for api in &current_apis {
            scopes.insert(
                api.identifier.clone(),
                api.scopes
                    .iter()
                    .flatten()
                    .map(|s| s.value.clone())
                    .collect(),
            );
        }
    }
    for api in desired_apis.iter().flatten() {
        if current.system_apis.contains_key(&api.identifier) {
            continue;
        }
        let defined = match &api.scopes {
            Some(s) => s.iter().map(|s| s.value.clone()).collect(),
            None => current_apis
                .iter()
                .find(|a| a.identifier == api.identifier)
                .and_then(|a| a.scopes.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.value)
                .collect(),
        };
        scopes.insert(api.identifier.clone(), defined);
    }
    let check_scope = |c: &mut Checker, path: Vec<Seg>, api: &str, scope: &str| {
        let api = c.audience(api);
        match scopes.get(&api) {
            None => c.report(path, format!("there is no API with the identifier {api}")),
            Some(defined) if !defined.iter().any(|s| s == scope) => {
                c.report(path, format!("\"{scope}\" is not a scope of the API {api}"))
            }
            Some(_) => {}
        }
    };

    // Grants.
    if let Some(list) = &spec.client_grants {
        c.unique(
            &["clientGrants"],
            list.iter()
                .map(|g| format!("{} / {}", g.client_id, c.audience(&g.audience)))
                .collect(),
            "grant",
        );
        for (i, g) in list.iter().enumerate() {
            if !client_names.contains(&g.client_id) {
                c.report(
                    at(&["clientGrants"], i, "client_id"),
                    format!("there is no application named \"{}\"", g.client_id),
                );
            }
            let audience = c.audience(&g.audience);
            if !scopes.contains_key(&audience) {
                c.report(
                    at(&["clientGrants"], i, "audience"),
                    format!("there is no API with the identifier {audience}"),
                );
                continue;
            }
            for (j, s) in g.scope.iter().flatten().enumerate() {
                let mut path = at(&["clientGrants"], i, "scope");
                path.push(Seg::Index(j));
                check_scope(&mut c, path, &audience, s);
            }
        }
    }

    // Connections.
    let entries = Planner::connection_entries(folder);
    let mut seen = BTreeMap::new();
    for (path, conn) in &entries {
        if seen.insert(conn.name.clone(), ()).is_some() {
            c.report(
                path.clone(),
                format!("connection {} is named twice", conn.name),
            );
        }
        if let Some(strategy) = conn.strategy.as_deref().filter(|s| *s != "auth0") {
            c.report(
                [path.clone(), vec![key("strategy")]].concat(),
                format!("strategy \"{strategy}\" is not supported: Castellan has database connections (auth0) only"),
            );
        }
        for (j, name) in conn.enabled_clients.iter().flatten().enumerate() {
            if !client_names.contains(name) {
                c.report(
                    [path.clone(), vec![key("enabled_clients"), Seg::Index(j)]].concat(),
                    format!("there is no application named \"{name}\""),
                );
            }
        }
    }
    let connection_names = c.after(
        (spec.databases.is_some() || spec.connections.is_some())
            .then(|| entries.iter().map(|(_, x)| x.name.clone()).collect()),
        current.connection_ids.keys().cloned(),
    );

    // Roles.
    if let Some(list) = &spec.roles {
        c.unique(
            &["roles"],
            list.iter().map(|r| fold(&r.name)).collect(),
            "role",
        );
        for (i, role) in list.iter().enumerate() {
            for (j, p) in role.permissions.iter().flatten().enumerate() {
                let mut path = at(&["roles"], i, "permissions");
                path.push(Seg::Index(j));
                check_scope(
                    &mut c,
                    path,
                    &p.resource_server_identifier,
                    &p.permission_name,
                );
            }
        }
    }
    let role_names = c.after(
        spec.roles
            .as_ref()
            .map(|l| l.iter().map(|r| fold(&r.name)).collect()),
        current.role_ids.keys().cloned(),
    );

    // The extension's permissions and roles.
    let ext_kind = ["castellan", "authorizationExtension"];
    let perm_kind = ["castellan", "authorizationExtension", "permissions"];
    let role_kind = ["castellan", "authorizationExtension", "roles"];
    let key_of = |t: &str, a: &str, n: &str| format!("{t}:{a}:{}", fold(n));
    if let Some(list) = &extension.permissions {
        c.unique(
            &perm_kind,
            list.iter()
                .map(|p| key_of(&p.application_type, &p.application, &p.name))
                .collect(),
            "extension permission",
        );
    }
    let ext_permissions = c.after(
        extension.permissions.as_ref().map(|l| {
            l.iter()
                .map(|p| key_of(&p.application_type, &p.application, &p.name))
                .collect()
        }),
        current
            .ext_permission_ids
            .keys()
            .map(|(t, a, n)| key_of(t, a, n)),
    );
    if let Some(list) = &extension.roles {
        c.unique(
            &role_kind,
            list.iter()
                .map(|r| key_of(&r.application_type, &r.application, &r.name))
                .collect(),
            "role",
        );
        for (i, role) in list.iter().enumerate() {
            for (j, p) in role.permissions.iter().flatten().enumerate() {
                if !ext_permissions.contains(&key_of(&role.application_type, &role.application, p))
                {
                    let mut path = at(&role_kind, i, "permissions");
                    path.push(Seg::Index(j));
                    c.report(
                        path,
                        format!(
                            "there is no extension permission \"{p}\" of {}",
                            role.application
                        ),
                    );
                }
            }
        }
    }
    let ext_roles: BTreeSet<(String, String)> = c
        .after(
            extension.roles.as_ref().map(|l| {
                l.iter()
                    .map(|r| format!("{}\u{0}{}", r.application, fold(&r.name)))
                    .collect()
            }),
            current
                .ext_role_ids
                .keys()
                .map(|(_, a, n)| format!("{a}\u{0}{n}")),
        )
        .into_iter()
        .filter_map(|k| {
            k.split_once('\u{0}')
                .map(|(a, n)| (a.to_string(), n.to_string()))
        })
        .collect();
    if let Some(settings) = &extension.settings {
        for name in settings.keys() {
            if !SETTINGS.contains(&name.as_str()) {
                c.report(
                    [
                        ext_kind.iter().map(|k| key(k)).collect(),
                        vec![key("settings"), key(name)],
                    ]
                    .concat(),
                    format!(
                        "\"{name}\" is not a setting of the extension; known: {}",
                        SETTINGS.join(", ")
                    ),
                );
            }
        }
    }

    // Groups.
    let groups = castellan.groups.clone();
    let group_kind = ["castellan", "groups"];
    if let Some(list) = &groups {
        c.unique(
            &group_kind,
            list.iter().map(|g| fold(&g.name)).collect(),
            "group",
        );
    }
    let group_names = c.after(
        groups
            .as_ref()
            .map(|l| l.iter().map(|g| fold(&g.name)).collect()),
        current.group_ids.keys().cloned(),
    );
    for (i, g) in groups.iter().flatten().enumerate() {
        for (j, r) in g.roles.iter().flatten().enumerate() {
            let mut path = at(&group_kind, i, "roles");
            path.push(Seg::Index(j));
            let known = match r {
                RoleRef::Name(n) => role_names.contains(&fold(n)),
                RoleRef::Bound { name, application } => {
                    ext_roles.contains(&(application.clone(), fold(name)))
                }
            };
            if !known {
                let shown = match r {
                    RoleRef::Name(n) => format!("\"{n}\""),
                    RoleRef::Bound { name, application } => format!("\"{name}\" of {application}"),
                };
                c.report(path, format!("there is no role {shown}"));
            }
        }
        for (j, n) in g.nested.iter().flatten().enumerate() {
            if !group_names.contains(&fold(n)) {
                let mut path = at(&group_kind, i, "nested");
                path.push(Seg::Index(j));
                c.report(path, format!("there is no group named \"{n}\""));
            }
        }
    }

    // Default assignments.
    let defaults_kind = ["castellan", "defaultAssignments"];
    if let Some(list) = &castellan.default_assignments {
        c.unique(
            &defaults_kind,
            list.iter().map(|d| d.connection.clone()).collect(),
            "default assignments of connection",
        );
        for (i, d) in list.iter().enumerate() {
            if !connection_names.contains(&d.connection) {
                c.report(
                    at(&defaults_kind, i, "connection"),
                    format!("there is no connection named {}", d.connection),
                );
            }
            for (j, r) in d.roles.iter().enumerate() {
                if !role_names.contains(&fold(r)) {
                    let mut path = at(&defaults_kind, i, "roles");
                    path.push(Seg::Index(j));
                    c.report(path, format!("there is no role named \"{r}\""));
                }
            }
            for (j, g) in d.groups.iter().enumerate() {
                if !group_names.contains(&fold(g)) {
                    let mut path = at(&defaults_kind, i, "groups");
                    path.push(Seg::Index(j));
                    c.report(path, format!("there is no group named \"{g}\""));
                }
            }
            if let Some(on) = d.on.as_deref().filter(|on| AssignOn::parse(on).is_none()) {
                c.report(
                    at(&defaults_kind, i, "on"),
                    format!("on must be one of: {} (got \"{on}\")", AssignOn::expected()),
                );
            }
        }
    }

    // Rules.
    if let Some(list) = &spec.rules {
        c.unique(
            &["rules"],
            list.iter().map(|r| r.name.clone()).collect(),
            "rule",
        );
        let names: BTreeSet<&str> = list.iter().map(|r| r.name.as_str()).collect();
        let mut orders: BTreeMap<i64, &str> = BTreeMap::new();
        if !delete_missing {
            for r in current.spec.rules.iter().flatten() {
                if !names.contains(r.name.as_str())
                    && let Some(o) = r.order
                {
                    orders.insert(o, &r.name);
                }
            }
        }
        for (i, r) in list.iter().enumerate() {
            if !current.rule_ids.contains_key(&r.name) && r.script.is_none() {
                c.report(
                    at(&["rules"], i, ""),
                    format!("rule \"{}\" is new and needs a script", r.name),
                );
            }
            if let Some(stage) = r.stage.as_deref().filter(|s| *s != "login_success") {
                c.report(
                    at(&["rules"], i, "stage"),
                    format!("stage must be login_success, not \"{stage}\""),
                );
            }
            if let Some(order) = r.order
                && let Some(other) = orders.insert(order, &r.name)
            {
                c.report(
                    at(&["rules"], i, "order"),
                    format!("order {order} is also rule \"{other}\"'s"),
                );
            }
        }
    }

    // Rules configuration.
    if let Some(list) = &spec.rules_configs {
        c.unique(
            &["rulesConfigs"],
            list.iter().map(|r| r.key.clone()).collect(),
            "key",
        );
        for (i, r) in list.iter().enumerate() {
            if r.value.is_none() && !current.rules_config_values.contains_key(&r.key) {
                c.report(
                    at(&["rulesConfigs"], i, ""),
                    format!(
                        "key {} holds no value yet: give one (for instance value: \"##{}##\" to take it from the environment)",
                        r.key,
                        r.key.replace(|ch: char| !ch.is_ascii_alphanumeric(), "_").to_uppercase()
                    ),
                );
            }
        }
    }

    // Actions and their bindings.
    let mut deployed_after: BTreeMap<String, bool> = BTreeMap::new();
    if !(spec.actions.is_some() && delete_missing) {
        for (name, state) in &current.actions {
            deployed_after.insert(name.clone(), state.ever_deployed);
        }
    }
    if let Some(list) = &spec.actions {
        c.unique(
            &["actions"],
            list.iter().map(|a| a.name.clone()).collect(),
            "action",
        );
        for (i, a) in list.iter().enumerate() {
            let state = current.actions.get(&a.name);
            if state.is_none() && a.code.is_none() {
                c.report(
                    at(&["actions"], i, ""),
                    format!("action \"{}\" is new and needs code", a.name),
                );
            }
            for (j, s) in a.secrets.iter().flatten().enumerate() {
                let held = state.is_some_and(|st| st.secrets.contains_key(&s.name));
                if s.value.is_none() && !held {
                    let mut path = at(&["actions"], i, "secrets");
                    path.push(Seg::Index(j));
                    c.report(
                        path,
                        format!(
                            "secret {} of action \"{}\" holds no value yet: give one",
                            s.name, a.name
                        ),
                    );
                }
            }
            let ever = state.is_some_and(|st| st.ever_deployed);
            deployed_after.insert(a.name.clone(), ever || a.deployed == Some(true));
        }
    }
    if let Some(triggers) = &spec.triggers {
        for (id, bindings) in triggers {
            let path = vec![key("triggers"), key(id)];
            if Trigger::parse(id).is_none() {
                if !bindings.is_empty() {
                    c.report(
                        path,
                        format!(
                            "trigger {id} is not supported; use one of: {}",
                            Trigger::expected()
                        ),
                    );
                }
                continue;
            }
            for (j, b) in bindings.iter().enumerate() {
                let mut path = path.clone();
                path.push(Seg::Index(j));
                match deployed_after.get(&b.action_name) {
                    None => c.report(path, format!("there is no action named \"{}\"", b.action_name)),
                    Some(false) => c.report(
                        path,
                        format!(
                            "action \"{}\" would never have been deployed; set deployed: true on it",
                            b.action_name
                        ),
                    ),
                    Some(true) => {}
                }
            }
        }
    }
    super::guardian::check(folder, &mut c.problems);
    c.problems
}
