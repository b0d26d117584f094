//! Batch registration (批量登记): up to [`MAX_BATCH`] households in one
//! transaction, each answered with its own result; duplicates inside the
//! batch and conflicts with the register are refused row by row.
use std::collections::{HashMap, HashSet};

use zoufang_proto::registry::v1::{
    FieldError, RegisterHouseholdsRequest, RegisterHouseholdsResponse, RegisterHouseholdsResult,
};

use super::*;

/// Most households in one RegisterHouseholds call.
pub const MAX_BATCH: usize = 1000;

/// Registers a batch of households in one transaction: the same checks,
/// encryption, idempotency and events as [`register`], one result each.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn register_many(
    state: &State,
    claims: &Claims,
    req: RegisterHouseholdsRequest,
) -> ServiceResult<RegisterHouseholdsResponse> {
    claims.require_any_role(WRITE_ROLES)?;
    let n = req.households.len();
    if n == 0 {
        return Err(ServiceError::invalid("households", "is empty"));
    }
    if n > MAX_BATCH {
        return Err(ServiceError::invalid(
            "households",
            format!("at most {MAX_BATCH} households per call, got {n}"),
        ));
    }
    let mut errors: Vec<Vec<FieldError>> = vec![vec![]; n];
    let mut rows: Vec<Option<NewHousehold>> = req
        .households
        .iter()
        .zip(errors.iter_mut())
        .map(|(h, errs)| {
            prepare(state, claims, h)
                .map_err(|e| *errs = batch_errors(e))
                .ok()
        })
        .collect();
    refuse_batch_duplicates(&mut rows, &mut errors);

    // The region table, then the register: one query each for the batch.
    let mut codes: Vec<String> = rows
        .iter()
        .flatten()
        .map(|r| r.village_code.clone())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let known: HashSet<String> = store::regions::existing(&state.pool, &codes)
        .await?
        .into_iter()
        .collect();
    for (row, errs) in rows.iter_mut().zip(errors.iter_mut()) {
        if let Some(r) = row.as_ref().filter(|r| !known.contains(&r.village_code)) {
            errs.push(field_error(
                "village_code",
                format!(
                    "{} is not in the region table; import the region codes first",
                    r.village_code
                ),
            ));
            *row = None;
        }
    }
    let mut existing = vec![false; n];
    let mut conn = state.pool.acquire().await?;
    let mut probes = Vec::new();
    classify_against_register(
        &mut conn,
        claims,
        &mut rows,
        &mut errors,
        &mut existing,
        &mut probes,
    )
    .await?;
    audit_probes(&mut conn, claims, &probes).await?;
    drop(conn);

    let failed = errors.iter().filter(|e| !e.is_empty()).count();
    if req.validate_only || (req.all_or_nothing && failed > 0) {
        return Ok(batch_response(
            &rows,
            errors,
            &existing,
            &HashSet::new(),
            false,
        ));
    }
    let fresh: Vec<&NewHousehold> = rows
        .iter()
        .zip(&existing)
        .filter_map(|(r, done)| r.as_ref().filter(|_| !done))
        .collect();
    let fresh_count = fresh.len();
    let mut late_probes = Vec::new();
    let mut tx = state.pool.begin().await?;
    let inserted: HashSet<Uuid> = store::households::insert_many(&mut tx, &fresh)
        .await?
        .into_iter()
        .collect();
    if inserted.len() < fresh_count {
        // A concurrent registration took an id or an ID number since the
        // check above: classify those rows again, inside the transaction.
        let mut lost: Vec<Option<NewHousehold>> = rows
            .iter()
            .zip(&existing)
            .map(|(r, done)| {
                r.as_ref()
                    .filter(|r| !done && !inserted.contains(&r.household_id))
                    .cloned()
            })
            .collect();
        let mut lost_errors: Vec<Vec<FieldError>> = vec![vec![]; n];
        classify_against_register(
            &mut tx,
            claims,
            &mut lost,
            &mut lost_errors,
            &mut existing,
            &mut late_probes,
        )
        .await?;
        for (i, mut errs) in lost_errors.into_iter().enumerate() {
            if errs.is_empty() && lost[i].is_some() && !existing[i] {
                errs.push(field_error(
                    "household_id",
                    "conflicts with a concurrent registration; retry",
                ));
            }
            if !errs.is_empty() {
                errors[i] = errs;
                rows[i] = None;
            }
        }
        if req.all_or_nothing && errors.iter().any(|e| !e.is_empty()) {
            drop(tx);
            audit_probes(&mut *state.pool.acquire().await?, claims, &late_probes).await?;
            return Ok(batch_response(
                &rows,
                errors,
                &existing,
                &HashSet::new(),
                false,
            ));
        }
    }
    let events: Vec<NewEvent> = rows
        .iter()
        .flatten()
        .filter(|r| inserted.contains(&r.household_id))
        .map(registered_event)
        .collect();
    outbox::enqueue_many(&mut tx, &events).await?;
    tx.commit().await?;
    // Audited after the transaction, with a connection of its own: one
    // request never holds two (a small pool would deadlock on that).
    if !late_probes.is_empty() {
        audit_probes(&mut *state.pool.acquire().await?, claims, &late_probes).await?;
    }
    Ok(batch_response(&rows, errors, &existing, &inserted, true))
}

