//! New ledger entries: one per item raised on a visit (from the registry's
//! event), one from walk-in reception (开门接访) or a hotline, or one per
//! petition case the petition bridge received (from its event).
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_bus::consumer::{Poison, known_enum};
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{parse_optional_uuid, parse_uuid, require_text, to_chrono},
};
use zoufang_proto::{
    common::v1::ItemKind,
    common::v1::RaisedItem,
    events::v1::{IssueChange, PetitionCaseChanged, VisitRecorded},
    issues::v1::{CreateIssueRequest, CreateIssueResponse, Disposition, IssueSource, Priority},
};
use zoufang_types::{RegionCode, RegionLevel};

use super::{SYSTEM, State, lifecycle::record, view};
use crate::{
    domain::{petition, sla, state::State as IssueState},
    store::{self, issues::IssueRow},
};

/// Names ledger entries made from visit items: the same visit item always
/// gets the same issue id, whoever replays the event.
const VISIT_ITEM_NAMESPACE: Uuid = Uuid::from_u128(0x5a0f_1c2e_7d4b_4e8a_9c61_3b2f_0e7d_a1c4);

/// The issue id of item `item_no` of `visit_id`.
pub fn visit_item_issue_id(visit_id: Uuid, item_no: i32) -> Uuid {
    Uuid::new_v5(
        &VISIT_ITEM_NAMESPACE,
        format!("{visit_id}:{item_no}").as_bytes(),
    )
}

/// Default priority: urgent items first, then disputes and petitions.
pub fn default_priority(kind: ItemKind, urgent: bool) -> Priority {
    match (urgent, kind) {
        (true, _) => Priority::Urgent,
        (false, ItemKind::Dispute | ItemKind::Petition) => Priority::High,
        _ => Priority::Normal,
    }
}

fn hash(parts: &[&str]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().to_vec()
}

/// How a new entry's deadline is set.
#[derive(Debug, Clone, Copy)]
pub enum Deadline<'a> {
    /// By the SLA rules: its campaign's (these), or the defaults.
    Sla(&'a [sla::SlaRule]),
    /// Given explicitly (a petition's statutory deadline), overriding any rule.
    At(DateTime<Utc>),
}

/// A fresh row with its deadline.
#[allow(clippy::too_many_arguments)]
fn new_row(
    deadline: Deadline<'_>,
    issue_id: Uuid,
    source: IssueSource,
    region_code: &str,
    campaign_id: Option<Uuid>,
    kind: ItemKind,
    category: &str,
    priority: Priority,
    now: DateTime<Utc>,
) -> IssueRow {
    let county = zoufang_core::fields::county_of(region_code);
    let deadline = match deadline {
        Deadline::Sla(rules) => {
            let days = sla::deadline_days(rules, kind, category, priority);
            now + Duration::days(i64::from(days))
        }
        Deadline::At(at) => at,
    };
    IssueRow {
        county,
        issue_id,
        source: source as i16,
        visit_id: None,
        item_no: 0,
        campaign_id,
        household_id: None,
        region_code: region_code.to_owned(),
        kind: kind as i16,
        category: category.to_owned(),
        description: String::new(),
        households_involved: 0,
        priority: priority as i16,
        disposition: Disposition::Unspecified as i16,
        state: IssueState::Open.as_str().to_owned(),
        responsible_cadre_id: String::new(),
        department: String::new(),
        assisting_departments: vec![],
        deadline: Some(deadline),
        resolution: String::new(),
        explanation: String::new(),
        resident_acknowledged: false,
        reopen_count: 0,
        rectification_round: 1,
        escalation_level: 0,
        merged_into: None,
        concerned_cadre_ids: vec![],
        supervised: false,
        sign_deadline: None,
        signed_at: None,
        resolved_in_time: None,
        ever_escalated: false,
        version: 1,
        body_hash: vec![],
        created_at: now,
        updated_at: now,
        resolved_at: None,
        region_name: String::new(),
        responsible_cadre_name: String::new(),
    }
}

/// The name the ledger learned for a place from visit events ('' when no
/// visit was recorded there yet).
async fn known_place(conn: &mut PgConnection, code: &str) -> sqlx::Result<String> {
    let (township, village) = store::places::names_of(conn, code).await?;
    Ok(place_name(&township, &village))
}

