//! The registry's pure rules: visit validation and fingerprints, the
//! completeness check, and quota arithmetic. No I/O here.
pub mod completeness;
pub mod quota;
pub mod visit;

pub use completeness::check_completeness;
pub use quota::{CadreActuals, coverage_bp, evaluate, validate_quotas};
pub use visit::{ValidVisit, fingerprint, validate_visit};