fn field_error(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// One household's refusal as field errors.
fn batch_errors(e: ServiceError) -> Vec<FieldError> {
    match e {
        ServiceError::InvalidArgument(vs) => vs
            .into_iter()
            .map(|v| field_error(&v.field, v.reason))
            .collect(),
        ServiceError::PermissionDenied(reason) => vec![field_error("village_code", reason)],
        other => vec![field_error("", other.to_string())],
    }
}

/// The same household id or ID number twice in one batch: the later ones are refused.
fn refuse_batch_duplicates(rows: &mut [Option<NewHousehold>], errors: &mut [Vec<FieldError>]) {
    let mut ids: HashMap<Uuid, usize> = HashMap::new();
    let mut numbers: HashMap<(String, Vec<u8>), usize> = HashMap::new();
    for (i, (row, errs)) in rows.iter_mut().zip(errors.iter_mut()).enumerate() {
        let Some(r) = row.as_ref() else { continue };
        let number = (r.county.clone(), r.id_number_hash.clone());
        if let Some(first) = ids.get(&r.household_id) {
            errs.push(field_error(
                "household_id",
                format!("appears twice in this batch (also at index {first})"),
            ));
        } else if let Some(first) = numbers.get(&number) {
            errs.push(field_error(
                "id_number",
                format!("the same ID number appears twice in this batch (also at index {first})"),
            ));
        } else {
            ids.insert(r.household_id, i);
            numbers.insert(number, i);
            continue;
        }
        *row = None;
    }
}

/// Marks rows already registered under their id with the same details
/// (`existing`: a retry) and refuses rows whose id is registered with other
/// details or whose ID number another household of the county holds.
/// Refusals because of a household outside the caller's scope are pushed
/// to `probes` (county, household), to be audited.
async fn classify_against_register(
    conn: &mut sqlx::PgConnection,
    claims: &Claims,
    rows: &mut [Option<NewHousehold>],
    errors: &mut [Vec<FieldError>],
    existing: &mut [bool],
    probes: &mut Vec<(String, Uuid)>,
) -> ServiceResult<()> {
    let present: Vec<&NewHousehold> = rows.iter().flatten().collect();
    if present.is_empty() {
        return Ok(());
    }
    let counties: Vec<String> = present.iter().map(|r| r.county.clone()).collect();
    let ids: Vec<Uuid> = present.iter().map(|r| r.household_id).collect();
    let hashes: Vec<Vec<u8>> = present.iter().map(|r| r.id_number_hash.clone()).collect();
    let bodies: HashMap<Uuid, Vec<u8>> = store::households::bodies_of(&mut *conn, &counties, &ids)
        .await?
        .into_iter()
        .collect();
    let holders: HashMap<(String, Vec<u8>), (Uuid, String)> =
        store::households::holders_of(&mut *conn, &counties, &hashes)
            .await?
            .into_iter()
            .map(|(county, hash, id, village)| ((county, hash), (id, village)))
            .collect();
    for ((row, errs), done) in rows
        .iter_mut()
        .zip(errors.iter_mut())
        .zip(existing.iter_mut())
    {
        let Some(r) = row.as_ref() else { continue };
        let holder = holders.get(&(r.county.clone(), r.id_number_hash.clone()));
        match bodies.get(&r.household_id) {
            Some(body) if *body == r.body_hash => *done = true,
            Some(_) => errs.push(field_error(
                "household_id",
                format!(
                    "household_id {} is already registered with different details",
                    r.household_id
                ),
            )),
            None if holder.is_some_and(|(h, _)| *h != r.household_id) => {
                if let Some((h, _)) = holder.filter(|(_, v)| !claims.covers(v)) {
                    probes.push((r.county.clone(), *h));
                }
                errs.push(field_error("id_number", DUPLICATE_ID_NUMBER));
            }
            None => {}
        }
        if !errs.is_empty() {
            *row = None;
        }
    }
    Ok(())
}

fn batch_response(
    rows: &[Option<NewHousehold>],
    errors: Vec<Vec<FieldError>>,
    existing: &[bool],
    inserted: &HashSet<Uuid>,
    committed: bool,
) -> RegisterHouseholdsResponse {
    let failed = errors.iter().filter(|e| !e.is_empty()).count();
    let results = rows
        .iter()
        .zip(errors)
        .zip(existing)
        .enumerate()
        .map(|(i, ((row, errors), done))| {
            let registered = row
                .as_ref()
                .filter(|r| committed && (*done || inserted.contains(&r.household_id)));
            RegisterHouseholdsResult {
                index: i as i32,
                household_id: registered
                    .map(|r| r.household_id.to_string())
                    .unwrap_or_default(),
                created: registered.is_some_and(|r| inserted.contains(&r.household_id)),
                errors,
            }
        })
        .collect();
    RegisterHouseholdsResponse {
        results,
        created: if committed { inserted.len() as i32 } else { 0 },
        failed: failed as i32,
        committed,
    }
}
