/// One entry of the tenant's log, with Auth0's type codes (`s`, `f`, `fp`, `seccft`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogEvent {
    pub log_id: String,
    pub date: i64,
    pub event_type: String,
    pub description: String,
    pub client_id: Option<String>,
    pub client_name: Option<String>,
    pub connection: Option<String>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Value,
}
