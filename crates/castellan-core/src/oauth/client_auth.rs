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
    let Some(client) = client else {
        return Err(OAuthError::InvalidClient(UNAUTHORIZED.into()));
    };
    if client.is_public() {
        return Ok(client);
    }
    let (Some(secret), Some(hash)) = (&presented.client_secret, &client.secret_hash) else {
        return Err(OAuthError::InvalidClient(UNAUTHORIZED.into()));
    };
    if verify_client_secret(secret, hash) {
        Ok(client)
    } else {
        Err(OAuthError::InvalidClient(UNAUTHORIZED.into()))
    }
}
