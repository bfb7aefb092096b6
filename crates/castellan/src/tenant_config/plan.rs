//! The plan: what `apply` changes to make the tenant match a folder, in the order it runs
//! (what others refer to first, deletions last), each step with the place in the file it
//! comes from. Fields a file leaves out are not compared; objects a file leaves out are
//! deleted only with `--delete-missing`, and only for the kinds the file has.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use castellan_core::directory::clients::RefreshTokenInput;
use castellan_core::model::{Named, Trigger};
use castellan_core::secrets::verify_client_secret;

use super::current::{AppKey, Current, fold};
use super::read::{Folder, key};
use super::spec::*;
use super::yaml::Seg;

/// One change, with what running it needs.
#[derive(Debug, Clone)]
pub enum Op {
    CreateApi(ApiSpec),
    UpdateApi(ApiSpec),
    DeleteApi(String),
    CreateClient(ClientSpec),
    UpdateClient(ClientSpec),
    DeleteClient(String),
    CreateGrant(GrantSpec),
    UpdateGrant(GrantSpec),
    DeleteGrant(String, String),
    CreateRole(RoleSpec),
    UpdateRole(RoleSpec),
    RolePermissions {
        role: String,
        add: Vec<PermissionSpec>,
        remove: Vec<PermissionSpec>,
    },
    DeleteRole(String),
    CreateExtPermission(ExtensionPermissionSpec),
    UpdateExtPermission(ExtensionPermissionSpec),
    DeleteExtPermission(AppKey),
    CreateExtRole(ExtensionRoleSpec),
    UpdateExtRole(ExtensionRoleSpec),
    DeleteExtRole(AppKey),
    CreateGroup(GroupSpec),
    UpdateGroup(GroupSpec),
    GroupRoles {
        group: String,
        add: Vec<RoleRef>,
        remove: Vec<RoleRef>,
    },
    GroupNested {
        group: String,
        add: Vec<String>,
        remove: Vec<String>,
    },
    GroupMappings {
        group: String,
        add: Vec<MappingSpec>,
        remove: Vec<(MappingSpec, String)>,
    },
    DeleteGroup(String),
    CreateConnection(ConnectionSpec),
    UpdateConnection(ConnectionSpec),
    DeleteConnection(String),
    SetDefaults(String, Option<DefaultsSpec>),
    /// Out of the way of other rules' new orders; not shown.
    MoveRule(String, i64),
    CreateRule(RuleSpec, String),
    UpdateRule(RuleSpec, Option<String>),
    DeleteRule(String),
    SetRulesConfig(String, String),
    DeleteRulesConfig(String),
    CreateAction(ActionSpec, String),
    UpdateAction(ActionSpec, Option<String>),
    DeployAction(String),
    DeleteAction(String),
    ReplaceBindings(Trigger, Vec<BindingSpec>),
    UpdateSettings(BTreeMap<String, bool>),
    SetGuardianFactor(String, bool),
    SetGuardianPolicies(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub op: Op,
    /// `+`, `~` or `-`.
    pub sign: char,
    pub text: String,
    /// Where in `tenant.yaml` the change comes from (empty for deletions).
    pub at: Vec<Seg>,
}

impl Step {
    pub fn visible(&self) -> bool {
        !matches!(self.op, Op::MoveRule(..))
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Objects of the tenant the folder does not name, kept because deleting needs
    /// `--delete-missing`.
    pub kept: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn push(&mut self, sign: char, text: String, at: Vec<Seg>, op: Op) {
        self.steps.push(Step { op, sign, text, at });
    }

    pub fn counts(&self) -> (usize, usize, usize) {
        let visible = self.steps.iter().filter(|s| s.visible());
        let mut counts = (0, 0, 0);
        for s in visible {
            match s.sign {
                '+' => counts.0 += 1,
                '-' => counts.2 += 1,
                _ => counts.1 += 1,
            }
        }
        counts
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in self.steps.iter().filter(|s| s.visible()) {
            writeln!(f, "{} {}", step.sign, step.text)?;
        }
        for kept in &self.kept {
            writeln!(
                f,
                "  (kept: {kept} is not in the folder; --delete-missing deletes it)"
            )?;
        }
        let (create, update, delete) = self.counts();
        if self.is_empty() {
            writeln!(f, "No changes: the tenant matches the folder.")
        } else {
            writeln!(
                f,
                "Plan: {create} to create, {update} to change, {delete} to delete."
            )
        }
    }
}

fn path(kind: &[&str], index: usize) -> Vec<Seg> {
    let mut p: Vec<Seg> = kind.iter().map(|k| key(k)).collect();
    p.push(Seg::Index(index));
    p
}

/// Names of the fields that differ; fields the file leaves out are not compared.
struct Diff(Vec<&'static str>);

impl Diff {
    fn new() -> Self {
        Diff(Vec::new())
    }

    fn check<T: PartialEq>(&mut self, name: &'static str, want: &Option<T>, have: &Option<T>) {
        if want.is_some() && want != have {
            self.0.push(name);
        }
    }

    fn list(&self) -> String {
        self.0.join(", ")
    }
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

fn difference<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let b: BTreeSet<&T> = b.iter().collect();
    sorted(a).into_iter().filter(|x| !b.contains(x)).collect()
}

pub struct Planner<'a> {
    pub folder: &'a Folder,
    pub current: &'a Current,
    pub delete_missing: bool,
    /// The Management API's identifier and its https alias, for grants and permissions.
    pub management_audiences: Vec<String>,
    pub plan: Plan,
    deletions: Plan,
}

impl<'a> Planner<'a> {
    pub fn new(
        folder: &'a Folder,
        current: &'a Current,
        delete_missing: bool,
        management_audiences: Vec<String>,
    ) -> Self {
        Planner {
            folder,
            current,
            delete_missing,
            management_audiences,
            plan: Plan::default(),
            deletions: Plan::default(),
        }
    }

