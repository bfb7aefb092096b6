//! The activation page's steps (RFC 8628 §3.3): the user types the code their device
//! shows, signs in, and approves or refuses the device. What the page says about a code
//! never depends on whose it is, and it is only ever looked up by digest.

use crate::clock::Clock;
use crate::model::{Client, DeviceDecision, User};
use crate::oauth::device_code::{normalize_user_code, user_code_digest};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// Malformed, never issued, or already decided: the page tells these apart from
    /// nothing, so that codes cannot be probed.
    #[error("The code you entered is invalid or has been used. Check it and try again.")]
    InvalidCode,
    #[error("The code you entered has expired. Start again on your device.")]
    Expired,
    #[error(transparent)]
    Failed(#[from] crate::Error),
}

impl From<crate::store::StoreError> for ActivationError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Failed(e.into())
    }
}

/// A device waiting for its user's decision, and what it asks for.
#[derive(Debug, Clone)]
pub struct PendingDevice {
    /// Normalized (upper case, no dash).
    pub user_code: String,
    pub client: Client,
    pub scope: Vec<String>,
    pub audience: Option<String>,
}

/// The pending device whose user code was typed.
pub async fn pending(
    store: &dyn Store,
    clock: &dyn Clock,
    typed: &str,
) -> Result<PendingDevice, ActivationError> {
    let user_code = normalize_user_code(typed).ok_or(ActivationError::InvalidCode)?;
    let code = store
        .find_device_code_by_user_code(&user_code_digest(&user_code))
        .await?
        .ok_or(ActivationError::InvalidCode)?;
    if code.expires_at <= clock.now() {
        return Err(ActivationError::Expired);
    }
    if code.decision != DeviceDecision::Pending {
        return Err(ActivationError::InvalidCode);
    }
    let client = store
        .find_client(&code.client_id)
        .await?
        .ok_or(ActivationError::InvalidCode)?;
    Ok(PendingDevice {
        user_code,
        client,
        scope: code.scope,
        audience: code.audience,
    })
}

/// Records the signed-in user's answer; a code decided meanwhile (another tab) or expired
/// since the page was shown is refused.
pub async fn decide(
    store: &dyn Store,
    clock: &dyn Clock,
    device: &PendingDevice,
    user: &User,
    auth_time: i64,
    approve: bool,
) -> Result<(), ActivationError> {
    let decision = if approve {
        DeviceDecision::Approved {
            user_id: user.user_id.clone(),
            auth_time,
        }
    } else {
        DeviceDecision::Denied
    };
    let now = clock.now();
    let digest = user_code_digest(&device.user_code);
    if store.decide_device_code(&digest, &decision, now).await? {
        Ok(())
    } else {
        Err(ActivationError::InvalidCode)
    }
}
