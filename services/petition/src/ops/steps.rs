//! Handling a case: acceptance, refusal, extension, reply, review and
//! re-review, and the hotline's return, reassignment and merge. The
//! statutory rules (`domain::clock`) decide; this module checks who may act,
//! the version the caller saw, and writes the result with its event and
//! its answer in one transaction.
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult, auth::Claims};

use super::{At, HANDLERS, State, record::record, view};
use crate::{
    domain::{
        change::Change,
        clock::{Outcome, Refusal, Stage, may_accept},
    },
    store::{self, cases::CaseRow},
};

/// One step of handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Accept { note: String, new_facts: bool },
    Refuse { reason: String },
    Extend { days: i64, reason: String },
    Reply { outcome: Outcome, text: String },
    Appeal { note: String },
    Decide { outcome: Outcome, text: String },
    Return { reason: String },
    Reassign { assignee: String, note: String },
    Merge { into: Uuid, note: String },
}

fn refused(r: Refusal) -> ServiceError {
    ServiceError::FailedPrecondition(r.to_string())
}

fn required(field: &str, v: &str, max: usize) -> ServiceResult<String> {
    zoufang_core::fields::require_text(field, v, max)
}

impl Step {
    /// Checks the step's own fields; every bad one is named.
    pub fn validate(&self) -> ServiceResult<()> {
        match self {
            Self::Refuse { reason } | Self::Return { reason } => {
                required("reason", reason, 2000)?;
            }
            Self::Extend { days, reason } => {
                if !(1..=crate::domain::clock::MAX_EXTENSION_DAYS).contains(days) {
                    return Err(ServiceError::invalid("days", "1 to 30 days"));
                }
                required("reason", reason, 2000)?;
            }
            Self::Reply { text, .. } | Self::Decide { text, .. } => {
                required("text", text, 5000)?;
            }
            Self::Reassign { assignee, .. } => {
                required("assignee", assignee, 100)?;
            }
            Self::Accept { .. } | Self::Appeal { .. } | Self::Merge { .. } => {}
        }
        Ok(())
    }
}

/// Applies `step` to the case as the caller.
#[tracing::instrument(skip_all, fields(%case_id), err(level = "debug"))]
pub async fn apply_as(
    state: &State,
    claims: &Claims,
    case_id: Uuid,
    expected_version: i64,
    step: Step,
) -> ServiceResult<CaseRow> {
    claims.require_any_role(HANDLERS)?;
    step.validate()?;
    let mut tx = state.pool.begin().await?;
    let found = store::cases::get(&mut *tx, case_id)
        .await?
        .filter(|r| claims.covers(&r.region_code))
        .ok_or_else(|| ServiceError::NotFound(format!("case {case_id}")))?;
    let row = store::cases::lock(&mut tx, &found.county, case_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("case {case_id}")))?;
    // A merge writes the target's issue into this case's answer and event:
    // the caller must cover the target as stored too (and an out-of-scope
    // target answers like an unknown one).
    if let Step::Merge { into, .. } = &step {
        let covered = store::cases::get(&mut *tx, *into)
            .await?
            .is_some_and(|t| claims.covers(&t.region_code));
        if !covered {
            return Err(ServiceError::invalid(
                "into_case_id",
                "no such case in this county",
            ));
        }
    }
    if expected_version != 0 && expected_version != row.version {
        return Err(ServiceError::Aborted(format!(
            "case {case_id} is at version {}, not {expected_version}; reload it",
            row.version
        )));
    }
    let saved = apply(&mut tx, row, &step, &claims.sub, state.at()).await?;
    tx.commit().await?;
    state.wake.notify_one();
    Ok(saved)
}

/// Applies `step` to the locked `row` inside `tx`.
#[tracing::instrument(skip_all, fields(case_id = %row.case_id), err(level = "debug"))]
pub async fn apply(
    tx: &mut PgConnection,
    mut row: CaseRow,
    step: &Step,
    actor: &str,
    at: At,
) -> ServiceResult<CaseRow> {
    let now = at.case;
    let clock = view::clock_of(&row);
    let mut extras = view::Extras::default();
    let (next, change) = match step {
        Step::Accept { note, new_facts } => {
            let prior = match row.repeat_of {
                Some(id) => store::cases::get(&mut *tx, id)
                    .await?
                    .map(|p| p.external_id),
                None => None,
            };
            may_accept(prior.as_deref(), *new_facts).map_err(refused)?;
            extras.note = note.clone();
            (clock.accept(now).map_err(refused)?, Change::Accepted)
        }
        Step::Refuse { reason } => {
            extras.note = reason.clone();
            row.reply_text = reason.clone();
            (clock.refuse(now).map_err(refused)?, Change::NotAccepted)
        }
        Step::Extend { days, reason } => {
            extras.note = reason.clone();
            row.extension_reason = reason.clone();
            (
                clock.extend(*days, reason).map_err(refused)?,
                Change::Extended,
            )
        }
        Step::Reply { outcome, text } => {
            extras.note = text.clone();
            row.reply_text = text.clone();
            (
                clock.reply(*outcome, now).map_err(refused)?,
                Change::Replied,
            )
        }
        Step::Appeal { note } => {
            extras.note = note.clone();
            let next = clock.appeal(now).map_err(refused)?;
            let change = if next.stage == Stage::UnderReview {
                Change::ReviewRequested
            } else {
                Change::ReReviewRequested
            };
            (next, change)
        }
        Step::Decide { outcome, text } => {
            extras.note = text.clone();
            row.reply_text = text.clone();
            let next = clock.decide(*outcome, now).map_err(refused)?;
            let change = if matches!(next.stage, Stage::Reviewed(_)) {
                Change::Reviewed
            } else {
                Change::ReReviewed
            };
            (next, change)
        }
        Step::Return { reason } => {
            extras.note = reason.clone();
            (clock.return_order().map_err(refused)?, Change::Returned)
        }
        Step::Reassign { assignee, note } => {
            extras.note = note.clone();
            row.assignee = assignee.clone();
            (clock.reassign(now).map_err(refused)?, Change::Reassigned)
        }
        Step::Merge { into, note } => {
            let target = merge_target(tx, &row, *into).await?;
            extras.note = note.clone();
            extras.merged_into_issue_id = target.issue_id.to_string();
            row.merged_into = Some(target.case_id);
            (clock.merge().map_err(refused)?, Change::Merged)
        }
    };
    view::apply_clock(&mut row, &next);
    let saved = store::cases::save(tx, &row, now).await?;
    record(tx, &saved, change, actor, &extras, at).await?;
    Ok(saved)
}