    /// An audience as the store keeps it (the https alias of the Management API is the
    /// Management API).
    pub fn audience(&self, audience: &str) -> String {
        if self.management_audiences[1..].iter().any(|a| a == audience) {
            self.management_audiences[0].clone()
        } else {
            audience.to_string()
        }
    }

    fn missing(&mut self, what: String, op: Op) {
        if self.delete_missing {
            self.deletions
                .push('-', format!("delete {what}"), Vec::new(), op);
        } else {
            self.plan.kept.push(what);
        }
    }

    /// One object of the folder against the tenant's (`changed` is `None` when the tenant
    /// lacks it): `+` to create it, `~` naming the fields that differ, nothing when none do.
    fn create_or_update(
        &mut self,
        what: &str,
        at: Vec<Seg>,
        changed: Option<Diff>,
        create: impl FnOnce() -> Op,
        update: impl FnOnce() -> Op,
    ) {
        match changed {
            None => self.plan.push('+', format!("create {what}"), at, create()),
            Some(d) if !d.0.is_empty() => {
                self.plan
                    .push('~', format!("change {what}: {}", d.list()), at, update())
            }
            Some(_) => {}
        }
    }

    /// The tenant's objects of one kind that the folder does not name.
    fn missing_of<K: Ord, T>(
        &mut self,
        have: &BTreeMap<K, &T>,
        wanted: &BTreeSet<K>,
        what: impl Fn(&K, &T) -> String,
        delete: impl Fn(&K, &T) -> Op,
    ) {
        for (id, cur) in have {
            if !wanted.contains(id) {
                self.missing(what(id, cur), delete(id, cur));
            }
        }
    }

    pub fn build(mut self) -> Plan {
        let spec = &self.folder.spec;
        if let Some(apis) = &spec.resource_servers {
            self.apis(apis);
        }
        if let Some(clients) = &spec.clients {
            self.clients(clients);
        }
        if let Some(grants) = &spec.client_grants {
            self.grants(grants);
        }
        if let Some(roles) = &spec.roles {
            self.roles(roles);
        }
        let castellan = spec.castellan.clone().unwrap_or_default();
        let extension = castellan.extension.clone().unwrap_or_default();
        if let Some(permissions) = &extension.permissions {
            self.ext_permissions(permissions);
        }
        if let Some(roles) = &extension.roles {
            self.ext_roles(roles);
        }
        if let Some(groups) = &castellan.groups {
            self.groups(groups);
        }
        if spec.databases.is_some() || spec.connections.is_some() {
            self.connections();
        }
        if let Some(defaults) = &castellan.default_assignments {
            self.defaults(defaults);
        }
        if let Some(rules) = &spec.rules {
            self.rules(rules);
        }
        if let Some(configs) = &spec.rules_configs {
            self.rules_configs(configs);
        }
        if let Some(actions) = &spec.actions {
            self.actions(actions);
        }
        if let Some(triggers) = &spec.triggers {
            self.triggers(triggers);
        }
        if let Some(settings) = &extension.settings {
            self.settings(settings);
        }
        super::guardian::plan(self.folder, &self.current.spec, &mut self.plan);
        // Deletions run last, in the reverse order of what refers to what.
        let mut deletions = std::mem::take(&mut self.deletions.steps);
        deletions.sort_by_key(|s| deletion_rank(&s.op));
        self.plan.steps.extend(deletions);
        self.plan
    }

