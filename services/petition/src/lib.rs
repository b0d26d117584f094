//! The petition-system bridge (信访对接), issue 7. Started: the statutory
//! clock and the case's state machine as pure rules; the service (inbound
//! webhook, AMQP and batch doors, matching, ledger items, outbound replies)
//! comes next.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod domain;
