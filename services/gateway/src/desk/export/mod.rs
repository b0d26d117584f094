//! Exports (导出): the visit records as a 大走访活动记录表 and the ledger as
//! a 民情台账, the sheets townships file, as XLSX or CSV, for a region and
//! a period (and optionally one campaign).
//!
//! `GET /v1/export/visits` and `GET /v1/export/ledger` take `region_code`
//! (a 12-digit code or a prefix of one; the caller's scope when absent),
//! `campaign_id`, `from` / `to` (Beijing calendar days, inclusive: a visit's
//! start, an item's registration) and `format` (`xlsx`, the default, or
//! `csv`).
//!
//! Every upstream call is made with the caller's token, so the services
//! decide what the caller sees: a region outside the caller's scope is
//! refused (403) and a region wider than it is narrowed to it, as the
//! services' list calls do. Personal data appear masked only: the head's
//! name, group and household size, the phone as 3+4, never an ID number.
//!
//! CSV is streamed: the first page is read before answering (so a bad
//! request or a refusal is a proper error status), then one chunk per page
//! of 500, in the services' order (by record id); the directory of names is
//! the only thing that grows (one entry per household, cadre and region
//! met). A failure after the first page cuts the download short. XLSX is
//! built in memory, sorted by date, and refuses (422) more than
//! [`MAX_XLSX_ROWS`] rows with a hint to narrow the request or use CSV.
pub mod directory;
pub mod layout;
pub mod lookup;
pub mod period;
pub mod source;
pub mod write;

use axum::{
    body::{Body, Bytes},
    extract::{Query, State, rejection::QueryRejection},
    response::Response,
    routing::get,
};
use futures::{StreamExt, TryStreamExt, stream};
use http::{StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use zoufang_proto::registry::v1::GetCampaignRequest;

use crate::door::{ApiError, Backend, Caller, Endpoint, FieldError, Module, op};
use period::Period;
use source::{Filter, Ledger, Pager, Sheet, Visits};

/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The CSV media type.
pub const CSV: &str = "text/csv; charset=utf-8";
/// The most rows an XLSX export holds (it is built in memory).
pub const MAX_XLSX_ROWS: usize = 20_000;

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    /// The `format` parameter; XLSX when absent.
    pub fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value.map(str::trim).unwrap_or_default() {
            "" | "xlsx" => Ok(Self::Xlsx),
            "csv" => Ok(Self::Csv),
            other => Err(ApiError::invalid(
                "format",
                format!("{other:?} is not one of xlsx, csv"),
            )),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }
}

/// The query parameters of both exports.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    pub region_code: Option<String>,
    pub campaign_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

/// The region prefix to export: a 12-digit code stands for its region (its
/// significant digits), a shorter prefix for itself
/// ([`zoufang_types::list_prefix`]); narrowed to the caller's scope, refused
/// outside it.
fn region_prefix(caller: &Caller, given: Option<&str>) -> Result<String, ApiError> {
    let prefix = zoufang_types::list_prefix(&caller.claims, given.unwrap_or_default())
        .map_err(|e| ApiError::from(tonic::Status::from(e)))?;
    if prefix.is_empty() {
        return Err(ApiError::invalid(
            "region_code",
            "is required: give the county, township or village to export",
        ));
    }
    Ok(prefix)
}

fn campaign_id(value: Option<&str>) -> Result<String, ApiError> {
    zoufang_core::fields::parse_optional_uuid("campaign_id", value.unwrap_or_default())
        .map(|id| id.map(|u| u.to_string()).unwrap_or_default())
        .map_err(|e| ApiError::from(tonic::Status::from(e)))
}

/// The file's names: ASCII for old clients, Chinese for everyone else.
fn file_names(
    sheet: &str,
    slug: &str,
    region_name: &str,
    prefix: &str,
    period: &Period,
    format: Format,
) -> (String, String) {
    let ext = format.extension();
    let (mut ascii, mut name) = (format!("{slug}-{prefix}"), format!("{region_name}{sheet}"));
    if !period.is_open() {
        let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y%m%d").to_string());
        ascii.push_str(&format!(
            "-{}-{}",
            day(period.from).unwrap_or_default(),
            day(period.to).unwrap_or_default()
        ));
        name.push_str(&format!("_{}", period.label()));
    }
    (format!("{ascii}.{ext}"), format!("{name}.{ext}"))
}

fn too_many() -> ApiError {
    let reason = format!(
        "an XLSX export holds at most {MAX_XLSX_ROWS} rows; narrow the region or the period, \
         or ask for format=csv, which is streamed without a limit"
    );
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "failed_precondition",
        message: format!("format: {reason}"),
        field_errors: vec![FieldError {
            field: "format".into(),
            reason,
        }],
    }
}

async fn visits(
    State(state): State<Backend>,
    caller: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    export::<Visits>(state, caller, q).await
}

