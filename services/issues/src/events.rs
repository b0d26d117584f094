//! What the ledger consumes: recorded visits become ledger entries; callback
//! outcomes verify or reopen them; petition cases become entries that follow
//! their case (deadlines, answers, reviews, merges). Each event is applied
//! in the transaction that records it in the inbox, so a redelivery changes
//! nothing; each branch looks at the entry's state first, so a change
//! replayed under a new event id changes nothing either.
use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::consumer::{EventHandler, HandlerError, IncomingEvent, known_change, known_enum};
use zoufang_core::{ServiceError, fields::to_chrono};
use zoufang_proto::{
    catalogue::supervision,
    events::v1::{
        CadreChange, CadreChanged, CallbackCompleted, CaseChange, PetitionCaseChanged,
        Satisfaction, VisitRecorded,
    },
};

use crate::{
    domain::{
        petition::{self, Change, Step},
        state::{Action, State as IssueState},
    },
    ops::{
        self, SYSTEM, State,
        lifecycle::{self, Actor, apply},
        transitions::{merge_in, reopen_in},
    },
    store::{self, timeline::NewEntry},
};

/// The actor the timeline names for changes of petition cases.
pub const PETITION_ACTOR: &str = "petition";

/// How many merges deep a merged case's target is followed to the surviving item.
const MAX_MERGE_HOPS: usize = 8;

/// The ledger's event handler.
#[derive(Debug, Clone)]
pub struct LedgerEvents {
    /// Operations state (pool, settings).
    pub state: State,
}

fn to_handler(e: ServiceError) -> HandlerError {
    match e {
        ServiceError::Internal(e) => HandlerError::Retry(e),
        ServiceError::Aborted(m) => HandlerError::Retry(anyhow::anyhow!(m)),
        other => HandlerError::Park(anyhow::anyhow!("{other}")),
    }
}

impl EventHandler for LedgerEvents {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let key = event.envelope.routing_key.as_str();
        if let Some(visit) = event.decode_if::<VisitRecorded>()? {
            let created = ops::create::from_visit(tx, &visit, self.state.clock.now())
                .await
                .map_err(HandlerError::retry_or_park)?;
            tracing::info!(visit_id = %visit.visit_id, created, "ledger entries from a visit");
            Ok(())
        } else if key == supervision::CALLBACK_COMPLETED
            && let Some(outcome) = event.decode_if::<CallbackCompleted>()?
        {
            self.callback(tx, &outcome).await
        } else if let Some(case) = event.decode_if::<PetitionCaseChanged>()? {
            let change: CaseChange = known_change(case.change)?;
            self.petition(tx, change, &case).await
        } else if let Some(cadre) = event.decode_if::<CadreChanged>()? {
            let _: CadreChange = known_change(cadre.change)?;
            directory(tx, &cadre).await
        } else {
            Err(HandlerError::Park(anyhow::anyhow!(
                "the ledger does not handle {key}"
            )))
        }
    }
}

/// A cadre event: the directory keeps the newest statement of each cadre
/// (registered and announced both state the whole cadre). One that names
/// no valid cadre, county or time is parked.
async fn directory(tx: &mut PgConnection, cadre: &CadreChanged) -> Result<(), HandlerError> {
    let park = |what: &str| {
        HandlerError::Park(anyhow!(
            "cadre event with {what}: {:?} / {:?}",
            cadre.cadre_id,
            cadre.county
        ))
    };
    let cadre_id = Uuid::parse_str(cadre.cadre_id.trim()).map_err(|_| park("no valid cadre id"))?;
    let county = cadre.county.trim();
    let region = cadre.region_code.trim();
    if county.len() != 6
        || !county.bytes().all(|b| b.is_ascii_digit())
        || !region.starts_with(county)
    {
        return Err(park("no valid county and region"));
    }
    let as_of = cadre
        .as_of
        .as_ref()
        .and_then(to_chrono)
        .ok_or_else(|| park("no time"))?;
    let row = store::cadres::CadreRow {
        county: county.to_owned(),
        cadre_id,
        name: cadre.name.trim().to_owned(),
        region_code: region.to_owned(),
        as_of,
    };
    let changed = store::cadres::upsert(tx, &row).await?;
    tracing::info!(%cadre_id, changed, "cadre directory");
    Ok(())
}

