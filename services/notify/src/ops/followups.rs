//! What happens after the first message: the escalation ladder of overdue
//! items, each person's open items, and the daily digest.
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::jobs::{self, Sweep, Swept};
use zoufang_core::fields::{county_of, to_chrono};
use zoufang_proto::events::v1::IssueChanged;

use super::{State, fanout};
use crate::{
    domain::{
        digest::{self, DigestItem},
        ladder,
        rules::{Audience, Fact, Followup, issue_vars, kind_zh, overdue_key},
    },
    store::{self, followups::EscalationRow},
};

fn step(state: &State) -> Duration {
    Duration::from_std(state.settings.escalation_step).unwrap_or(Duration::days(1))
}

fn item_title(i: &IssueChanged) -> String {
    let head = if i.category.is_empty() {
        kind_zh(i.kind)
    } else {
        &i.category
    };
    let text: String = i.description.chars().take(40).collect();
    format!("{head}：{text}")
}

/// Applies an issue event's follow-up in the consumer's transaction.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn apply(
    conn: &mut PgConnection,
    state: &State,
    issue: &IssueChanged,
    follow: Followup,
) -> anyhow::Result<()> {
    let Ok(issue_id) = Uuid::parse_str(&issue.issue_id) else {
        return Ok(());
    };
    let county = county_of(&issue.region_code);
    let now = state.clock.now();
    let deadline = issue.deadline.as_ref().and_then(to_chrono);
    let cadre = &issue.responsible_cadre_id;
    match follow {
        Followup::None => {}
        Followup::Settled | Followup::Reset => {
            store::followups::stop_ladder(conn, &county, issue_id).await?;
            store::followups::drop_open_item(conn, &county, issue_id).await?;
        }
        Followup::DueSoon if !cadre.is_empty() => {
            store::followups::upsert_open_item(
                conn,
                &county,
                cadre,
                issue_id,
                "due_soon",
                &item_title(issue),
                deadline,
                now,
            )
            .await?;
        }
        Followup::StartLadder => {
            if !cadre.is_empty() {
                store::followups::upsert_open_item(
                    conn,
                    &county,
                    cadre,
                    issue_id,
                    "overdue",
                    &item_title(issue),
                    deadline,
                    now,
                )
                .await?;
            }
            let row = EscalationRow {
                county,
                issue_id,
                deadline: deadline.unwrap_or(now),
                level: 0,
                next_at: now + step(state),
                vars: sqlx::types::Json(issue_vars(issue)),
                region_code: issue.region_code.clone(),
                urgent: issue.urgent || issue.priority == "urgent",
            };
            store::followups::start_ladder(conn, &row).await?;
        }
        Followup::DueSoon => {}
    }
    Ok(())
}

/// Escalations claimed per transaction.
const ESCALATION_BATCH: usize = 100;

/// Moves every overdue item whose time on its rung is up one rung higher,
/// paging that rung's audience; returns how many climbed.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn escalate_due(state: &State) -> anyhow::Result<usize> {
    let now = state.clock.now();
    jobs::sweep(&state.pool, &Escalations { state, now }, ESCALATION_BATCH).await
}

/// The items due to climb at `now`, as a sweep of the job engine (which
/// claims them county by county).
struct Escalations<'a> {
    state: &'a State,
    now: DateTime<Utc>,
}

impl Sweep for Escalations<'_> {
    fn name(&self) -> &'static str {
        "notify.escalation"
    }

    async fn counties(&self) -> sqlx::Result<Vec<String>> {
        store::followups::escalation_counties(&self.state.pool, self.now).await
    }

    async fn batch(
        &self,
        tx: &mut PgConnection,
        county: &str,
        limit: i64,
    ) -> anyhow::Result<Swept> {
        let (state, now) = (self.state, self.now);
        let due = store::followups::due_escalations(tx, county, now, limit).await?;
        for e in &due {
            let level = u32::try_from(e.level).unwrap_or(0);
            let Some(rung) = ladder::next(level) else {
                store::followups::stop_ladder(tx, &e.county, e.issue_id).await?;
                continue;
            };
            let fact = Fact {
                kind: rung.kind,
                fact_key: overdue_key(&e.issue_id.to_string(), e.deadline.timestamp(), rung.level),
                subject_type: "issue",
                subject_id: e.issue_id.to_string(),
                region_code: e.region_code.clone(),
                urgent: e.urgent,
                vars: ladder_vars(e.vars.0.clone(), &e.region_code),
                audience: rung.role.map(Audience::Role).into_iter().collect(),
            };
            fanout::publish(tx, state, &fact, now).await?;
            let next_at = ladder::next(rung.level).map(|_| now + step(state));
            store::followups::climb(
                tx,
                &e.county,
                e.issue_id,
                i32::try_from(rung.level).unwrap_or(i32::MAX),
                next_at,
            )
            .await?;
        }
        Ok(Swept {
            claimed: due.len(),
            done: due.len(),
        })
    }
}

/// Sends the day's digests that are due; returns how many went out.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn send_digests(state: &State) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let Some(date) = digest::due_date(now, state.settings.digest_hour) else {
        return Ok(0);
    };
    let mut sent = 0;
    for who in store::followups::digests_due(&state.pool, date, 200).await? {
        let mut tx = state.pool.begin().await?;
        if !store::followups::claim_digest(&mut tx, &who.county, &who.recipient_id, date).await? {
            continue;
        }
        let items: Vec<DigestItem> =
            store::followups::open_items_of(&mut tx, &who.county, &who.recipient_id)
                .await?
                .into_iter()
                .map(|(status, title, deadline)| DigestItem {
                    status,
                    title,
                    deadline,
                })
                .collect();
        if !items.is_empty() {
            let region_code = store::recipients::get(&mut *tx, &who.county, &who.recipient_id)
                .await?
                .map_or_else(|| format!("{:0<12}", who.county), |r| r.region_code);
            let fact = Fact {
                kind: "digest",
                fact_key: format!("digest:{date}"),
                subject_type: "digest",
                subject_id: date.to_string(),
                region_code,
                urgent: false,
                vars: digest::vars(&items),
                audience: vec![Audience::Person(who.recipient_id.clone())],
            };
            sent += fanout::publish(&mut tx, state, &fact, now).await?;
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// The stored variables of a ladder's item; one stored before names
/// travelled lacks `region_name`, which then shows the code (never blank).
fn ladder_vars(
    mut vars: crate::domain::template::Vars,
    region_code: &str,
) -> crate::domain::template::Vars {
    vars.entry("region_name".into())
        .or_insert_with(|| region_code.to_owned());
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ladder_stored_before_names_travelled_shows_the_code() {
        let old = ladder_vars(Default::default(), "430426104201");
        assert_eq!(old["region_name"], "430426104201");
        let mut named = crate::domain::template::Vars::new();
        named.insert("region_name".into(), "白鹤铺镇黄龙村".into());
        assert_eq!(
            ladder_vars(named, "430426104201")["region_name"],
            "白鹤铺镇黄龙村"
        );
    }
}