/// The name of a place from its township's and village's names
/// ("白地市镇" + "朝阳村"); either may be missing.
pub fn place_name(township: &str, village: &str) -> String {
    format!("{}{}", township.trim(), village.trim())
}

/// Inserts a new entry and, when it was new, appends its `create` timeline
/// entry and writes its `issues.issue.created` event. False (and nothing
/// written) when the id is already in the ledger.
async fn insert_and_announce(
    conn: &mut PgConnection,
    row: &IssueRow,
    actor: &str,
    note: &str,
) -> ServiceResult<bool> {
    if !store::issues::insert(conn, row).await? {
        return Ok(false);
    }
    record(
        conn,
        row,
        "",
        actor,
        "create",
        IssueChange::Created,
        note,
        None,
    )
    .await?;
    Ok(true)
}

/// The category of items made from petition cases: the case carries none.
pub const PETITION_CATEGORY: &str = "其他";

/// Creates the entry of a petition case (信访件) or 12345 work order the
/// petition bridge received, inside the consumer's transaction: the bridge's
/// issue id, the case's region and household, its summary, and its statutory
/// deadline (`due_at`) rather than an SLA default. True when it was new; a
/// case already in the ledger is left exactly as it is.
#[tracing::instrument(skip_all, fields(case_id = %case.case_id), err(level = "debug"))]
pub async fn from_petition(
    conn: &mut PgConnection,
    actor: &str,
    case: &PetitionCaseChanged,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let issue_id = parse_uuid("issue_id", &case.issue_id)?;
    let region = RegionCode::parse("region_code", &case.region_code)?;
    let household_id = match parse_optional_uuid("household_id", &case.household_id) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(%issue_id, error = %e, "petition case with a bad household id: kept without one");
            None
        }
    };
    let source = petition::source_of(&case.kind);
    let kind = ItemKind::Petition;
    let due_at = case
        .due_at
        .as_ref()
        .and_then(to_chrono)
        .map(petition::stored_precision);
    let deadline = match due_at {
        Some(at) => Deadline::At(at),
        // Without a statutory deadline the defaults apply (no campaign).
        None => Deadline::Sla(&[]),
    };
    let mut row = new_row(
        deadline,
        issue_id,
        source,
        region.as_str(),
        None,
        kind,
        PETITION_CATEGORY,
        default_priority(kind, false),
        now,
    );
    row.household_id = household_id;
    row.description = match case.summary.trim() {
        "" => "（无摘要）".to_owned(),
        summary => summary.to_owned(),
    };
    row.body_hash = hash(&["petition", &case.case_id, &case.issue_id]);
    row.region_name = known_place(&mut *conn, region.as_str()).await?;
    let note = petition::received_note(source, &case.channel, &case.external_id, row.deadline);
    insert_and_announce(conn, &row, actor, &note).await
}

/// The ledger kind of the `i`th item of a recorded visit: an item of no kind
/// is a problem (反映问题); a kind this build does not know parks the visit.
pub fn raised_kind(i: usize, item: &RaisedItem) -> Result<ItemKind, Poison> {
    match known_enum(&format!("items[{i}].kind"), item.kind)? {
        ItemKind::Unspecified => Ok(ItemKind::Problem),
        kind => Ok(kind),
    }
}