fn not_yet(issue_id: Uuid) -> HandlerError {
    HandlerError::Retry(anyhow!("issue {issue_id} is not in the ledger yet"))
}

fn petition_actor(at: DateTime<Utc>) -> Actor<'static> {
    Actor {
        name: PETITION_ACTOR,
        expected_version: None,
        at,
    }
}

impl LedgerEvents {
    /// Satisfied and fixed → verified; unsatisfied or not fixed → reopened,
    /// back to its responsible cadre for another round.
    async fn callback(
        &self,
        tx: &mut PgConnection,
        outcome: &CallbackCompleted,
    ) -> Result<(), HandlerError> {
        let Ok(issue_id) = Uuid::parse_str(&outcome.issue_id) else {
            return Ok(()); // a visit verification: not the ledger's business
        };
        let satisfaction: Satisfaction = known_enum("satisfaction", outcome.satisfaction)?;
        if !outcome.reached {
            return Ok(());
        }
        let Some(county) = store::issues::county_of(&mut *tx, issue_id).await? else {
            return Err(HandlerError::Retry(anyhow::anyhow!(
                "issue {issue_id} is not in the ledger yet"
            )));
        };
        let Some(row) = store::issues::get(&mut *tx, &county, issue_id).await? else {
            return Ok(());
        };
        let state = IssueState::parse(&row.state);
        let unsatisfied = satisfaction == Satisfaction::Unsatisfied || !outcome.fix_confirmed;
        let actor = Actor {
            name: &outcome.supervisor_id,
            expected_version: None,
            at: self.state.clock.now(),
        };
        let actor = if actor.name.is_empty() {
            Actor {
                name: SYSTEM,
                ..actor
            }
        } else {
            actor
        };
        match (unsatisfied, state) {
            (true, Some(IssueState::Resolved | IssueState::Explained | IssueState::Verified)) => {
                let reason = format!("回访不满意：{}", outcome.comment.trim());
                reopen_in(tx, &self.state, None, issue_id, actor, &reason, None)
                    .await
                    .map_err(to_handler)?;
            }
            (false, Some(IssueState::Resolved | IssueState::Explained)) => {
                let note = format!("回访确认：{}", outcome.comment.trim());
                apply(tx, None, issue_id, actor, Action::Verify, &note, |_, _| {
                    Ok(())
                })
                .await
                .map_err(to_handler)?;
            }
            _ => tracing::info!(%issue_id, state = %row.state, "callback outcome needs no change"),
        }
        Ok(())
    }
}

