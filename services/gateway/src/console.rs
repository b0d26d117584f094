//! The web console (管理端) at `/`: the files of its release build,
//! embedded by `build.rs` (or the notice saying it was not built), served
//! as the router's fallback, so every API route keeps precedence.
//!
//! - `/assets/*`: Vite's hashed files, cached for a year (`immutable`),
//!   gzipped when the client accepts it; a missing one is a 404 (a stale
//!   page then reloads instead of running a wrong chunk).
//! - `/v1/*`, `/openapi.json/*`, `/docs/*` that no route matched: the API's
//!   JSON 404.
//! - any other GET or HEAD: `index.html` with `Cache-Control: no-cache`, so
//!   the client routes and the notification links (`/issues/<id>`,
//!   `/callbacks/<id>`) open the right page; with a Content-Security-Policy
//!   that allows no inline script and no framing.
use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};

use crate::door::error::ApiError;

/// One embedded file.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// The URL path without its leading slash: `index.html`, `assets/index-3f9a.js`.
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// The same bytes gzipped, when that saves (text files).
    pub gzip: Option<&'static [u8]>,
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

/// The policy of the console's HTML: scripts and everything else from the
/// gateway only, no inline script; inline styles are allowed because
/// Element Plus positions popovers and sets widths through `style`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A set of files to serve (the embedded build, or a test's).
#[derive(Debug, Clone, Copy)]
pub struct Console {
    files: &'static [EmbeddedFile],
}

impl Console {
    /// The console embedded at build time.
    pub fn embedded() -> Self {
        Self {
            files: embedded::FILES,
        }
    }

    /// Serves `files` (sorted by path, as the build script writes them).
    pub fn from_files(files: &'static [EmbeddedFile]) -> Self {
        Self { files }
    }

    /// Whether the embedded files are the console's build (not the notice).
    pub fn is_built() -> bool {
        embedded::SOURCE == "built"
    }

    fn find(&self, path: &str) -> Option<&'static EmbeddedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The answer to one request the API routes did not match.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response {
        if is_api_path(path) {
            return ApiError::not_found(format!("没有这个接口：{method} {path}")).into_response();
        }
        if method != Method::GET && method != Method::HEAD {
            return ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{path} 只接受 GET 请求"),
            )
            .into_response();
        }
        let head = method == Method::HEAD;
        let rel = path.trim_start_matches('/');
        if rel.starts_with("assets/") {
            return match self.find(rel) {
                Some(file) => file_response(file, headers, IMMUTABLE, head),
                None => missing(),
            };
        }
        if !rel.is_empty()
            && rel != "index.html"
            && let Some(file) = self.find(rel)
        {
            // favicon.ico, robots.txt and the like: not hashed, revalidated.
            return file_response(file, headers, "no-cache", head);
        }
        if looks_like_a_file(rel) && rel != "index.html" {
            return missing();
        }
        match self.find("index.html") {
            Some(index) => {
                let mut response = file_response(index, headers, "no-cache", head);
                html_security_headers(response.headers_mut());
                response
            }
            None => missing(),
        }
    }
}

/// The router's fallback: the embedded console.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    Console::embedded().respond(&method, uri.path(), &headers)
}

/// Paths that belong to the API: never answered with the console's HTML.
fn is_api_path(path: &str) -> bool {
    ["/v1", "/openapi.json", "/docs"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// A last segment with a file extension the console would have built (a
/// stale or mistyped asset), which must not turn into the HTML page.
fn looks_like_a_file(rel: &str) -> bool {
    let last = rel.rsplit('/').next().unwrap_or(rel);
    last.rsplit_once('.').is_some_and(|(_, ext)| {
        matches!(
            ext.to_ascii_lowercase().as_str(),
            "js" | "mjs"
                | "css"
                | "map"
                | "html"
                | "png"
                | "jpg"
                | "jpeg"
                | "gif"
                | "svg"
                | "ico"
                | "webp"
                | "woff"
                | "woff2"
                | "ttf"
                | "json"
                | "txt"
                | "webmanifest"
                | "wasm"
        )
    })
}

fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not `gzip;q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn file_response(
    file: &'static EmbeddedFile,
    request: &HeaderMap,
    cache: &'static str,
    head: bool,
) -> Response {
    let gzip = file.gzip.filter(|_| accepts_gzip(request));
    let bytes = gzip.unwrap_or(file.bytes);
    let mut response = if head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(bytes))
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file.path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if file.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if gzip.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn html_security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
}

fn missing() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "Not Found",
    )
        .into_response()
}

#[cfg(test)]
mod tests;
