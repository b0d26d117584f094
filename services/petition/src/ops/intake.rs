//! Taking a case in, whichever door it came by: a new case is matched to
//! its household and recorded (`petition.case.received`, which the ledger
//! turns into one item); the same case again changes nothing; a later
//! update (higher sequence) is applied; an older one is ignored, so updates
//! land in order even when they arrive out of it.
use sqlx::PgConnection;
use zoufang_core::{ServiceError, ServiceResult, auth::Claims, fields::county_of};

use super::{State, case_id, issue_id, record::record, view};
use crate::{
    domain::{change::Change, clock, inbound::Case},
    registry::Match,
    store::{self, cases::CaseRow, sources::SourceRow},
};

/// What intake did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    Unchanged,
}

impl Applied {
    /// created / updated / unchanged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}

/// Why a request is refused before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("this request was already received (replayed signature)")]
    Replay,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Self::Service(e.into())
    }
}

/// The registered source a case names; its region must cover the case's.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn source_for(state: &State, case: &Case) -> ServiceResult<SourceRow> {
    let source = store::sources::by_name(&state.pool, &case.source_system)
        .await?
        .ok_or_else(|| {
            ServiceError::invalid(
                "source_system",
                format!("{} is not a registered source system", case.source_system),
            )
        })?;
    if !case.region.as_str().starts_with(&source.region_code) {
        return Err(ServiceError::invalid(
            "region_code",
            format!(
                "{} is outside the source system's region {}",
                case.region.as_str(),
                source.region_code
            ),
        ));
    }
    Ok(source)
}

/// Takes `case` in. `signature` (the MAC's bytes), for signed requests (the
/// webhook, the AMQP door), is remembered in the same transaction, and a signature seen before
/// refuses the request. `caller`, for a person's batch file, must cover the
/// case as stored when the row updates an existing one.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn intake(
    state: &State,
    case: &Case,
    actor: &str,
    signature: Option<&[u8]>,
    caller: Option<&Claims>,
) -> Result<(CaseRow, Applied), Refused> {
    source_for(state, case).await?;
    let county = county_of(case.region.as_str());
    let id = case_id(&case.source_system, &case.external_id);
    let existing = store::cases::get(&state.pool, id).await?;
    // Matching calls the registry, so it happens before the transaction and
    // only for a case not seen before.
    // When the registry cannot answer, the case is refused for now (the
    // webhook answers 503, the AMQP door requeues): the ID number is not
    // kept, so a case taken in unmatched could never be matched later.
    let matched = match (&existing, &case.id_number) {
        (None, Some(id_number)) => {
            match state
                .registry
                .match_and_tag(id_number.as_str(), &county)
                .await
            {
                Match::Unavailable(why) => {
                    return Err(ServiceError::Internal(anyhow::anyhow!(
                        "household matching is unavailable: {why}"
                    ))
                    .into());
                }
                m => Some(m),
            }
        }
        _ => None,
    };
    let mut tx = state.pool.begin().await?;
    if let Some(sig) = signature
        && !store::signatures::remember(&mut tx, &county, sig).await?
    {
        return Err(Refused::Replay);
    }
    let result = match existing {
        None => create(&mut tx, state, case, &county, matched, actor).await?,
        Some(_) => update(&mut tx, state, case, &county, actor, caller).await?,
    };
    tx.commit().await?;
    if result.1 != Applied::Unchanged {
        state.wake.notify_one();
    }
    Ok(result)
}

fn encrypt(state: &State, v: &str) -> Option<Vec<u8>> {
    (!v.is_empty()).then(|| state.pii.encrypt(v))
}

/// The personal and descriptive columns of `case`, written into `row`.
fn fill(state: &State, row: &mut CaseRow, case: &Case) {
    row.channel = case.channel.clone();
    row.sequence = i64::try_from(case.sequence).unwrap_or(i64::MAX);
    row.name_enc = encrypt(state, &case.petitioner_name);
    row.name_masked = mask_name(&case.petitioner_name);
    row.id_hash = case
        .id_number
        .as_ref()
        .map(|n| state.pii.keyed_hash("id_number", n.as_str()));
    row.id_masked = case
        .id_number
        .as_ref()
        .map(|n| n.masked())
        .unwrap_or_default();
    row.phone_enc = case.phone.as_ref().map(|p| state.pii.encrypt(p.as_str()));
    row.phone_masked = case.phone.as_ref().map(|p| p.masked()).unwrap_or_default();
    row.region_code = case.region.as_str().to_owned();
    row.content = case.content.clone();
    row.attachments = view::attachments_json(&case.attachments);
}

