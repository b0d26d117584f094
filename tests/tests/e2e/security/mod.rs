//! Security findings (issue 18), one module per area. Each test here failed
//! on the code before its fix: it is the finding, written down so it cannot
//! come back.
//!
//! | module | findings |
//! |---|---|
//! | `uploads` | upload bombs, body sizes, import reports keep no raw personal data |
//! | `tokens` | asymmetric tokens, revocation reaching every service, development secrets, reflection |
//! | `accounts` | lock-out race, hashing under load, account ids bound to people, SSE after sign-out, enumeration |
//! | `scope` | upserts checked against the stored row, sensitive-tag filters, existence oracles, over-reach |
//! | `revocation` | sign-out and disable reach every service; the SSE inbox ends |
//! | `petition` | the AMQP door, SSRF in callbacks and webhooks, replayed signatures |
mod accounts;
mod browser;
mod petition;
mod revocation;
mod scope;
mod tokens;
mod uploads;