    fn apis(&mut self, apis: &[ApiSpec]) {
        let have: BTreeMap<&str, &ApiSpec> = self
            .current
            .spec
            .resource_servers
            .iter()
            .flatten()
            .map(|a| (a.identifier.as_str(), a))
            .collect();
        for (i, want) in apis.iter().enumerate() {
            if self.current.system_apis.contains_key(&want.identifier) {
                continue;
            }
            let at = path(&["resourceServers"], i);
            let changed = have.get(want.identifier.as_str()).map(|cur| {
                let mut d = Diff::new();
                d.check("name", &want.name, &cur.name);
                d.check("scopes", &want.scopes, &cur.scopes);
                d.check("token_lifetime", &want.token_lifetime, &cur.token_lifetime);
                d.check("signing_alg", &want.signing_alg, &cur.signing_alg);
                d.check(
                    "enforce_policies",
                    &want.enforce_policies,
                    &cur.enforce_policies,
                );
                d.check("token_dialect", &want.token_dialect, &cur.token_dialect);
                d.check(
                    "allow_offline_access",
                    &want.allow_offline_access,
                    &cur.allow_offline_access,
                );
                d.check(
                    "skip_consent_for_verifiable_first_party_clients",
                    &want.skip_consent_for_verifiable_first_party_clients,
                    &cur.skip_consent_for_verifiable_first_party_clients,
                );
                d
            });
            self.create_or_update(
                &format!("API {}", want.identifier),
                at,
                changed,
                || Op::CreateApi(want.clone()),
                || Op::UpdateApi(want.clone()),
            );
        }
        let wanted: BTreeSet<&str> = apis.iter().map(|a| a.identifier.as_str()).collect();
        self.missing_of(
            &have,
            &wanted,
            |identifier, _| format!("API {identifier}"),
            |identifier, _| Op::DeleteApi(identifier.to_string()),
        );
    }

    fn clients(&mut self, clients: &[ClientSpec]) {
        let have: BTreeMap<&str, &ClientSpec> = self
            .current
            .spec
            .clients
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c))
            .collect();
        for (i, want) in clients.iter().enumerate() {
            let at = path(&["clients"], i);
            let changed = have.get(want.name.as_str()).map(|cur| {
                let mut d = Diff::new();
                d.check("description", &want.description, &cur.description);
                d.check("app_type", &want.app_type, &cur.app_type);
                d.check("is_first_party", &want.is_first_party, &cur.is_first_party);
                d.check("grant_types", &want.grant_types, &cur.grant_types);
                d.check("callbacks", &want.callbacks, &cur.callbacks);
                d.check(
                    "allowed_logout_urls",
                    &want.allowed_logout_urls,
                    &cur.allowed_logout_urls,
                );
                d.check("web_origins", &want.web_origins, &cur.web_origins);
                d.check(
                    "allowed_origins",
                    &want.allowed_origins,
                    &cur.allowed_origins,
                );
                d.check(
                    "token_endpoint_auth_method",
                    &want.token_endpoint_auth_method,
                    &cur.token_endpoint_auth_method,
                );
                // Compared whole, defaults filled in: a file may leave settings out.
                let resolved = |r: &Option<RefreshTokenInput>| r.clone().map(|r| r.resolve().ok());
                d.check(
                    "refresh_token",
                    &resolved(&want.refresh_token),
                    &resolved(&cur.refresh_token),
                );
                d.check(
                    "client_metadata",
                    &want.client_metadata,
                    &cur.client_metadata,
                );
                if let Some(secret) = &want.client_secret {
                    let hash = self.current.client_secret_hashes.get(&want.name);
                    let same = hash
                        .and_then(|h| h.as_deref())
                        .is_some_and(|h| verify_client_secret(secret, h));
                    if !same {
                        d.0.push("client_secret");
                    }
                }
                d
            });
            self.create_or_update(
                &format!("application \"{}\"", want.name),
                at,
                changed,
                || Op::CreateClient(want.clone()),
                || Op::UpdateClient(want.clone()),
            );
        }
        let wanted: BTreeSet<&str> = clients.iter().map(|c| c.name.as_str()).collect();
        self.missing_of(
            &have,
            &wanted,
            |name, _| format!("application \"{name}\""),
            |name, _| Op::DeleteClient(name.to_string()),
        );
    }

