//! The tenant's MFA policy and factors in `castellan export` and `apply`: exported in
//! deploy-cli's `guardianFactors`/`guardianPolicies`, applied to another tenant through
//! the same use cases (audited with the command line as the actor), shown in the plan,
//! a second apply changing nothing, and bad values refused at their place in the file.

use crate::common;

use castellan::app::AppState;
use castellan::tenant_config::{self, ApplyOptions, ConfigError, Tenant};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn tenant(state: &AppState) -> Tenant<'_> {
    Tenant {
        store: state.store.as_ref(),
        clock: state.clock.as_ref(),
        master: &state.master_key,
        scripts: &state.scripts,
        issuer: &state.settings.issuer,
        bootstrap_client_id: state.settings.bootstrap.as_ref().map(|(id, _)| id.as_str()),
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

async fn apply(
    server: &TestServer,
    dir: &std::path::Path,
    dry_run: bool,
) -> Result<tenant_config::Applied, ConfigError> {
    let options = ApplyOptions {
        dry_run,
        delete_missing: false,
    };
    tenant_config::apply(&tenant(&server.running().state), dir, options, &no_env).await
}

async fn settings(server: &TestServer) -> (Value, Value) {
    let (_, policies) = server.admin(Method::GET, "/guardian/policies", None).await;
    let (_, factors) = server.admin(Method::GET, "/guardian/factors", None).await;
    (policies, factors)
}

async fn put(server: &TestServer, path: &str, body: Value) {
    let (status, answer) = server.admin(Method::PUT, path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn the_mfa_settings_go_through_export_and_apply() {
    let source = TestServer::start().await;
    put(&source, "/guardian/policies", json!(["all-applications"])).await;
    put(&source, "/guardian/factors/email", json!({"enabled": true})).await;
    put(&source, "/guardian/factors/otp", json!({"enabled": false})).await;
    let dir = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&source.running().state), dir.path())
        .await
        .unwrap();
    let yaml = std::fs::read_to_string(dir.path().join("tenant.yaml")).unwrap();
    assert!(yaml.contains("guardianFactors:"), "{yaml}");
    assert!(yaml.contains("guardianPolicies:"), "{yaml}");
    assert!(yaml.contains("all-applications"), "{yaml}");

    let target = TestServer::start().await;
    let before = settings(&target).await;
    let dry = apply(&target, dir.path(), true).await.unwrap();
    let shown = dry.plan.to_string();
    for line in [
        "enable the MFA factor email",
        "disable the MFA factor otp",
        "change the MFA policies: [all-applications]",
    ] {
        assert!(shown.contains(line), "{line} not in\n{shown}");
    }
    assert!(!dry.applied);
    assert_eq!(settings(&target).await, before, "a dry run changes nothing");

    let applied = apply(&target, dir.path(), false).await.unwrap();
    assert!(applied.applied, "{}", applied.plan);
    assert_eq!(settings(&target).await, settings(&source).await);
    let again = apply(&target, dir.path(), false).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);

    let audited = target.sapi_entries().await;
    let mfa: Vec<&Value> = audited
        .iter()
        .filter(|e| {
            ["set_guardian_factor", "set_mfa_policies"]
                .contains(&e["details"]["action"].as_str().unwrap())
        })
        .collect();
    assert_eq!(mfa.len(), 3, "{mfa:?}");
    assert!(
        mfa.iter()
            .all(|e| e["details"]["actor"] == json!({"type": "cli"}))
    );

    // The same tenant exported again gives the same file.
    let second = tempfile::tempdir().unwrap();
    tenant_config::export(&tenant(&target.running().state), second.path())
        .await
        .unwrap();
    let exported = std::fs::read_to_string(second.path().join("tenant.yaml")).unwrap();
    assert_eq!(exported, yaml);
}

#[tokio::test]
async fn an_auth0_export_with_factors_castellan_lacks_applies_when_they_are_off() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let auth0 = "guardianFactors:\n  - name: sms\n    enabled: false\n    trial_expired: false\n  - name: push-notification\n    enabled: false\n  - name: duo\n    enabled: false\n  - name: otp\n    enabled: true\n  - name: email\n    enabled: false\nguardianPolicies:\n  policies: []\n";
    std::fs::write(dir.path().join("tenant.yaml"), auth0).unwrap();
    let applied = apply(&server, dir.path(), false).await.unwrap();
    assert!(
        applied.plan.is_empty(),
        "the defaults already match:\n{}",
        applied.plan
    );
    assert!(
        applied.notes.iter().all(|n| !n.contains("guardian")),
        "the MFA settings are applied, not set aside: {:?}",
        applied.notes
    );
}

#[tokio::test]
async fn bad_mfa_settings_are_refused_at_their_place_and_change_nothing() {
    let server = TestServer::start().await;
    let before = settings(&server).await;
    let dir = tempfile::tempdir().unwrap();
    for (yaml, expected) in [
        (
            "guardianPolicies:\n  policies: [confidence-score]\n",
            "tenant.yaml:2:3: the policy \"confidence-score\" (adaptive MFA) is not supported",
        ),
        (
            "guardianPolicies:\n  policies: [sometimes]\n",
            "tenant.yaml:2:3: policies must be [] or [\"all-applications\"]",
        ),
        (
            "guardianFactors:\n  - name: email\n    enabled: true\n  - name: sms\n    enabled: true\n",
            "tenant.yaml:4:5: the factor \"sms\" is not supported here",
        ),
        (
            "guardianFactors:\n  - name: telepathy\n    enabled: true\n",
            "tenant.yaml:2:5: \"telepathy\" is not an MFA factor",
        ),
        (
            "guardianFactors:\n  - name: otp\n    enabled: true\n  - name: otp\n    enabled: false\n",
            "tenant.yaml:4:5: the factor \"otp\" is named twice",
        ),
        (
            "guardianFactors:\n  - name: otp\n    enabled: maybe\n",
            "tenant.yaml:",
        ),
    ] {
        std::fs::write(dir.path().join("tenant.yaml"), yaml).unwrap();
        let e = apply(&server, dir.path(), false).await.expect_err(yaml);
        let shown = e.to_string();
        assert!(matches!(e, ConfigError::Refused(_)), "{yaml}: {shown}");
        assert!(shown.contains(expected), "{yaml}: {shown}");
        assert_eq!(settings(&server).await, before, "{yaml}");
    }
    assert!(
        server
            .audit_entries_of("set_guardian_factor")
            .await
            .is_empty()
    );
}
