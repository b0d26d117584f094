//! Regions (the 12-digit statistical division codes) and work zones.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    error::FieldViolation,
};
use zoufang_proto::registry::v1::{
    CreateWorkZoneRequest, CreateWorkZoneResponse, ImportRegionsRequest, ImportRegionsResponse,
    ListRegionsRequest, ListRegionsResponse, ListWorkZonesRequest, ListWorkZonesResponse, Region,
    WorkZone,
};
use zoufang_types::{RegionCode, RegionLevel};

use super::{State, parse_uuid, require_text};
use crate::store::{
    self,
    regions::{NewRegion, RegionRow, ZoneRow},
};

/// Most violations reported for one import; the rest are summarised.
const MAX_REPORTED: usize = 100;

/// Imports regions from CSV `code,name,level,pcode`; all or nothing.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn import(
    state: &State,
    claims: &Claims,
    req: ImportRegionsRequest,
) -> ServiceResult<ImportRegionsResponse> {
    claims.require_any_role(&[roles::COUNTY_ADMIN, roles::TOWNSHIP_ADMIN])?;
    let rows = parse_csv(claims, &req.csv)?;
    let mut tx = state.pool.begin().await?;
    // Rows above the caller's scope (the ancestors a township's file
    // carries) may add a missing ancestor but never change a stored one: a
    // township admin once renamed the county this way.
    let above: Vec<String> = rows
        .iter()
        .filter(|r| !claims.covers(&r.code))
        .map(|r| r.code.clone())
        .collect();
    if !above.is_empty() {
        for stored in store::regions::lock_many(&mut tx, &above).await? {
            let new = rows.iter().find(|r| r.code == stored.code);
            if let Some(new) = new.filter(|n| changes(&stored, n)) {
                return Err(ServiceError::PermissionDenied(format!(
                    "region {} ({}) is above your scope {:?}: only an admin whose scope covers it may change it",
                    new.code, stored.name, claims.scope
                )));
            }
        }
    }
    let (inserted, updated) = store::regions::upsert(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(ImportRegionsResponse {
        imported: i32::try_from(inserted).unwrap_or(i32::MAX),
        updated: i32::try_from(updated).unwrap_or(i32::MAX),
    })
}

/// True when importing `new` would change the stored row.
fn changes(stored: &RegionRow, new: &NewRegion) -> bool {
    stored.name != new.name
        || stored.level != new.level
        || stored.parent_code != new.parent_code
        || stored.kind != new.kind
}

/// Parses and checks every row; errors name the row (1-based, header = 1) and column.
pub fn parse_csv(claims: &Claims, csv_bytes: &[u8]) -> ServiceResult<Vec<NewRegion>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_bytes);
    let headers = reader
        .headers()
        .map_err(|e| ServiceError::invalid("csv", format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect::<Vec<_>>();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            ServiceError::invalid(
                "csv",
                format!("header has no {name:?} column (expected code,name,level,pcode)"),
            )
        })
    };
    let (c_code, c_name, c_level, c_pcode) =
        (col("code")?, col("name")?, col("level")?, col("pcode")?);
    let mut rows = Vec::new();
    let mut errors: Vec<FieldViolation> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(FieldViolation {
                    field: format!("csv[row {line}]"),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let get = |c: usize| record.get(c).unwrap_or("").to_owned();
        match parse_row(
            claims,
            line,
            &get(c_code),
            &get(c_name),
            &get(c_level),
            &get(c_pcode),
        ) {
            Ok(r) => rows.push(r),
            Err(ServiceError::InvalidArgument(vs)) => errors.extend(vs),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        let total = errors.len();
        errors.truncate(MAX_REPORTED);
        if total > MAX_REPORTED {
            errors.push(FieldViolation {
                field: "csv".into(),
                reason: format!("{} more rows have errors", total - MAX_REPORTED),
            });
        }
        return Err(ServiceError::InvalidArgument(errors));
    }
    if rows.is_empty() {
        return Err(ServiceError::invalid("csv", "has no data rows"));
    }
    Ok(rows)
}

fn parse_row(
    claims: &Claims,
    line: usize,
    code: &str,
    name: &str,
    level: &str,
    pcode: &str,
) -> ServiceResult<NewRegion> {
    let f = |c: &str| format!("csv[row {line}].{c}");
    let region = RegionCode::parse(&f("code"), code)?;
    let level: u8 = level
        .parse()
        .map_err(|_| ServiceError::invalid(f("level"), format!("{level:?} is not a level 1-5")))?;
    let level = RegionLevel::from_csv_level(level)
        .ok_or_else(|| ServiceError::invalid(f("level"), "must be 1 (province) to 5 (village)"))?;
    region.check_level(&f("level"), level)?;
    let name = require_text(&f("name"), name, 100)?;
    let parent = region.parent();
    let parent_code = match (pcode.trim(), &parent) {
        ("", _) | ("0", _) => parent.map(|p| p.as_str().to_owned()),
        (p, Some(expected)) if p == expected.as_str() => Some(p.to_owned()),
        (p, _) => {
            let expected = parent
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "none".into());
            return Err(ServiceError::invalid(
                f("pcode"),
                format!("{p} is not the parent of {region} (expected {expected})"),
            ));
        }
    };
    // A caller may load its own region and below, and the ancestors above it.
    let significant = region.prefix();
    if !claims.covers(region.as_str()) && !claims.scope.starts_with(significant) {
        return Err(ServiceError::PermissionDenied(format!(
            "csv row {line}: region {region} is outside your scope {:?}",
            claims.scope
        )));
    }
    let kind = region
        .township_kind()
        .map(|k| k.label_zh().to_owned())
        .or_else(|| region.village_kind().map(|k| k.label_zh().to_owned()))
        .unwrap_or_default();
    Ok(NewRegion {
        county: region.county().to_owned(),
        code: region.as_str().to_owned(),
        name,
        level: level.as_i32() as i16,
        parent_code,
        kind,
    })
}

