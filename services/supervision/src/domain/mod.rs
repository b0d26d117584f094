//! Pure rules of supervision, no I/O: [`sampling`] decides which subjects get
//! a callback, [`signals`] reads fabrication signals and a cadre's risk score
//! from the visit records themselves, [`backcheck`] compares a resident's
//! answers with the diary.
pub mod assessment;
pub mod backcheck;
pub mod sampling;
pub mod signals;

pub use sampling::SamplingPolicy;
pub use signals::{Signal, Thresholds, VisitFacts, haversine_km, risk_score, signals_for};