    fn grants(&mut self, grants: &[GrantSpec]) {
        let have: BTreeMap<(String, String), &GrantSpec> = self
            .current
            .spec
            .client_grants
            .iter()
            .flatten()
            .map(|g| ((g.client_id.clone(), g.audience.clone()), g))
            .collect();
        let mut wanted = BTreeSet::new();
        for (i, want) in grants.iter().enumerate() {
            let at = path(&["clientGrants"], i);
            let want = GrantSpec {
                audience: self.audience(&want.audience),
                ..want.clone()
            };
            let id = (want.client_id.clone(), want.audience.clone());
            wanted.insert(id.clone());
            let what = format!("grant of \"{}\" to {}", want.client_id, want.audience);
            let changed = have.get(&id).map(|cur| {
                let mut d = Diff::new();
                if let Some(scope) = &want.scope
                    && sorted(scope) != sorted(cur.scope.as_deref().unwrap_or_default())
                {
                    d.0.push("scope");
                }
                d
            });
            self.create_or_update(
                &what,
                at,
                changed,
                || Op::CreateGrant(want.clone()),
                || Op::UpdateGrant(want.clone()),
            );
        }
        self.missing_of(
            &have,
            &wanted,
            |(client, audience), _| format!("grant of \"{client}\" to {audience}"),
            |(client, audience), _| Op::DeleteGrant(client.clone(), audience.clone()),
        );
    }

    fn roles(&mut self, roles: &[RoleSpec]) {
        let have: BTreeMap<String, &RoleSpec> = self
            .current
            .spec
            .roles
            .iter()
            .flatten()
            .map(|r| (fold(&r.name), r))
            .collect();
        for (i, want) in roles.iter().enumerate() {
            let at = path(&["roles"], i);
            let permissions = want.permissions.as_ref().map(|p| {
                p.iter()
                    .map(|p| PermissionSpec {
                        resource_server_identifier: self.audience(&p.resource_server_identifier),
                        ..p.clone()
                    })
                    .collect::<Vec<_>>()
            });
            let cur = have.get(&fold(&want.name)).copied();
            let changed = cur.map(|cur| {
                let mut d = Diff::new();
                if want.name != cur.name {
                    d.0.push("name");
                }
                d.check("description", &want.description, &cur.description);
                d
            });
            self.create_or_update(
                &format!("role \"{}\"", want.name),
                at.clone(),
                changed,
                || Op::CreateRole(want.clone()),
                || Op::UpdateRole(want.clone()),
            );
            let current_permissions = cur
                .and_then(|cur| cur.permissions.clone())
                .unwrap_or_default();
            if let Some(permissions) = permissions {
                let add = difference(&permissions, &current_permissions);
                let remove = difference(&current_permissions, &permissions);
                if !add.is_empty() || !remove.is_empty() {
                    self.plan.push(
                        '~',
                        format!(
                            "change permissions of role \"{}\": {} added, {} removed",
                            want.name,
                            add.len(),
                            remove.len()
                        ),
                        [at, vec![key("permissions")]].concat(),
                        Op::RolePermissions {
                            role: want.name.clone(),
                            add,
                            remove,
                        },
                    );
                }
            }
        }
        let wanted: BTreeSet<String> = roles.iter().map(|r| fold(&r.name)).collect();
        self.missing_of(
            &have,
            &wanted,
            |_, cur| format!("role \"{}\"", cur.name),
            |_, cur| Op::DeleteRole(cur.name.clone()),
        );
    }

    fn ext_permissions(&mut self, permissions: &[ExtensionPermissionSpec]) {
        let at_kind = ["castellan", "authorizationExtension", "permissions"];
        let have: BTreeMap<AppKey, &ExtensionPermissionSpec> = self
            .current
            .spec
            .castellan
            .iter()
            .flat_map(|c| c.extension.iter())
            .flat_map(|e| e.permissions.iter().flatten())
            .map(|p| (ext_key(&p.application_type, &p.application, &p.name), p))
            .collect();
        let mut wanted = BTreeSet::new();
        for (i, want) in permissions.iter().enumerate() {
            let at = path(&at_kind, i);
            let id = ext_key(&want.application_type, &want.application, &want.name);
            wanted.insert(id.clone());
            let what = format!(
                "extension permission \"{}\" of {}",
                want.name, want.application
            );
            let changed = have.get(&id).map(|cur| {
                let mut d = Diff::new();
                if want.name != cur.name {
                    d.0.push("name");
                }
                d.check("description", &want.description, &cur.description);
                d
            });
            self.create_or_update(
                &what,
                at,
                changed,
                || Op::CreateExtPermission(want.clone()),
                || Op::UpdateExtPermission(want.clone()),
            );
        }
        self.missing_of(
            &have,
            &wanted,
            |_, cur| {
                format!(
                    "extension permission \"{}\" of {}",
                    cur.name, cur.application
                )
            },
            |id, _| Op::DeleteExtPermission(id.clone()),
        );
    }

