//! Memory that comes back: bursts of concurrent sign-ups (argon2id takes 19 MiB a hash)
//! leave the real binary's resident set near where it started, not at hundreds of
//! megabytes. Figures and the load that produced them are in BENCHMARKS.md.

use crate::real_binary;

use real_binary::{Admin, Server};
use serde_json::json;

/// Resident set of a process, in MiB.
fn resident_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

#[tokio::test]
async fn bursts_of_sign_ups_leave_the_resident_set_small() {
    // A queue deep enough that every sign-up of a burst is hashed, none refused.
    let server = Server::start_with_env(&[
        ("CASTELLAN_PASSWORD_HASHING_QUEUE", "1000"),
        ("CASTELLAN_RATE_LIMIT_AUTHENTICATION", "0"),
        ("CASTELLAN_RATE_LIMIT_PASSWORD_CHECKS", "0"),
    ])
    .await;
    let idle = resident_mib(server.pid());
    assert!(idle < 50, "idle resident set {idle} MiB");

    let admin = Admin::new(&server).await;
    let (client_id, _) = admin
        .client(json!({"name": "sign-up burst", "app_type": "spa"}))
        .await;
    let http = reqwest::Client::new();
    for burst in 0..2 {
        let sign_ups = (0..300).map(|n| {
            http.post(format!("{}/dbconnections/signup", server.base))
                .json(&json!({
                    "client_id": client_id,
                    "connection": "Username-Password-Authentication",
                    "email": format!("user-{burst}-{n}@example.com"),
                    "password": "Correct-Horse-42x",
                }))
                .send()
        });
        for answer in futures_util::future::join_all(sign_ups).await {
            let answer = answer.unwrap();
            assert!(answer.status().is_success(), "{}", answer.status());
        }
        let after = resident_mib(server.pid());
        assert!(
            after < 150,
            "resident set {after} MiB after burst {burst} (idle {idle} MiB)"
        );
    }
}
