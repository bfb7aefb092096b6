//! `castellan serve --demo`: seeds an example tenant and prints how to use it. A web
//! application, an API with scopes under RBAC, the roles `member` (given at sign-up) and
//! `admin`, a rule that puts the roles in tokens, and an administrator of the console.
//!
//! Every step makes sure of one thing and skips it when it is already so, so a second start
//! adds nothing. The application's secret is derived from the secret key rather than
//! stored, so it can be printed at every start; the administrator's password is only known
//! on the start that generated it.

use castellan_core::directory::clients::{self, ClientFields, NewClient};
use castellan_core::directory::connections::{self, ConnectionFields};
use castellan_core::directory::resource_servers::{self, ResourceServerFields};
use castellan_core::directory::rules::{self as stored_rules, NewRule};
use castellan_core::model::{
    AssignOn, DATABASE_CONNECTION, DefaultAssignments, Permission, Role, Scope,
};
use castellan_core::oauth::password::PASSWORD_REALM;
use castellan_core::paging::PageRequest;
use castellan_core::secrets::verify_client_secret;

use crate::admin_cli::console_admin::{self, ConsoleAdmin};
use crate::admin_cli::{CliError, Tenant, roles};
use crate::app::AppState;
use crate::config::Settings;

pub const API_IDENTIFIER: &str = "https://api.demo.example.com";
const API_NAME: &str = "Demo API";
const SCOPES: &[(&str, &str)] = &[
    ("read:notes", "Read notes"),
    ("write:notes", "Write notes"),
    ("delete:notes", "Delete any note"),
];
/// Name, description, scopes.
const ROLES: &[(&str, &str, &[&str])] = &[
    (
        "member",
        "Everyone who signs up",
        &["read:notes", "write:notes"],
    ),
    (
        "admin",
        "Manages every note",
        &["read:notes", "write:notes", "delete:notes"],
    ),
];
const DEFAULT_ROLE: &str = "member";
const ADMIN_ROLE: &str = "admin";
pub const CLIENT_ID: &str = "demo-web-app";
const CLIENT_NAME: &str = "Demo Web App";
/// Nothing listens there: the person reads the code from the address bar.
pub const CALLBACK: &str = "http://127.0.0.1:3000/callback";
const RULE_NAME: &str = "Add roles to tokens";
/// `tests/rules/roles-into-claims.js` with the demo's namespace.
const RULE_SCRIPT: &str = include_str!("roles-into-tokens.js");
pub const CLAIM_NAMESPACE: &str = "https://demo.example.com/";
pub const ADMIN_EMAIL: &str = "admin@demo.example.com";

/// What the seeding knows that the printout needs.
pub struct Seeded {
    /// `None` when someone changed the secret since the demo set it.
    client_secret: Option<String>,
    admin: ConsoleAdmin,
}

pub async fn seed(state: &AppState) -> Result<Seeded, CliError> {
    let tenant = Tenant::of_server(state);
    ensure_api(&tenant).await?;
    let mut roles = Vec::new();
    for (name, description, scopes) in ROLES {
        roles.push(ensure_role(&tenant, name, description, scopes).await?);
    }
    let client_secret = ensure_client(&tenant, state).await?;
    ensure_default_role(&tenant).await?;
    ensure_rule(&tenant, state).await?;
    // After the defaults, so the administrator is a member as every user is.
    let admin = console_admin::ensure(&tenant, ADMIN_EMAIL, None, DATABASE_CONNECTION).await?;
    let admin_role = roles
        .iter()
        .find(|r| r.name == ADMIN_ROLE)
        .expect("ROLES holds the admin role");
    let held = tenant
        .store
        .list_user_roles(&admin.user.user_id, PageRequest::ALL)
        .await?;
    if !held.items.iter().any(|r| r.id == admin_role.id) {
        roles::assign(
            &tenant,
            admin_role,
            std::slice::from_ref(&admin.user.user_id),
        )
        .await?;
    }
    Ok(Seeded {
        client_secret,
        admin,
    })
}