    fn ext_roles(&mut self, roles: &[ExtensionRoleSpec]) {
        let at_kind = ["castellan", "authorizationExtension", "roles"];
        let have: BTreeMap<AppKey, &ExtensionRoleSpec> = self
            .current
            .spec
            .castellan
            .iter()
            .flat_map(|c| c.extension.iter())
            .flat_map(|e| e.roles.iter().flatten())
            .map(|r| (ext_key(&r.application_type, &r.application, &r.name), r))
            .collect();
        let mut wanted = BTreeSet::new();
        for (i, want) in roles.iter().enumerate() {
            let at = path(&at_kind, i);
            let id = ext_key(&want.application_type, &want.application, &want.name);
            wanted.insert(id.clone());
            let what = format!("role \"{}\" of {}", want.name, want.application);
            let changed = have.get(&id).map(|cur| {
                let mut d = Diff::new();
                if want.name != cur.name {
                    d.0.push("name");
                }
                d.check("description", &want.description, &cur.description);
                if let Some(p) = &want.permissions {
                    let have = cur.permissions.as_deref().unwrap_or_default();
                    let folded =
                        |v: &[String]| sorted(&v.iter().map(|s| fold(s)).collect::<Vec<_>>());
                    if folded(p) != folded(have) {
                        d.0.push("permissions");
                    }
                }
                d
            });
            self.create_or_update(
                &what,
                at,
                changed,
                || Op::CreateExtRole(want.clone()),
                || Op::UpdateExtRole(want.clone()),
            );
        }
        self.missing_of(
            &have,
            &wanted,
            |_, cur| format!("role \"{}\" of {}", cur.name, cur.application),
            |id, _| Op::DeleteExtRole(id.clone()),
        );
    }

    fn groups(&mut self, groups: &[GroupSpec]) {
        let have: BTreeMap<String, &GroupSpec> = self
            .current
            .spec
            .castellan
            .iter()
            .flat_map(|c| c.groups.iter().flatten())
            .map(|g| (fold(&g.name), g))
            .collect();
        // Every group exists before any is nested in another.
        let mut links = Vec::new();
        for (i, want) in groups.iter().enumerate() {
            let at = path(&["castellan", "groups"], i);
            let cur = have.get(&fold(&want.name)).copied();
            let changed = cur.map(|cur| {
                let mut d = Diff::new();
                if want.name != cur.name {
                    d.0.push("name");
                }
                d.check("description", &want.description, &cur.description);
                d
            });
            self.create_or_update(
                &format!("group \"{}\"", want.name),
                at.clone(),
                changed,
                || Op::CreateGroup(want.clone()),
                || Op::UpdateGroup(want.clone()),
            );
            let empty = GroupSpec::default();
            let cur = cur.unwrap_or(&empty);
            if let Some(roles) = &want.roles {
                let norm =
                    |refs: &[RoleRef]| -> Vec<RoleRef> { refs.iter().map(fold_ref).collect() };
                let have_roles = norm(cur.roles.as_deref().unwrap_or_default());
                let add = difference(&norm(roles), &have_roles);
                let remove = difference(&have_roles, &norm(roles));
                if !add.is_empty() || !remove.is_empty() {
                    links.push(Step {
                        sign: '~',
                        text: format!(
                            "change roles of group \"{}\": {} added, {} removed",
                            want.name,
                            add.len(),
                            remove.len()
                        ),
                        at: [at.clone(), vec![key("roles")]].concat(),
                        op: Op::GroupRoles {
                            group: want.name.clone(),
                            add,
                            remove,
                        },
                    });
                }
            }
            if let Some(nested) = &want.nested {
                let norm = |v: &[String]| -> Vec<String> { v.iter().map(|s| fold(s)).collect() };
                let have_nested = norm(cur.nested.as_deref().unwrap_or_default());
                let add = difference(&norm(nested), &have_nested);
                let remove = difference(&have_nested, &norm(nested));
                if !add.is_empty() || !remove.is_empty() {
                    links.push(Step {
                        sign: '~',
                        text: format!(
                            "change nested groups of group \"{}\": {} added, {} removed",
                            want.name,
                            add.len(),
                            remove.len()
                        ),
                        at: [at.clone(), vec![key("nested")]].concat(),
                        op: Op::GroupNested {
                            group: want.name.clone(),
                            add,
                            remove,
                        },
                    });
                }
            }
            if let Some(mappings) = &want.mappings {
                let have_mappings = cur.mappings.clone().unwrap_or_default();
                let add = difference(mappings, &have_mappings);
                let gone = difference(&have_mappings, mappings);
                let remove: Vec<(MappingSpec, String)> = self
                    .current
                    .mapping_ids
                    .get(&fold(&want.name))
                    .into_iter()
                    .flatten()
                    .filter(|(m, _)| gone.contains(m))
                    .cloned()
                    .collect();
                if !add.is_empty() || !remove.is_empty() {
                    links.push(Step {
                        sign: '~',
                        text: format!(
                            "change mappings of group \"{}\": {} added, {} removed",
                            want.name,
                            add.len(),
                            remove.len()
                        ),
                        at: [at, vec![key("mappings")]].concat(),
                        op: Op::GroupMappings {
                            group: want.name.clone(),
                            add,
                            remove,
                        },
                    });
                }
            }
        }
        self.plan.steps.extend(links);
        let wanted: BTreeSet<String> = groups.iter().map(|g| fold(&g.name)).collect();
        let mut going: Vec<&GroupSpec> = have
            .iter()
            .filter(|(folded, _)| !wanted.contains(*folded))
            .map(|(_, g)| *g)
            .collect();
        // A group nested in another cannot be deleted before that other one.
        while !going.is_empty() {
            let nested_in_going = |g: &GroupSpec| {
                going.iter().any(|p| {
                    p.nested
                        .iter()
                        .flatten()
                        .any(|child| fold(child) == fold(&g.name))
                })
            };
            let next = going.iter().position(|g| !nested_in_going(g)).unwrap_or(0);
            let group = going.remove(next);
            self.missing(
                format!("group \"{}\"", group.name),
                Op::DeleteGroup(group.name.clone()),
            );
        }
    }

