//! Applications: creation with a secret shown once, changes, secret rotation.

use std::collections::BTreeMap;

use super::validate;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{AppType, Client, TokenEndpointAuthMethod};
use crate::secrets::{generate_client_secret, hash_client_secret};
use crate::store::Store;

/// Grant types a client may list (Auth0's names).
pub const KNOWN_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "implicit",
    "refresh_token",
    "client_credentials",
    "password",
    "http://auth0.com/oauth/grant-type/password-realm",
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
    pub token_endpoint_auth_method: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
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
    if let Some(method) = fields.token_endpoint_auth_method {
        client.token_endpoint_auth_method = validate::named("token_endpoint_auth_method", &method)?;
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

pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    fields: ClientFields,
) -> Result<ClientWithSecret> {
    create_with_id(store, clock, crate::ids::client_id(), fields, None).await
}

/// Like `create` but with a caller-chosen id (the bootstrap administrator, the console's
/// and the demo's clients) and, for a confidential client, optionally a chosen secret: in
/// the same write, so that a node starting beside this one never finds the client with a
/// secret other than the chosen one.
pub async fn create_with_id(
    store: &dyn Store,
    clock: &dyn Clock,
    client_id: String,
    fields: ClientFields,
    chosen_secret: Option<&str>,
) -> Result<ClientWithSecret> {
    let Some(name) = fields.name.as_deref() else {
        return Err(Error::Invalid("name is required".into()));
    };
    validate::non_empty("name", name, 255)?;
    let app_type: AppType = match fields.app_type.as_deref() {
        Some(t) => validate::named("app_type", t)?,
        None => AppType::RegularWeb,
    };
    let now = clock.now();
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
        token_endpoint_auth_method: default_auth_method(app_type),
        client_metadata: BTreeMap::new(),
        secret_hash: None,
        created_at: now,
        updated_at: now,
    };
    apply(&mut client, fields)?;
    let secret = (!client.is_public())
        .then(|| chosen_secret.map_or_else(generate_client_secret, str::to_string));
    client.secret_hash = secret.as_deref().map(hash_client_secret);
    store.create_client(&client).await?;
    Ok(ClientWithSecret { client, secret })
}

pub async fn get(store: &dyn Store, client_id: &str) -> Result<Client> {
    store
        .find_client(client_id)
        .await?
        .ok_or(Error::NotFound { kind: "client" })
}

/// Changes the given fields. A client that becomes confidential gets a secret, shown once.
pub async fn update(
    store: &dyn Store,
    clock: &dyn Clock,
    client_id: &str,
    fields: ClientFields,
) -> Result<ClientWithSecret> {
    update_checked(store, clock, client_id, fields, |_| Ok(())).await
}

/// `update`, unless `check` refuses the client as the change would leave it.
pub async fn update_checked(
    store: &dyn Store,
    clock: &dyn Clock,
    client_id: &str,
    fields: ClientFields,
    check: impl Fn(&Client) -> Result<()>,
) -> Result<ClientWithSecret> {
    let mut client = get(store, client_id).await?;
    apply(&mut client, fields)?;
    check(&client)?;
    let secret = (!client.is_public() && client.secret_hash.is_none()).then(generate_client_secret);
    if let Some(secret) = &secret {
        client.secret_hash = Some(hash_client_secret(secret));
    }
    client.updated_at = clock.now();
    store.update_client(&client).await?;
    Ok(ClientWithSecret { client, secret })
}

pub async fn rotate_secret(
    store: &dyn Store,
    clock: &dyn Clock,
    client_id: &str,
) -> Result<ClientWithSecret> {
    let mut client = get(store, client_id).await?;
    if client.is_public() {
        return Err(Error::Invalid(
            "a client with token_endpoint_auth_method none has no secret to rotate".into(),
        ));
    }
    let secret = generate_client_secret();
    set_secret(store, clock, &mut client, &secret).await?;
    Ok(ClientWithSecret {
        client,
        secret: Some(secret),
    })
}

/// Stores `secret` (hashed) as the client's secret.
pub async fn set_secret(
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

pub async fn delete(store: &dyn Store, client_id: &str) -> Result<()> {
    if store.delete_client(client_id).await? {
        Ok(())
    } else {
        Err(Error::NotFound { kind: "client" })
    }
}
