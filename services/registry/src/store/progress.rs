//! Progress queries (filled in next).
