use super::Named;

/// The moments of a log-in flow an action can be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    PostLogin,
    PostUserRegistration,
}

impl Named for Trigger {
    const ALL: &'static [Self] = &[Self::PostLogin, Self::PostUserRegistration];
    fn name(self) -> &'static str {
        match self {
            Self::PostLogin => "post-login",
            Self::PostUserRegistration => "post-user-registration",
        }
    }
}

impl Trigger {
    /// The one version of the trigger's API that is served (Auth0's current one).
    pub fn version(self) -> &'static str {
        match self {
            Self::PostLogin => "v3",
            Self::PostUserRegistration => "v2",
        }
    }
}

/// A secret of an action: its value sealed with the master key, bound to the action id and
/// the secret's name. Stored as JSON; never shown through the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionSecret {
    pub name: String,
    pub sealed_value: String,
    pub updated_at: i64,
}

/// An action: the draft that the Management API edits, and the version last deployed,
/// which is what runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// A UUID.
    pub id: String,
    pub name: String,
    /// Auth0 lists `supported_triggers`; Castellan takes exactly one.
    pub trigger: Trigger,
    pub code: String,
    pub runtime: String,
    pub secrets: Vec<ActionSecret>,
    /// False after a change to the code, runtime or secrets until the next deployment.
    pub all_changes_deployed: bool,
    /// The latest deployed version, if any.
    pub deployed: Option<ActionVersion>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A deployment: a snapshot of an action's code, runtime and (sealed) secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionVersion {
    /// A UUID.
    pub id: String,
    pub action_id: String,
    /// 1 for the first deployment of the action, then one more each time.
    pub number: i64,
    pub code: String,
    pub runtime: String,
    pub secrets: Vec<ActionSecret>,
    pub created_at: i64,
}

/// One place in a trigger's ordered list of actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionBinding {
    /// A UUID.
    pub id: String,
    pub trigger: Trigger,
    pub action_id: String,
    pub display_name: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the log-in pipeline runs for a trigger: the deployed snapshot of a bound action,
/// its secrets still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedAction {
    pub id: String,
    pub name: String,
    pub code: String,
    /// (name, sealed value).
    pub secrets: Vec<(String, String)>,
}
