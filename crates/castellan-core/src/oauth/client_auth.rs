//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_post`
//! and `client_secret_basic`, decided by the binary from where the secret came. A
//! confidential client must use the method it registered (`token_endpoint_auth_method`),
//! so a secret that leaks through one channel cannot be used through another.

use super::OAuthError;
use crate::model::{Client, TokenEndpointAuthMethod};
use crate::secrets::verify_client_secret;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// How the secret came: `ClientSecretBasic` (the `Authorization` header),
    /// `ClientSecretPost` (the body) or `None` (no secret).
    pub method: TokenEndpointAuthMethod,
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
        (Some(secret), Some(hash)) if verify_client_secret(secret, hash) => {}
        _ => return Err(OAuthError::InvalidClient(UNAUTHORIZED.into())),
    }
    // Checked once the secret is known to be right, so the answer tells nobody else how
    // the client authenticates.
    if presented.method != client.token_endpoint_auth_method {
        return Err(OAuthError::InvalidClient(format!(
            "The client must authenticate with {}",
            crate::model::Named::name(client.token_endpoint_auth_method)
        )));
    }
    Ok(())
}
