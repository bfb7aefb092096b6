//! Which API an `audience` names, including the `https://` alias of the Management API.

use crate::Result;
use crate::model::ResourceServer;
use crate::store::ResourceServerStore;
use crate::system_apis::{management_api_https_alias, management_api_identifier};

pub async fn resolve<S: ResourceServerStore + ?Sized>(
    store: &S,
    issuer: &str,
    audience: &str,
) -> Result<Option<ResourceServer>> {
    Ok(store
        .find_resource_server_by_identifier(&canonical(issuer, audience))
        .await?)
}

/// The identifier an audience stands for: the Management API's `https://` alias is
/// replaced by its identifier; anything else is itself.
pub fn canonical(issuer: &str, audience: &str) -> String {
    if management_api_https_alias(issuer).as_deref() == Some(audience) {
        management_api_identifier(issuer)
    } else {
        audience.to_string()
    }
}

/// Every string a token's `aud` may hold to count as addressed to `api`.
pub fn accepted_audiences(issuer: &str, api: &ResourceServer) -> Vec<String> {
    let mut out = vec![api.identifier.clone()];
    if api.identifier == management_api_identifier(issuer)
        && let Some(alias) = management_api_https_alias(issuer)
    {
        out.push(alias);
    }
    out
}
