//! The front door (正门): who is asking and what they may reach. Sign-in,
//! sessions, lock-out and tokens (`accounts`, `caller`, `client_addr`, the
//! console's cookie sessions, `browser`, and
//! the token exchange for services, `exchange`); every service's unary RPC
//! transcoded between proto3 JSON and gRPC (`rpc`); the route table and its
//! OpenAPI document (`endpoints`); one JSON error shape (`error`); the
//! inbox as server-sent events (`inbox_stream`); the handlers' shared state
//! (`state`). It knows nothing of the desk (`crate::desk`).
//!
//! # What the desk may use
//! The desk (imports, exports, reports) reaches the door only through the
//! items re-exported here, never through a module path inside the door
//! (`desk_uses_only_the_door_api` below checks `src/desk`):
//! - [`Caller`]: the authenticated caller, extracted by a handler (its
//!   token, verified, and its session still open);
//! - [`Backend`]: the gateway's database and the services ([`Upstreams`]),
//!   called with the caller's token, extracted as `State<Backend>`;
//! - [`Endpoint`], [`Module`], [`op`], [`schema_ref`]: a route with its
//!   OpenAPI operation, for the one route table;
//! - [`ApiError`], [`FieldError`]: the JSON error shape;
//! - [`CadreAccounts`] (with [`CadreAccount`], [`Provisioned`],
//!   [`check_username`]): sign-in accounts bound to cadres (`user_id` =
//!   `cadre_id`) with a one-time initial password, for onboarding.
pub mod accounts;
pub mod browser;
pub mod caller;
pub mod client_addr;
pub mod endpoints;
pub mod error;
pub mod exchange;
pub mod inbox_stream;
pub mod rpc;
pub mod state;

pub use accounts::provision::{CadreAccount, CadreAccounts, Provisioned, check_username};
pub use caller::Caller;
pub use endpoints::{Endpoint, Module, op, schema_ref};
pub use error::{ApiError, FieldError};
pub use state::{Backend, Upstreams};

/// The names the desk may import from the door.
#[cfg(test)]
const DESK_API: &[&str] = &[
    "ApiError",
    "Backend",
    "CadreAccount",
    "CadreAccounts",
    "Caller",
    "Endpoint",
    "FieldError",
    "Module",
    "Upstreams",
    "Provisioned",
    "check_username",
    "op",
    "schema_ref",
];

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable source directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The names a source imports from the door: each `door::…` path up to
    /// its `;`, braces opened.
    fn door_names(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("door::") {
            rest = &rest[at + "door::".len()..];
            let end = rest.find([';', ')', '\n']).unwrap_or(rest.len());
            let path = rest[..end].trim_start_matches('{');
            let path = path.split('}').next().unwrap_or_default();
            names.extend(
                path.split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
            );
        }
        names
    }

    #[test]
    fn the_scanner_reads_paths_and_groups() {
        assert_eq!(
            door_names("use crate::door::{ApiError, Caller};\nx(crate::door::caller::Caller)"),
            ["ApiError", "Caller", "caller::Caller"]
        );
    }

    #[test]
    fn desk_uses_only_the_door_api() {
        let desk = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/desk");
        let mut files = Vec::new();
        rust_files(&desk, &mut files);
        assert!(files.len() > 10, "{}", desk.display());
        for file in files {
            let source = std::fs::read_to_string(&file).expect("readable source");
            for name in door_names(&source) {
                assert!(
                    super::DESK_API.contains(&name.as_str()),
                    "{} uses door::{name}, outside the door's API for the desk",
                    file.display()
                );
            }
        }
    }
}
