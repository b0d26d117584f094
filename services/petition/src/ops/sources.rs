//! Registering the systems that send cases and receive answers.
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    error::FieldViolation,
    fields::{county_of, to_timestamp},
};
use zoufang_proto::petition::v1::{
    ListSourcesRequest, ListSourcesResponse, RegisterSourceRequest, RegisterSourceResponse, Source,
};

use super::State;
use crate::store::{self, sources::SourceRow};

const ADMINS: &[&str] = &[roles::COUNTY_ADMIN, roles::PETITION_BUREAU, roles::SERVICE];

fn view(row: &SourceRow) -> Source {
    Source {
        source_system: row.source_system.clone(),
        display_name: row.display_name.clone(),
        region_code: row.region_code.clone(),
        callback_url: row.callback_url.clone(),
        has_secret: row.secret_enc.is_some(),
        created_at: Some(to_timestamp(row.created_at)),
    }
}

fn check(req: &RegisterSourceRequest) -> Vec<FieldViolation> {
    let mut v = Vec::new();
    let mut bad = |field: &str, reason: &str| {
        v.push(FieldViolation {
            field: field.into(),
            reason: reason.into(),
        })
    };
    let name = req.source_system.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        bad("source_system", "1–64 letters, digits, - _ or .");
    }
    if req.display_name.trim().is_empty() {
        bad("display_name", "required");
    }
    let region = req.region_code.trim();
    if region.len() < 6 || region.len() > 12 || !region.bytes().all(|b| b.is_ascii_digit()) {
        bad(
            "region_code",
            "a county code (6 digits) or a longer region code",
        );
    }
    let url = req.callback_url.trim();
    if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
        bad("callback_url", "an http:// or https:// URL, or empty");
    }
    if req.secret.len() < 16 {
        bad("secret", "at least 16 characters");
    }
    v
}

/// Registers a source system, or updates it (a new secret replaces the old).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn register(
    state: &State,
    claims: &Claims,
    req: RegisterSourceRequest,
) -> ServiceResult<RegisterSourceResponse> {
    claims.require_any_role(ADMINS)?;
    let violations = check(&req);
    if !violations.is_empty() {
        return Err(ServiceError::InvalidArgument(violations));
    }
    let region = req.region_code.trim();
    claims.require_scope(region)?;
    let callback = req.callback_url.trim();
    if !callback.is_empty()
        && let Err(why) = state.outbound.check_registration(callback).await
    {
        return Err(ServiceError::invalid("callback_url", why.to_string()));
    }
    let name = req.source_system.trim();
    let county = county_of(region);
    if let Some(other) = store::sources::by_name(&state.pool, name).await?
        && other.county != county
    {
        return Err(ServiceError::invalid(
            "source_system",
            "already registered by another county",
        ));
    }
    let row = SourceRow {
        county: county.clone(),
        source_system: name.to_owned(),
        display_name: req.display_name.trim().to_owned(),
        region_code: region.to_owned(),
        callback_url: req.callback_url.trim().to_owned(),
        secret_enc: Some(state.pii.encrypt(&req.secret)),
        created_by: claims.sub.clone(),
        created_at: state.clock.now(),
    };
    let mut tx = state.pool.begin().await?;
    let saved = match store::sources::lock(&mut tx, &county, name).await? {
        // Re-registering replaces the callback URL and the secret: only a
        // caller whose scope covers the source as stored may do that (and so
        // move it, since the new region was checked above).
        Some(stored) if !claims.covers(&stored.region_code) => {
            return Err(ServiceError::PermissionDenied(format!(
                "source_system {name} is registered for a region outside your scope"
            )));
        }
        Some(_) => store::sources::update(&mut tx, &row).await?,
        None => store::sources::insert(&mut tx, &row)
            .await?
            .ok_or_else(|| {
                ServiceError::Aborted(format!("{name} was registered meanwhile; try again"))
            })?,
    };
    tx.commit().await?;
    Ok(RegisterSourceResponse {
        source: Some(view(&saved)),
    })
}

/// The sources in the caller's scope.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    _req: ListSourcesRequest,
) -> ServiceResult<ListSourcesResponse> {
    claims.require_any_role(ADMINS)?;
    let rows = store::sources::list(&state.pool, &claims.scope).await?;
    Ok(ListSourcesResponse {
        sources: rows
            .iter()
            .filter(|r| claims.covers(&r.region_code))
            .map(view)
            .collect(),
    })
}
