//! `/metrics`: a bounded set of series whatever the requests, and the settings that keep
//! it from the public: a bearer token, or a listener of its own.

use crate::common;

use std::sync::Arc;

use castellan::config::{MetricsSettings, Secret, Settings};
use common::*;
use reqwest::{Method, StatusCode};

async fn server_with(change: impl FnOnce(&mut Settings)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(database_url(dir.path()).await, dir.path().to_path_buf());
    change(&mut settings);
    TestServer::start_with(settings, Arc::new(dir)).await
}

fn request_series(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|l| l.starts_with("castellan_http_requests_total{"))
        .collect()
}

#[tokio::test]
async fn odd_methods_and_paths_add_no_series() {
    let server = TestServer::start().await;
    let scrape = || server.get_text("/metrics");
    // One of each kind first, so what follows can only repeat them.
    for (method, path) in [
        ("BREW0", "/healthz"),
        ("BREW0", "/nowhere0"),
        ("GET", "/nowhere0"),
    ] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        server
            .http
            .request(method, server.url(path))
            .send()
            .await
            .unwrap();
    }
    let before = scrape().await;
    for i in 1..300 {
        let method = Method::from_bytes(format!("BREW{i}").as_bytes()).unwrap();
        for path in ["/healthz".to_string(), format!("/nowhere{i}")] {
            let status = server
                .http
                .request(method.clone(), server.url(&path))
                .send()
                .await
                .unwrap()
                .status();
            assert!(status.is_client_error(), "{method} {path}: {status}");
        }
        let path = format!("/nowhere{i}");
        server.http.get(server.url(&path)).send().await.unwrap();
    }
    let after = scrape().await;
    let (was, is) = (request_series(&before), request_series(&after));
    let new: Vec<_> = is
        .iter()
        .filter(|l| {
            let series = l.rsplit_once(' ').unwrap().0;
            !was.iter().any(|w| w.starts_with(series))
        })
        .collect();
    // Only the scrape of /metrics itself may have appeared since.
    assert!(
        new.iter().all(|l| l.contains("route=\"/metrics\"")),
        "new series: {new:#?}"
    );
    assert!(!after.contains("BREW"), "a method became a label");
    assert!(!after.contains("nowhere"), "a path became a label");
    assert!(after.contains("method=\"other\""), "{after}");
    assert!(
        after.len() < before.len() + 4096,
        "{} → {}",
        before.len(),
        after.len()
    );
}

#[tokio::test]
async fn a_metrics_token_is_required_when_set() {
    let server = server_with(|s| {
        s.metrics = MetricsSettings {
            token: Some(Secret("scrape-token-0123456789".into())),
            listen: None,
        };
    })
    .await;
    let scrape = |token: Option<&'static str>| {
        let mut request = server.http.get(server.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for token in [None, Some("scrape-token-012345678"), Some("wrong")] {
        let refused = scrape(token).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(
            refused.headers()["www-authenticate"],
            "Bearer realm=\"metrics\""
        );
        assert!(!refused.text().await.unwrap().contains("castellan_"));
    }
    let allowed = scrape(Some("scrape-token-0123456789")).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert!(
        allowed
            .text()
            .await
            .unwrap()
            .contains("castellan_http_requests_total")
    );
}

#[tokio::test]
async fn metrics_on_their_own_listener_are_not_on_the_public_one() {
    let server = server_with(|s| {
        s.metrics = MetricsSettings {
            token: None,
            listen: Some("127.0.0.1:0".parse().unwrap()),
        };
    })
    .await;
    let public = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let own = server.running().metrics_addr.expect("a metrics listener");
    let scraped = server
        .http
        .get(format!("http://{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("castellan_http_requests_total")
    );
    let elsewhere = server
        .http
        .get(format!("http://{own}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::NOT_FOUND,
        "only /metrics there"
    );
    let restarted = server.restart().await;
    assert!(
        restarted
            .http
            .get(format!("http://{own}/metrics"))
            .send()
            .await
            .is_err(),
        "stopping the server closed its metrics listener"
    );
    assert!(restarted.running().metrics_addr.is_some());
}
