//! The supervisor's side: the worklist (due first, blind), one callback, and
//! attempts with their outcome — which leaves as `supervision.callback.completed`.
use zoufang_bus::outbox::{self, NewEvent};
use zoufang_core::{
    ServiceError, ServiceResult,
    auth::{Claims, roles},
    fields::{page_size, parse_optional_uuid, parse_uuid, to_timestamp},
};
use zoufang_proto::{
    events::v1::{CallbackCompleted, Satisfaction},
    supervision::v1::*,
};
use zoufang_types::scope::require_visible;

use super::{State, view};
use crate::{
    domain::backcheck::{self, Answered, Recorded},
    outputs,
    store::{self, callbacks::CallbackRow},
};

const ADMINS: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];

/// The caller's open callbacks, due first.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn worklist(
    state: &State,
    claims: &Claims,
    req: ListWorklistRequest,
) -> ServiceResult<ListWorklistResponse> {
    claims.require_any_role(&[roles::SUPERVISOR])?;
    let overdue_at = req.overdue_only.then(|| state.clock.now());
    let rows = store::callbacks::worklist(
        &state.pool,
        &claims.sub,
        overdue_at,
        page_size(req.page_size),
    )
    .await?;
    Ok(ListWorklistResponse {
        callbacks: rows
            .iter()
            .filter(|r| claims.covers(&r.region_code))
            .map(view::callback)
            .collect(),
    })
}

/// Callbacks in the caller's scope, a page at a time, by region, household
/// or state: every one in scope for an admin, a supervisor's own for a
/// supervisor. Blind like the worklist (no visiting cadre), and without the
/// phone, which only GetCallback shows, to the assignee.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    state: &State,
    claims: &Claims,
    req: ListCallbacksRequest,
) -> ServiceResult<ListCallbacksResponse> {
    claims.require_any_role(&[
        roles::SUPERVISOR,
        roles::TOWNSHIP_ADMIN,
        roles::COUNTY_ADMIN,
    ])?;
    let callback_state = match CallbackState::try_from(req.state) {
        Ok(CallbackState::Unspecified) => None,
        Ok(CallbackState::Open) => Some("open"),
        Ok(CallbackState::Done) => Some("done"),
        Ok(CallbackState::Unreachable) => Some("unreachable"),
        Err(_) => {
            return Err(ServiceError::invalid(
                "state",
                format!(
                    "未知的回访状态 {}：可选 CALLBACK_STATE_OPEN、CALLBACK_STATE_DONE、CALLBACK_STATE_UNREACHABLE",
                    req.state
                ),
            ));
        }
    };
    let limit = page_size(req.page_size);
    let filter = store::callbacks::CallbackFilter {
        prefix: zoufang_types::list_prefix(claims, req.region_code.trim())?,
        household_id: parse_optional_uuid("household_id", &req.household_id)?,
        state: callback_state.map(str::to_owned),
        supervisor_id: (!claims.has_any_role(ADMINS)).then(|| claims.sub.clone()),
        after: parse_optional_uuid("page_token", &req.page_token)?,
        limit: limit + 1,
    };
    let rows = store::callbacks::list(&state.pool, &filter).await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    Ok(ListCallbacksResponse {
        next_page_token: match (more, rows.last()) {
            (true, Some(last)) => last.callback_id.to_string(),
            _ => String::new(),
        },
        callbacks: rows.iter().map(view::callback).collect(),
    })
}

async fn load(
    conn: &mut sqlx::PgConnection,
    claims: &Claims,
    callback_id: uuid::Uuid,
    for_update: bool,
) -> ServiceResult<CallbackRow> {
    let not_found = || ServiceError::NotFound(format!("callback {callback_id}"));
    let row = store::callbacks::find(conn, callback_id, for_update)
        .await?
        .ok_or_else(not_found)?;
    // Outside the scope reads exactly like unknown (no existence oracle).
    require_visible(claims, &row.region_code, not_found)?;
    let assigned = claims.has_role(roles::SUPERVISOR) && row.supervisor_id == claims.sub;
    if !assigned && !claims.has_any_role(ADMINS) {
        return Err(ServiceError::PermissionDenied(format!(
            "callback {callback_id} is assigned to another supervisor"
        )));
    }
    Ok(row)
}

/// One callback. For the assigned supervisor of an open callback it carries
/// the household's phone from the registry, read in the supervisor's name
/// (the registry audits it) — never a number the checked cadre supplied.
#[tracing::instrument(skip_all, fields(callback_id = %req.callback_id), err(level = "debug"))]
pub async fn get(
    state: &State,
    claims: &Claims,
    bearer: &str,
    req: GetCallbackRequest,
) -> ServiceResult<GetCallbackResponse> {
    let callback_id = parse_uuid("callback_id", &req.callback_id)?;
    let mut conn = state.pool.acquire().await?;
    let row = load(&mut conn, claims, callback_id, false).await?;
    drop(conn);
    let mut callback = view::callback(&row);
    let assigned = claims.has_role(roles::SUPERVISOR) && row.supervisor_id == claims.sub;
    if let (true, "open", Some(household_id)) = (assigned, row.state.as_str(), row.household_id) {
        callback.phone = household_phone(state, bearer, household_id, callback_id).await?;
    }
    Ok(GetCallbackResponse {
        callback: Some(callback),
    })
}