    /// `databases` and `connections` together, with where each entry is.
    pub fn connection_entries(folder: &Folder) -> Vec<(Vec<Seg>, &ConnectionSpec)> {
        let spec = &folder.spec;
        let mut out = Vec::new();
        for (kind, list) in [
            ("databases", &spec.databases),
            ("connections", &spec.connections),
        ] {
            for (i, c) in list.iter().flatten().enumerate() {
                out.push((path(&[kind], i), c));
            }
        }
        out
    }

    fn connections(&mut self) {
        let have: BTreeMap<&str, &ConnectionSpec> = self
            .current
            .spec
            .databases
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c))
            .collect();
        // A new application is enabled on every existing connection by the store.
        let new_clients: Vec<String> = self
            .folder
            .spec
            .clients
            .iter()
            .flatten()
            .filter(|c| !self.current.client_ids.contains_key(&c.name))
            .map(|c| c.name.clone())
            .collect();
        let entries = Self::connection_entries(self.folder);
        for (at, want) in &entries {
            let changed = have.get(want.name.as_str()).map(|cur| {
                let mut d = Diff::new();
                d.check("options", &want.options, &cur.options);
                if let Some(enabled) = &want.enabled_clients {
                    let mut after = cur.enabled_clients.clone().unwrap_or_default();
                    after.extend(new_clients.iter().cloned());
                    if sorted(enabled) != sorted(&after) {
                        d.0.push("enabled_clients");
                    }
                }
                d
            });
            self.create_or_update(
                &format!("connection {}", want.name),
                at.clone(),
                changed,
                || Op::CreateConnection((*want).clone()),
                || Op::UpdateConnection((*want).clone()),
            );
        }
        let wanted: BTreeSet<&str> = entries.iter().map(|(_, c)| c.name.as_str()).collect();
        self.missing_of(
            &have,
            &wanted,
            |name, _| format!("connection {name}"),
            |name, _| Op::DeleteConnection(name.to_string()),
        );
    }

    fn defaults(&mut self, defaults: &[DefaultsSpec]) {
        let have: BTreeMap<&str, &DefaultsSpec> = self
            .current
            .spec
            .castellan
            .iter()
            .flat_map(|c| c.default_assignments.iter().flatten())
            .map(|d| (d.connection.as_str(), d))
            .collect();
        let norm = |d: &DefaultsSpec| {
            let f = |v: &[String]| sorted(&v.iter().map(|s| fold(s)).collect::<Vec<_>>());
            (
                f(&d.roles),
                f(&d.groups),
                d.on.clone().unwrap_or_else(|| "signup".into()),
            )
        };
        for (i, want) in defaults.iter().enumerate() {
            let at = path(&["castellan", "defaultAssignments"], i);
            let same = have
                .get(want.connection.as_str())
                .is_some_and(|cur| norm(cur) == norm(want));
            if !same {
                let sign = if have.contains_key(want.connection.as_str()) {
                    '~'
                } else {
                    '+'
                };
                self.plan.push(
                    sign,
                    format!("set default assignments of connection {}", want.connection),
                    at,
                    Op::SetDefaults(want.connection.clone(), Some(want.clone())),
                );
            }
        }
        let wanted: BTreeSet<&str> = defaults.iter().map(|d| d.connection.as_str()).collect();
        // Defaults of a connection that goes away go with it.
        let gone: BTreeSet<String> = self
            .deletions
            .steps
            .iter()
            .filter_map(|s| match &s.op {
                Op::DeleteConnection(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        for connection in have.keys().filter(|k| !wanted.contains(*k)) {
            if gone.contains(*connection) {
                continue;
            }
            self.missing(
                format!("default assignments of connection {connection}"),
                Op::SetDefaults(connection.to_string(), None),
            );
        }
    }

    fn rules(&mut self, rules: &[RuleSpec]) {
        let have: BTreeMap<&str, &RuleSpec> = self
            .current
            .spec
            .rules
            .iter()
            .flatten()
            .map(|r| (r.name.as_str(), r))
            .collect();
        let wanted: BTreeSet<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        // A rule that goes frees its order before another takes it.
        for name in have.keys().filter(|k| !wanted.contains(*k)) {
            let what = format!("rule \"{name}\"");
            if self.delete_missing {
                self.plan.push(
                    '-',
                    format!("delete {what}"),
                    Vec::new(),
                    Op::DeleteRule(name.to_string()),
                );
            } else {
                self.plan.kept.push(what);
            }
        }
        let highest = have
            .values()
            .filter_map(|r| r.order)
            .chain(rules.iter().filter_map(|r| r.order))
            .max()
            .unwrap_or(0);
        let mut spare = highest;
        let mut moves = Vec::new();
        let mut changes = Vec::new();
        for (i, want) in rules.iter().enumerate() {
            let at = path(&["rules"], i);
            let script = self.folder.rule_scripts.get(&want.name).cloned();
            match have.get(want.name.as_str()) {
                None => changes.push(Step {
                    sign: '+',
                    text: format!("create rule \"{}\"", want.name),
                    at,
                    op: Op::CreateRule(want.clone(), script.unwrap_or_default()),
                }),
                Some(cur) => {
                    let mut d = Diff::new();
                    let current_script = self.current.rule_scripts.get(&want.name).cloned();
                    d.check("script", &script, &current_script);
                    d.check("order", &want.order, &cur.order);
                    d.check("enabled", &want.enabled, &cur.enabled);
                    if d.0.contains(&"order") {
                        spare += 1;
                        moves.push(Step {
                            sign: '~',
                            text: String::new(),
                            at: at.clone(),
                            op: Op::MoveRule(want.name.clone(), spare),
                        });
                    }
                    if !d.0.is_empty() {
                        let script = d.0.contains(&"script").then_some(script).flatten();
                        changes.push(Step {
                            sign: '~',
                            text: format!("change rule \"{}\": {}", want.name, d.list()),
                            at,
                            op: Op::UpdateRule(want.clone(), script),
                        });
                    }
                }
            }
        }
        self.plan.steps.extend(moves);
        self.plan.steps.extend(changes);
    }

    fn rules_configs(&mut self, configs: &[RulesConfigSpec]) {
        for (i, want) in configs.iter().enumerate() {
            let at = path(&["rulesConfigs"], i);
            let have = self.current.rules_config_values.get(&want.key);
            if let Some(value) = &want.value
                && have != Some(value)
            {
                let sign = if have.is_some() { '~' } else { '+' };
                self.plan.push(
                    sign,
                    format!("set rules configuration key {}", want.key),
                    at,
                    Op::SetRulesConfig(want.key.clone(), value.clone()),
                );
            }
        }
        let wanted: BTreeSet<&str> = configs.iter().map(|c| c.key.as_str()).collect();
        let keys: Vec<String> = self
            .current
            .rules_config_values
            .keys()
            .filter(|k| !wanted.contains(k.as_str()))
            .cloned()
            .collect();
        for k in keys {
            self.missing(
                format!("rules configuration key {k}"),
                Op::DeleteRulesConfig(k),
            );
        }
    }

    fn actions(&mut self, actions: &[ActionSpec]) {
        let have: BTreeMap<&str, &ActionSpec> = self
            .current
            .spec
            .actions
            .iter()
            .flatten()
            .map(|a| (a.name.as_str(), a))
            .collect();
        for (i, want) in actions.iter().enumerate() {
            let at = path(&["actions"], i);
            let code = self.folder.action_codes.get(&want.name).cloned();
            let deploy_wanted = want.deployed == Some(true);
            match (
                have.get(want.name.as_str()),
                self.current.actions.get(&want.name),
            ) {
                (Some(cur), Some(state)) => {
                    let mut d = Diff::new();
                    let current_code = self.current.action_codes.get(&want.name).cloned();
                    d.check("code", &code, &current_code);
                    d.check("runtime", &want.runtime, &cur.runtime);
                    let trigger_ids = |t: &Option<Vec<TriggerSpec>>| {
                        t.as_ref()
                            .map(|t| t.iter().map(|t| t.id.clone()).collect::<Vec<_>>())
                    };
                    d.check(
                        "supported_triggers",
                        &trigger_ids(&want.supported_triggers),
                        &trigger_ids(&cur.supported_triggers),
                    );
                    if let Some(secrets) = &want.secrets {
                        let names: BTreeSet<&str> =
                            secrets.iter().map(|s| s.name.as_str()).collect();
                        let have_names: BTreeSet<&str> =
                            state.secrets.keys().map(String::as_str).collect();
                        let values_differ = secrets.iter().any(|s| {
                            s.value
                                .as_ref()
                                .is_some_and(|v| state.secrets.get(&s.name) != Some(v))
                        });
                        if names != have_names || values_differ {
                            d.0.push("secrets");
                        }
                    }
                    let draft_changes =
                        d.0.iter()
                            .any(|f| ["code", "runtime", "secrets"].contains(f));
                    if !d.0.is_empty() {
                        self.plan.push(
                            '~',
                            format!("change action \"{}\": {}", want.name, d.list()),
                            at.clone(),
                            Op::UpdateAction(
                                want.clone(),
                                d.0.contains(&"code").then_some(code).flatten(),
                            ),
                        );
                    }
                    if deploy_wanted && (draft_changes || !state.all_changes_deployed) {
                        self.plan.push(
                            '~',
                            format!("deploy action \"{}\"", want.name),
                            at,
                            Op::DeployAction(want.name.clone()),
                        );
                    }
                }
                _ => {
                    self.plan.push(
                        '+',
                        format!("create action \"{}\"", want.name),
                        at.clone(),
                        Op::CreateAction(want.clone(), code.unwrap_or_default()),
                    );
                    if deploy_wanted {
                        self.plan.push(
                            '~',
                            format!("deploy action \"{}\"", want.name),
                            at,
                            Op::DeployAction(want.name.clone()),
                        );
                    }
                }
            }
        }
        let wanted: BTreeSet<&str> = actions.iter().map(|a| a.name.as_str()).collect();
        for name in have.keys().filter(|k| !wanted.contains(*k)) {
            self.missing(
                format!("action \"{name}\""),
                Op::DeleteAction(name.to_string()),
            );
        }
    }

    fn triggers(&mut self, triggers: &BTreeMap<String, Vec<BindingSpec>>) {
        let have = self.current.spec.triggers.clone().unwrap_or_default();
        for (id, bindings) in triggers {
            let Some(trigger) = Trigger::parse(id) else {
                continue;
            };
            let norm = |list: &[BindingSpec]| -> Vec<(String, String)> {
                list.iter()
                    .map(|b| {
                        (
                            b.action_name.clone(),
                            b.display_name
                                .clone()
                                .unwrap_or_else(|| b.action_name.clone()),
                        )
                    })
                    .collect()
            };
            let current = have.get(id).cloned().unwrap_or_default();
            if norm(bindings) != norm(&current) {
                self.plan.push(
                    '~',
                    format!(
                        "replace the actions bound to {id}: {} bound",
                        bindings.len()
                    ),
                    vec![key("triggers"), key(id)],
                    Op::ReplaceBindings(trigger, bindings.clone()),
                );
            }
        }
    }

    fn settings(&mut self, settings: &BTreeMap<String, bool>) {
        let have = self
            .current
            .spec
            .castellan
            .as_ref()
            .and_then(|c| c.extension.as_ref())
            .and_then(|e| e.settings.clone())
            .unwrap_or_default();
        let changed: BTreeMap<String, bool> = settings
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if !changed.is_empty() {
            self.plan.push(
                '~',
                format!(
                    "change Authorization Extension settings: {}",
                    changed.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                vec![
                    key("castellan"),
                    key("authorizationExtension"),
                    key("settings"),
                ],
                Op::UpdateSettings(changed),
            );
        }
    }
}

pub fn ext_key(application_type: &str, application: &str, name: &str) -> AppKey {
    (
        application_type.to_string(),
        application.to_string(),
        fold(name),
    )
}

fn fold_ref(r: &RoleRef) -> RoleRef {
    match r {
        RoleRef::Name(n) => RoleRef::Name(fold(n)),
        RoleRef::Bound { name, application } => RoleRef::Bound {
            name: fold(name),
            application: application.clone(),
        },
    }
}

/// What refers to what decides the order of deletions: a binding before its action, a
/// group before the roles it holds, a role before its permissions, an application or API
/// after everything that names it.
fn deletion_rank(op: &Op) -> u8 {
    match op {
        Op::SetDefaults(..) => 0,
        Op::DeleteAction(_) => 1,
        Op::DeleteRulesConfig(_) => 2,
        Op::DeleteConnection(_) => 3,
        Op::DeleteGroup(_) => 4,
        Op::DeleteExtRole(_) => 5,
        Op::DeleteExtPermission(_) => 6,
        Op::DeleteRole(_) => 7,
        Op::DeleteGrant(..) => 8,
        Op::DeleteClient(_) => 9,
        Op::DeleteApi(_) => 10,
        _ => 11,
    }
}
