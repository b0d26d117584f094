//! Import (导入) of households, cadres (with their work teams and, given a
//! 登录账号, their accounts), the region table and 包保 assignments from the files
//! townships really have: Excel workbooks and CSV (UTF-8 or GBK) with
//! Chinese headers in their usual variants, the header under a title row or
//! two. Every bad row is reported as (row, column, reason) in Chinese, the
//! row as Excel numbers it; the caller chooses all-or-nothing (any bad row →
//! nothing written) or good-rows-only.
//!
//! An import is a job: `POST /v1/import/{households|cadres|regions|assignments}` takes
//! the file as the body and answers 202 with the job; the job runs in the
//! background, reporting progress to `GET /v1/import/{job_id}`; `?wait=true`
//! answers when it is done (up to a minute). Jobs and their error reports
//! live in the gateway's schema (`import_jobs`, `import_errors`), so they
//! survive a restart; a job cut off by one reads as failed.
//!
//! The caller's token goes upstream, so the registry enforces role and
//! scope; rows whose village lies outside the caller's scope are refused
//! up front, row by row, with the reason.
//!
//! Layers: `zoufang_tabular` (files to cells, finding the header
//! row), `header` (the column names of each kind's fields), `check` (one
//! cell, reasons in Chinese), `directory` (village names to codes),
//! `households` / `cadres` (and `teams`) / `regions` / `assignments` (rows
//! to requests, and the writes),
//! `store` (the SQL).
pub mod assignments;
pub mod cadres;
pub mod check;
pub mod directory;
pub mod gate;
pub mod header;
pub mod households;
mod job;
pub mod regions;
pub mod store;
mod sweep;
pub mod teams;
mod upstream;

use std::time::Duration;

use axum::{
    Extension, Json,
    body::Body,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;
use zoufang_core::auth::{Claims, roles};
use zoufang_tabular::{Cell, FieldSpec, Limits, Mapping, Row};

use super::Desk;
use crate::door::{ApiError, Backend, CadreAccounts, Caller, Endpoint, Module, op, schema_ref};
use store::Counts;

use job::{Input, run_job};
pub use job::{ReadRows, Run, read_rows};
pub use sweep::sweep_old_jobs;
pub(crate) use upstream::RegistryClient;
pub use upstream::{Upstream, first_violation, status_reason, violations};

/// One bad row (or cell): the row number Excel shows, the column as the
/// file names it, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: u32,
    pub column: String,
    pub reason: String,
}

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Households,
    Cadres,
    Regions,
    Assignments,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Households => "households",
            Self::Cadres => "cadres",
            Self::Regions => "regions",
            Self::Assignments => "assignments",
        }
    }

    pub fn specs(self) -> &'static [FieldSpec] {
        match self {
            Self::Households => header::HOUSEHOLD_FIELDS,
            Self::Cadres => header::CADRE_FIELDS,
            Self::Regions => header::REGION_FIELDS,
            Self::Assignments => header::ASSIGNMENT_FIELDS,
        }
    }
}

/// What to do with bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Any bad row: nothing is written (the default).
    AllOrNothing,
    /// The good rows are written, the bad ones reported.
    GoodRowsOnly,
}

impl Mode {
    pub fn parse(s: Option<&str>) -> Result<Self, ApiError> {
        match s.unwrap_or("all_or_nothing") {
            "all_or_nothing" => Ok(Self::AllOrNothing),
            "good_rows_only" => Ok(Self::GoodRowsOnly),
            other => Err(ApiError::invalid(
                "mode",
                format!(
                    "{other:?}: 应为 all_or_nothing（有错行则全部不导入）或 good_rows_only（只导入正确的行）"
                ),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllOrNothing => "all_or_nothing",
            Self::GoodRowsOnly => "good_rows_only",
        }
    }

    pub fn all_or_nothing(self) -> bool {
        self == Self::AllOrNothing
    }
}

/// Rows checked: the good ones (row number, request) and the errors.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub good: Vec<(u32, T)>,
    pub errors: Vec<RowError>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self {
            good: vec![],
            errors: vec![],
        }
    }
}

