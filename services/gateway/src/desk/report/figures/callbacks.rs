//! The callbacks section of a summary (督查回访): supervision's totals.
use serde::Serialize;
use zoufang_proto::supervision::v1::CallbackTotals;

/// Supervision callbacks (督查回访).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Callbacks {
    pub callbacks: i64,
    pub done: i64,
    pub unreachable: i64,
    pub open: i64,
    pub overdue: i64,
    pub reach_rate_bp: u32,
    /// 满意 + 基本满意 among answered item callbacks.
    pub satisfaction_rate_bp: u32,
    pub visit_confirmation_rate_bp: u32,
    pub visits_checked: i64,
    pub visits_not_confirmed: i64,
}

/// The callback figures of supervision's totals.
pub fn callbacks_of(t: &CallbackTotals) -> Callbacks {
    Callbacks {
        callbacks: t.callbacks,
        done: t.done,
        unreachable: t.unreachable,
        open: t.open,
        overdue: t.overdue,
        reach_rate_bp: t.reach_rate_bp,
        satisfaction_rate_bp: t.satisfaction_rate_bp,
        visit_confirmation_rate_bp: t.visit_confirmation_rate_bp,
        visits_checked: t.visits_checked,
        visits_not_confirmed: t.visits_not_confirmed,
    }
}
