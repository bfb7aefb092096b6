//! Management API `/actions`: actions with sealed secrets that are never answered, deploying
//! (what runs is the deployed snapshot, never the draft), and each trigger's ordered
//! bindings, replaced as a whole or not at all.

use crate::common;

use castellan_core::directory::actions;
use castellan_core::model::Trigger;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CODE: &str = "exports.onExecutePostLogin = async (event, api) => {};";
const SECRET: &str = "s3cr3t-value-that-must-not-leak";

fn new_action(name: &str, trigger: &str) -> Value {
    json!({
        "name": name,
        "supported_triggers": [{"id": trigger}],
        "code": CODE,
    })
}

impl TestServer {
    async fn create_action(&self, body: Value) -> Value {
        let (status, action) = self
            .admin(Method::POST, "/actions/actions", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{action}");
        action
    }

    async fn deploy(&self, id: &str) -> Value {
        let (status, version) = self
            .admin(Method::POST, &format!("/actions/actions/{id}/deploy"), None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{version}");
        version
    }

    async fn action_count(&self) -> Value {
        let (status, list) = self.admin(Method::GET, "/actions/actions", None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list["total"].clone()
    }
}

fn is_iso_date(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() >= 20 && s.as_bytes()[4] == b'-' && s.contains('T'))
}

#[tokio::test]
async fn actions_crud_with_sealed_secrets_and_refusals() {
    let server = TestServer::start().await;
    let mut body = new_action("Add claims", "post-login");
    body["supported_triggers"][0]["version"] = json!("v3");
    body["dependencies"] = json!([]);
    body["secrets"] = json!([{"name": "API_KEY", "value": SECRET}, {"name": "OTHER", "value": ""}]);
    let (status, created) = server
        .admin(Method::POST, "/actions/actions", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(created["name"], "Add claims");
    assert_eq!(
        created["supported_triggers"],
        json!([{"id": "post-login", "version": "v3"}])
    );
    assert_eq!(
        (
            created["code"].clone(),
            created["dependencies"].clone(),
            created["runtime"].clone(),
            created["status"].clone(),
            created["all_changes_deployed"].clone(),
        ),
        (
            json!(CODE),
            json!([]),
            json!("node22"),
            json!("built"),
            json!(false)
        )
    );
    assert!(created.get("deployed_version").is_none(), "{created}");
    assert!(is_iso_date(&created["created_at"]) && is_iso_date(&created["updated_at"]));
    let secret_names: Vec<&str> = created["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(is_iso_date(&s["updated_at"]), "{s}");
            assert!(s.get("value").is_none(), "{s}");
            s["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(secret_names, ["API_KEY", "OTHER"]);
    assert!(!created.to_string().contains(SECRET));

    // At rest the value is sealed with the master key.
    let store = server.running().state.store.clone();
    let stored = store.find_action(&id).await.unwrap().unwrap();
    assert!(
        stored
            .secrets
            .iter()
            .all(|s| !s.sealed_value.contains(SECRET) && !s.sealed_value.is_empty())
    );

    let path = format!("/actions/actions/{id}");
    let (status, read) = server.admin(Method::GET, &path, None).await;
    assert_eq!((status, &read), (StatusCode::OK, &created));

    // Each refusal is clear and writes nothing.
    let with = |field: &str, value: Value| {
        let mut body = new_action("Fresh", "post-login");
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = new_action("Fresh", "post-login");
        body.as_object_mut().unwrap().remove(field);
        body
    };
    for (body, expected, says) in [
        (without("name"), StatusCode::BAD_REQUEST, "name is required"),
        (
            with("name", json!("")),
            StatusCode::BAD_REQUEST,
            "name must not be empty",
        ),
        (
            with("name", json!("  ")),
            StatusCode::BAD_REQUEST,
            "name must not be empty",
        ),
        (
            with("name", json!("Add claims")),
            StatusCode::CONFLICT,
            "same name",
        ),
        (without("code"), StatusCode::BAD_REQUEST, "code is required"),
        (
            with("code", json!(" \n")),
            StatusCode::BAD_REQUEST,
            "code must not be empty",
        ),
        (
            without("supported_triggers"),
            StatusCode::BAD_REQUEST,
            "supported_triggers is required",
        ),
        (
            with("supported_triggers", json!([])),
            StatusCode::BAD_REQUEST,
            "exactly one trigger",
        ),
        (
            with(
                "supported_triggers",
                json!([{"id": "post-login"}, {"id": "post-user-registration"}]),
            ),
            StatusCode::BAD_REQUEST,
            "exactly one trigger",
        ),
        (
            with(
                "supported_triggers",
                json!([{"id": "pre-user-registration"}]),
            ),
            StatusCode::BAD_REQUEST,
            "trigger \"pre-user-registration\" is not supported",
        ),
        (
            with(
                "supported_triggers",
                json!([{"id": "post-login", "version": "v1"}]),
            ),
            StatusCode::BAD_REQUEST,
            "served at version v3",
        ),
        (
            with("runtime", json!("node12")),
            StatusCode::BAD_REQUEST,
            "runtime \"node12\" is not supported",
        ),
        (
            with(
                "dependencies",
                json!([{"name": "lodash", "version": "4.17.21"}]),
            ),
            StatusCode::BAD_REQUEST,
            "dependencies are not supported",
        ),
        (
            with("secrets", json!([{"name": "", "value": "x"}])),
            StatusCode::BAD_REQUEST,
            "secret name must not be empty",
        ),
        (
            with("secrets", json!([{"value": "x"}])),
            StatusCode::BAD_REQUEST,
            "secrets[0].name must be a string",
        ),
        (
            with("secrets", json!([{"name": "A", "value": 5}])),
            StatusCode::BAD_REQUEST,
            "secrets[0].value must be a string",
        ),
        (
            with("secrets", json!([{"name": "A", "value": null}])),
            StatusCode::BAD_REQUEST,
            "secrets[0].value must be a string",
        ),
        (
            with("secrets", json!([{"name": "A"}])),
            StatusCode::BAD_REQUEST,
            "secret \"A\" needs a value",
        ),
        (
            with(
                "secrets",
                json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]),
            ),
            StatusCode::BAD_REQUEST,
            "secret \"A\" is given more than once",
        ),
        (
            with("colour", json!("red")),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
    ] {
        let (status, answer) = server
            .admin(Method::POST, "/actions/actions", Some(body.clone()))
            .await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["statusCode"], expected.as_u16(), "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{body}: {answer}"
        );
    }
    let (_, lodash) = server
        .admin(
            Method::POST,
            "/actions/actions",
            Some(with(
                "dependencies",
                json!([{"name": "lodash", "version": "4.17.21"}]),
            )),
        )
        .await;
    assert!(
        lodash["message"]
            .as_str()
            .unwrap()
            .contains("lodash@4.17.21"),
        "names the module: {lodash}"
    );
    assert_eq!(server.action_count().await, json!(1), "nothing written");

    // Listing, filters and paging.
    server
        .create_action(new_action("Welcome mail", "post-user-registration"))
        .await;
    let (status, all) = server.admin(Method::GET, "/actions/actions", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            all["total"].clone(),
            all["page"].clone(),
            all["per_page"].clone()
        ),
        (json!(2), json!(0), json!(50))
    );
    assert_eq!(all["actions"][0], created, "sorted by name");
    let names = |list: &Value| -> Vec<String> {
        list["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    for (query, expected) in [
        ("?triggerId=post-user-registration", vec!["Welcome mail"]),
        ("?triggerId=post-login", vec!["Add claims"]),
        ("?actionName=Welcome%20mail", vec!["Welcome mail"]),
        ("?actionName=nothing", vec![]),
        ("?deployed=true", vec![]),
        ("?deployed=false", vec!["Add claims", "Welcome mail"]),
        ("?per_page=1&page=1", vec!["Welcome mail"]),
        ("?per_page=1&page=2", vec![]),
    ] {
        let (status, list) = server
            .admin(Method::GET, &format!("/actions/actions{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(names(&list), expected, "{query}");
    }
    let (_, paged) = server
        .admin(Method::GET, "/actions/actions?per_page=1&page=1", None)
        .await;
    assert_eq!(
        (
            paged["total"].clone(),
            paged["page"].clone(),
            paged["per_page"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    for query in [
        "?triggerId=credentials-exchange",
        "?deployed=maybe",
        "?per_page=101",
    ] {
        let (status, answer) = server
            .admin(Method::GET, &format!("/actions/actions{query}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert_eq!(answer["errorCode"], "invalid_query_string");
    }

    // Updates: only what is given changes; a bad one changes nothing.
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"name": "Add claims v2", "code": "exports.onExecutePostLogin = async () => { /* 2 */ };"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Add claims v2");
    assert_eq!(patched["secrets"], created["secrets"], "secrets kept");
    assert_eq!(patched["supported_triggers"], created["supported_triggers"]);
    for (bad, expected) in [
        (json!({"code": ""}), StatusCode::BAD_REQUEST),
        (json!({"name": ""}), StatusCode::BAD_REQUEST),
        (json!({"name": "Welcome mail"}), StatusCode::CONFLICT),
        (
            json!({"supported_triggers": [{"id": "nope"}]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"dependencies": [{"name": "axios", "version": "1"}]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"secrets": [{"name": "X", "value": "1"}, {"name": "X", "value": "2"}]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"secrets": [{"name": "NEW"}]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"runtime": "node16"}), StatusCode::BAD_REQUEST),
        (json!({"status": "built"}), StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = server.admin(Method::PATCH, &path, Some(bad.clone())).await;
        assert_eq!(status, expected, "{bad}: {answer}");
        let (_, now) = server.admin(Method::GET, &path, None).await;
        assert_eq!(now, patched, "{bad} changed nothing");
    }

    // Secrets: the given list replaces the whole list; one given without a value keeps its
    // value.
    let (status, replaced) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"secrets": [{"name": "API_KEY"}, {"name": "NEW", "value": "new value"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let listed: Vec<&str> = replaced["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["API_KEY", "NEW"]);
    let kept = store.find_action(&id).await.unwrap().unwrap();
    assert_eq!(kept.secrets[0], stored.secrets[0], "API_KEY kept as it was");

    for (method, missing) in [
        (
            Method::GET,
            "/actions/actions/00000000-0000-4000-8000-000000000000",
        ),
        (
            Method::PATCH,
            "/actions/actions/00000000-0000-4000-8000-000000000000",
        ),
        (
            Method::DELETE,
            "/actions/actions/00000000-0000-4000-8000-000000000000",
        ),
        (
            Method::POST,
            "/actions/actions/00000000-0000-4000-8000-000000000000/deploy",
        ),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"name": "x"}));
        let (status, answer) = server.admin(method.clone(), missing, body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} {missing}: {answer}"
        );
        assert_eq!(answer["message"], "The action does not exist.");
    }

    assert_eq!(
        server.admin(Method::DELETE, &path, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.admin(Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.action_count().await, json!(1));

    let (_, events) = server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    let done: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .collect();
    assert_eq!(
        done,
        [
            "create_action",
            "create_action",
            "update_action",
            "update_action",
            "delete_action"
        ]
    );
    let log = events.to_string();
    assert!(
        !log.contains(SECRET) && !log.contains("new value"),
        "no secret values in the log"
    );
    assert!(!log.contains("onExecutePostLogin"), "no code in the log");
}

#[tokio::test]
async fn deploying_and_binding_actions_to_triggers() {
    let server = TestServer::start().await;
    let (status, triggers) = server.admin(Method::GET, "/actions/triggers", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(triggers["triggers"][0]["id"], "post-login");
    assert_eq!(triggers["triggers"][0]["version"], "v3");
    assert_eq!(triggers["triggers"][0]["status"], "CURRENT");
    assert_eq!(triggers["triggers"][0]["runtimes"], json!(["node22"]));
    assert_eq!(triggers["triggers"][0]["default_runtime"], "node22");
    assert_eq!(triggers["triggers"][1]["id"], "post-user-registration");
    assert_eq!(triggers["triggers"][1]["version"], "v2");

    let mut first = new_action("First", "post-login");
    first["secrets"] = json!([{"name": "TOKEN", "value": "deployed token"}]);
    let first = server.create_action(first).await;
    let second = server
        .create_action(new_action("Second", "post-login"))
        .await;
    let signup = server
        .create_action(new_action("Signup", "post-user-registration"))
        .await;
    let draft = server
        .create_action(new_action("Draft", "post-login"))
        .await;
    let id = |a: &Value| a["id"].as_str().unwrap().to_string();
    let (a, b, c, d) = (id(&first), id(&second), id(&signup), id(&draft));

    // Deploying makes numbered versions.
    let v1 = server.deploy(&a).await;
    assert_eq!(
        (
            v1["action_id"].clone(),
            v1["number"].clone(),
            v1["deployed"].clone(),
            v1["status"].clone(),
            v1["code"].clone(),
            v1["runtime"].clone(),
        ),
        (
            json!(a),
            json!(1),
            json!(true),
            json!("built"),
            json!(CODE),
            json!("node22")
        )
    );
    assert!(uuid::Uuid::parse_str(v1["id"].as_str().unwrap()).is_ok());
    assert!(is_iso_date(&v1["created_at"]));
    assert_eq!(v1["secrets"][0]["name"], "TOKEN");
    assert!(!v1.to_string().contains("deployed token"));
    let (_, after) = server
        .admin(Method::GET, &format!("/actions/actions/{a}"), None)
        .await;
    assert_eq!(after["all_changes_deployed"], true);
    assert_eq!(after["deployed_version"]["number"], 1);
    assert_eq!(after["deployed_version"]["id"], v1["id"]);
    assert_eq!(server.deploy(&a).await["number"], 2);
    for other in [&b, &c] {
        server.deploy(other).await;
    }
    let (_, deployed) = server
        .admin(Method::GET, "/actions/actions?deployed=true", None)
        .await;
    assert_eq!(deployed["total"], 3);

    // The draft changes; what is deployed does not.
    let draft_code = "exports.onExecutePostLogin = async () => { /* draft */ };";
    let (_, edited) = server
        .admin(
            Method::PATCH,
            &format!("/actions/actions/{a}"),
            Some(
                json!({"code": draft_code, "secrets": [{"name": "TOKEN", "value": "draft token"}]}),
            ),
        )
        .await;
    assert_eq!(edited["all_changes_deployed"], false);
    assert_eq!(edited["deployed_version"]["code"], CODE);
    let (_, renamed) = server
        .admin(
            Method::PATCH,
            &format!("/actions/actions/{b}"),
            Some(json!({"name": "Second action"})),
        )
        .await;
    assert_eq!(
        renamed["all_changes_deployed"], true,
        "a new name is not an undeployed change"
    );

    // Bindings replace the whole ordered list.
    let bindings_path = "/actions/triggers/post-login/bindings";
    let (status, empty) = server.admin(Method::GET, bindings_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"bindings": [], "total": 0, "page": 0, "per_page": 50})
    );
    let (status, replaced) = server
        .admin(
            Method::PATCH,
            bindings_path,
            Some(json!({"bindings": [
                {"ref": {"type": "action_name", "value": "Second action"}},
                {"ref": {"type": "action_id", "value": a}, "display_name": "Runs second"},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let order = |list: &Value| -> Vec<(String, String)> {
        list["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                assert_eq!(b["trigger_id"], "post-login");
                assert!(is_iso_date(&b["created_at"]));
                (
                    b["action"]["id"].as_str().unwrap().to_string(),
                    b["display_name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let expected = vec![
        (b.clone(), "Second action".to_string()),
        (a.clone(), "Runs second".to_string()),
    ];
    assert_eq!(order(&replaced), expected);
    let (_, listed) = server.admin(Method::GET, bindings_path, None).await;
    assert_eq!(order(&listed), expected);
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["bindings"][1]["action"]["code"], draft_code);
    assert!(!listed.to_string().contains("token\""), "no secret values");
    let (_, second_page) = server
        .admin(
            Method::GET,
            &format!("{bindings_path}?per_page=1&page=1"),
            None,
        )
        .await;
    assert_eq!(order(&second_page), expected[1..]);
    assert_eq!(second_page["total"], 2);

    // What runs is each bound action's deployed snapshot, in binding order.
    let state = &server.running().state;
    let runnable = actions::bound(state.store.as_ref(), &state.master_key, Trigger::PostLogin)
        .await
        .unwrap();
    let ran: Vec<(&str, &str)> = runnable
        .iter()
        .map(|r| (r.id.as_str(), r.code.as_str()))
        .collect();
    assert_eq!(ran, [(b.as_str(), CODE), (a.as_str(), CODE)]);
    assert_eq!(runnable[1].name, "First");
    assert_eq!(runnable[1].secrets["TOKEN"], "deployed token");
    assert!(
        !format!("{runnable:?}").contains("deployed token"),
        "Debug hides values"
    );
    assert!(
        actions::bound(
            state.store.as_ref(),
            &state.master_key,
            Trigger::PostUserRegistration
        )
        .await
        .unwrap()
        .is_empty()
    );
    let v3 = server.deploy(&a).await;
    assert_eq!(
        (v3["number"].clone(), v3["code"].clone()),
        (json!(3), json!(draft_code))
    );
    let runnable = actions::bound(state.store.as_ref(), &state.master_key, Trigger::PostLogin)
        .await
        .unwrap();
    assert_eq!(runnable[1].code, draft_code);
    assert_eq!(runnable[1].secrets["TOKEN"], "draft token");

    // Refusals change nothing.
    let by_id = |id: &str| json!({"ref": {"type": "action_id", "value": id}});
    for (body, says) in [
        (
            json!({"bindings": [by_id(&a), by_id("00000000-0000-4000-8000-000000000000")]}),
            "no action with id",
        ),
        (
            json!({"bindings": [{"ref": {"type": "action_name", "value": "Nobody"}}]}),
            "no action with name \"Nobody\"",
        ),
        (
            json!({"bindings": [by_id(&c)]}),
            "supports post-user-registration, not post-login",
        ),
        (json!({"bindings": [by_id(&d)]}), "never been deployed"),
        (
            json!({"bindings": [by_id(&a), by_id(&b), by_id(&a)]}),
            "bound more than once",
        ),
        (
            json!({"bindings": [{"ref": {"type": "binding_id", "value": a}}]}),
            "must be action_id or action_name",
        ),
        (
            json!({"bindings": [{"ref": {"type": "action_id", "value": a}, "display_name": ""}]}),
            "display_name must not be empty",
        ),
        (json!({}), "bindings is required"),
        (
            json!({"bindings": [{"ref": {"type": "action_id"}}]}),
            "value",
        ),
    ] {
        let (status, answer) = server
            .admin(Method::PATCH, bindings_path, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{body}: {answer}"
        );
        let (_, now) = server.admin(Method::GET, bindings_path, None).await;
        assert_eq!(order(&now), expected, "{body} changed nothing");
    }
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"bindings": []}))),
    ] {
        let (status, _) = server
            .admin(
                method.clone(),
                "/actions/triggers/credentials-exchange/bindings",
                body,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} on an unknown trigger"
        );
    }

    // The other trigger has its own list.
    let (status, signup_bound) = server
        .admin(
            Method::PATCH,
            "/actions/triggers/post-user-registration/bindings",
            Some(json!({"bindings": [by_id(&c)]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{signup_bound}");
    let (_, login_bound) = server.admin(Method::GET, bindings_path, None).await;
    assert_eq!(order(&login_bound), expected);

    // A bound action keeps its trigger and is deleted only with force, which unbinds it.
    let (status, answer) = server
        .admin(
            Method::PATCH,
            &format!("/actions/actions/{a}"),
            Some(json!({"supported_triggers": [{"id": "post-user-registration"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("bound to post-login")
    );
    let (status, answer) = server
        .admin(Method::DELETE, &format!("/actions/actions/{a}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("force=true"),
        "{answer}"
    );
    assert_eq!(
        server
            .admin(Method::GET, &format!("/actions/actions/{a}"), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        server
            .admin(
                Method::DELETE,
                &format!("/actions/actions/{a}?force=true"),
                None
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, left) = server.admin(Method::GET, bindings_path, None).await;
    assert_eq!(order(&left), expected[..1]);
    // An action never bound goes without force; an empty list unbinds everything.
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/actions/actions/{d}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (status, cleared) = server
        .admin(Method::PATCH, bindings_path, Some(json!({"bindings": []})))
        .await;
    assert_eq!((status, cleared), (StatusCode::OK, json!({"bindings": []})));
    assert_eq!(
        server
            .admin(Method::DELETE, &format!("/actions/actions/{b}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    let (_, events) = server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    let done: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .collect();
    assert_eq!(done.iter().filter(|a| **a == "deploy_action").count(), 5);
    assert_eq!(
        done.iter()
            .filter(|a| **a == "update_trigger_bindings")
            .count(),
        3
    );
    assert_eq!(done.iter().filter(|a| **a == "delete_action").count(), 3);
    assert!(
        !events.to_string().contains("token\""),
        "no secret values in the log"
    );
}

#[tokio::test]
async fn actions_need_their_scopes() {
    let server = TestServer::start().await;
    let created = server
        .create_action(new_action("Scoped", "post-login"))
        .await;
    let id = created["id"].as_str().unwrap();
    let reader = server.admin_token(Some("read:actions")).await;
    let (status, _) = server
        .call(Method::GET, "/api/v2/actions/actions", &reader, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let deploy = format!("/api/v2/actions/actions/{id}/deploy");
    let one = format!("/api/v2/actions/actions/{id}");
    for (method, path, body, scope) in [
        (
            Method::POST,
            "/api/v2/actions/actions",
            Some(new_action("Other", "post-login")),
            "create:actions",
        ),
        (Method::POST, deploy.as_str(), None, "create:actions"),
        (
            Method::PATCH,
            one.as_str(),
            Some(json!({"name": "x"})),
            "update:actions",
        ),
        (Method::DELETE, one.as_str(), None, "delete:actions"),
        (
            Method::PATCH,
            "/api/v2/actions/triggers/post-login/bindings",
            Some(json!({"bindings": []})),
            "update:actions",
        ),
    ] {
        let (status, answer) = server.call(method.clone(), path, &reader, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(
            answer["message"],
            format!("Insufficient scope, expected any of: {scope}"),
            "{method} {path}"
        );
        assert_eq!(answer["errorCode"], "insufficient_scope");
    }
    let writer = server.admin_token(Some("update:actions")).await;
    let (status, _) = server
        .call(Method::GET, "/api/v2/actions/triggers", &writer, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(server.action_count().await, json!(1), "nothing written");
    let (_, still) = server
        .admin(Method::GET, &format!("/actions/actions/{id}"), None)
        .await;
    assert_eq!(still, created);
}

#[tokio::test]
async fn a_refused_action_change_leaves_neither_the_change_nor_an_audit_entry() {
    let server = TestServer::start().await;
    let deployed = server
        .create_action(new_action("Deployed", "post-login"))
        .await;
    let a = deployed["id"].as_str().unwrap().to_string();
    server.deploy(&a).await;
    let draft = server
        .create_action(new_action("Draft", "post-login"))
        .await;
    let b = draft["id"].as_str().unwrap().to_string();
    let bindings = "/actions/triggers/post-login/bindings";
    let by_id = |id: &str| json!({"ref": {"type": "action_id", "value": id}});
    let (status, bound) = server
        .admin(
            Method::PATCH,
            bindings,
            Some(json!({"bindings": [by_id(&a)]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bound}");

    let read = async |path: &str| server.admin(Method::GET, path, None).await.1;
    let action_path = format!("/actions/actions/{a}");
    let (before_action, before_bindings) = (read(&action_path).await, read(bindings).await);
    let refused = [
        // Not found part-way: the first binding was fine.
        (
            Method::PATCH,
            bindings.to_string(),
            Some(
                json!({"bindings": [by_id(&a), {"ref": {"type": "action_name", "value": "Nobody"}}]}),
            ),
        ),
        (
            Method::PATCH,
            bindings.to_string(),
            Some(json!({"bindings": [by_id(&a), by_id(&b)]})),
        ),
        (
            Method::PATCH,
            "/actions/triggers/pre-login/bindings".to_string(),
            Some(json!({"bindings": [by_id(&a)]})),
        ),
        (Method::DELETE, action_path.clone(), None),
        (
            Method::PATCH,
            action_path.clone(),
            Some(json!({"supported_triggers": [{"id": "post-user-registration"}]})),
        ),
        (
            Method::PATCH,
            action_path.clone(),
            Some(json!({"code": "exports.onExecutePostLogin = async (event, api) => {"})),
        ),
        (
            Method::POST,
            "/actions/actions".to_string(),
            Some(
                json!({"name": "Other", "supported_triggers": [{"id": "post-login"}], "code": CODE,
                        "secrets": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}),
            ),
        ),
    ];
    for (method, path, body) in &refused {
        let (status, answer) = server.admin(method.clone(), path, body.clone()).await;
        assert!(status.is_client_error(), "{method} {path}: {answer}");
    }
    assert_eq!(read(&action_path).await, before_action);
    assert_eq!(read(bindings).await, before_bindings);
    assert_eq!(server.action_count().await, json!(2));
    let (_, events) = server
        .admin(Method::GET, "/logs?q=type:sapi&sort=date:1", None)
        .await;
    let done: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["action"].as_str())
        .collect();
    assert_eq!(
        done,
        [
            "create_action",
            "deploy_action",
            "create_action",
            "update_trigger_bindings"
        ]
    );

    // A change whose entry cannot be written is not made either.
    server.refuse_audit_entries().await;
    let unrecorded = [
        (Method::POST, format!("{action_path}/deploy"), None),
        (Method::DELETE, format!("{action_path}?force=true"), None),
        (
            Method::PATCH,
            bindings.to_string(),
            Some(json!({"bindings": []})),
        ),
        (
            Method::POST,
            "/actions/actions".to_string(),
            Some(new_action("Other", "post-login")),
        ),
    ];
    for (method, path, body) in unrecorded {
        let (status, answer) = server.admin(method.clone(), &path, body).await;
        assert!(status.is_server_error(), "{method} {path}: {answer}");
    }
    assert_eq!(read(&action_path).await, before_action);
    assert_eq!(read(bindings).await, before_bindings);
    assert_eq!(server.action_count().await, json!(2));
}
