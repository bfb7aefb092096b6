//! Applications: creation with a secret shown once, changes, secret rotation, deletion:
//! the commands every front end makes them through.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bootstrap::AdminGuard;
use super::{Editor, validate};
use crate::audit::ApplicationChange;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{
    AppType, Client, ExpirationType, Named, RefreshTokenSettings, RotationType,
    TokenEndpointAuthMethod,
};
use crate::secrets::{generate_client_secret, hash_client_secret};
use crate::store::{ClientStore, Store};

/// Grant types a client may list (Auth0's names).
pub const KNOWN_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
    crate::oauth::device_code::GRANT_TYPE,
    crate::oauth::mfa_grant::OTP,
    crate::oauth::mfa_grant::OOB,
    crate::oauth::mfa_grant::RECOVERY_CODE,
];

const MAX_METADATA_KEYS: usize = 10;
const MAX_METADATA_VALUE: usize = 255;

/// Fields of a client that a caller may set; `None` keeps the current (or default) value.
#[derive(Debug, Default, Clone)]
pub struct ClientFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub app_type: Option<String>,
    pub is_first_party: Option<bool>,
    pub grant_types: Option<Vec<String>>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub refresh_token: Option<RefreshTokenInput>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

/// Auth0's `refresh_token` object as a caller gives it: the two types are required, as in
/// Auth0; the settings left out take Auth0's defaults for those types (the idle lifetime
/// no longer than the lifetime given), not the client's current values, so that the
/// object given is the whole setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenInput {
    pub rotation_type: RotationType,
    pub expiration_type: ExpirationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leeway: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infinite_token_lifetime: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_token_lifetime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infinite_idle_token_lifetime: Option<bool>,
}

impl From<RefreshTokenSettings> for RefreshTokenInput {
    fn from(s: RefreshTokenSettings) -> Self {
        RefreshTokenInput {
            rotation_type: s.rotation_type,
            expiration_type: s.expiration_type,
            leeway: Some(s.leeway),
            token_lifetime: Some(s.token_lifetime),
            infinite_token_lifetime: Some(s.infinite_token_lifetime),
            idle_token_lifetime: Some(s.idle_token_lifetime),
            infinite_idle_token_lifetime: Some(s.infinite_idle_token_lifetime),
        }
    }
}

/// Auth0's longest lifetime of a rotating family: a year.
const MAX_ROTATING_LIFETIME: i64 = 31_557_600;
/// Auth0's longest lifetime of any refresh token: five years.
const MAX_LIFETIME: i64 = 157_788_000;

/// Auth0's defaults for the given types: rotation comes with a month's family and two
/// weeks' idleness, a non-rotating token with a year and a month (infinite unless it
/// expires).
fn refresh_defaults(rotation: RotationType, expiration: ExpirationType) -> RefreshTokenSettings {
    let rotating = rotation == RotationType::Rotating;
    let infinite = expiration == ExpirationType::NonExpiring;
    RefreshTokenSettings {
        rotation_type: rotation,
        expiration_type: expiration,
        leeway: 0,
        token_lifetime: if rotating {
            2_592_000
        } else {
            MAX_ROTATING_LIFETIME
        },
        infinite_token_lifetime: infinite,
        idle_token_lifetime: if rotating { 1_296_000 } else { 2_592_000 },
        infinite_idle_token_lifetime: infinite,
    }
}

/// What Auth0 gives a new client: rotation for single-page apps, which cannot keep a
/// token safe, tokens that never end for the others.
pub fn default_refresh_token(app_type: AppType) -> RefreshTokenSettings {
    match app_type {
        AppType::Spa => refresh_defaults(RotationType::Rotating, ExpirationType::Expiring),
        _ => refresh_defaults(RotationType::NonRotating, ExpirationType::NonExpiring),
    }
}