/// Children of a region; with no parent given, the children of the caller's scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListRegionsRequest,
) -> ServiceResult<ListRegionsResponse> {
    let parent = match req.parent_code.trim() {
        "" if claims.scope.is_empty() => None,
        "" => Some(format!("{:0<12}", claims.scope)),
        p => Some(
            RegionCode::parse_named("parent_code", p)?
                .as_str()
                .to_owned(),
        ),
    };
    let rows = store::regions::children(&state.pool, parent.as_deref()).await?;
    Ok(ListRegionsResponse {
        regions: rows
            .into_iter()
            .filter(|r| claims.covers(&r.code) || claims.scope.starts_with(trim_code(&r.code)))
            .map(region_view)
            .collect(),
    })
}

fn trim_code(code: &str) -> &str {
    RegionCode::parse("code", code)
        .map(|c| &code[..c.prefix().len()])
        .unwrap_or(code)
}

/// The proto view of a region row.
pub fn region_view(r: RegionRow) -> Region {
    Region {
        code: r.code,
        name: r.name,
        level: i32::from(r.level),
        parent_code: r.parent_code.unwrap_or_default(),
        kind: r.kind,
    }
}

/// Creates a work zone over villages of one township (idempotent by zone_id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create_zone(
    state: &State,
    claims: &Claims,
    req: CreateWorkZoneRequest,
) -> ServiceResult<CreateWorkZoneResponse> {
    claims.require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN])?;
    let zone_id = parse_uuid("zone_id", &req.zone_id)?;
    let township = RegionCode::parse("township_code", &req.township_code)?;
    if township.level() != RegionLevel::Township {
        return Err(ServiceError::invalid(
            "township_code",
            format!("{township} is not a township code"),
        ));
    }
    claims.require_scope(township.as_str())?;
    let name = require_text("name", &req.name, 50)?;
    if req.village_codes.is_empty() {
        return Err(ServiceError::invalid(
            "village_codes",
            "a work zone needs at least one village",
        ));
    }
    let mut villages = Vec::new();
    for (i, v) in req.village_codes.iter().enumerate() {
        let field = format!("village_codes[{i}]");
        let code = RegionCode::parse(&field, v)?;
        if code.parent().as_ref() != Some(&township) {
            return Err(ServiceError::invalid(
                field,
                format!("{code} is not a village of {township}"),
            ));
        }
        if !store::regions::exists(&state.pool, code.as_str()).await? {
            return Err(ServiceError::invalid(
                field,
                format!("{code} is not in the region table"),
            ));
        }
        if !villages.contains(&code.as_str().to_owned()) {
            villages.push(code.as_str().to_owned());
        }
    }
    villages.sort();
    let county = township.county().to_owned();
    let body_hash = state.body_hash(&CreateWorkZoneRequest {
        village_codes: villages.clone(),
        ..req.clone()
    });
    let mut tx = state.pool.begin().await?;
    match store::regions::insert_zone(
        &mut tx,
        &county,
        zone_id,
        township.as_str(),
        &name,
        &villages,
        &body_hash,
    )
    .await
    {
        Ok(_) => {}
        Err(e)
            if zoufang_core::db::is_unique_violation(&e, "work_zone_villages_village_unique") =>
        {
            return Err(ServiceError::AlreadyExists(
                "village_codes: a village already belongs to another work zone".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let zone = store::regions::get_zone(&mut *tx, &county, zone_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("zone vanished after insert"))?;
    if zone.body_hash != body_hash {
        return Err(ServiceError::AlreadyExists(format!(
            "zone_id {zone_id} already exists with different details"
        )));
    }
    tx.commit().await?;
    Ok(CreateWorkZoneResponse {
        zone: Some(zone_view(zone)),
    })
}

/// The work zones of a township.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_zones(
    state: &State,
    claims: &Claims,
    req: ListWorkZonesRequest,
) -> ServiceResult<ListWorkZonesResponse> {
    let township = RegionCode::parse_named("township_code", &req.township_code)?;
    claims.require_scope(township.as_str())?;
    let zones = store::regions::zones_of(&state.pool, township.as_str()).await?;
    Ok(ListWorkZonesResponse {
        zones: zones.into_iter().map(zone_view).collect(),
    })
}

/// The proto view of a zone.
pub fn zone_view(z: ZoneRow) -> WorkZone {
    WorkZone {
        zone_id: z.zone_id.to_string(),
        township_code: z.township_code,
        name: z.name,
        village_codes: z.village_codes,
    }
}
