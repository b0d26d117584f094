//! The console's browser session (issue 20): sign-in sets an HttpOnly,
//! SameSite=Strict cookie; a cookie alone cannot change state without the
//! session's CSRF token; the SSE inbox opens with the cookie; after
//! sign-out the old cookie is refused; bearer tokens keep working.
use serde_json::{Value, json};
use zoufang_e2e::gateway::{ADMIN_PASSWORD, TestGateway};

/// Signs in for the console: (Set-Cookie header, session cookie pair, body).
async fn web_sign_in(stack: &TestGateway) -> (String, String, Value) {
    let resp = stack
        .http()
        .post(stack.url("/v1/auth/session"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status().as_u16(), 200);
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a Set-Cookie header")
        .to_owned();
    let pair = set_cookie.split(';').next().expect("pair").to_owned();
    let body: Value = resp.json().await.expect("json");
    (set_cookie, pair, body)
}

async fn send(
    stack: &TestGateway,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = stack
        .http()
        .request(method, stack.url(path))
        .header("cookie", cookie);
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_console_signs_in_with_an_http_only_strict_cookie_and_csrf() {
    let stack = TestGateway::start().await;
    let (set_cookie, cookie, body) = web_sign_in(&stack).await;
    assert!(set_cookie.starts_with("zf_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    // Plain HTTP from a peer that is no trusted proxy: not Secure.
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let csrf = body["csrf_token"].as_str().expect("csrf_token").to_owned();
    assert_eq!(body["user"]["username"], "admin");
    assert_eq!(body["user"]["must_change_password"], false);
    // No token in the answer: scripts never hold one.
    assert!(body.get("access_token").is_none(), "{body}");

    // Reads need only the cookie.
    let (status, me) = send(
        &stack,
        reqwest::Method::GET,
        "/v1/auth/session",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["csrf_token"], csrf.as_str());
    assert_eq!(
        me["user"]["display_name"].as_str().map(|s| !s.is_empty()),
        Some(true)
    );

    // A state-changing call with the cookie but without the CSRF token (what
    // a forged cross-site request would be) is refused and does nothing.
    let account = json!({"username": "clerk1", "password": "pass-word-123", "display_name": "办事员",
                         "roles": ["township_admin"], "scope": "430426107"});
    for csrf_sent in [None, Some("0".repeat(48).as_str())] {
        let (status, err) = send(
            &stack,
            reqwest::Method::POST,
            "/v1/accounts",
            &cookie,
            csrf_sent,
            Some(account.clone()),
        )
        .await;
        assert_eq!(status, 403, "{err}");
        assert_eq!(err["code"], "csrf_failed", "{err}");
    }
    let (status, listed) = send(
        &stack,
        reqwest::Method::GET,
        "/v1/accounts",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert!(
        !listed.to_string().contains("clerk1"),
        "the refused request wrote nothing: {listed}"
    );
    // With the token it goes through, as the signed-in admin.
    let (status, created) = send(
        &stack,
        reqwest::Method::POST,
        "/v1/accounts",
        &cookie,
        Some(&csrf),
        Some(account),
    )
    .await;
    assert_eq!(status, 201, "{created}");

    // A tampered cookie (same session, another secret) is refused.
    let (id, _) = cookie
        .trim_start_matches("zf_session=")
        .split_once('.')
        .expect("id.secret");
    let forged = format!("zf_session={id}.{}", "a".repeat(64));
    let (status, _) = send(
        &stack,
        reqwest::Method::GET,
        "/v1/auth/session",
        &forged,
        None,
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Bearer tokens keep working beside it, and need no CSRF token.
    let token = stack.sign_in("admin", ADMIN_PASSWORD).await;
    let (status, _) = stack
        .post("/v1/registry/ListRegions", Some(&token), json!({}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_inbox_stream_opens_with_the_cookie_and_sign_out_refuses_the_old_cookie() {
    let stack = TestGateway::start().await;
    let (_, cookie, body) = web_sign_in(&stack).await;
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    let resp = stack
        .http()
        .get(stack.url("/v1/notify/inbox/stream"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("open the stream");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    drop(resp);

    // Sign-out needs the CSRF token too (a forged page cannot sign one out).
    let (status, _) = send(
        &stack,
        reqwest::Method::DELETE,
        "/v1/auth/session",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let resp = stack
        .http()
        .delete(stack.url("/v1/auth/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("sign out");
    assert_eq!(resp.status().as_u16(), 200);
    let cleared = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cleared.starts_with("zf_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The old cookie, kept by someone, no longer works anywhere.
    for (method, path, body) in [
        (reqwest::Method::GET, "/v1/auth/session", None),
        (reqwest::Method::GET, "/v1/notify/inbox/stream", None),
        (
            reqwest::Method::POST,
            "/v1/registry/ListRegions",
            Some(json!({})),
        ),
    ] {
        let (status, _) = send(&stack, method, path, &cookie, Some(&csrf), body).await;
        assert_eq!(status, 401, "{path}");
    }
}

#[tokio::test]
async fn a_cookie_is_secure_behind_a_trusted_tls_proxy_only() {
    let stack =
        TestGateway::start_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let sign_in = |proto: &'static str| {
        stack
            .http()
            .post(stack.url("/v1/auth/session"))
            .header("x-forwarded-proto", proto)
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
    };
    let behind_tls = sign_in("https").await.expect("sign in");
    let cookie = behind_tls
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let plain = sign_in("http").await.expect("sign in");
    let cookie = plain
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(!cookie.contains("Secure"), "{cookie}");
}
