//! Rules every service's schema and SQL follow.
mod keys;
mod sql_param_casts;
