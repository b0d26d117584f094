//! Placeholder; see helper.
