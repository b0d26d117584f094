//! The ledger's pure rules: the state machine, deadlines (SLA), and routing
//! (conflict of interest, rectification loops). No I/O here: the `ops` layer
//! reads the clock and the database and passes in what these need.
pub mod assignee;
pub mod petition;
pub mod routing;
pub mod sla;
pub mod state;

pub use routing::{DEFAULT_MAX_LOOPS, ReopenOutcome, after_reopen, check_assignee, level_label_zh};
pub use sla::{
    MAX_RULE_DAYS, SlaRule, Threshold, deadline_after, deadline_days, default_days,
    priority_raised, second_round_days, supervised_deadline, threshold, validate_rules,
};
pub use state::{Action, State, transition};
