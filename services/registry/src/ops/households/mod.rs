//! Households (户): registration (one, or a batch in `batch`), reads with
//! masking and audited reveal, search by ID number through its keyed hash,
//! tag updates.

use uuid::Uuid;
use zoufang_bus::outbox::{self, NewEvent};
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::{
    events::v1::HouseholdRegistered,
    registry::v1::{
        FindHouseholdRequest, FindHouseholdResponse, GetHouseholdRequest, GetHouseholdResponse,
        Household, ListHouseholdsRequest, ListHouseholdsResponse, RegisterHouseholdRequest,
        RegisterHouseholdResponse, UpdateHouseholdTagsRequest, UpdateHouseholdTagsResponse,
    },
};
use zoufang_types::{
    IdNumber, MobilePhone, RegionCode, RegionLevel, mask_id_number, mask_phone,
    scope::require_visible,
};

use super::{State, page_size, parse_uuid, require_text, to_timestamp};
use crate::{
    store::{
        self, audit,
        households::{HouseholdRow, NewHousehold, TagColumns},
    },
    tags,
};

/// Roles that may see personal data in full (with a stated purpose, audited).
pub const REVEAL_ROLES: &[&str] = &[
    roles::TOWNSHIP_ADMIN,
    roles::COUNTY_ADMIN,
    roles::SUPERVISOR,
];

/// The one answer to a registration whose ID number another household of
/// the county holds, wherever that household is: it names neither the
/// household nor its village. That the number is taken cannot be hidden (a
/// person is registered once per county), so when the holder lies outside
/// the caller's scope the refusal is audited as a read of its ID number:
/// probing who lives in the county leaves a trail.
pub const DUPLICATE_ID_NUMBER: &str = "a household with this ID number is already registered in this county; \
     ask an administrator whose scope covers it if the household has moved";

/// Audits refusals caused by households (county, id) outside the caller's scope.
async fn audit_probes(
    conn: &mut sqlx::PgConnection,
    claims: &Claims,
    probes: &[(String, Uuid)],
) -> ServiceResult<()> {
    audit::record_households(
        conn,
        &claims.sub,
        &claims.roles,
        &["id_number"],
        "registration refused: the ID number is registered outside the caller's scope",
        probes,
    )
    .await?;
    Ok(())
}

mod batch;
pub mod edit;
pub use batch::{MAX_BATCH, register_many};

const WRITE_ROLES: &[&str] = &[
    roles::TOWNSHIP_ADMIN,
    roles::COUNTY_ADMIN,
    roles::CADRE,
    roles::SERVICE,
];