impl RefreshTokenInput {
    /// The whole setting, checked against Auth0's limits.
    pub fn resolve(self) -> Result<RefreshTokenSettings> {
        let d = refresh_defaults(self.rotation_type, self.expiration_type);
        let token_lifetime = self.token_lifetime.unwrap_or(d.token_lifetime);
        let settings = RefreshTokenSettings {
            leeway: self.leeway.unwrap_or(d.leeway),
            token_lifetime,
            infinite_token_lifetime: self
                .infinite_token_lifetime
                .unwrap_or(d.infinite_token_lifetime),
            // A shorter lifetime given shortens the default idleness with it, which may
            // not outlast it.
            idle_token_lifetime: self
                .idle_token_lifetime
                .unwrap_or(d.idle_token_lifetime.min(token_lifetime)),
            infinite_idle_token_lifetime: self
                .infinite_idle_token_lifetime
                .unwrap_or(d.infinite_idle_token_lifetime),
            ..d
        };
        let invalid = |message: String| Err(Error::Invalid(format!("refresh_token.{message}")));
        if settings.leeway < 0 {
            return invalid("leeway must not be negative".into());
        }
        let max = if settings.rotating() {
            MAX_ROTATING_LIFETIME
        } else {
            MAX_LIFETIME
        };
        for (field, seconds) in [
            ("token_lifetime", settings.token_lifetime),
            ("idle_token_lifetime", settings.idle_token_lifetime),
        ] {
            if !(1..=max).contains(&seconds) {
                return invalid(format!(
                    "{field} must be between 1 and {max} seconds for {} tokens",
                    if settings.rotating() {
                        "rotating"
                    } else {
                        "non-rotating"
                    }
                ));
            }
        }
        // A rotating family that never ended would make its reuse detection the only
        // bound on a stolen token; Auth0 requires an end.
        if settings.rotating() && settings.absolute_lifetime().is_none() {
            return invalid(
                "rotation_type rotating needs expiration_type expiring and a finite token_lifetime"
                    .into(),
            );
        }
        if let (Some(absolute), Some(idle)) =
            (settings.absolute_lifetime(), settings.idle_lifetime())
            && idle > absolute
        {
            return invalid("idle_token_lifetime must not exceed token_lifetime".into());
        }
        Ok(settings)
    }
}

/// A client as stored, plus its secret in clear when one was just made.
pub struct ClientWithSecret {
    pub client: Client,
    pub secret: Option<String>,
}

fn default_grant_types(app_type: AppType) -> Vec<String> {
    let grants: &[&str] = match app_type {
        AppType::NonInteractive => &["client_credentials"],
        AppType::RegularWeb => &[
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
        ],
        AppType::Spa | AppType::Native => &["authorization_code", "implicit", "refresh_token"],
    };
    grants.iter().map(|g| g.to_string()).collect()
}

fn default_auth_method(app_type: AppType) -> TokenEndpointAuthMethod {
    match app_type {
        AppType::Spa | AppType::Native => TokenEndpointAuthMethod::None,
        _ => TokenEndpointAuthMethod::ClientSecretPost,
    }
}

/// Applies `fields` over `client`, validating each given field.
fn apply(client: &mut Client, fields: ClientFields) -> Result<()> {
    if let Some(name) = fields.name {
        validate::non_empty("name", &name, 255)?;
        client.name = name;
    }
    if let Some(description) = fields.description {
        if description.chars().count() > 140 {
            return Err(Error::Invalid(
                "description must be at most 140 characters".into(),
            ));
        }
        client.description = description;
    }
    if let Some(app_type) = fields.app_type {
        client.app_type = validate::named("app_type", &app_type)?;
    }
    if let Some(first_party) = fields.is_first_party {
        client.is_first_party = first_party;
    }
    if let Some(grants) = fields.grant_types {
        if let Some(unknown) = grants
            .iter()
            .find(|g| !KNOWN_GRANT_TYPES.contains(&g.as_str()))
        {
            return Err(Error::Invalid(format!(
                "grant_types contains an unsupported grant type: \"{unknown}\""
            )));
        }
        validate::no_duplicates("grant_types", &grants)?;
        client.grant_types = grants;
    }
    for (field, value, target) in [
        ("callbacks", fields.callbacks, &mut client.callbacks),
        (
            "allowed_logout_urls",
            fields.allowed_logout_urls,
            &mut client.allowed_logout_urls,
        ),
        ("web_origins", fields.web_origins, &mut client.web_origins),
    ] {
        if let Some(value) = value {
            validate::tokens(field, &value)?;
            *target = value;
        }
    }
    if let Some(origins) = fields.allowed_origins {
        validate::origins("allowed_origins", &origins)?;
        client.allowed_origins = origins;
    }
    if let Some(method) = fields.token_endpoint_auth_method {
        client.token_endpoint_auth_method = validate::named("token_endpoint_auth_method", &method)?;
    }
    if let Some(refresh_token) = fields.refresh_token {
        client.refresh_token = refresh_token.resolve()?;
    }
    if let Some(metadata) = fields.client_metadata {
        if metadata.len() > MAX_METADATA_KEYS {
            return Err(Error::Invalid(format!(
                "client_metadata may hold at most {MAX_METADATA_KEYS} keys"
            )));
        }
        if let Some((key, _)) = metadata
            .iter()
            .find(|(_, v)| v.chars().count() > MAX_METADATA_VALUE)
        {
            return Err(Error::Invalid(format!(
                "client_metadata.{key} must be at most {MAX_METADATA_VALUE} characters"
            )));
        }
        client.client_metadata = metadata;
    }
    Ok(())
}