/// 唐某某 → 唐**.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
    }
}

async fn create(
    tx: &mut PgConnection,
    state: &State,
    case: &Case,
    county: &str,
    matched: Option<Match>,
    actor: &str,
) -> Result<(CaseRow, Applied), Refused> {
    let at = state.at();
    let now = at.case;
    let id = case_id(&case.source_system, &case.external_id);
    let clock = clock::Case::received(case.received_at, case.hotline);
    let mut row = CaseRow {
        county: county.to_owned(),
        case_id: id,
        source_system: case.source_system.clone(),
        external_id: case.external_id.clone(),
        hotline: case.hotline,
        channel: String::new(),
        sequence: 0,
        name_enc: None,
        name_masked: String::new(),
        id_hash: None,
        id_masked: String::new(),
        phone_enc: None,
        phone_masked: String::new(),
        region_code: String::new(),
        content: String::new(),
        attachments: serde_json::Value::Array(vec![]),
        received_at: case.received_at,
        household_id: None,
        issue_id: issue_id(id),
        stage: String::new(),
        outcome: String::new(),
        due_at: None,
        extended: false,
        extension_reason: String::new(),
        answered_at: None,
        reply_text: String::new(),
        assignee: String::new(),
        merged_into: None,
        repeat_of: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    fill(state, &mut row, case);
    view::apply_clock(&mut row, &clock);
    let mut notes = Vec::new();
    match matched {
        Some(Match::Household(h)) => row.household_id = Some(h),
        Some(Match::None) => notes.push("未匹配到户籍家庭".to_owned()),
        Some(Match::Unavailable(_)) | None => {}
    }
    if let Some(hash) = &row.id_hash
        && let Some(prior) = store::cases::final_case_of(&mut *tx, county, hash).await?
    {
        // The regulation bars the same claim after a re-review. Whether this
        // is the same claim is for the handler to judge: acceptance is
        // refused unless they state it rests on new facts and reasons.
        row.repeat_of = Some(prior.case_id);
        notes.push(format!(
            "信访人已有复核终结的信访件（{}），如为同一事实和理由，依规不再受理",
            prior.external_id
        ));
    }
    let Some(saved) = store::cases::insert(tx, &row).await? else {
        // A concurrent delivery of the same case committed first.
        let current = store::cases::get(&mut *tx, id)
            .await?
            .ok_or_else(|| ServiceError::Aborted("case vanished during intake; retry".into()))?;
        return Ok((current, Applied::Unchanged));
    };
    let extras = view::Extras {
        note: notes.join("；"),
        ..Default::default()
    };
    record(tx, &saved, Change::Received, actor, &extras, at).await?;
    Ok((saved, Applied::Created))
}

async fn update(
    tx: &mut PgConnection,
    state: &State,
    case: &Case,
    county: &str,
    actor: &str,
    caller: Option<&Claims>,
) -> Result<(CaseRow, Applied), Refused> {
    let id = case_id(&case.source_system, &case.external_id);
    let current = store::cases::lock(tx, county, id)
        .await?
        .ok_or_else(|| ServiceError::invalid("region_code", "differs from the case's county"))?;
    // A batch row rewrites the stored case (its region, its petitioner): the
    // person sending the file must cover the case as it stands, not only the
    // row's new region.
    if let Some(claims) = caller
        && !claims.covers(&current.region_code)
    {
        return Err(ServiceError::invalid(
            "region_code",
            "该信访件登记在您的管辖范围以外，不能由您更新",
        )
        .into());
    }
    if i64::try_from(case.sequence).unwrap_or(i64::MAX) <= current.sequence {
        return Ok((current, Applied::Unchanged));
    }
    let mut row = current.clone();
    fill(state, &mut row, case);
    if row.county != county_of(&row.region_code) {
        return Err(ServiceError::invalid(
            "region_code",
            "a case cannot move to another county; the source should close it and send a new one",
        )
        .into());
    }
    let at = state.at();
    let now = at.case;
    let saved = store::cases::save(tx, &row, now).await?;
    let note = format!("来源系统更新（序号 {}）", saved.sequence);
    let extras = view::Extras {
        note,
        ..Default::default()
    };
    record(tx, &saved, Change::Updated, actor, &extras, at).await?;
    Ok((saved, Applied::Updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_only_the_surname() {
        assert_eq!(mask_name("唐某某"), "唐**");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name(""), "");
    }
}
