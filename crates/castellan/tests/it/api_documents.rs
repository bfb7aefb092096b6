//! The two OpenAPI documents, checked by tools that know nothing of Castellan:
//! openapi-spec-validator says each is a valid OpenAPI document, and schemathesis sends
//! generated requests to every operation of the running server with the administrator's
//! token, requiring that no answer is a 5xx and that every answer matches the schema its
//! operation documents. The tools are installed by `compat/setup.sh` (which `scripts/test`
//! runs first) into `compat/.schemathesis`; without them this test fails and says so.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::authz_support::AUTHZ;
use crate::common::*;
use crate::real_binary::run_script;

const TOOLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/.schemathesis");
/// Generated requests per operation: enough to reach every parameter's edge cases in a
/// bounded run, which `SCHEMATHESIS_TIMEOUT` stops if it is not.
const EXAMPLES_PER_OPERATION: &str = "15";
const SCHEMATHESIS_TIMEOUT: Duration = Duration::from_secs(300);
/// A fixed seed, so that a failure is reproduced by running the test again; set
/// `CASTELLAN_FUZZ_SEED` to explore further.
const DEFAULT_SEED: &str = "14";

fn require_installed() {
    let tools = Path::new(TOOLS);
    assert!(
        tools.join("schemathesis").exists() && tools.join("openapi_spec_validator").exists(),
        "schemathesis and openapi-spec-validator are not installed under {TOOLS}: \
         run compat/setup.sh from the workspace root first"
    );
}

fn python() -> Command {
    let mut python = Command::new("python3");
    python
        .env("PYTHONPATH", TOOLS)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    python
}

/// Fetches the document at `path`, has it validated, and fuzzes the API it describes.
async fn check_document(server: &TestServer, path: &str, prefix: &str, token: &str) {
    let document = server.get_text(path).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &document).unwrap();

    let mut validate = python();
    validate.args([
        "-c",
        "import json, sys; from openapi_spec_validator import validate; \
         validate(json.load(open(sys.argv[1])))",
    ]);
    validate.arg(&file);
    if let Err(failure) = run_script(
        &format!("openapi-spec-validator on {path}"),
        validate,
        dir.path(),
        Duration::from_secs(60),
    )
    .await
    {
        panic!("{failure}");
    }

    let seed = std::env::var("CASTELLAN_FUZZ_SEED").unwrap_or(DEFAULT_SEED.into());
    let mut fuzz = python();
    fuzz.args(["-m", "schemathesis.cli", "--no-color", "run"])
        .arg(&file)
        .arg(format!("--url={}", server.url(prefix)))
        .arg(format!("--header=Authorization: Bearer {token}"))
        .arg("--checks=not_a_server_error,response_schema_conformance")
        .arg(format!("--max-examples={EXAMPLES_PER_OPERATION}"))
        .arg("--phases=examples,coverage,fuzzing")
        .arg(format!("--seed={seed}"))
        .arg("--workers=2");
    if let Err(failure) = run_script(
        &format!("schemathesis on {path}"),
        fuzz,
        dir.path(),
        SCHEMATHESIS_TIMEOUT,
    )
    .await
    {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn both_documents_are_valid_and_every_operation_keeps_to_them_under_fuzzing() {
    require_installed();
    let server = TestServer::start().await;
    let management = server.admin_token(None).await;
    // Taken first: fuzzing the Management API may well delete the grant it comes from.
    let authz = server.token(ADMIN_ID, ADMIN_SECRET, AUTHZ, None).await;
    check_document(&server, "/api/v2/openapi.json", "/api/v2", &management).await;
    check_document(&server, "/authz/api/openapi.json", "/authz/api", &authz).await;
}

/// The operations of the document at `path` whose success answer, or whose body where it
/// reads one, is not declared with its schema. `no_body` names the paths (by their ending)
/// of the writes that read no body.
async fn undeclared_operations(server: &TestServer, path: &str, no_body: &[&str]) -> Vec<String> {
    let document: serde_json::Value = server.get_json(path).await;
    let mut undeclared = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let success = responses.keys().find(|k| k.starts_with('2'));
            // An undeclared answer is documented as any 2XX; a declared one names its
            // status, and its schema unless it has no body.
            let declared = match success.map(String::as_str) {
                Some("2XX") | None => false,
                Some(status) => {
                    let content = &responses[status]["content"];
                    content.is_null() || content["application/json"]["schema"].is_object()
                }
            };
            let reads_body = ["post", "put", "patch"].contains(&method.as_str())
                && !no_body.iter().any(|ending| path.ends_with(ending));
            let body_declared = !reads_body || operation["requestBody"].is_object();
            if !declared || !body_declared {
                undeclared.push(format!("{method} {path}"));
            }
        }
    }
    undeclared
}

#[tokio::test]
async fn both_apis_declare_every_answer_and_body() {
    let server = TestServer::start().await;
    let authz = undeclared_operations(
        &server,
        "/authz/api/openapi.json",
        &["/rotate-apikey", "/resource-server"],
    )
    .await;
    assert!(authz.is_empty(), "undeclared: {authz:?}");
    let management = undeclared_operations(
        &server,
        "/api/v2/openapi.json",
        &[
            "/deploy",
            "/rotate",
            "/rotate-secret",
            "/revoke",
            "/recovery-code-regeneration",
            "/invalidate-remember-browser",
        ],
    )
    .await;
    assert!(management.is_empty(), "undeclared: {management:?}");
}