async fn ledger(
    State(state): State<Backend>,
    caller: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    export::<Ledger>(state, caller, q).await
}

// Refusals are answered, not logged; internal failures log themselves.
#[tracing::instrument(skip_all, fields(sheet = S::SLUG, region, format))]
async fn export<S: Sheet>(
    state: Backend,
    caller: Caller,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let format = Format::parse(q.format.as_deref())?;
    let period = Period::parse(q.from.as_deref(), q.to.as_deref())?;
    let prefix = region_prefix(&caller, q.region_code.as_deref())?;
    let campaign_id = campaign_id(q.campaign_id.as_deref())?;
    tracing::Span::current()
        .record("region", prefix.as_str())
        .record("format", format.extension());
    let filter = Filter {
        prefix: prefix.clone(),
        campaign_id: campaign_id.clone(),
        period,
    };
    let mut pager = Pager::<S>::new(state.upstreams.clone(), caller.token.clone(), filter);
    // Read the first page before answering: refusals become error statuses.
    let first = pager.next_page().await?;
    let region_name = pager
        .lookup
        .name_of(&prefix)
        .await?
        .unwrap_or_else(|| prefix.clone());
    let (ascii, name) = file_names(S::NAME, S::SLUG, &region_name, &prefix, &period, format);
    let (content_type, body) = match format {
        Format::Csv => (CSV, csv_body(pager, first)?),
        Format::Xlsx => {
            let campaign = campaign_name(&state, &caller, &campaign_id).await?;
            let mut subtitle = format!("区域：{region_name}（{prefix}）　时间：{}", period.label());
            if let Some(c) = campaign {
                subtitle.push_str(&format!("　活动：{c}"));
            }
            subtitle.push_str(&format!(
                "　导出时间：{}（北京时间）",
                period::minute(state.clock.now())
            ));
            let heading = write::Heading {
                sheet: S::NAME,
                title: format!("{region_name}{}", S::NAME),
                subtitle,
            };
            (XLSX, Body::from(xlsx_bytes(pager, first, heading).await?))
        }
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            write::disposition(&ascii, &name),
        )
        // Names of residents: not for shared caches.
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(body)
        .map_err(ApiError::internal)
}

/// The campaign's name for the heading (its id when it cannot be read).
async fn campaign_name(
    state: &Backend,
    caller: &Caller,
    campaign_id: &str,
) -> Result<Option<String>, ApiError> {
    if campaign_id.is_empty() {
        return Ok(None);
    }
    let r = state
        .upstreams
        .registry(&caller.token)
        .get_campaign(GetCampaignRequest {
            campaign_id: campaign_id.to_owned(),
        })
        .await;
    Ok(Some(match r {
        Ok(r) => r
            .into_inner()
            .campaign
            .map_or_else(|| campaign_id.to_owned(), |c| c.name),
        Err(s) if s.code() == tonic::Code::Unavailable => return Err(s.into()),
        Err(_) => campaign_id.to_owned(),
    }))
}

/// The CSV download: the header, then a chunk per page as it is read.
fn csv_body<S: Sheet>(pager: Pager<S>, first: Option<Vec<S::Record>>) -> Result<Body, ApiError> {
    let header: Vec<&str> = S::COLUMNS.iter().map(|c| c.0).collect();
    let head = write::csv_chunk(Some(&header), &[]).map_err(ApiError::internal)?;
    let pages = stream::try_unfold(
        (pager, first, 0usize),
        |(mut pager, pending, mut seq)| async move {
            let records = match pending {
                Some(records) => records,
                None => match pager.next_page().await {
                    Ok(Some(records)) => records,
                    Ok(None) => {
                        tracing::info!(sheet = S::SLUG, rows = seq, "csv export done");
                        return Ok(None);
                    }
                    Err(e) => {
                        tracing::error!(sheet = S::SLUG, rows = seq, error = %e.message, "csv export cut short");
                        return Err(std::io::Error::other(e.message));
                    }
                },
            };
            let rows: Vec<_> = records
                .iter()
                .map(|r| {
                    seq += 1;
                    S::row(seq, r, &pager.lookup.dir)
                })
                .collect();
            let chunk = write::csv_chunk(None, &rows).map_err(std::io::Error::other)?;
            Ok(Some((Bytes::from(chunk), (pager, None, seq))))
        },
    );
    let body = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) }).chain(pages);
    Ok(Body::from_stream(body.into_stream()))
}

