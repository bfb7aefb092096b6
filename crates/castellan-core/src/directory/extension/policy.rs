//! The policy the extension's rule asks for at every log-in, and the API key that may ask
//! for it instead of a token.

use super::Result;
use crate::model::Policy;
use crate::secrets::{constant_time_eq, token_digest};
use crate::store::Store;

/// Groups (direct, mapped through `connection_name` from `idp_groups` and the direct groups'
/// names, and their ancestors), roles bound to `client_id` of those groups and of the user,
/// and their permissions; names, de-duplicated. A user Castellan does not know has none.
pub async fn compute(
    store: &dyn Store,
    user_id: &str,
    client_id: &str,
    connection_name: &str,
    idp_groups: &[String],
) -> Result<Policy> {
    Ok(store
        .policy(user_id, client_id, connection_name, idp_groups)
        .await?)
}

/// Compares the key's digest with the stored one in constant time; no key rotated yet
/// means no key is valid.
pub async fn api_key_is_valid(store: &dyn Store, key: &str) -> Result<bool> {
    let Some(stored) = store.configuration().await?.and_then(|c| c.api_key_digest) else {
        return Ok(false);
    };
    Ok(constant_time_eq(
        token_digest(key).as_bytes(),
        stored.as_bytes(),
    ))
}
