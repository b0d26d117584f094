//! The end-to-end tests, one binary (linking every service once), one module
//! per area. Each test starts its own services on its own database and
//! queues, but every stack publishes to the same events exchange in the
//! same county: a test's consumers and taps also see the events of a test
//! running beside it, and some assert that nothing more arrives. So
//! `scripts/test.sh` runs them one at a time (`RUST_TEST_THREADS=1`); by hand,
//! `cargo test -p zoufang-e2e --test e2e -- --test-threads=1` (a name filter
//! such as `registry::` runs one area). The tests that restart the shared
//! PostgreSQL or RabbitMQ are in the binary `faults`.
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
//! | `rpcs` | the RPCs no other behaviour test calls, each also aimed at another township |
mod bus;
mod console;
mod fuzz_regressions;
mod gateway;
mod ledger;
mod notify;
mod petition;
mod processes;
mod registry;
mod rpcs;
mod schema;
mod security;
mod supervision;