/// The XLSX workbook: every record (at most [`MAX_XLSX_ROWS`]), by date.
async fn xlsx_bytes<S: Sheet>(
    mut pager: Pager<S>,
    first: Option<Vec<S::Record>>,
    heading: write::Heading<'static>,
) -> Result<Vec<u8>, ApiError> {
    let mut records = Vec::new();
    let mut page = first;
    while let Some(p) = page {
        records.extend(p);
        if records.len() > MAX_XLSX_ROWS {
            return Err(too_many());
        }
        page = pager.next_page().await?;
    }
    records.sort_by(|a, b| S::at(a).cmp(&S::at(b)).then_with(|| S::id(a).cmp(S::id(b))));
    let dir = pager.lookup.dir;
    tokio::task::spawn_blocking(move || {
        let rows: Vec<_> = records
            .iter()
            .enumerate()
            .map(|(i, r)| S::row(i + 1, r, &dir))
            .collect();
        write::xlsx(&heading, S::COLUMNS, &rows)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// The export endpoints.
pub fn endpoints() -> Module {
    let list = vec![
        Endpoint::new(
            http::Method::GET,
            "/v1/export/visits",
            get(visits),
            export_op((
                "导出走访记录",
                "Visit records as a 大走访活动记录表 (one row per visit: date, township, village, household head, cadres, mode, overnight stay, situation, diary, items raised and what was done on the spot, policies, materials, help in 元, remarks), XLSX or CSV, for a region and a period of visit days (Beijing time).",
            )),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/export/ledger",
            get(ledger),
            export_op((
                "导出民情台账",
                "The 民情台账 (one row per item: registered on, village, household head, source, kind, category, content, responsible cadre and department, deadline, state, result, callback), XLSX or CSV, for a region and a period of registration days (Beijing time).",
            )),
        ),
    ];
    (list, vec![])
}

fn export_op(summary: (&str, &str)) -> Value {
    let binary = json!({"type": "string", "format": "binary"});
    let parameters = vec![
        json!({"name": "region_code", "in": "query", "required": false,
            "description": "A 12-digit county, township or village code, or a prefix of one; your scope when absent. Outside your scope: 403; wider than it: narrowed to it.",
            "schema": {"type": "string", "pattern": "^[0-9]{0,12}$"}}),
        json!({"name": "campaign_id", "in": "query", "required": false,
            "description": "Only this campaign's records.",
            "schema": {"type": "string", "format": "uuid"}}),
        json!({"name": "from", "in": "query", "required": false,
            "description": "First day, inclusive, Beijing time (a visit's start; an item's registration).",
            "schema": {"type": "string", "format": "date"}}),
        json!({"name": "to", "in": "query", "required": false,
            "description": "Last day, inclusive, Beijing time.",
            "schema": {"type": "string", "format": "date"}}),
        json!({"name": "format", "in": "query", "required": false,
            "description": format!("xlsx (default; sorted by date, at most {MAX_XLSX_ROWS} rows, else 422) or csv (UTF-8 with BOM, streamed page by page in the services' order)"),
            "schema": {"type": "string", "enum": ["xlsx", "csv"], "default": "xlsx"}}),
    ];
    let mut o = op("export", summary, true, None, binary.clone(), parameters);
    o["responses"]["200"] = json!({
        "description": "The file, as an attachment with a Chinese file name (RFC 5987 filename*).",
        "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
        "content": {
            "text/csv": {"schema": binary.clone()},
            XLSX: {"schema": binary},
        }
    });
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_file_names() {
        assert_eq!(Format::parse(None).unwrap(), Format::Xlsx);
        assert_eq!(Format::parse(Some(" csv ")).unwrap(), Format::Csv);
        assert_eq!(
            Format::parse(Some("pdf")).unwrap_err().field_errors[0].field,
            "format"
        );
        let p = Period::parse(Some("2026-10-01"), Some("2026-10-31")).unwrap();
        assert_eq!(
            file_names(
                "民情台账",
                "ledger",
                "白鹤铺镇",
                "430426104",
                &p,
                Format::Csv
            ),
            (
                "ledger-430426104-20261001-20261031.csv".into(),
                "白鹤铺镇民情台账_2026-10-01至2026-10-31.csv".into()
            )
        );
        assert_eq!(
            file_names(
                "大走访活动记录表",
                "visits",
                "祁东县",
                "430426",
                &Period::default(),
                Format::Xlsx
            ),
            (
                "visits-430426.xlsx".into(),
                "祁东县大走访活动记录表.xlsx".into()
            )
        );
    }

    #[test]
    fn the_xlsx_cap_names_the_format() {
        let e = too_many();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field_errors[0].field, "format");
        assert!(e.message.contains("format=csv"));
    }

    #[test]
    fn operations_declare_both_media_types() {
        let (list, _) = endpoints();
        assert_eq!(list.len(), 2);
        for e in &list {
            let content = &e.operation["responses"]["200"]["content"];
            assert_eq!(content["text/csv"]["schema"]["format"], "binary");
            assert_eq!(content[XLSX]["schema"]["format"], "binary");
            let names: Vec<&str> = e.operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                names,
                ["region_code", "campaign_id", "from", "to", "format"]
            );
        }
    }
}