/// A client to make. `client_id` chooses its id (the demo's client); `secret` chooses its
/// secret (`castellan apply`'s `client_secret`). Otherwise both are made, a secret only for
/// a confidential client.
#[derive(Debug, Default, Clone)]
pub struct NewClient {
    pub client_id: Option<String>,
    pub fields: ClientFields,
    pub secret: Option<String>,
}

impl From<ClientFields> for NewClient {
    fn from(fields: ClientFields) -> Self {
        NewClient {
            fields,
            ..Default::default()
        }
    }
}

/// A change to a client: its fields, and a secret chosen by the caller (`castellan
/// apply`'s `client_secret`).
#[derive(Debug, Default, Clone)]
pub struct ClientUpdate {
    pub fields: ClientFields,
    pub secret: Option<String>,
}

impl From<ClientFields> for ClientUpdate {
    fn from(fields: ClientFields) -> Self {
        ClientUpdate {
            fields,
            secret: None,
        }
    }
}

/// The client `fields` describe, validated, without a secret yet.
fn build(client_id: String, fields: ClientFields, now: i64) -> Result<Client> {
    let Some(name) = fields.name.as_deref() else {
        return Err(Error::Invalid("name is required".into()));
    };
    validate::non_empty("name", name, 255)?;
    let app_type: AppType = match fields.app_type.as_deref() {
        Some(t) => validate::named("app_type", t)?,
        None => AppType::RegularWeb,
    };
    let mut client = Client {
        client_id,
        name: String::new(),
        description: String::new(),
        app_type,
        is_first_party: true,
        grant_types: default_grant_types(app_type),
        callbacks: vec![],
        allowed_logout_urls: vec![],
        web_origins: vec![],
        allowed_origins: vec![],
        token_endpoint_auth_method: default_auth_method(app_type),
        refresh_token: default_refresh_token(app_type),
        client_metadata: BTreeMap::new(),
        secret_hash: None,
        created_at: now,
        updated_at: now,
    };
    apply(&mut client, fields)?;
    Ok(client)
}

/// Gives `client` the `secret` in clear and hashed.
fn with_secret(mut client: Client, secret: Option<String>) -> ClientWithSecret {
    client.secret_hash = secret.as_deref().map(hash_client_secret);
    ClientWithSecret { client, secret }
}

pub async fn create(ed: &Editor<'_>, input: NewClient) -> Result<ClientWithSecret> {
    let client_id = input.client_id.unwrap_or_else(crate::ids::client_id);
    let client = build(client_id, input.fields, ed.clock.now())?;
    let secret = input
        .secret
        .or_else(|| (!client.is_public()).then(generate_client_secret));
    let made = with_secret(client, secret);
    let tx = ed.begin().await?;
    tx.create_client(&made.client).await?;
    let change = ApplicationChange::CreateClient {
        client_id: made.client.client_id.clone(),
        name: made.client.name.clone(),
        app_type: made.client.app_type.name().to_string(),
    };
    ed.commit(tx, [change]).await?;
    Ok(made)
}

/// The server's own clients (the bootstrap administrator, the console's), made at start
/// with a chosen id and, for a confidential client, optionally a chosen secret: in the
/// same write, so that a node starting beside this one never finds the client with a
/// secret other than the chosen one. Not a change to the tenant, so not audited.
pub(crate) async fn create_with_id(
    store: &dyn Store,
    clock: &dyn Clock,
    client_id: String,
    fields: ClientFields,
    chosen_secret: Option<&str>,
) -> Result<ClientWithSecret> {
    let client = build(client_id, fields, clock.now())?;
    let secret = (!client.is_public())
        .then(|| chosen_secret.map_or_else(generate_client_secret, str::to_string));
    let made = with_secret(client, secret);
    store.create_client(&made.client).await?;
    Ok(made)
}

pub async fn get(store: &dyn Store, client_id: &str) -> Result<Client> {
    find(store, client_id).await
}

