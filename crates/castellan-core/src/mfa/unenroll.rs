//! A user removing one of their own factors (the MFA API's
//! `DELETE /mfa/authenticators/{id}`), logged as Guardian's `gd_unenroll`.

use crate::error::Result;
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::User;

use super::factors::Factors;

/// Whether the user had the factor.
pub async fn remove(
    factors: &Factors<'_>,
    user: &User,
    authenticator_id: &str,
    ctx: &RequestContext,
) -> Result<bool> {
    let removed = factors
        .store
        .delete_authenticator(&user.user_id, authenticator_id)
        .await?;
    if removed {
        let event =
            events::event("gd_unenroll", "Second factor removed by the user", ctx).user(user);
        events::record(factors.store, factors.clock, event).await;
    }
    Ok(removed)
}