/// Registers a household; the same id and body again returns it unchanged.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn register(
    state: &State,
    claims: &Claims,
    req: RegisterHouseholdRequest,
) -> ServiceResult<RegisterHouseholdResponse> {
    claims.require_any_role(WRITE_ROLES)?;
    let row = prepare(state, claims, &req)?;
    if !store::regions::exists(&state.pool, &row.village_code).await? {
        return Err(ServiceError::invalid(
            "village_code",
            format!(
                "{} is not in the region table; import the region codes first",
                row.village_code
            ),
        ));
    }
    let (household_id, county) = (row.household_id, row.county.clone());

    let mut tx = state.pool.begin().await?;
    let inserted = match store::households::insert(&mut tx, &row).await {
        Ok(inserted) => inserted,
        Err(e) if zoufang_core::db::is_unique_violation(&e, "households_id_number_unique") => {
            drop(tx);
            let mut conn = state.pool.acquire().await?;
            let holders =
                store::households::find_by_id_hash(&mut *conn, &row.id_number_hash).await?;
            let probes: Vec<(String, Uuid)> = holders
                .iter()
                .filter(|h| h.county == county && !claims.covers(&h.village_code))
                .map(|h| (h.county.clone(), h.household_id))
                .collect();
            audit_probes(&mut conn, claims, &probes).await?;
            return Err(ServiceError::AlreadyExists(format!(
                "id_number: {DUPLICATE_ID_NUMBER}"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if inserted {
        outbox::enqueue(&mut tx, registered_event(&row)).await?;
    }
    let stored = store::households::get(&mut *tx, &county, household_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("household vanished after insert"))?;
    if !inserted && stored.body_hash != row.body_hash {
        return Err(ServiceError::AlreadyExists(format!(
            "household_id {household_id} is already registered with different details"
        )));
    }
    tx.commit().await?;
    Ok(RegisterHouseholdResponse {
        household: Some(view(state, &stored, false)?),
    })
}

/// Checks a registration (everything but the region table and conflicts
/// with the register) and derives the row to store: encrypted, hashed.
fn prepare(
    state: &State,
    claims: &Claims,
    req: &RegisterHouseholdRequest,
) -> ServiceResult<NewHousehold> {
    let household_id = parse_uuid("household_id", &req.household_id)?;
    let village = RegionCode::parse("village_code", &req.village_code)?;
    if village.level() != RegionLevel::Village {
        return Err(ServiceError::invalid(
            "village_code",
            format!("{village} is not a village code (村/社区)"),
        ));
    }
    claims.require_scope(village.as_str())?;
    let head_name = require_text("head_name", &req.head_name, 50)?;
    let id_number = IdNumber::parse("id_number", &req.id_number, state.clock.now())?;
    let phone = match req.phone.trim() {
        "" => None,
        p => Some(MobilePhone::parse("phone", p)?),
    };
    if !(1..=50).contains(&req.member_count) {
        return Err(ServiceError::invalid(
            "member_count",
            "must be between 1 and 50",
        ));
    }
    let all_tags = tags::normalize("tags", &req.tags)?;
    Ok(NewHousehold {
        county: village.county().to_owned(),
        household_id,
        village_code: village.as_str().to_owned(),
        group_name: req.group_name.trim().to_owned(),
        address: req.address.trim().to_owned(),
        head_name,
        id_number_cipher: state.pii.encrypt(id_number.as_str()),
        id_number_hash: state.pii.keyed_hash("id_number", id_number.as_str()),
        phone_cipher: phone.as_ref().map(|p| state.pii.encrypt(p.as_str())),
        phone_hash: phone
            .as_ref()
            .map(|p| state.pii.keyed_hash("phone", p.as_str())),
        member_count: req.member_count,
        tags: tag_columns(state, &all_tags),
        body_hash: state.body_hash(req),
    })
}

/// The event a newly registered household publishes.
fn registered_event(row: &NewHousehold) -> NewEvent {
    let event = HouseholdRegistered {
        household_id: row.household_id.to_string(),
        village_code: row.village_code.clone(),
        group_name: row.group_name.clone(),
        member_count: row.member_count,
        tags: row.tags.open_tags.clone(),
    };
    NewEvent::of(
        &event,
        &row.village_code,
        format!("households/{}", row.household_id),
    )
}

/// The personal fields a reveal may show in full, in audit order.
pub const REVEALABLE: &[&str] = &["id_number", "phone", "tags"];

/// The longest stated purpose of a reveal, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// Checks a reveal's stated purpose: required (a reveal without one is
/// refused before anything is read), at most [`MAX_PURPOSE_CHARS`]; the
/// purpose, trimmed, as it goes into the audit.
pub fn reveal_purpose(purpose: &str) -> ServiceResult<String> {
    let p = purpose.trim();
    if p.is_empty() {
        return Err(ServiceError::invalid(
            "purpose",
            "查看完整身份证号或电话须说明用途（purpose），该查看将记入审计",
        ));
    }
    if p.chars().count() > MAX_PURPOSE_CHARS {
        return Err(ServiceError::invalid(
            "purpose",
            format!("用途说明最多 {MAX_PURPOSE_CHARS} 个字"),
        ));
    }
    if p.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "purpose",
            "用途说明不能含有控制字符（如换行）",
        ));
    }
    Ok(p.to_owned())
}

/// Which fields a reveal shows: those named (each one of [`REVEALABLE`]),
/// or all of them when none is named; in [`REVEALABLE`] order.
pub fn reveal_fields(asked: &[String]) -> ServiceResult<Vec<&'static str>> {
    if asked.iter().all(|f| f.trim().is_empty()) {
        return Ok(REVEALABLE.to_vec());
    }
    for (i, f) in asked.iter().enumerate() {
        if !f.trim().is_empty() && !REVEALABLE.contains(&f.trim()) {
            return Err(ServiceError::invalid(
                format!("reveal_fields[{i}]"),
                format!("只能查看 id_number（身份证号）、phone（电话）或 tags（标签），收到 {f:?}"),
            ));
        }
    }
    Ok(REVEALABLE
        .iter()
        .copied()
        .filter(|r| asked.iter().any(|f| f.trim() == *r))
        .collect())
}

/// Reads a household, masked unless `reveal` is asked by an allowed role
/// with a purpose; a reveal shows the fields asked (all by default) and is
/// audited, naming them and the purpose, in the same transaction.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn get(
    state: &State,
    claims: &Claims,
    req: GetHouseholdRequest,
) -> ServiceResult<GetHouseholdResponse> {
    let household_id = parse_uuid("household_id", &req.household_id)?;
    let reveal = if req.reveal {
        claims.require_any_role(REVEAL_ROLES)?;
        let purpose = reveal_purpose(&req.purpose)?;
        Some((purpose, reveal_fields(&req.reveal_fields)?))
    } else {
        None
    };
    let mut tx = state.pool.begin().await?;
    let row = find_in_scope(&mut tx, claims, household_id).await?;
    let household = match &reveal {
        Some((purpose, fields)) => {
            audit::record(
                &mut tx,
                &audit::PiiRead {
                    county: &row.county,
                    actor: &claims.sub,
                    roles: &claims.roles,
                    subject_kind: "household",
                    subject_id: household_id,
                    fields,
                    purpose,
                },
            )
            .await?;
            view_revealing(state, &row, fields)?
        }
        None => view(state, &row, false)?,
    };
    tx.commit().await?;
    Ok(GetHouseholdResponse {
        household: Some(household),
    })
}

