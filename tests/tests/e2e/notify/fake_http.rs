//! The fake HTTP server the notification tests deliver to: it records
//! every request and fails the ones it is told to.
use std::time::Duration;

use zoufang_e2e::fake_http::FakeHttp;

fn client() -> reqwest::Client {
    // reqwest is built with rustls-no-provider; an Err only means a
    // provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn records_requests_and_fails_on_demand() {
    let server = FakeHttp::start().await;
    let client = client();
    server.fail_next(2, 500);

    let mut statuses = Vec::new();
    for i in 0..3 {
        let response = client
            .post(server.url(&format!("/robot/send?access_token=t{i}")))
            .header("X-Zoufang-Delivery", format!("d-{i}"))
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"n":{i},"text":"走访"}}"#))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if i == 2 {
            let answer: serde_json::Value =
                serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert_eq!(
                answer,
                serde_json::json!({"errcode": 0, "errmsg": "ok", "code": "OK"})
            );
        }
    }
    assert_eq!(statuses, [500, 500, 200]);

    let requests = server.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(requests.len(), 3);
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/robot/send");
        assert_eq!(r.query, format!("access_token=t{i}"));
        assert_eq!(
            r.header("x-zoufang-delivery"),
            Some(format!("d-{i}").as_str())
        );
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert!(r.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
        assert_eq!(r.json(), serde_json::json!({"n": i, "text": "走访"}));
    }
    assert!(requests.windows(2).all(|w| w[0].at <= w[1].at));

    // A new default answer, and any method and path.
    server.respond_with(
        200,
        serde_json::json!({"errcode": 45009, "errmsg": "limit"}),
    );
    let response = client
        .get(server.url("/anything/else"))
        .send()
        .await
        .unwrap();
    let answer: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(answer["errcode"], 45009);
    let all = server.requests();
    assert_eq!(all.len(), 4);
    assert_eq!(
        (all[3].method.as_str(), all[3].path.as_str()),
        ("GET", "/anything/else")
    );
    assert!(all[3].body.is_empty());
}

#[tokio::test]
async fn wait_for_waits_for_late_requests_and_the_server_stops_when_dropped() {
    let server = FakeHttp::start().await;
    let url = server.url("/late");
    let client = client();
    let sender = client.clone();
    let late = url.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sender.post(late).body("x").send().await.unwrap();
    });
    let got = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].path, "/late");
    assert_eq!(got[0].body, b"x");

    drop(server);
    let mut refused = false;
    for _ in 0..50 {
        let fresh = reqwest::Client::new();
        if fresh.post(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "FakeHttp still answers after being dropped");
}

#[tokio::test]
#[should_panic(expected = "FakeHttp: expected at least 1 requests")]
async fn wait_for_panics_with_a_clear_message_on_timeout() {
    let server = FakeHttp::start().await;
    server.wait_for(1, Duration::from_millis(100)).await;
}
