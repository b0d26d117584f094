//! A local fake HTTP server for integration tests: stands in for the SMS
//! provider, WeCom/DingTalk robots and webhook receivers. It listens on
//! 127.0.0.1 port 0, answers any method and path, records every request
//! (including the ones it fails), and can be told to fail the next few.
//! It stops when dropped.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` ("" when none).
    pub query: String,
    /// Header names in lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: DateTime<Utc>,
}

impl Recorded {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "FakeHttp: body of {} {} is not JSON ({e}): {}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

struct Inner {
    requests: Vec<Recorded>,
    fail_remaining: usize,
    fail_status: u16,
    /// Injected failures hit only requests whose body contains this.
    fail_only: Option<String>,
    status: u16,
    body: serde_json::Value,
}

struct Shared {
    inner: Mutex<Inner>,
    arrived: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not hide the recordings from others.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The fake server; see the module docs.
pub struct FakeHttp {
    port: u16,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl std::fmt::Debug for FakeHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHttp")
            .field("port", &self.port)
            .finish()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        at: Utc::now(),
    };
    let (status, body) = {
        let mut inner = shared.lock();
        let targeted = inner
            .fail_only
            .as_ref()
            .is_none_or(|needle| String::from_utf8_lossy(&recorded.body).contains(needle.as_str()));
        inner.requests.push(recorded);
        if inner.fail_remaining > 0 && targeted {
            inner.fail_remaining -= 1;
            (
                inner.fail_status,
                serde_json::json!({"errcode": -1, "errmsg": "injected failure", "code": "FAIL"}),
            )
        } else {
            (inner.status, inner.body.clone())
        }
    };
    shared.arrived.notify_waiters();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl FakeHttp {
    /// Binds 127.0.0.1:0 and serves any path and method.
    pub async fn start() -> FakeHttp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("FakeHttp: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("FakeHttp: local addr").port();
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                requests: Vec::new(),
                fail_remaining: 0,
                fail_status: 500,
                fail_only: None,
                status: 200,
                body: serde_json::json!({"errcode": 0, "errmsg": "ok", "code": "OK"}),
            }),
            arrived: Notify::new(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let stop = CancellationToken::new();
        let signal = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                eprintln!("FakeHttp on port {port} stopped: {e}");
            }
        });
        FakeHttp { port, shared, stop }
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far (including failed ones), in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The next `n` requests get `status` (and are recorded anyway).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut inner = self.shared.lock();
        inner.fail_remaining = n;
        inner.fail_status = status;
        inner.fail_only = None;
    }

    /// The next `n` requests whose body contains `needle` get `status`;
    /// others are answered normally (the server may be shared by tests
    /// whose traffic must not use up the failures).
    pub fn fail_next_matching(&self, n: usize, status: u16, needle: &str) {
        let mut inner = self.shared.lock();
        inner.fail_remaining = n;
        inner.fail_status = status;
        inner.fail_only = Some(needle.to_owned());
    }

    /// The requests so far whose body contains `needle`.
    pub fn requests_matching(&self, needle: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains(needle))
            .collect()
    }

    /// Waits until at least `n` requests whose body contains `needle` arrived.
    pub async fn wait_for_matching(
        &self,
        n: usize,
        timeout: Duration,
        needle: &str,
    ) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.requests_matching(needle);
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "FakeHttp on port {}: waited {timeout:?} for {n} requests containing {needle:?}, got {}",
                    self.port,
                    self.requests_matching(needle).len()
                );
            }
        }
    }

    /// The default response (initially 200 `{"errcode":0,"errmsg":"ok","code":"OK"}`).
    pub fn respond_with(&self, status: u16, body: serde_json::Value) {
        let mut inner = self.shared.lock();
        inner.status = status;
        inner.body = body;
    }

    /// Waits until at least `n` requests are recorded and returns them all;
    /// panics with what did arrive on timeout.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before looking, so an arrival in between is not missed.
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let inner = self.shared.lock();
                if inner.requests.len() >= n {
                    return inner.requests.clone();
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let got = self.requests();
                let seen: Vec<String> = got
                    .iter()
                    .map(|r| format!("{} {}", r.method, r.path))
                    .collect();
                panic!(
                    "FakeHttp: expected at least {n} requests within {timeout:?}, got {}: {seen:?}",
                    got.len()
                );
            }
        }
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
