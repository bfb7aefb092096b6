//! Recording a successful log-in, with the connection's `first_login` defaults applied in
//! the same transaction when it is the user's first.

use crate::clock::Clock;
use crate::directory::default_assignments;
use crate::error::Result;
use crate::model::{AssignOn, User};
use crate::store::Store;

pub async fn record_login(
    store: &dyn Store,
    clock: &dyn Clock,
    user: &User,
    ip: &str,
) -> Result<User> {
    // Only a user who never logged in can need them; everyone else skips the lookup.
    let grant = if user.logins_count == 0 {
        default_assignments::grant_for(store, &user.connection, AssignOn::FirstLogin).await?
    } else {
        None
    };
    let (after, applied) = store
        .record_login(&user.user_id, ip, clock.now(), grant.as_ref())
        .await?;
    if let (true, Some(grant)) = (applied, &grant) {
        default_assignments::record_applied(
            store,
            clock,
            &user.user_id,
            AssignOn::FirstLogin,
            grant,
        )
        .await;
    }
    Ok(after)
}
