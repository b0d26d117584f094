//! Notifications (通知).
mod fake_http;
mod flow;