/// Finds a household by ID number (keyed hash), within the caller's scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn find(
    state: &State,
    claims: &Claims,
    req: FindHouseholdRequest,
) -> ServiceResult<FindHouseholdResponse> {
    claims.require_any_role(&[
        roles::TOWNSHIP_ADMIN,
        roles::COUNTY_ADMIN,
        roles::SUPERVISOR,
        roles::PETITION_BUREAU,
        roles::SERVICE,
    ])?;
    let id_number = IdNumber::parse("id_number", &req.id_number, state.clock.now())?;
    let hash = state.pii.keyed_hash("id_number", id_number.as_str());
    let rows = store::households::find_by_id_hash(&state.pool, &hash).await?;
    let row = rows
        .into_iter()
        .find(|r| claims.covers(&r.village_code))
        .ok_or_else(|| {
            ServiceError::NotFound("no household with this ID number in your scope".into())
        })?;
    Ok(FindHouseholdResponse {
        household: Some(view(state, &row, false)?),
    })
}

/// A page of households in a region, masked; optionally only those with a tag.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListHouseholdsRequest,
) -> ServiceResult<ListHouseholdsResponse> {
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let after = match req.page_token.trim() {
        "" => None,
        t => Some(parse_uuid("page_token", t)?),
    };
    let tag = req.tag.trim();
    let audited = tags::filter_is_reveal(tag, claims.has_any_role(REVEAL_ROLES), &req.purpose)?;
    let tag_hash = (!tag.is_empty()).then(|| state.pii.keyed_hash("tag", tag));
    let limit = page_size(req.page_size);
    let mut tx = state.pool.begin().await?;
    let rows =
        store::households::list(&mut *tx, &prefix, tag_hash.as_deref(), after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    if audited {
        // Listed under a sensitive tag, each household's tag is revealed:
        // audited as GetHousehold{reveal} is, in the same transaction.
        // The tag itself is not written down (it is sensitive data).
        let subjects: Vec<(String, Uuid)> = rows
            .iter()
            .map(|r| (r.county.clone(), r.household_id))
            .collect();
        audit::record_households(
            &mut tx,
            &claims.sub,
            &claims.roles,
            &["tags"],
            req.purpose.trim(),
            &subjects,
        )
        .await?;
    }
    tx.commit().await?;
    let households = rows
        .iter()
        .map(|r| view(state, r, false))
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(ListHouseholdsResponse {
        next_page_token: if more {
            rows.last()
                .map(|r| r.household_id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        },
        households,
    })
}

/// Adds and removes tags (e.g. the petition bridge adds 重点信访).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn update_tags(
    state: &State,
    claims: &Claims,
    req: UpdateHouseholdTagsRequest,
) -> ServiceResult<UpdateHouseholdTagsResponse> {
    claims.require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN, roles::SERVICE])?;
    let household_id = parse_uuid("household_id", &req.household_id)?;
    let add = tags::normalize("add", &req.add)?;
    let remove = tags::normalize("remove", &req.remove)?;
    let mut tx = state.pool.begin().await?;
    let row = find_in_scope(&mut tx, claims, household_id).await?;
    let row = store::households::lock(&mut tx, &row.county, household_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("household {household_id}")))?;
    let mut current = all_tags(state, &row)?;
    current.retain(|t| !remove.contains(t));
    for t in add {
        if !current.contains(&t) {
            current.push(t);
        }
    }
    store::households::update_tags(
        &mut tx,
        &row.county,
        household_id,
        &tag_columns(state, &current),
    )
    .await?;
    let updated = store::households::get(&mut *tx, &row.county, household_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("household vanished during update"))?;
    tx.commit().await?;
    Ok(UpdateHouseholdTagsResponse {
        household: Some(view(state, &updated, false)?),
    })
}

