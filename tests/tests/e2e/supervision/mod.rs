//! Supervision (督查回访).
mod events;
mod flow;
mod signals;
