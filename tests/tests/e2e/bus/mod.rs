//! Events between services: outbox, inbox, retries, parking.
mod event_flow;
mod parking;
mod tap;
