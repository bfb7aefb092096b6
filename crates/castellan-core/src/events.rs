//! The tenant log: who did what, from where, with Auth0's type codes. Writing an event
//! never fails the request it describes; a failure to write is itself logged.

use crate::clock::Clock;
use crate::model::{Client, LogEvent, User};
use crate::store::Store;

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub ip: String,
    pub user_agent: Option<String>,
}

pub fn event(event_type: &str, description: impl Into<String>, ctx: &RequestContext) -> LogEvent {
    LogEvent {
        log_id: uuid::Uuid::now_v7().simple().to_string(),
        event_type: event_type.to_string(),
        description: description.into(),
        ip: Some(ctx.ip.clone()),
        user_agent: ctx.user_agent.clone(),
        details: serde_json::json!({}),
        ..Default::default()
    }
}

pub trait LogEventExt {
    fn client(self, client: &Client) -> Self;
    fn user(self, user: &User) -> Self;
    fn connection(self, connection: &str) -> Self;
}

impl LogEventExt for LogEvent {
    fn client(mut self, client: &Client) -> Self {
        self.client_id = Some(client.client_id.clone());
        self.client_name = Some(client.name.clone());
        self
    }

    fn user(mut self, user: &User) -> Self {
        self.user_id = Some(user.user_id.clone());
        self.user_name = user.email.clone().or_else(|| user.username.clone());
        self.connection = Some(user.connection.clone());
        self
    }

    fn connection(mut self, connection: &str) -> Self {
        self.connection = Some(connection.to_string());
        self
    }
}

pub async fn record(store: &dyn Store, clock: &dyn Clock, mut event: LogEvent) {
    event.date = clock.now();
    if let Err(e) = store.append_log(&event).await {
        tracing::warn!(cause = %e, event_type = %event.event_type, "could not write a log event");
    }
}
