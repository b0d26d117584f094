//! Pure rules of supervision.