/// Creates the entries of a recorded visit inside the consumer's transaction.
/// Items resolved on the spot arrive resolved (当即解决). Returns how many
/// entries were new.
#[tracing::instrument(skip_all, fields(visit_id = %visit.visit_id), err(level = "debug"))]
pub async fn from_visit(
    conn: &mut PgConnection,
    visit: &VisitRecorded,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let visit_id = Uuid::parse_str(&visit.visit_id)?;
    let campaign_id = Uuid::parse_str(&visit.campaign_id).ok();
    let household_id = Uuid::parse_str(&visit.household_id).ok();
    let recorded_at = visit
        .recorded_at
        .as_ref()
        .and_then(to_chrono)
        .unwrap_or(now);
    let county = zoufang_core::fields::county_of(&visit.village_code);
    let rules = store::sla::of(&mut *conn, &county, campaign_id).await?;
    // The registry's names of the village and its township: kept for items
    // of that place that come without them (reception, hotline, petition).
    if visit.village_code.len() == 12 {
        let township = format!("{}000", &visit.village_code[..9]);
        store::places::learn(
            conn,
            &visit.village_code[..6],
            &[
                (visit.village_code.as_str(), visit.village_name.as_str()),
                (township.as_str(), visit.township_name.as_str()),
            ],
        )
        .await?;
    }
    let mut created = 0;
    for (i, item) in visit.items.iter().enumerate() {
        let kind = raised_kind(i, item)?;
        let issue_id = visit_item_issue_id(visit_id, item.item_no);
        let category = if item.category.trim().is_empty() {
            "其他"
        } else {
            item.category.trim()
        };
        let priority = default_priority(kind, item.urgent);
        let mut row = new_row(
            Deadline::Sla(&rules),
            issue_id,
            IssueSource::Visit,
            &visit.village_code,
            campaign_id,
            kind,
            category,
            priority,
            recorded_at,
        );
        row.visit_id = Some(visit_id);
        row.item_no = item.item_no;
        row.household_id = household_id;
        row.description = item.description.clone();
        row.households_involved = item.households_involved;
        row.region_name = place_name(&visit.township_name, &visit.village_name);
        row.body_hash = hash(&[&visit.visit_id, &item.item_no.to_string()]);
        if item.resolved_on_spot {
            row.state = IssueState::Resolved.as_str().to_owned();
            row.disposition = Disposition::OnSpot as i16;
            row.resolution = item.resolution_note.clone();
            row.responsible_cadre_id = visit.cadre_ids.first().cloned().unwrap_or_default();
            row.responsible_cadre_name = visit.cadre_names.first().cloned().unwrap_or_default();
            row.resolved_at = Some(recorded_at);
            row.resolved_in_time = Some(true);
        }
        // The error itself as the cause, not its text: the consumer tells a
        // database that went away (wait, redeliver) from a failed statement
        // (retry queue) by what is in the chain.
        if !insert_and_announce(conn, &row, SYSTEM, "")
            .await
            .map_err(anyhow::Error::from)?
        {
            continue; // already in the ledger
        }
        created += 1;
        if item.resolved_on_spot {
            // Resolved issues are what supervision samples for callbacks.
            record(
                conn,
                &row,
                IssueState::Resolved.as_str(),
                SYSTEM,
                "resolve",
                IssueChange::Resolved,
                "当即解决",
                None,
            )
            .await
            .map_err(anyhow::Error::from)?;
        }
    }
    Ok(created)
}