/// A conflict means another node made the record meanwhile, which is all that is needed.
fn unless_made_meanwhile<T>(result: castellan_core::Result<T>) -> Result<Option<T>, CliError> {
    match result {
        Ok(made) => Ok(Some(made)),
        Err(castellan_core::Error::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn ensure_api(tenant: &Tenant) -> Result<(), CliError> {
    if tenant
        .store
        .find_resource_server_by_identifier(API_IDENTIFIER)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let fields = ResourceServerFields {
        name: Some(API_NAME.into()),
        identifier: Some(API_IDENTIFIER.into()),
        scopes: Some(
            SCOPES
                .iter()
                .map(|(value, description)| Scope {
                    value: value.to_string(),
                    description: description.to_string(),
                })
                .collect(),
        ),
        enforce_policies: Some(true),
        token_dialect: Some("access_token_authz".into()),
        allow_offline_access: Some(true),
        ..ResourceServerFields::default()
    };
    unless_made_meanwhile(resource_servers::create(&tenant.editor(), fields).await)?;
    Ok(())
}

async fn ensure_role(
    tenant: &Tenant,
    name: &str,
    description: &str,
    scopes: &[&str],
) -> Result<Role, CliError> {
    let role = roles::ensure(tenant, name, description).await?;
    let held = tenant
        .store
        .list_role_permissions(&role.id, PageRequest::ALL)
        .await?;
    let missing: Vec<Permission> = scopes
        .iter()
        .map(|s| Permission {
            resource_server_identifier: API_IDENTIFIER.into(),
            permission_name: s.to_string(),
        })
        .filter(|p| !held.items.contains(p))
        .collect();
    if !missing.is_empty() {
        roles::add_permissions(tenant, &role, &missing).await?;
    }
    Ok(role)
}

fn secret_label() -> String {
    format!("demo client secret {CLIENT_ID}")
}

/// Returns the secret when it is still the derived one.
async fn ensure_client(tenant: &Tenant, state: &AppState) -> Result<Option<String>, CliError> {
    let secret = state.master_key.derive_secret(&secret_label());
    if let Some(client) = tenant.store.find_client(CLIENT_ID).await? {
        let current = client
            .secret_hash
            .as_deref()
            .is_some_and(|h| verify_client_secret(&secret, h));
        return Ok(current.then_some(secret));
    }
    let fields = ClientFields {
        name: Some(CLIENT_NAME.into()),
        description: Some("The demo tenant's web application".into()),
        app_type: Some("regular_web".into()),
        grant_types: Some(vec![
            "authorization_code".into(),
            "refresh_token".into(),
            PASSWORD_REALM.into(),
        ]),
        callbacks: Some(vec![CALLBACK.into()]),
        allowed_logout_urls: Some(vec!["http://127.0.0.1:3000/".into()]),
        ..ClientFields::default()
    };
    let client = NewClient {
        client_id: Some(CLIENT_ID.into()),
        fields,
        secret: Some(secret.clone()),
    };
    let created = clients::create(&tenant.editor(), client).await;
    unless_made_meanwhile(created)?;
    Ok(Some(secret))
}

/// `member` among the database connection's sign-up defaults, keeping any others.
async fn ensure_default_role(tenant: &Tenant) -> Result<(), CliError> {
    let connection = tenant
        .store
        .find_connection_by_name(DATABASE_CONNECTION)
        .await?
        .ok_or_else(|| CliError::Input(format!("no connection \"{DATABASE_CONNECTION}\"")))?;
    let mut defaults = connection
        .default_assignments
        .clone()
        .unwrap_or(DefaultAssignments {
            roles: vec![],
            groups: vec![],
            on: AssignOn::Signup,
        });
    let default_role = tenant.role(DEFAULT_ROLE).await?;
    let present = tenant.store.resolve_role_refs(&defaults.roles).await?;
    if present.iter().flatten().any(|id| *id == default_role.id) {
        return Ok(());
    }
    defaults.roles.push(DEFAULT_ROLE.into());
    let fields = ConnectionFields {
        default_assignments: Some(Some(defaults.clone())),
        ..ConnectionFields::default()
    };
    connections::update(&tenant.editor(), &connection.id, fields).await?;
    Ok(())
}

async fn ensure_rule(tenant: &Tenant, state: &AppState) -> Result<(), CliError> {
    let existing = tenant.store.list_rules(None, PageRequest::ALL).await?;
    if existing.items.iter().any(|r| r.name == RULE_NAME) {
        return Ok(());
    }
    let input = NewRule {
        name: RULE_NAME.into(),
        script: RULE_SCRIPT.into(),
        order: None,
        enabled: Some(true),
    };
    let created = stored_rules::create(&tenant.editor(), &state.scripts, input).await;
    unless_made_meanwhile(created)?;
    Ok(())
}

/// Single quotes for a shell, whatever the value holds.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

pub fn print(seeded: &Seeded, settings: &Settings) {
    let issuer = settings.issuer.trim_end_matches('/');
    let scopes: Vec<&str> = SCOPES.iter().map(|(s, _)| *s).collect();
    let login = format!(
        "{issuer}/authorize?{}",
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile email read:notes write:notes"),
            ("audience", API_IDENTIFIER),
            ("state", "demo"),
        ])
        .unwrap_or_default()
    );
    let (secret_line, secret_arg) = match &seeded.client_secret {
        Some(secret) => (secret.clone(), secret.clone()),
        None => (
            "changed since the demo set it; rotate it (POST /api/v2/clients/demo-web-app/rotate-secret) to see a new one".into(),
            "\"$CLIENT_SECRET\"".into(),
        ),
    };
    let admin = &seeded.admin;
    let email = admin.user.email.as_deref().unwrap_or(ADMIN_EMAIL);
    let (password_line, password_arg) = match &admin.password {
        Some(password) => (
            format!("{password}   (generated now and not shown again: keep it)"),
            quoted(password),
        ),
        None => (
            format!(
                "set at the first demo start and not shown again; choose a new one with\n                 \
                 castellan users set-password {email}   (with this server's --database or --config)"
            ),
            "\"$PASSWORD\"".into(),
        ),
    };
    println!(
        "
Demo tenant ready ({issuer}/). Starting again with --demo adds nothing.

  Application    {CLIENT_NAME}: client_id {CLIENT_ID}
                 client_secret {secret_line}
  API            {API_IDENTIFIER}, scopes {scopes}, permissions in tokens
  Roles          member (given at sign-up), admin
  Rule           \"{RULE_NAME}\" puts the user's roles in tokens as {CLAIM_NAMESPACE}roles

Log in or sign up in a browser:

  {login}

  The application's callback is {CALLBACK}, where nothing listens: after the log-in,
  copy the code from the address bar and exchange it within a minute:

  curl -s {issuer}/oauth/token -d grant_type=authorization_code -d client_id={CLIENT_ID} \\
    -d client_secret={secret_arg} -d redirect_uri={CALLBACK} -d code=CODE

Admin console: {issuer}/admin

  email          {email}
  password       {password_line}

A token with roles for the administrator, in one request (paste the access_token into
https://jwt.io to read its claims):

  curl -s {issuer}/oauth/token \\
    -d grant_type={PASSWORD_REALM} \\
    -d realm={DATABASE_CONNECTION} \\
    -d client_id={CLIENT_ID} \\
    -d client_secret={secret_arg} \\
    -d username={email} \\
    --data-urlencode password={password_arg} \\
    -d audience={API_IDENTIFIER} \\
    --data-urlencode 'scope=openid {scopes}'
",
        scopes = scopes.join(" "),
    );
}
