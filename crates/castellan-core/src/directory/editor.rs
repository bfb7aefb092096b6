//! Who makes a change, and the one way a change is written: in a store transaction that
//! also holds its audit entries, so that neither is ever written without the other.

use crate::audit::{self, Actor, Change};
use crate::clock::Clock;
use crate::store::{Store, StoreResult, Transaction};

pub struct Editor<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub actor: Actor,
    /// The request that asked for the change (`x-request-id`), kept in its audit entry.
    pub request_id: Option<String>,
}

impl<'a> Editor<'a> {
    /// Changes made from the command line (`castellan …`, `apply`, `import`), which has no
    /// token to name anyone by and serves no request.
    pub fn cli(store: &'a dyn Store, clock: &'a dyn Clock) -> Self {
        Editor {
            store,
            clock,
            actor: Actor::Cli,
            request_id: None,
        }
    }

    /// The transaction a command reads, checks and writes in.
    pub(crate) async fn begin(&self) -> StoreResult<Box<dyn Transaction>> {
        self.store.transaction().await
    }

    /// Records `changes` in `tx` and commits them with what `tx` wrote.
    pub(crate) async fn commit(
        &self,
        tx: Box<dyn Transaction>,
        changes: impl IntoIterator<Item = impl Into<Change>>,
    ) -> StoreResult<()> {
        for change in changes {
            let change: Change = change.into();
            let also = change.also_logged_as();
            let mut event = audit::event(&self.actor, self.request_id.as_deref(), change);
            event.date = self.clock.now();
            tx.record(&event).await?;
            // The same entry under Auth0's own code too (`gd_*` for MFA changes), so a
            // search by that code finds it; written in the same transaction as the change.
            if let Some(event_type) = also {
                let mut twin = event.clone();
                twin.log_id = uuid::Uuid::now_v7().simple().to_string();
                twin.event_type = event_type.to_string();
                tx.record(&twin).await?;
            }
        }
        tx.commit().await
    }
}