/// Loads a household the caller may see; outside the scope reads as not found.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn find_in_scope(
    conn: &mut sqlx::PgConnection,
    claims: &Claims,
    household_id: Uuid,
) -> ServiceResult<HouseholdRow> {
    let not_found = || ServiceError::NotFound(format!("household {household_id}"));
    // The id alone does not name the county: look it up across counties
    // (one index probe per county shard under Citus; rare outside tests).
    let county = sqlx::query_scalar::<_, String>(
        "SELECT county FROM households WHERE household_id = $1 LIMIT 1",
    )
    .bind(household_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(not_found)?;
    let row = store::households::get(&mut *conn, &county, household_id)
        .await?
        .ok_or_else(not_found)?;
    // Outside the scope answers exactly as unknown does: a PermissionDenied
    // naming the household once told callers which ids existed elsewhere.
    require_visible(claims, &row.village_code, not_found)?;
    Ok(row)
}

fn tag_columns(state: &State, all: &[String]) -> TagColumns {
    let (open, sensitive) = tags::split(all);
    TagColumns {
        tag_hashes: all.iter().map(|t| state.pii.keyed_hash("tag", t)).collect(),
        is_key: !all.is_empty(),
        sensitive_tags_cipher: (!sensitive.is_empty()).then(|| {
            state
                .pii
                .encrypt(&serde_json::to_string(&sensitive).unwrap_or_default())
        }),
        open_tags: open,
    }
}

fn sensitive_tags(state: &State, row: &HouseholdRow) -> ServiceResult<Vec<String>> {
    match &row.sensitive_tags_cipher {
        None => Ok(vec![]),
        Some(blob) => {
            let json = state.pii.decrypt(blob)?;
            Ok(serde_json::from_str(&json).map_err(anyhow::Error::from)?)
        }
    }
}

fn all_tags(state: &State, row: &HouseholdRow) -> ServiceResult<Vec<String>> {
    let mut all = row.open_tags.clone();
    all.extend(sensitive_tags(state, row)?);
    Ok(all)
}

/// The household as the caller sees it: masked, or in full when revealed.
pub fn view(state: &State, row: &HouseholdRow, reveal: bool) -> ServiceResult<Household> {
    view_revealing(state, row, if reveal { REVEALABLE } else { &[] })
}

/// The household with `shown` (of [`REVEALABLE`]) in full and the rest
/// masked; `revealed` says whether anything is shown in full.
pub fn view_revealing(
    state: &State,
    row: &HouseholdRow,
    shown: &[&str],
) -> ServiceResult<Household> {
    let full = |f: &str| shown.contains(&f);
    let id_number = state.pii.decrypt(&row.id_number_cipher)?;
    let phone = match &row.phone_cipher {
        Some(c) => state.pii.decrypt(c)?,
        None => String::new(),
    };
    let sensitive = sensitive_tags(state, row)?;
    Ok(Household {
        household_id: row.household_id.to_string(),
        village_code: row.village_code.clone(),
        group_name: row.group_name.clone(),
        address: row.address.clone(),
        head_name: row.head_name.clone(),
        id_number: if full("id_number") {
            id_number
        } else {
            mask_id_number(&id_number)
        },
        phone: if full("phone") || phone.is_empty() {
            phone
        } else {
            mask_phone(&phone)
        },
        member_count: row.member_count,
        tags: if full("tags") {
            let mut all = row.open_tags.clone();
            all.extend(sensitive);
            all
        } else {
            tags::masked(&row.open_tags, sensitive.len())
        },
        revealed: !shown.is_empty(),
        registered_at: Some(to_timestamp(row.registered_at)),
        version: row.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ServiceError) -> String {
        match e {
            ServiceError::InvalidArgument(vs) => vs[0].field.clone(),
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn a_reveal_states_its_purpose() {
        for bad in [
            "",
            "  \t ",
            &"查".repeat(MAX_PURPOSE_CHARS + 1),
            "核实\n电话",
        ] {
            let e = reveal_purpose(bad).expect_err(bad);
            assert!(e.to_string().contains("purpose: "), "{e}");
            assert_eq!(field_of(e), "purpose");
        }
        assert_eq!(reveal_purpose(" 电话回访核实 ").unwrap(), "电话回访核实");
    }

    #[test]
    fn a_reveal_shows_the_fields_asked_or_all() {
        assert_eq!(reveal_fields(&[]).unwrap(), REVEALABLE);
        assert_eq!(reveal_fields(&[" ".into()]).unwrap(), REVEALABLE);
        assert_eq!(
            reveal_fields(&["tags".into(), "phone".into(), "phone".into()]).unwrap(),
            ["phone", "tags"]
        );
        let e = reveal_fields(&["phone".into(), "address".into()]).unwrap_err();
        assert_eq!(field_of(e), "reveal_fields[1]");
    }
}