pub(crate) async fn find<S: ClientStore + ?Sized>(store: &S, client_id: &str) -> Result<Client> {
    store
        .find_client(client_id)
        .await?
        .ok_or(Error::NotFound { kind: "client" })
}

/// The attributes whose values differ between `before` and `after`.
fn changed(before: &Client, after: &Client) -> Vec<&'static str> {
    let differs = [
        ("name", before.name != after.name),
        ("description", before.description != after.description),
        ("app_type", before.app_type != after.app_type),
        (
            "is_first_party",
            before.is_first_party != after.is_first_party,
        ),
        ("grant_types", before.grant_types != after.grant_types),
        ("callbacks", before.callbacks != after.callbacks),
        (
            "allowed_logout_urls",
            before.allowed_logout_urls != after.allowed_logout_urls,
        ),
        ("web_origins", before.web_origins != after.web_origins),
        (
            "allowed_origins",
            before.allowed_origins != after.allowed_origins,
        ),
        (
            "token_endpoint_auth_method",
            before.token_endpoint_auth_method != after.token_endpoint_auth_method,
        ),
        ("refresh_token", before.refresh_token != after.refresh_token),
        (
            "client_metadata",
            before.client_metadata != after.client_metadata,
        ),
        ("client_secret", before.secret_hash != after.secret_hash),
    ];
    differs
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(name, _)| name)
        .collect()
}

/// Changes the given fields, unless `guard` refuses the client as the change would leave
/// it. A client that becomes confidential gets a secret, shown once.
pub async fn update(
    ed: &Editor<'_>,
    client_id: &str,
    input: ClientUpdate,
    guard: &AdminGuard,
) -> Result<ClientWithSecret> {
    let tx = ed.begin().await?;
    let before = find(tx.as_ref(), client_id).await?;
    let mut client = before.clone();
    apply(&mut client, input.fields)?;
    guard.check_update(&client)?;
    let secret = input.secret.or_else(|| {
        (!client.is_public() && client.secret_hash.is_none()).then(generate_client_secret)
    });
    if let Some(secret) = &secret {
        client.secret_hash = Some(hash_client_secret(secret));
    }
    client.updated_at = ed.clock.now();
    tx.update_client(&client).await?;
    let change = ApplicationChange::UpdateClient {
        client_id: client.client_id.clone(),
        name: client.name.clone(),
        attributes: changed(&before, &client),
    };
    ed.commit(tx, [change]).await?;
    Ok(ClientWithSecret { client, secret })
}

pub async fn rotate_secret(ed: &Editor<'_>, client_id: &str) -> Result<ClientWithSecret> {
    let tx = ed.begin().await?;
    let mut client = find(tx.as_ref(), client_id).await?;
    if client.is_public() {
        return Err(Error::Invalid(
            "a client with token_endpoint_auth_method none has no secret to rotate".into(),
        ));
    }
    let secret = generate_client_secret();
    client.secret_hash = Some(hash_client_secret(&secret));
    client.updated_at = ed.clock.now();
    tx.update_client(&client).await?;
    let change = ApplicationChange::RotateClientSecret {
        client_id: client.client_id.clone(),
        name: client.name.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(ClientWithSecret {
        client,
        secret: Some(secret),
    })
}

/// Brings one of the server's own clients back to `fields`, at start: not a change to the
/// tenant, so not audited.
pub(crate) async fn restore(
    store: &dyn Store,
    clock: &dyn Clock,
    client_id: &str,
    fields: ClientFields,
) -> Result<()> {
    let mut client = find(store, client_id).await?;
    apply(&mut client, fields)?;
    client.updated_at = clock.now();
    store.update_client(&client).await?;
    Ok(())
}

/// Stores `secret` (hashed) as the secret of one of the server's own clients, at start.
pub(crate) async fn set_secret(
    store: &dyn Store,
    clock: &dyn Clock,
    client: &mut Client,
    secret: &str,
) -> Result<()> {
    client.secret_hash = Some(hash_client_secret(secret));
    client.updated_at = clock.now();
    store.update_client(client).await?;
    Ok(())
}

/// Deletes the client, unless `guard` keeps it.
pub async fn delete(ed: &Editor<'_>, client_id: &str, guard: &AdminGuard) -> Result<Client> {
    guard.check_delete(client_id)?;
    let tx = ed.begin().await?;
    let client = find(tx.as_ref(), client_id).await?;
    tx.delete_client(&client.client_id).await?;
    let change = ApplicationChange::DeleteClient {
        client_id: client.client_id.clone(),
        name: client.name.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(client)
}
