//! MFA administration through the official Python SDK: auth0-python's Management layer
//! (`users.authentication_methods`, `users.enrollments`, `users.regenerate_recovery_code`,
//! `users.multifactor`, `guardian.policies`, `guardian.factors`) against the real binary,
//! checked by `compat/python/test_auth0_mfa.py`. The SDK is installed by
//! `compat/setup.sh`; without it this test fails and says so.

use crate::real_binary;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use real_binary::{Admin, Server, run_script};
use serde_json::json;

const COMPAT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat");
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// What the script's machine-to-machine client is granted: the MFA routes' scopes only.
const SCOPES: &[&str] = &[
    "read:authentication_methods",
    "create:authentication_methods",
    "delete:authentication_methods",
    "read:users",
    "update:users",
    "read:guardian_factors",
    "update:guardian_factors",
    "read:mfa_policies",
    "update:mfa_policies",
];

#[tokio::test]
async fn auth0_python_manages_mfa() {
    let sdk = Path::new(COMPAT).join(".python/auth0/management");
    assert!(
        sdk.exists(),
        "auth0-python is not installed under {COMPAT}/.python: run compat/setup.sh from the \
         workspace root first"
    );
    let server = Server::start().await;
    let admin = Admin::new(&server).await;
    let user = admin
        .post(
            "users",
            json!({"connection": "Username-Password-Authentication",
                   "email": "mfa@example.com", "password": "Correct-Horse-Battery-9"}),
        )
        .await;
    let (m2m_id, m2m_secret) = admin
        .client(json!({
            "name": "mfa sdk m2m",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
        }))
        .await;
    admin
        .post(
            "client-grants",
            json!({
                "client_id": m2m_id,
                "audience": format!("{}/api/v2/", server.base),
                "scope": SCOPES,
            }),
        )
        .await;

    let mut python = Command::new("python3");
    python
        .arg(Path::new(COMPAT).join("python/test_auth0_mfa.py"))
        .env("PYTHONPATH", Path::new(COMPAT).join(".python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(format!("--base={}", server.base))
        .arg(format!("--user-id={}", user["user_id"].as_str().unwrap()))
        .arg(format!("--m2m-id={m2m_id}"))
        .arg(format!("--m2m-secret={m2m_secret}"));
    let outcome = run_script(
        "the auth0-python MFA checks",
        python,
        Path::new(COMPAT),
        SCRIPT_TIMEOUT,
    )
    .await;
    if let Err(output) = outcome {
        panic!("{output}\n=== server log:\n{}", server.log());
    }
}
