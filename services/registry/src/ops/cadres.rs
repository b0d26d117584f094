//! Cadres (干部): who visits, their unit, position (the key of quotas) and scope.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use zoufang_bus::outbox::{self, NewEvent};
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
};
use zoufang_proto::{
    events::v1::{CadreChange, CadreChanged},
    registry::v1::{
        AnnounceCadresRequest, AnnounceCadresResponse, Cadre, CadreUnit, ListCadresRequest,
        ListCadresResponse, RegisterCadreRequest, RegisterCadreResponse,
    },
};
use zoufang_types::{MobilePhone, RegionCode, RegionScope, mask_phone};

use super::{State, county_of, parse_uuid, require_text, to_timestamp};
use crate::store::{self, cadres::CadreRow};

const KNOWN_ROLES: &[&str] = &[
    roles::CADRE,
    roles::TOWNSHIP_ADMIN,
    roles::SUPERVISOR,
    roles::DEPARTMENT,
    roles::COUNTY_ADMIN,
    roles::PETITION_BUREAU,
];

/// Registers a cadre (idempotent by cadre_id); a new one is announced
/// (`registry.cadre.registered`) in the same transaction.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn register(
    state: &State,
    claims: &Claims,
    req: RegisterCadreRequest,
) -> ServiceResult<RegisterCadreResponse> {
    claims.require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN])?;
    let cadre_id = parse_uuid("cadre_id", &req.cadre_id)?;
    let name = require_text("name", &req.name, 50)?;
    let phone = match req.phone.trim() {
        "" => None,
        p => Some(MobilePhone::parse("phone", p)?),
    };
    let unit = CadreUnit::try_from(req.unit)
        .ok()
        .filter(|u| *u != CadreUnit::Unspecified)
        .ok_or_else(|| {
            ServiceError::invalid(
                "unit",
                "choose the cadre's unit (township office, village committee or county department)",
            )
        })?;
    let position = require_text("position", &req.position, 50)?;
    let scope = RegionScope::parse("region_code", &req.region_code)?;
    if scope.as_str().len() < 6 {
        return Err(ServiceError::invalid(
            "region_code",
            "a cadre works within a county: give at least its 6 digits",
        ));
    }
    claims.require_scope(scope.as_str())?;
    for (i, r) in req.roles.iter().enumerate() {
        if !KNOWN_ROLES.contains(&r.as_str()) {
            return Err(ServiceError::invalid(
                format!("roles[{i}]"),
                format!("unknown role {r:?}"),
            ));
        }
    }
    let row = CadreRow {
        county: county_of(scope.as_str()),
        cadre_id,
        name,
        phone_cipher: phone.as_ref().map(|p| state.pii.encrypt(p.as_str())),
        unit: unit as i16,
        position,
        region_code: scope.as_str().to_owned(),
        roles: req.roles.clone(),
        body_hash: state.body_hash(&req),
    };
    let phone_hash = phone
        .as_ref()
        .map(|p| state.pii.keyed_hash("phone", p.as_str()));
    let mut tx = state.pool.begin().await?;
    let inserted = store::cadres::insert(&mut tx, &row, phone_hash.as_deref()).await?;
    let stored = store::cadres::get(&mut *tx, &row.county, cadre_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("cadre vanished after insert"))?;
    if stored.body_hash != row.body_hash {
        return Err(ServiceError::AlreadyExists(format!(
            "cadre_id {cadre_id} is already registered with different details"
        )));
    }
    if inserted {
        announce(&mut tx, &stored, CadreChange::Registered, state.clock.now()).await?;
    }
    tx.commit().await?;
    Ok(RegisterCadreResponse {
        cadre: Some(view(state, &stored)?),
    })
}

/// Cadres within a region (and the caller's scope).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListCadresRequest,
) -> ServiceResult<ListCadresResponse> {
    let prefix = zoufang_types::list_prefix(claims, &req.region_code)?;
    let rows = store::cadres::list(&state.pool, &prefix).await?;
    Ok(ListCadresResponse {
        cadres: rows
            .iter()
            .map(|r| view(state, r))
            .collect::<ServiceResult<_>>()?,
    })
}

/// Writes the event stating `row` (no phone: personal data never travels).
pub async fn announce(
    conn: &mut PgConnection,
    row: &CadreRow,
    change: CadreChange,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    outbox::enqueue(
        conn,
        NewEvent::of_change(
            &cadre_event(row, change, now),
            &row.region_code,
            format!("cadres/{}", row.cadre_id),
        )
        .map_err(ServiceError::Internal)?,
    )
    .await?;
    Ok(())
}

/// The payload of a cadre event: who, where, position and roles.
pub fn cadre_event(row: &CadreRow, change: CadreChange, now: DateTime<Utc>) -> CadreChanged {
    CadreChanged {
        cadre_id: row.cadre_id.to_string(),
        change: change.into(),
        name: row.name.clone(),
        region_code: row.region_code.clone(),
        county: row.county.clone(),
        position: row.position.clone(),
        roles: row.roles.clone(),
        as_of: Some(to_timestamp(now)),
    }
}

/// Announces every cadre within a region again (`registry.cadre.announced`),
/// so the directories other services keep from cadre events are filled
/// after the fact. County admins (and the service role), within scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn announce_all(
    state: &State,
    claims: &Claims,
    req: AnnounceCadresRequest,
) -> ServiceResult<AnnounceCadresResponse> {
    claims.require_any_role(&[roles::COUNTY_ADMIN, roles::SERVICE])?;
    let raw = req.region_code.trim();
    let prefix = if raw.len() == 12 {
        RegionScope::for_code(&RegionCode::parse("region_code", raw)?)
    } else {
        RegionScope::parse("region_code", raw)?
    };
    if prefix.as_str().len() < 6 {
        return Err(ServiceError::invalid(
            "region_code",
            "请给出县（6 位）或以下的区域编码：干部按县发布",
        ));
    }
    claims.require_scope(prefix.as_str())?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let rows =
        store::cadres::within(&mut *tx, &county_of(prefix.as_str()), prefix.as_str()).await?;
    for row in &rows {
        announce(&mut tx, row, CadreChange::Announced, now).await?;
    }
    tx.commit().await?;
    Ok(AnnounceCadresResponse {
        announced: i32::try_from(rows.len()).unwrap_or(i32::MAX),
    })
}

/// The proto view of a cadre; the phone is always masked here.
pub fn view(state: &State, row: &CadreRow) -> ServiceResult<Cadre> {
    let phone = match &row.phone_cipher {
        Some(c) => mask_phone(&state.pii.decrypt(c)?),
        None => String::new(),
    };
    Ok(Cadre {
        cadre_id: row.cadre_id.to_string(),
        name: row.name.clone(),
        phone,
        unit: i32::from(row.unit),
        position: row.position.clone(),
        region_code: row.region_code.clone(),
        roles: row.roles.clone(),
    })
}
