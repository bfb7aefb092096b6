//! `castellan admin create-user`: a database user who may use the admin console. The
//! console lets in users whose effective permissions on the Management API include
//! `castellan:admin`; this makes sure a role `castellan-admin` holds it and the user holds
//! the role. Every step is skipped when already true, so running it again changes nothing.

use castellan_core::directory::users::NewUser;
use castellan_core::model::{DATABASE_CONNECTION, Permission, Role, User};
use castellan_core::paging::PageRequest;
use serde_json::json;

use super::error::CliError;
use super::output::show;
use super::tenant::Tenant;
use super::{password, roles, users};

pub const ROLE_NAME: &str = "castellan-admin";
pub const CONSOLE_PERMISSION: &str = "castellan:admin";

#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Create (or find) a database user and make them a console administrator. Without
    /// --password a new user gets a generated one, printed once.
    CreateUser {
        #[arg(long)]
        email: String,
        /// For a user who exists already, this replaces their password.
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = DATABASE_CONNECTION)]
        connection: String,
    },
}

pub struct ConsoleAdmin {
    pub user: User,
    /// The user was made now (else found).
    pub created: bool,
    /// Set now: the one given, or the one generated for a new user. `None` for a user who
    /// was found and kept their password.
    pub password: Option<String>,
    pub generated: bool,
}

pub async fn run(tenant: &Tenant, action: AdminAction, json_wanted: bool) -> Result<(), CliError> {
    let AdminAction::CreateUser {
        email,
        password,
        connection,
    } = action;
    let admin = ensure(tenant, &email, password, &connection).await?;
    let mut report = json!({
        "user": admin.user.to_auth0_json(),
        "created": admin.created,
        "role": ROLE_NAME,
    });
    if admin.generated {
        report["password"] = json!(admin.password);
    }
    show(json_wanted, report, || {
        let mut out = format!(
            "{} {} ({}) is a console administrator (role {ROLE_NAME}).\n",
            if admin.created { "Created" } else { "Found" },
            admin.user.user_id,
            email
        );
        if let (true, Some(password)) = (admin.generated, &admin.password) {
            out.push_str(&format!("Generated password, shown only now: {password}\n"));
        }
        out
    });
    Ok(())
}

pub async fn ensure(
    tenant: &Tenant,
    email: &str,
    password: Option<String>,
    connection: &str,
) -> Result<ConsoleAdmin, CliError> {
    let role = ensure_role(tenant).await?;
    let find = || async {
        let found =
            castellan_core::directory::users::by_email(tenant.store.as_ref(), email).await?;
        Ok::<_, CliError>(found.into_iter().find(|u| u.connection == connection))
    };
    let admin = match find().await? {
        Some(user) => {
            let user = match &password {
                Some(p) => users::set_password(tenant, &user, p).await?,
                None => user,
            };
            ConsoleAdmin {
                user,
                created: false,
                password,
                generated: false,
            }
        }
        None => {
            let db = tenant
                .store
                .find_connection_by_name(connection)
                .await?
                .ok_or_else(|| CliError::Input(format!("no connection \"{connection}\"")))?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| password::generate(&db, email));
            let request = NewUser {
                connection: connection.to_string(),
                email: Some(email.to_string()),
                password: Some(password.clone()),
                // The operator vouches for the address of the person they make an admin.
                email_verified: true,
                ..NewUser::default()
            };
            match users::create(tenant, request).await {
                Ok(user) => ConsoleAdmin {
                    user,
                    created: true,
                    password: Some(password),
                    generated,
                },
                // Another process starting together made the administrator, with its password.
                Err(CliError::Core(castellan_core::Error::Conflict(_))) => ConsoleAdmin {
                    user: find().await?.ok_or_else(|| {
                        CliError::Input(format!("{email} exists in another connection"))
                    })?,
                    created: false,
                    password: None,
                    generated: false,
                },
                Err(e) => return Err(e),
            }
        }
    };
    let held = tenant
        .store
        .list_user_roles(&admin.user.user_id, PageRequest::ALL)
        .await?;
    if !held.items.iter().any(|r| r.id == role.id) {
        roles::assign(tenant, &role, std::slice::from_ref(&admin.user.user_id)).await?;
    }
    Ok(admin)
}

/// The role `castellan-admin` with `castellan:admin` on the Management API.
async fn ensure_role(tenant: &Tenant) -> Result<Role, CliError> {
    let management_api = tenant.management_api().await?;
    let role = roles::ensure(tenant, ROLE_NAME, "Administrators of the Castellan console").await?;
    let permission = Permission {
        resource_server_identifier: management_api,
        permission_name: CONSOLE_PERMISSION.into(),
    };
    let held = tenant
        .store
        .list_role_permissions(&role.id, PageRequest::ALL)
        .await?;
    if !held.items.contains(&permission) {
        roles::add_permissions(tenant, &role, &[permission]).await?;
    }
    Ok(role)
}
