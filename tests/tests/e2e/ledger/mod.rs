//! The issue ledger (民情台账).
mod items;
mod petition;
mod routing;