impl LedgerEvents {
    /// A change of a petition case: `received` creates its entry; every other
    /// change moves the entry's deadline to the case's and closes, reopens or
    /// merges it as [`petition::plan`] decides. A change the ledger does not
    /// know is ignored; a change of a case whose entry is not there yet (out
    /// of order) is retried.
    async fn petition(
        &self,
        tx: &mut PgConnection,
        change: CaseChange,
        case: &PetitionCaseChanged,
    ) -> Result<(), HandlerError> {
        let Some(change) = Change::of(change) else {
            tracing::info!(change = change.as_str_name(), case_id = %case.case_id, "petition change the ledger does not follow: ignored");
            return Ok(());
        };
        if change == Change::Received {
            let created =
                ops::create::from_petition(tx, PETITION_ACTOR, case, self.state.clock.now())
                    .await
                    .map_err(to_handler)?;
            tracing::info!(case_id = %case.case_id, issue_id = %case.issue_id, created, "ledger entry from a petition case");
            return Ok(());
        }
        let issue_id = Uuid::parse_str(case.issue_id.trim()).map_err(|e| {
            HandlerError::Park(anyhow!(
                "petition case {} names no valid issue ({:?}): {e}",
                case.case_id,
                case.issue_id
            ))
        })?;
        let Some(county) = store::issues::county_of(&mut *tx, issue_id).await? else {
            return Err(not_yet(issue_id));
        };
        let Some(row) = store::issues::lock(tx, &county, issue_id).await? else {
            return Err(not_yet(issue_id));
        };
        let state = IssueState::parse(&row.state).ok_or_else(|| {
            HandlerError::Park(anyhow!(
                "issue {issue_id} has unknown state {:?}",
                row.state
            ))
        })?;
        let due_at = case
            .due_at
            .as_ref()
            .and_then(to_chrono)
            .map(petition::stored_precision);
        let plan = petition::plan(
            change,
            &case.outcome,
            &case.note,
            due_at,
            state,
            row.deadline,
        );
        tracing::info!(%issue_id, change = change.as_str(), state = %state, ?plan, "petition case change");

        if let Step::Reopen(reason) = plan.step {
            // A new round with the case's deadline: announce it afresh.
            reopen_in(
                tx,
                &self.state,
                None,
                issue_id,
                petition_actor(self.state.clock.now()),
                reason,
                plan.deadline,
            )
            .await
            .map_err(to_handler)?;
            store::issues::clear_deadline_marks(tx, &county, issue_id).await?;
            return Ok(());
        }
        if let Some(deadline) = plan.deadline
            && let Some(moved) =
                store::issues::set_deadline(tx, &county, issue_id, deadline).await?
        {
            let note = petition::deadline_note(change, deadline);
            store::timeline::append(
                tx,
                &NewEntry {
                    county: &county,
                    issue_id,
                    actor: PETITION_ACTOR,
                    action: "petition_deadline",
                    from_state: &moved.state,
                    to_state: &moved.state,
                    note: &note,
                    related_issue_id: None,
                },
            )
            .await?;
        }
        match plan.step {
            Step::Nothing | Step::Reopen(_) => {}
            Step::Resolve(resolution) => {
                let change = lifecycle::answered(resolution.clone());
                apply(
                    tx,
                    None,
                    issue_id,
                    petition_actor(self.state.clock.now()),
                    Action::Resolve,
                    &resolution,
                    change,
                )
                .await
                .map_err(to_handler)?;
            }
            Step::Explain(explanation) => {
                let change = lifecycle::explain(explanation.clone(), false);
                apply(
                    tx,
                    None,
                    issue_id,
                    petition_actor(self.state.clock.now()),
                    Action::Explain,
                    &explanation,
                    change,
                )
                .await
                .map_err(to_handler)?;
            }
            Step::Merge(note) => self.merge_case(tx, issue_id, case, &note).await?,
        }
        Ok(())
    }

    /// Marks the entry of a merged case a duplicate of the entry of the case
    /// it was merged into (or of the item that one was merged into in turn).
    async fn merge_case(
        &self,
        tx: &mut PgConnection,
        issue_id: Uuid,
        case: &PetitionCaseChanged,
        note: &str,
    ) -> Result<(), HandlerError> {
        let mut into = Uuid::parse_str(case.merged_into_issue_id.trim()).map_err(|e| {
            HandlerError::Park(anyhow!(
                "petition case {} was merged into no valid issue ({:?}): {e}",
                case.case_id,
                case.merged_into_issue_id
            ))
        })?;
        for _ in 0..MAX_MERGE_HOPS {
            let Some(county) = store::issues::county_of(&mut *tx, into).await? else {
                return Err(not_yet(into));
            };
            let Some(target) = store::issues::get(&mut *tx, &county, into).await? else {
                return Err(not_yet(into));
            };
            match target.merged_into {
                Some(next) if target.state == IssueState::Duplicate.as_str() => into = next,
                _ => break,
            }
        }
        if into == issue_id {
            tracing::info!(%issue_id, "petition case merged into its own item: nothing to do");
            return Ok(());
        }
        merge_in(
            tx,
            None,
            issue_id,
            into,
            petition_actor(self.state.clock.now()),
            note,
        )
        .await
        .map_err(to_handler)?;
        Ok(())
    }
}