/// One row's cells by field, collecting the row's errors.
pub struct Cells<'r> {
    row: &'r Row,
    mapping: &'r Mapping,
    specs: &'static [FieldSpec],
    errors: Vec<RowError>,
}

impl<'r> Cells<'r> {
    pub fn new(row: &'r Row, mapping: &'r Mapping, specs: &'static [FieldSpec]) -> Self {
        Self {
            row,
            mapping,
            specs,
            errors: vec![],
        }
    }

    /// The cell of a field (None when the file has no such column or the row is short).
    pub fn cell(&self, key: &str) -> Option<&'r Cell> {
        let row: &'r Row = self.row;
        self.mapping.column(key).and_then(|c| row.cell(c))
    }

    /// The trimmed text of a field's cell ("" when absent).
    pub fn text(&self, key: &str) -> String {
        self.cell(key)
            .map(|c| c.text.trim().to_owned())
            .unwrap_or_default()
    }

    /// Runs a check on a field's cell; a failure is recorded against its column.
    pub fn check<T>(
        &mut self,
        key: &str,
        f: impl FnOnce(Option<&'r Cell>) -> Result<T, String>,
    ) -> Option<T> {
        match f(self.cell(key)) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.fail(key, reason);
                None
            }
        }
    }

    /// Records an error against a field's column.
    pub fn fail(&mut self, key: &str, reason: impl Into<String>) {
        self.errors.push(RowError {
            row: self.row.number,
            column: self.mapping.header(self.specs, key).to_owned(),
            reason: reason.into(),
        });
    }

    pub fn into_errors(self) -> Vec<RowError> {
        self.errors
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    #[serde(default)]
    pub mode: Option<String>,
    /// A county or township code (prefix) to look village names up in;
    /// defaults to the caller's scope.
    #[serde(default)]
    pub region: Option<String>,
    /// The worksheet to read; defaults to the first whose header matches.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Answer when the job is done (up to a minute) instead of at once.
    #[serde(default)]
    pub wait: Option<bool>,
    /// The campaign of a 包保 import (required there, refused elsewhere).
    #[serde(default)]
    pub campaign_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    #[serde(default)]
    pub errors_offset: Option<i64>,
    #[serde(default)]
    pub errors_limit: Option<i64>,
}

/// A job as the API shows it.
#[derive(Debug, Serialize)]
pub struct JobView {
    pub job_id: Uuid,
    pub kind: String,
    pub mode: String,
    pub state: String,
    pub phase: String,
    pub format: String,
    pub sheet: String,
    pub header_row: i32,
    pub rows_total: i32,
    pub rows_processed: i32,
    pub rows_imported: i32,
    pub rows_failed: i32,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub errors_total: i64,
    pub errors: Vec<RowError>,
    /// Initial passwords of accounts the job made, waiting to be fetched
    /// once by the job's creator (`POST /v1/import/{job_id}/credentials`).
    pub credentials_waiting: i64,
}

const IMPORT_ROLES: &[&str] = &[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN];
/// How long `?wait=true` waits before answering 202 anyway.
const WAIT: Duration = Duration::from_secs(60);

/// The area village names are looked up in: the requested prefix narrowed
/// to the caller's scope (`?region=`, a county or township code). Public
/// for the fuzz targets (`fuzz/`).
pub fn area_of(claims: &Claims, requested: Option<&str>) -> Result<String, ApiError> {
    let Some(r) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(claims.scope.clone());
    };
    // A full code stands for its region (430426104000 is the township).
    let r = zoufang_types::region_prefix(r);
    if r.len() > 12 || !r.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("region", "应为县（区）或乡镇的区划代码"));
    }
    if r.starts_with(&claims.scope) {
        Ok(r.to_owned())
    } else if claims.scope.starts_with(r) {
        Ok(claims.scope.clone())
    } else {
        Err(ApiError::forbidden(format!(
            "区划{r}不在您的管辖范围（{}）内",
            claims.scope
        )))
    }
}

