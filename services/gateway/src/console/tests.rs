use std::sync::Arc;

use axum::{Router, body::Body, http::Request};
use tower::Service as _;

use super::*;

static FILES: &[EmbeddedFile] = &[
    EmbeddedFile {
        path: "assets/index-Abc123.css",
        bytes: b"body{margin:0}",
        gzip: None,
    },
    EmbeddedFile {
        path: "assets/index-Abc123.js",
        bytes: b"console.log('plain')",
        gzip: Some(b"\x1f\x8bgzipped"),
    },
    EmbeddedFile {
        path: "favicon.ico",
        bytes: b"ico",
        gzip: None,
    },
    EmbeddedFile {
        path: "index.html",
        bytes: b"<!doctype html><div id=app></div>",
        gzip: None,
    },
];

fn test_router() -> Router {
    let console = Console::from_files(FILES);
    Router::new()
        .route(
            "/v1/registry/ListRegions",
            axum::routing::post(|| async { "rpc" }),
        )
        .fallback(
            move |method: Method, uri: Uri, headers: HeaderMap| async move {
                console.respond(&method, uri.path(), &headers)
            },
        )
}

async fn send(router: Router, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut service = router.into_service();
    service
        .call(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn body(response: Response) -> Vec<u8> {
    axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body")
        .to_vec()
}

fn header_of<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn assert_is_the_page(response: &Response) {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(response, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header_of(response, "cache-control"), "no-cache");
    let csp = header_of(response, "content-security-policy");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    assert_eq!(header_of(response, "x-content-type-options"), "nosniff");
    assert_eq!(header_of(response, "referrer-policy"), "same-origin");
}

#[tokio::test]
async fn the_root_and_client_routes_answer_the_page() {
    for path in [
        "/",
        "/index.html",
        "/issues/abc",
        "/callbacks/0b7c",
        "/org/assignments?x=1",
    ] {
        let response = send(test_router(), "GET", path, &[]).await;
        assert_is_the_page(&response);
        assert_eq!(body(response).await, FILES[3].bytes, "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_with_their_type() {
    let response = send(test_router(), "GET", "/assets/index-Abc123.css", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        header_of(&response, "content-type"),
        "text/css; charset=utf-8"
    );
    assert_eq!(body(response).await, b"body{margin:0}");
}

#[tokio::test]
async fn gzip_goes_to_clients_that_accept_it() {
    let gz = send(
        test_router(),
        "GET",
        "/assets/index-Abc123.js",
        &[("accept-encoding", "br, gzip, deflate")],
    )
    .await;
    assert_eq!(header_of(&gz, "content-encoding"), "gzip");
    assert_eq!(header_of(&gz, "vary"), "Accept-Encoding");
    assert_eq!(
        header_of(&gz, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(body(gz).await, b"\x1f\x8bgzipped");

    for refuse in [&[][..], &[("accept-encoding", "gzip;q=0, identity")][..]] {
        let plain = send(test_router(), "GET", "/assets/index-Abc123.js", refuse).await;
        assert_eq!(header_of(&plain, "content-encoding"), "");
        assert_eq!(header_of(&plain, "vary"), "Accept-Encoding");
        assert_eq!(body(plain).await, b"console.log('plain')");
    }
}

#[tokio::test]
async fn missing_assets_are_404_not_the_page() {
    for path in ["/assets/index-Old999.js", "/main.js", "/issues/abc/app.css"] {
        let response = send(test_router(), "GET", path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(header_of(&response, "cache-control"), "no-store", "{path}");
    }
}

#[tokio::test]
async fn unknown_api_paths_stay_json_404s() {
    for (method, path) in [
        ("GET", "/v1/nope"),
        ("POST", "/v1/registry/Nope"),
        ("GET", "/v1"),
        ("GET", "/docs/extra"),
    ] {
        let response = send(test_router(), method, path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert!(header_of(&response, "content-type").starts_with("application/json"));
        let json: serde_json::Value = serde_json::from_slice(&body(response).await).expect("json");
        assert_eq!(json["code"], "not_found", "{json}");
    }
    // A matched route is untouched.
    let rpc = send(test_router(), "POST", "/v1/registry/ListRegions", &[]).await;
    assert_eq!(body(rpc).await, b"rpc");
}

#[tokio::test]
async fn other_methods_on_pages_are_refused_in_json() {
    let response = send(test_router(), "POST", "/issues/abc", &[]).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header_of(&response, "content-type").starts_with("application/json"));
}

#[tokio::test]
async fn head_answers_the_headers_only() {
    let response = send(test_router(), "HEAD", "/issues/abc", &[]).await;
    assert_is_the_page(&response);
    assert!(body(response).await.is_empty());
}

#[tokio::test]
async fn top_level_files_are_served_revalidated() {
    let response = send(test_router(), "GET", "/favicon.ico", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_of(&response, "content-type"), "image/x-icon");
    assert_eq!(header_of(&response, "cache-control"), "no-cache");
}

/// The gateway's own router, with a state whose database and services are
/// never reached (none of these requests touch them).
fn gateway_router() -> Router {
    let state = crate::door::state::AppState {
        pool: sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:9/none")
            .expect("lazy pool"),
        keys: Arc::new(zoufang_core::auth::JwtKeys::development()),
        upstreams: crate::door::state::Upstreams::connect_lazy(
            "http://127.0.0.1:9",
            "http://127.0.0.1:9",
            "http://127.0.0.1:9",
            "http://127.0.0.1:9",
            "http://127.0.0.1:9",
        )
        .expect("lazy channels"),
        settings: Arc::new(crate::door::state::Settings {
            access_token_secs: 900,
            refresh_token_days: 14,
            session_max_days: 30,
            lockout_threshold: 5,
            lockout_minutes: 15,
            address_limit: 50,
            address_window_minutes: 15,
            trusted_proxies: vec![],
        }),
        hashing: Arc::new(crate::door::accounts::hashing::Hashing::new(
            1,
            std::time::Duration::from_millis(100),
        )),
        catalog: Arc::new(crate::door::rpc::Catalog::load().expect("catalog")),
        shutdown: tokio_util::sync::CancellationToken::new(),
        revoked: zoufang_core::auth::RevokedSessions::default(),
        clock: zoufang_core::clock::Clock::system(),
    };
    crate::app::Application::router(state)
}

#[tokio::test]
async fn the_gateway_serves_the_console_behind_its_api() {
    for path in ["/", "/issues/abc", "/callbacks/abc"] {
        let response = send(gateway_router(), "GET", path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header_of(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&response, "cache-control"), "no-cache");
        assert!(!header_of(&response, "content-security-policy").is_empty());
        let html = String::from_utf8(body(response).await).expect("utf-8");
        assert!(html.contains("走访平台"), "{path}: {html}");
    }

    let nope = send(gateway_router(), "GET", "/v1/nope", &[]).await;
    assert_eq!(nope.status(), StatusCode::NOT_FOUND);
    let json: serde_json::Value = serde_json::from_slice(&body(nope).await).expect("json");
    assert_eq!(json["code"], "not_found");

    // The API's own documents keep their routes.
    let doc = send(gateway_router(), "GET", "/openapi.json", &[]).await;
    assert_eq!(doc.status(), StatusCode::OK);
    assert!(header_of(&doc, "content-type").starts_with("application/json"));

    // Every hashed asset of the embedded build, with its long cache.
    let assets: Vec<_> = embedded::FILES
        .iter()
        .filter(|f| f.path.starts_with("assets/"))
        .collect();
    assert_eq!(
        assets.is_empty(),
        !Console::is_built(),
        "a console build has assets, the notice has none"
    );
    for file in assets.iter().take(3) {
        let response = send(gateway_router(), "GET", &format!("/{}", file.path), &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", file.path);
        assert_eq!(
            header_of(&response, "cache-control"),
            "public, max-age=31536000, immutable"
        );
    }
}
