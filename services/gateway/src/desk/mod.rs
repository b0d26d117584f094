//! The desk (业务台): what township and county offices do through the
//! gateway beyond calling RPCs — imports of households, cadres and regions
//! from spreadsheets, run as jobs kept in the gateway's schema (`import`);
//! exports of visits and ledger items as XLSX or CSV (`export`); campaign
//! summaries in several formats (`report`).
//!
//! It reaches the door only through the door's API for it (see
//! `crate::door`: the authenticated [`Caller`](crate::door::Caller), the
//! [`Backend`](crate::door::Backend) — the gateway's database and the
//! services —, routes and errors). The door does not know the desk: the
//! wiring (`app.rs`) adds the desk's endpoints to the route table and its
//! state ([`Desk`]) to the router.
use std::sync::Arc;

use crate::door::Module;

pub mod export;
pub mod import;
pub mod people;
pub mod report;

pub use import::sweep_old_jobs;

/// The desk's own state, shared by its handlers through the axum
/// `Extension` the wiring adds to the router: the imports running (one per
/// account, a few in all).
#[derive(Debug, Clone, Default)]
pub struct Desk {
    pub imports: Arc<import::gate::Gate>,
}

/// The desk's endpoints: reports, imports, exports.
pub fn endpoints() -> Vec<Module> {
    vec![
        report::endpoints(),
        import::endpoints(),
        export::endpoints(),
        people::endpoints(),
    ]
}