#[allow(clippy::too_many_arguments)]
async fn start(
    kind: Kind,
    desk: Desk,
    state: Backend,
    accounts: CadreAccounts,
    caller: Caller,
    q: StartQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.claims.require_any_role(IMPORT_ROLES).map_err(|_| {
        ApiError::forbidden("导入需要乡镇管理员（township_admin）或县级管理员（county_admin）角色")
    })?;
    let mode = Mode::parse(q.mode.as_deref())?;
    let area = area_of(&caller.claims, q.region.as_deref())?;
    let campaign_id = campaign_of(kind, q.campaign_id.as_deref())?;
    let limits = Limits::DEFAULT;
    // The account's slot before a byte of the file is read: a second
    // import of the same account gets 409 without costing memory.
    let slot = desk.imports.enter(&caller.claims.sub)?;
    let body = gate::read_body(&headers, body, &limits).await?;
    if body.is_empty() {
        return Err(ApiError::invalid(
            "file",
            "上传的文件是空的：请把文件内容作为请求体发送",
        ));
    }
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format =
        zoufang_tabular::sniff(&body, content_type).map_err(|e| ApiError::invalid("file", e))?;
    // Read here, within the limits, so a file over one is answered 413
    // and no job is created. The slot goes with the read: a caller who
    // hangs up does not free it while the file is still being read.
    let sheet = q.sheet.filter(|s| !s.trim().is_empty());
    let (read, slot) = tokio::task::spawn_blocking(move || {
        let read = read_rows(kind, format, &body, sheet.as_deref(), &limits);
        (read, slot)
    })
    .await
    .map_err(ApiError::internal)?;
    // A file over a limit (413) or in a format not read (400) is refused
    // here, without a job; a file read whose content does not fit (no
    // header, no rows) becomes a failed job with the reason, as any other.
    if let Err(e) = &read {
        if e.is_too_large() {
            tracing::warn!(account = %caller.claims.sub, kind = kind.as_str(), reason = %e, "import refused: over a limit");
            return Err(gate::too_large(e));
        }
        if e.is_unsupported() {
            return Err(ApiError::invalid("file", e.message()));
        }
    }
    let job_id = Uuid::now_v7();
    store::create(
        &state.pool,
        job_id,
        kind.as_str(),
        mode.as_str(),
        &caller.claims.sub,
        &caller.claims.scope,
    )
    .await?;
    let up = Upstream {
        state: state.clone(),
        token: caller.token.clone(),
        accounts,
        caller: caller.clone(),
    };
    let run = Run::new(job_id, kind, mode, caller.claims.clone(), up);
    let input = Input {
        read: read.map_err(String::from),
        format,
        area,
        campaign_id,
        slot: Some(slot),
    };
    let task = tokio::spawn(run_job(run, input));
    let finished = q.wait.unwrap_or(false) && tokio::time::timeout(WAIT, task).await.is_ok();
    let view = view_of(&state, job_id, 0, 1000).await?;
    let status = if finished {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("/v1/import/{job_id}");
    Ok((status, [(http::header::LOCATION, location)], Json(view)).into_response())
}

/// The campaign of a 包保 import: required and a UUID there; other kinds
/// take none.
pub fn campaign_of(kind: Kind, requested: Option<&str>) -> Result<Option<String>, ApiError> {
    let requested = requested.map(str::trim).filter(|c| !c.is_empty());
    match (kind, requested) {
        (Kind::Assignments, None) => Err(ApiError::invalid(
            "campaign_id",
            "包保导入须指明走访活动：?campaign_id=<活动编号>",
        )),
        (Kind::Assignments, Some(c)) => Uuid::parse_str(c)
            .map(|u| Some(u.hyphenated().to_string()))
            .map_err(|_| {
                ApiError::invalid("campaign_id", format!("“{c}”不是有效的活动编号（UUID）"))
            }),
        (_, None) => Ok(None),
        (_, Some(_)) => Err(ApiError::invalid(
            "campaign_id",
            "只有包保导入（/v1/import/assignments）需要 campaign_id",
        )),
    }
}

async fn view_of(
    state: &Backend,
    job_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<JobView, ApiError> {
    let job = store::get(&state.pool, job_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("import job {job_id}")))?;
    let (errors, errors_total) = store::errors(&state.pool, job_id, offset, limit).await?;
    let credentials_waiting = store::credentials_waiting(&state.pool, job_id).await?;
    Ok(JobView {
        job_id: job.job_id,
        kind: job.kind,
        mode: job.mode,
        state: job.state,
        phase: job.phase,
        format: job.format,
        sheet: job.sheet,
        header_row: job.header_row,
        rows_total: job.rows_total,
        rows_processed: job.rows_processed,
        rows_imported: job.rows_imported,
        rows_failed: job.rows_failed,
        message: job.message,
        created_at: job.created_at,
        updated_at: job.updated_at,
        finished_at: job.finished_at,
        errors_total,
        errors,
        credentials_waiting,
    })
}

async fn households_route(
    State(state): State<Backend>,
    State(accounts): State<CadreAccounts>,
    Extension(desk): Extension<Desk>,
    caller: Caller,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    start(
        Kind::Households,
        desk,
        state,
        accounts,
        caller,
        q,
        headers,
        body,
    )
    .await
}

async fn cadres_route(
    State(state): State<Backend>,
    State(accounts): State<CadreAccounts>,
    Extension(desk): Extension<Desk>,
    caller: Caller,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    start(
        Kind::Cadres,
        desk,
        state,
        accounts,
        caller,
        q,
        headers,
        body,
    )
    .await
}

async fn regions_route(
    State(state): State<Backend>,
    State(accounts): State<CadreAccounts>,
    Extension(desk): Extension<Desk>,
    caller: Caller,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    start(
        Kind::Regions,
        desk,
        state,
        accounts,
        caller,
        q,
        headers,
        body,
    )
    .await
}

async fn assignments_route(
    State(state): State<Backend>,
    State(accounts): State<CadreAccounts>,
    Extension(desk): Extension<Desk>,
    caller: Caller,
    Query(q): Query<StartQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    start(
        Kind::Assignments,
        desk,
        state,
        accounts,
        caller,
        q,
        headers,
        body,
    )
    .await
}

/// A job's state, counters and a page of its errors; only its creator, or
/// an admin whose scope covers the creator's, may read it.
async fn status(
    State(state): State<Backend>,
    caller: Caller,
    Path(job_id): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Result<Json<JobView>, ApiError> {
    let not_found = || ApiError::not_found(format!("import job {job_id}"));
    let id = Uuid::parse_str(&job_id).map_err(|_| not_found())?;
    let job = store::get(&state.pool, id).await?.ok_or_else(not_found)?;
    let c = &caller.claims;
    let allowed = job.created_by == c.sub
        || (c.has_any_role(IMPORT_ROLES) && job.scope.starts_with(&c.scope));
    if !allowed {
        return Err(not_found());
    }
    let offset = q.errors_offset.unwrap_or(0).max(0);
    let limit = q.errors_limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(view_of(&state, id, offset, limit).await?))
}

/// One account an import made and its one-time initial password.
#[derive(Debug, Serialize)]
pub struct Credential {
    pub row: i32,
    pub cadre_id: String,
    pub username: String,
    pub initial_password: String,
}

/// The initial passwords of the accounts a job made: only for the job's
/// creator, and only once (they are deleted as they are answered).
async fn credentials_route(
    State(state): State<Backend>,
    caller: Caller,
    Path(job_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found(format!("import job {job_id}"));
    let id = Uuid::parse_str(&job_id).map_err(|_| not_found())?;
    let job = store::get(&state.pool, id).await?.ok_or_else(not_found)?;
    if job.created_by != caller.claims.sub {
        return Err(not_found());
    }
    let taken: Vec<Credential> = store::take_credentials(&state.pool, id)
        .await?
        .into_iter()
        .map(|(row, cadre_id, username, initial_password)| Credential {
            row,
            cadre_id,
            username,
            initial_password,
        })
        .collect();
    Ok(Json(json!({"job_id": id, "credentials": taken})))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn start_operation(title: &str, what: &str) -> Value {
    let mut o = op(
        "import",
        (
            title,
            &format!(
                "Imports {what} from an XLSX or CSV file (the body, at most 20 MB); 202 with the job, or 200 when done with ?wait=true."
            ),
        ),
        true,
        None,
        schema_ref("ImportJob"),
        vec![
            json!({"name": "mode", "in": "query", "required": false, "description": "all_or_nothing (default): any bad row, nothing is written; good_rows_only: the good rows are written",
                   "schema": {"type": "string", "enum": ["all_or_nothing", "good_rows_only"]}}),
            json!({"name": "region", "in": "query", "required": false, "description": "County or township code to look village and township names up in; defaults to the caller's scope",
                   "schema": {"type": "string", "pattern": "^[0-9]{6,12}$"}}),
            json!({"name": "sheet", "in": "query", "required": false, "description": "Worksheet name; defaults to the first whose header row matches",
                   "schema": {"type": "string"}}),
            json!({"name": "wait", "in": "query", "required": false, "description": "Answer when the job is done (up to 60 s)",
                   "schema": {"type": "boolean"}}),
        ],
    );
    let file = json!({"type": "string", "format": "binary"});
    o["requestBody"] = json!({"required": true, "content": {
        XLSX: {"schema": file},
        "text/csv": {"schema": file},
        "application/octet-stream": {"schema": file},
    }});
    let error = |d: &str| json!({"description": d, "content": {"application/json": {"schema": schema_ref("Error")}}});
    o["responses"]["409"] = error("This account has an import running (one at a time)");
    o["responses"]["413"] = error(
        "The file is over a limit, named in the message (20 MB, 100 MB unzipped, 200,000 rows, 2,000,000 cells, 32,767 characters a cell, 40 MB of text)",
    );
    o["responses"]["429"] = error("The gateway runs its most imports at once; retry shortly");
    o["responses"]["202"] = json!({"description": "Accepted: the job runs; poll Location",
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": schema_ref("ImportJob")}}});
    o
}

fn assignment_operation() -> Value {
    let mut o = start_operation(
        "导入包保关系",
        "包保 assignments of one campaign (包保关系): 干部编号 or 干部姓名 (干部手机号 for namesakes), and 户编号, 村 (所属乡镇) or 工作片; 包保类型 联系户 / 联系村 / 包片 when a row fills more than one. Idempotent: uploading the same sheet again creates nothing",
    );
    if let Some(params) = o["parameters"].as_array_mut() {
        params.insert(
            0,
            json!({"name": "campaign_id", "in": "query", "required": true, "description": "The campaign (走访活动) the assignments belong to",
                   "schema": {"type": "string", "format": "uuid"}}),
        );
    }
    o
}

/// The import endpoints and the schemas they use.
pub fn endpoints() -> Module {
    let int = json!({"type": "integer"});
    let string = json!({"type": "string"});
    let row_error = json!({"type": "object", "required": ["row", "column", "reason"], "properties": {
        "row": {"type": "integer", "minimum": 1, "description": "The row number Excel shows (the header's row counts)"},
        "column": {"type": "string", "description": "The column's header as the file writes it"},
        "reason": {"type": "string"}}});
    let job = json!({"type": "object", "properties": {
        "job_id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": ["households", "cadres", "regions", "assignments"]},
        "mode": {"type": "string", "enum": ["all_or_nothing", "good_rows_only"]},
        "state": {"type": "string", "enum": ["running", "done", "failed"]},
        "phase": {"type": "string", "enum": ["reading", "checking", "writing", "finished"]},
        "format": string, "sheet": string, "header_row": int,
        "rows_total": int, "rows_processed": int, "rows_imported": int, "rows_failed": int,
        "message": string,
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time", "nullable": true},
        "errors_total": int,
        "errors": {"type": "array", "items": schema_ref("ImportRowError")},
        "credentials_waiting": {"type": "integer", "description": "Initial passwords of accounts this job made (cadre rows with 登录账号), waiting to be fetched once"}}});
    let credentials = json!({"type": "object", "required": ["job_id", "credentials"], "properties": {
        "job_id": {"type": "string", "format": "uuid"},
        "credentials": {"type": "array", "items": {"type": "object",
            "required": ["row", "cadre_id", "username", "initial_password"], "properties": {
            "row": int, "cadre_id": string, "username": string,
            "initial_password": {"type": "string", "description": "One-time; the cadre must change it at the first sign-in"}}}}}});
    let endpoints = vec![
        Endpoint::new(
            http::Method::POST,
            "/v1/import/{job_id}/credentials",
            post(credentials_route),
            op(
                "import",
                (
                    "取走初始密码",
                    "Takes the initial passwords of the accounts a cadre import made: for the job's creator, once (they are deleted as they are answered).",
                ),
                true,
                None,
                schema_ref("ImportCredentials"),
                vec![
                    json!({"name": "job_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}),
                ],
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/import/households",
            post(households_route),
            start_operation(
                "导入农户",
                "households (户): 户主姓名, 身份证号, 联系电话, 所属村, 所属乡镇, 村民小组, 家庭住址, 家庭人口, 标签",
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/import/cadres",
            post(cadres_route),
            start_operation(
                "导入干部",
                "cadres (干部): 姓名, 联系电话, 单位类型, 职务, 工作区域, 角色; optional 干部编号 (the cadre's id: such rows are idempotent), 所属工作队 and 是否队长 (joins the work team of that name in the cadre's township, creating it when the township has none: listed in the job's message), 登录账号 (onboards the row whole: recipient and a sign-in account bound to the cadre, its initial password fetched once from /v1/import/{job_id}/credentials)",
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/import/regions",
            post(regions_route),
            start_operation(
                "导入行政区划",
                "the region table (行政区划): 区划代码, 名称, 级别, 上级代码",
            ),
        ),
        Endpoint::new(
            http::Method::POST,
            "/v1/import/assignments",
            post(assignments_route),
            assignment_operation(),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/import/{job_id}",
            get(status),
            op(
                "import",
                (
                    "导入任务进度",
                    "An import job: state, progress and its per-row errors (a page).",
                ),
                true,
                None,
                schema_ref("ImportJob"),
                vec![
                    json!({"name": "job_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}),
                    json!({"name": "errors_offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}),
                    json!({"name": "errors_limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}),
                ],
            ),
        ),
    ];
    (
        endpoints,
        vec![
            ("ImportJob", job),
            ("ImportRowError", row_error),
            ("ImportCredentials", credentials),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(scope: &str) -> Claims {
        Claims {
            sub: "t".into(),
            roles: vec![roles::TOWNSHIP_ADMIN.into()],
            scope: scope.into(),
            ..Claims::default()
        }
    }

    #[test]
    fn the_lookup_area_is_narrowed_to_the_scope() {
        assert_eq!(area_of(&claims("430426104"), None).unwrap(), "430426104");
        assert_eq!(
            area_of(&claims("430426"), Some("430426104000")).unwrap(),
            "430426104"
        );
        assert_eq!(
            area_of(&claims("430426104"), Some("430426")).unwrap(),
            "430426104"
        );
        assert_eq!(area_of(&claims(""), Some("430426")).unwrap(), "430426");
        assert_eq!(
            area_of(&claims("430426104"), Some("430426105"))
                .unwrap_err()
                .status,
            StatusCode::FORBIDDEN
        );
        assert!(area_of(&claims(""), Some("abc")).is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(Mode::parse(None).unwrap(), Mode::AllOrNothing);
        assert_eq!(
            Mode::parse(Some("good_rows_only")).unwrap(),
            Mode::GoodRowsOnly
        );
        assert!(Mode::parse(Some("some")).is_err());
    }
}
