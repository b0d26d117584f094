//! The end-to-end tests, one binary (linking every service once), one module
//! per area. `cargo test` runs the tests of one binary in parallel threads:
//! each test starts its own services on its own database and queues, so
//! none may assume it is alone on the servers. The tests that restart the
//! shared PostgreSQL or RabbitMQ are in the binary `faults`, one at a time.
//! Run one area with a name filter, e.g.
//! `cargo test -p zoufang-e2e --test e2e registry::`.
//!
//! | module | what |
//! |---|---|
//! | `registry` | the registry: server surface, validation, visits, households, personal data, progress and its counters |
//! | `ledger` | the issue ledger (民情台账): entries from visits, states, routing, petition cases |
//! | `supervision` | callbacks, their events, fabrication signals |
//! | `notify` | notifications, deliveries and the fake HTTP server they go to |
//! | `petition` | the petition bridge and the reference fake petition system |
//! | `gateway` | the HTTP door: accounts, imports, exports, reports, the OpenAPI fuzz |
//! | `bus` | the outbox, inbox consumers, retries and parking |
//! | `processes` | the real binaries as processes: a whole campaign, one trace, the demo generator |
//! | `schema` | what every service's schema and SQL must hold to (keys by county, parameter casts) |
//! | `fuzz_regressions` | the kept fuzz inputs replayed |
//! | `security` | the security findings (issue 18) |
mod bus;
mod fuzz_regressions;
mod gateway;
mod ledger;
mod notify;
mod petition;
mod processes;
mod registry;
mod schema;
mod security;
mod supervision;
