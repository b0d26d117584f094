//! The registry's pure rules: visit and item validation, body fingerprints,
//! the completeness check, quota arithmetic, and what a visit adds to the
//! progress counters. No I/O here: the `ops` layer
//! reads the clock and the database and passes what these need.
pub mod campaign_status;
pub mod completeness;
pub mod fingerprint;
pub mod household_edit;
pub mod items;
pub mod quota;
pub mod tally;
pub mod violations;
pub mod visit;
pub mod work_team;

pub use completeness::{MIN_NARRATIVE_CHARS, check_completeness};
pub use fingerprint::fingerprint;
pub use items::{item_no, validate_items};
pub use quota::{CadreActuals, applicable_quotas, coverage_bp, evaluate, validate_quotas};
pub use violations::Violations;
pub use visit::{ValidVisit, validate_visit};
