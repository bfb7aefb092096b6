/// A rule: JavaScript run at log-in, in `order` (Auth0's field; `rule_order` in SQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `rul_` followed by 16 letters and digits.
    pub id: String,
    pub name: String,
    pub script: String,
    pub order: i64,
    pub enabled: bool,
    /// Always `login_success`, the only stage Auth0 still runs.
    pub stage: String,
    pub created_at: i64,
    pub updated_at: i64,
}