/// Creates an entry from walk-in reception or a hotline (idempotent by issue_id).
#[tracing::instrument(skip_all, fields(issue_id = %req.issue_id), err(level = "debug"))]
pub async fn create(
    state: &State,
    claims: &Claims,
    req: CreateIssueRequest,
) -> ServiceResult<CreateIssueResponse> {
    claims.require_any_role(&[
        roles::CADRE,
        roles::TOWNSHIP_ADMIN,
        roles::COUNTY_ADMIN,
        roles::PETITION_BUREAU,
        roles::SERVICE,
    ])?;
    let issue_id = parse_uuid("issue_id", &req.issue_id)?;
    let source = IssueSource::try_from(req.source).unwrap_or(IssueSource::Unspecified);
    if matches!(source, IssueSource::Unspecified | IssueSource::Visit) {
        return Err(ServiceError::invalid(
            "source",
            "choose reception (开门接访), hotline or petition; visit items come from recorded visits",
        ));
    }
    let region = RegionCode::parse("region_code", &req.region_code)?;
    if !matches!(region.level(), RegionLevel::Township | RegionLevel::Village) {
        return Err(ServiceError::invalid(
            "region_code",
            "give the village (or township) the issue belongs to",
        ));
    }
    claims.require_scope(region.as_str())?;
    let kind = ItemKind::try_from(req.kind).unwrap_or(ItemKind::Unspecified);
    if kind == ItemKind::Unspecified {
        return Err(ServiceError::invalid(
            "kind",
            "choose problem, suggestion, dispute or petition",
        ));
    }
    let category = require_text("category", &req.category, 32)?;
    let description = require_text("description", &req.description, 2000)?;
    if req.households_involved < 0 || (kind == ItemKind::Dispute && req.households_involved < 1) {
        return Err(ServiceError::invalid(
            "households_involved",
            "a dispute involves at least one household",
        ));
    }
    let household_id = parse_optional_uuid("household_id", &req.household_id)?;
    let campaign_id = parse_optional_uuid("campaign_id", &req.campaign_id)?;
    for (i, c) in req.concerned_cadre_ids.iter().enumerate() {
        if c.trim().is_empty() {
            return Err(ServiceError::invalid(
                format!("concerned_cadre_ids[{i}]"),
                "is empty",
            ));
        }
    }
    let mut tx = state.pool.begin().await?;
    if !store::categories::exists(&mut *tx, region.county(), &category).await? {
        return Err(ServiceError::invalid(
            "category",
            format!("{category:?} is not in the category list; an admin can add it"),
        ));
    }
    let body_hash = hash(&[
        &req.source.to_string(),
        region.as_str(),
        &req.household_id,
        &req.campaign_id,
        &req.kind.to_string(),
        &category,
        &description,
        &req.households_involved.to_string(),
        &req.urgent.to_string(),
        &req.concerned_cadre_ids.join(","),
    ]);
    let rules = store::sla::of(&mut *tx, region.county(), campaign_id).await?;
    let mut row = new_row(
        Deadline::Sla(&rules),
        issue_id,
        source,
        region.as_str(),
        campaign_id,
        kind,
        &category,
        default_priority(kind, req.urgent),
        state.clock.now(),
    );
    row.household_id = household_id;
    row.description = description;
    row.households_involved = req.households_involved;
    row.concerned_cadre_ids = req
        .concerned_cadre_ids
        .iter()
        .map(|c| c.trim().to_owned())
        .collect();
    row.body_hash = body_hash.clone();
    row.region_name = known_place(&mut tx, region.as_str()).await?;
    let created = insert_and_announce(&mut tx, &row, &claims.sub, "").await?;
    let stored = store::issues::get(&mut *tx, &row.county, issue_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("issue vanished after insert"))?;
    if stored.body_hash != body_hash {
        // Nothing was inserted (the id was taken), so nothing to roll back.
        return Err(ServiceError::AlreadyExists(format!(
            "issue_id {issue_id} was already used for a different issue"
        )));
    }
    tx.commit().await?;
    Ok(CreateIssueResponse {
        issue: Some(view::issue(&stored)),
        created,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_raised_item_of_unknown_kind_is_poison() {
        let item = |kind: i32| RaisedItem {
            kind,
            ..Default::default()
        };
        assert_eq!(raised_kind(0, &item(0)), Ok(ItemKind::Problem));
        assert_eq!(
            raised_kind(0, &item(ItemKind::Dispute as i32)),
            Ok(ItemKind::Dispute)
        );
        let poison = raised_kind(2, &item(99)).unwrap_err();
        assert!(
            poison
                .0
                .starts_with("items[2].kind has the unknown value 99"),
            "{poison}"
        );
    }

    fn row(deadline: Deadline<'_>, now: DateTime<Utc>) -> IssueRow {
        new_row(
            deadline,
            Uuid::nil(),
            IssueSource::Petition,
            "430426104201",
            None,
            ItemKind::Petition,
            PETITION_CATEGORY,
            default_priority(ItemKind::Petition, false),
            now,
        )
    }

    #[test]
    fn an_explicit_deadline_overrides_the_sla_rules() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 1, 2, 0, 0)
            .single()
            .unwrap_or_default();
        let rules = [sla::SlaRule {
            kind: ItemKind::Petition as i32,
            days: 5,
            ..Default::default()
        }];
        assert_eq!(
            row(Deadline::Sla(&rules), now).deadline,
            Some(now + Duration::days(5))
        );
        // A petition is high priority: 7 days by default.
        assert_eq!(
            row(Deadline::Sla(&[]), now).deadline,
            Some(now + Duration::days(7))
        );
        let due = now + Duration::days(15);
        let r = row(Deadline::At(due), now);
        assert_eq!(r.deadline, Some(due));
        assert_eq!(r.county, "430426");
        assert_eq!(r.state, "open");
        assert_eq!(r.kind, ItemKind::Petition as i16);
    }
}
