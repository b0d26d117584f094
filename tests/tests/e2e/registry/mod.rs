//! The registry: regions, households, visits, progress.
mod campaigns;
mod households_batch;
mod households_edit;
mod pii;
mod progress;
mod progress_counters;
mod server;
mod validation;
mod visits;