/// Reads the household's phone from the registry with a token the sign-in
/// authority issued for this purpose in exchange for the caller's own
/// (`bearer`): it names the supervisor, acted on by supervision, and lives
/// at most two minutes.
async fn household_phone(
    state: &State,
    bearer: &str,
    household_id: uuid::Uuid,
    callback_id: uuid::Uuid,
) -> ServiceResult<String> {
    use zoufang_core::auth::exchange::purposes;
    use zoufang_proto::registry::v1::{
        GetHouseholdRequest, registry_service_client::RegistryServiceClient,
    };
    let token = state
        .exchange
        .delegated(purposes::CALLBACK_PHONE, bearer)
        .await?;
    let mut registry = RegistryServiceClient::with_interceptor(
        state.registry.clone(),
        zoufang_core::auth::BearerInterceptor(token),
    );
    let household = registry
        .get_household(GetHouseholdRequest {
            household_id: household_id.to_string(),
            reveal: true,
            purpose: format!("督查回访 {callback_id}"),
            // The number to call and nothing else: the ID number and the
            // sensitive tags stay masked, and the audit names the phone only.
            reveal_fields: vec!["phone".into()],
        })
        .await
        .map_err(|s| anyhow::anyhow!("registry refused the household's phone: {}", s.message()))?
        .into_inner()
        .household
        .ok_or_else(|| anyhow::anyhow!("registry returned no household"))?;
    Ok(household.phone)
}

/// One attempt; when reached, the outcome closes the callback and is published.
#[tracing::instrument(skip_all, fields(callback_id = %req.callback_id), err(level = "debug"))]
pub async fn record_attempt(
    state: &State,
    claims: &Claims,
    req: RecordAttemptRequest,
) -> ServiceResult<RecordAttemptResponse> {
    let callback_id = parse_uuid("callback_id", &req.callback_id)?;
    let method = Method::try_from(req.method).unwrap_or(Method::Unspecified);
    if method == Method::Unspecified {
        return Err(ServiceError::invalid(
            "method",
            "choose phone (电话) or on site (上门)",
        ));
    }
    let satisfaction =
        Satisfaction::try_from(req.satisfaction).unwrap_or(Satisfaction::Unspecified);
    if req.comment.chars().count() > 1000 {
        return Err(ServiceError::invalid(
            "comment",
            "is longer than 1000 characters",
        ));
    }
    let answered_date = match req.answered_visit_date.trim() {
        "" => None,
        d => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                ServiceError::invalid(
                    "answered_visit_date",
                    format!("{d:?} is not a date (YYYY-MM-DD)"),
                )
            })?,
        ),
    };
    if req
        .answered_member_count
        .is_some_and(|n| !(1..=50).contains(&n))
    {
        return Err(ServiceError::invalid(
            "answered_member_count",
            "must be between 1 and 50",
        ));
    }
    if req.answered_help_fen.is_some_and(|f| f < 0) {
        return Err(ServiceError::invalid(
            "answered_help_fen",
            "cannot be negative",
        ));
    }
    let mut tx = state.pool.begin().await?;
    let mut row = load(&mut tx, claims, callback_id, true).await?;
    if row.state != "open" {
        return Err(ServiceError::FailedPrecondition(format!(
            "callback {callback_id} is already {}",
            row.state
        )));
    }
    let is_issue = row.subject == CallbackSubject::Issue as i16;
    if req.reached && is_issue && satisfaction == Satisfaction::Unspecified {
        return Err(ServiceError::invalid(
            "satisfaction",
            "record 满意, 基本满意 or 不满意",
        ));
    }
    let now = state.clock.now();
    row.attempts += 1;
    row.reached = req.reached;
    let routing = if req.reached {
        row.state = "done".into();
        row.visit_confirmed = req.visit_confirmed;
        row.fix_confirmed = req.fix_confirmed;
        row.satisfaction = satisfaction as i16;
        row.comment = req.comment.trim().to_owned();
        row.completed_at = Some(now);
        if !is_issue {
            let answered = Answered {
                member_count: req.answered_member_count,
                help_fen: req.answered_help_fen,
                visit_date: answered_date,
            };
            let recorded = Recorded {
                member_count: row.recorded_member_count,
                help_fen: row.recorded_help_fen,
                visit_date: row.recorded_visit_date,
            };
            row.answered_member_count = answered.member_count;
            row.answered_help_fen = answered.help_fen;
            row.answered_visit_date = answered.visit_date;
            row.backcheck_mismatches =
                i32::try_from(backcheck::mismatches(&recorded, &answered).len()).unwrap_or(0);
        }
        Some(outputs::CALLBACK_COMPLETED)
    } else if row.attempts >= row.max_attempts {
        row.state = "unreachable".into();
        row.comment = req.comment.trim().to_owned();
        row.completed_at = Some(now);
        Some(outputs::CALLBACK_UNREACHABLE)
    } else {
        None
    };
    store::callbacks::record_attempt(&mut tx, &row, method as i16, &claims.sub).await?;
    if let Some(key) = routing {
        let event = CallbackCompleted {
            callback_id: callback_id.to_string(),
            issue_id: row.issue_id.map(|u| u.to_string()).unwrap_or_default(),
            visit_id: row.visit_id.map(|u| u.to_string()).unwrap_or_default(),
            household_id: row.household_id.map(|u| u.to_string()).unwrap_or_default(),
            region_code: row.region_code.clone(),
            reached: row.reached,
            visit_confirmed: row.visit_confirmed,
            fix_confirmed: row.fix_confirmed,
            satisfaction: i32::from(row.satisfaction),
            comment: row.comment.clone(),
            supervisor_id: claims.sub.clone(),
            completed_at: Some(to_timestamp(now)),
        };
        outbox::enqueue(
            &mut tx,
            NewEvent::under(
                key,
                &event,
                &row.region_code,
                format!("callbacks/{callback_id}"),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(RecordAttemptResponse {
        callback: Some(view::callback(&row)),
    })
}
