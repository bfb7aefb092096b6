//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_post`
//! and `client_secret_basic`, decided by the binary from where the secret came.

use super::OAuthError;
use crate::model::Client;
use crate::secrets::verify_client_secret;
use crate::store::Store;

pub struct PresentedCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
}

const UNAUTHORIZED: &str = "Unauthorized";

/// The client, if the presented secret is its secret. Unknown client and wrong secret give
/// the same answer.
pub async fn authenticate(
    store: &dyn Store,
    presented: &PresentedCredentials,
) -> Result<Client, OAuthError> {
    let client = store.find_client(&presented.client_id).await?;
    let client = client.ok_or_else(|| OAuthError::InvalidClient(UNAUTHORIZED.into()))?;
    check_secret(&client, presented)?;
    // The console redeems its own codes without issuing tokens; a code or token of its
    // client must never be had here, where the tenant's scopes and rules apply.
    if client.client_id == crate::login::console::CLIENT_ID {
        return Err(OAuthError::UnauthorizedClient(
            "The admin console's client cannot use the token endpoint".into(),
        ));
    }
    Ok(client)
}

/// Whether the presented secret is this (already loaded) client's.
pub fn check_secret(client: &Client, presented: &PresentedCredentials) -> Result<(), OAuthError> {
    if client.is_public() {
        return Ok(());
    }
    match (&presented.client_secret, &client.secret_hash) {
        (Some(secret), Some(hash)) if verify_client_secret(secret, hash) => Ok(()),
        _ => Err(OAuthError::InvalidClient(UNAUTHORIZED.into())),
    }
}
