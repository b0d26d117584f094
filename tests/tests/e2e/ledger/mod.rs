//! The issue ledger (民情台账).
mod assignees;
mod items;
mod petition;
mod routing;
