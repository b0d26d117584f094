//! Pure rules of supervision, no I/O: [`sampling`] decides which subjects get
//! a callback, [`signals`] reads fabrication signals and a cadre's risk score
//! from the visit records themselves, [`backcheck`] compares a resident's
//! answers with the diary, [`notice`] keeps personal numbers out of task
//! notifications.
pub mod assessment;
pub mod backcheck;
pub mod notice;
pub mod sampling;
pub mod signals;

pub use sampling::SamplingPolicy;
pub use signals::{Signal, Thresholds, VisitFacts, haversine_km, risk_score, signals_for};
