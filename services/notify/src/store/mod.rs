//! All SQL of the notification service, one module per table group.
pub mod deliveries;
pub mod followups;
pub mod notifications;
pub mod preferences;
pub mod recipients;
pub mod subscriptions;
pub mod templates;