/// The open hotline order of the same county a repeat order merges into.
async fn merge_target(tx: &mut PgConnection, row: &CaseRow, into: Uuid) -> ServiceResult<CaseRow> {
    if into == row.case_id {
        return Err(ServiceError::invalid(
            "into_case_id",
            "a case cannot merge into itself",
        ));
    }
    let target = store::cases::get(&mut *tx, into)
        .await?
        .filter(|t| t.county == row.county)
        .ok_or_else(|| ServiceError::invalid("into_case_id", "no such case in this county"))?;
    if !target.hotline || view::stage_of(&target).is_closed() {
        return Err(ServiceError::invalid(
            "into_case_id",
            "must be an open hotline work order",
        ));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_name_their_bad_fields() {
        let field = |s: Step| match s.validate() {
            Err(ServiceError::InvalidArgument(v)) => v[0].field.clone(),
            other => panic!("expected a bad field, got {other:?}"),
        };
        assert_eq!(
            field(Step::Extend {
                days: 31,
                reason: "x".into()
            }),
            "days"
        );
        assert_eq!(
            field(Step::Extend {
                days: 10,
                reason: " ".into()
            }),
            "reason"
        );
        assert_eq!(
            field(Step::Reply {
                outcome: Outcome::Supported,
                text: String::new()
            }),
            "text"
        );
        assert_eq!(
            field(Step::Reassign {
                assignee: String::new(),
                note: String::new()
            }),
            "assignee"
        );
        assert!(
            Step::Accept {
                note: String::new(),
                new_facts: false,
            }
            .validate()
            .is_ok()
        );
    }
}

/// The RPCs of handling: each request becomes its step.
pub mod rpc {
    use zoufang_core::{ServiceError, ServiceResult, auth::Claims, fields::parse_uuid};
    use zoufang_proto::petition::v1::*;

    use super::{Step, apply_as};
    use crate::{
        domain::clock::Outcome,
        ops::{State, view},
    };

    fn outcome(field: &str, v: i32) -> ServiceResult<Outcome> {
        super::super::view::outcome_of(
            zoufang_proto::petition::v1::Outcome::try_from(v).unwrap_or_default(),
        )
        .ok_or_else(|| {
            ServiceError::invalid(
                field,
                "支持 (SUPPORTED), 解释 (EXPLAINED) or 不予支持 (NOT_SUPPORTED)",
            )
        })
    }

    async fn run(
        state: &State,
        claims: &Claims,
        case_id: &str,
        version: i64,
        step: ServiceResult<Step>,
    ) -> ServiceResult<Option<Case>> {
        let case_id = parse_uuid("case_id", case_id)?;
        let row = apply_as(state, claims, case_id, version, step?).await?;
        Ok(Some(view::case(&row)))
    }

    macro_rules! step_rpc {
        ($($name:ident($req:ident) -> $resp:ident = |$r:ident| $step:expr;)*) => {$(
            #[doc = concat!("`", stringify!($name), "`.")]
            pub async fn $name(state: &State, claims: &Claims, $r: $req) -> ServiceResult<$resp> {
                fn step($r: &$req) -> ServiceResult<Step> {
                    Ok($step)
                }
                let step = step(&$r);
                Ok($resp {
                    case: run(state, claims, &$r.case_id, $r.expected_version, step).await?,
                })
            }
        )*};
    }

    step_rpc! {
        accept(AcceptCaseRequest) -> AcceptCaseResponse = |r| Step::Accept { note: r.note.trim().to_owned(), new_facts: r.new_facts };
        refuse(RefuseCaseRequest) -> RefuseCaseResponse = |r| Step::Refuse { reason: r.reason.trim().to_owned() };
        extend(ExtendCaseRequest) -> ExtendCaseResponse = |r| Step::Extend { days: i64::from(r.days), reason: r.reason.trim().to_owned() };
        reply(ReplyCaseRequest) -> ReplyCaseResponse = |r| Step::Reply { outcome: outcome("outcome", r.outcome)?, text: r.text.trim().to_owned() };
        request_review(RequestReviewRequest) -> RequestReviewResponse = |r| Step::Appeal { note: r.note.trim().to_owned() };
        decide_review(DecideReviewRequest) -> DecideReviewResponse = |r| Step::Decide { outcome: outcome("outcome", r.outcome)?, text: r.text.trim().to_owned() };
        return_order(ReturnOrderRequest) -> ReturnOrderResponse = |r| Step::Return { reason: r.reason.trim().to_owned() };
        reassign(ReassignOrderRequest) -> ReassignOrderResponse = |r| Step::Reassign { assignee: r.assignee.trim().to_owned(), note: r.note.trim().to_owned() };
        merge(MergeOrdersRequest) -> MergeOrdersResponse = |r| Step::Merge { into: parse_uuid("into_case_id", &r.into_case_id)?, note: r.note.trim().to_owned() };
    }
}
