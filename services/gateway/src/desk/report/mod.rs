//! Campaign summaries (活动总结) and the county leadership view.
//!
//! `GET /v1/reports/summary` gives a township's or a county's figures for a
//! campaign — households visited and coverage, visits by mode, nights
//! stayed, help and poor households helped, materials, the ledger's items by
//! kind and category and how they ended, disputes mediated, callbacks and
//! satisfaction — with a row per village (or township), as JSON, a Chinese
//! text skeleton in Markdown or HTML (with SVG charts), or an XLSX workbook.
//! `GET /v1/reports/county` rolls the same figures up across every township
//! of a county and ranks the townships by coverage and by 办结率.
//!
//! The period is the campaign's own (its dates are shown); the figures are
//! as of the moment of the request. Every upstream call is made with the
//! caller's token, so the services decide what the caller may see.
pub mod figures;
mod gather;
pub mod render;

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use zoufang_core::auth::roles;
use zoufang_types::{RegionCode, RegionLevel};

use crate::door::{ApiError, Backend, Caller, Endpoint, Module, op, schema_ref};
use figures::{CountyView, Level, Ranked, Summary, rank};

/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Who may read summaries: those who lead or check a campaign.
const SUMMARY_ROLES: &[&str] = &[
    roles::TOWNSHIP_ADMIN,
    roles::COUNTY_ADMIN,
    roles::SUPERVISOR,
];
/// Who may read the county view.
const COUNTY_ROLES: &[&str] = &[roles::COUNTY_ADMIN, roles::SUPERVISOR];

/// How a report is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
    Html,
    Xlsx,
}

impl Format {
    const NAMES: [&'static str; 4] = ["json", "md", "html", "xlsx"];

    /// The `format` parameter; JSON when absent.
    pub fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value.map(str::trim).unwrap_or("json") {
            "" | "json" => Ok(Self::Json),
            "md" | "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            "xlsx" => Ok(Self::Xlsx),
            other => Err(ApiError::invalid(
                "format",
                format!("{other:?} is not one of {}", Self::NAMES.join(", ")),
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SummaryQuery {
    pub region_code: Option<String>,
    pub campaign_id: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CountyQuery {
    pub county: Option<String>,
    pub campaign_id: Option<String>,
    pub format: Option<String>,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::invalid("query", e.body_text()))
}

fn require_roles(caller: &Caller, allowed: &[&str]) -> Result<(), ApiError> {
    if caller.claims.has_any_role(allowed) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "reports are for [{}]; you have [{}]",
        allowed.join(", "),
        caller.claims.roles.join(", ")
    )))
}

/// Refuses a region outside the caller's scope here, with a clear message
/// (the services would refuse it too).
fn require_scope(caller: &Caller, region: &RegionCode) -> Result<(), ApiError> {
    if caller.claims.covers(region.prefix()) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "region {} is outside your scope {:?}",
        region.as_str(),
        caller.claims.scope
    )))
}

fn parse_region(field: &str, value: Option<&str>) -> Result<RegionCode, ApiError> {
    RegionCode::parse(field, value.unwrap_or_default())
        .map_err(|e| ApiError::from(tonic::Status::from(e)))
}

fn campaign_id(value: Option<&str>) -> Result<String, ApiError> {
    let id = zoufang_core::fields::parse_uuid("campaign_id", value.unwrap_or_default())
        .map_err(|e| ApiError::from(tonic::Status::from(e)))?;
    Ok(id.to_string())
}

async fn summary(
    State(state): State<Backend>,
    caller: Caller,
    q: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let format = Format::parse(q.format.as_deref())?;
    let region = parse_region("region_code", q.region_code.as_deref())?;
    let campaign_id = campaign_id(q.campaign_id.as_deref())?;
    let level = match Level::of(&region) {
        Some(l @ (Level::County | Level::Township)) => l,
        _ => {
            return Err(ApiError::invalid(
                "region_code",
                "a summary is made for a township or a county",
            ));
        }
    };
    require_roles(&caller, SUMMARY_ROLES)?;
    require_scope(&caller, &region)?;
    let s = gather::summary(
        &state.upstreams,
        &caller.token,
        &region,
        level,
        &campaign_id,
        state.clock.now(),
    )
    .await?;
    respond(format, &s, None, "summary")
}

async fn county(
    State(state): State<Backend>,
    caller: Caller,
    q: Result<Query<CountyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let format = Format::parse(q.format.as_deref())?;
    let given = q.county.as_deref().unwrap_or_default().trim();
    let code = if given.len() == 6 {
        format!("{given}000000")
    } else {
        given.to_owned()
    };
    let region = parse_region("county", Some(&code))?;
    if region.level() != RegionLevel::County {
        return Err(ApiError::invalid(
            "county",
            "give a county: its 6 digits or its 12-digit code",
        ));
    }
    let campaign_id = campaign_id(q.campaign_id.as_deref())?;
    require_roles(&caller, COUNTY_ROLES)?;
    require_scope(&caller, &region)?;
    let s = gather::summary(
        &state.upstreams,
        &caller.token,
        &region,
        Level::County,
        &campaign_id,
        state.clock.now(),
    )
    .await?;
    let ranking = rank(&s.rows);
    respond(format, &s, Some(ranking), "county")
}

/// The report in the asked format.
fn respond(
    format: Format,
    s: &Summary,
    ranking: Option<Vec<Ranked>>,
    kind: &str,
) -> Result<Response, ApiError> {
    let ranked = ranking.as_deref();
    let title = match ranked {
        Some(_) => format!("{}“大走访”活动情况汇总", s.region_name),
        None => format!("{}“大走访”活动总结", s.region_name),
    };
    Ok(match format {
        Format::Json => match ranking {
            Some(ranking) => Json(CountyView {
                summary: s.clone(),
                ranking,
            })
            .into_response(),
            None => Json(s).into_response(),
        },
        Format::Markdown => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            render::markdown::render(&render::text::document(s, ranked)),
        )
            .into_response(),
        Format::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            render::html::render(&title, &render::text::document(s, ranked)),
        )
            .into_response(),
        Format::Xlsx => {
            let bytes = render::xlsx::render(s, ranked).map_err(ApiError::internal)?;
            let ascii = format!("{kind}-{}.xlsx", s.region_code);
            let disposition = format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                percent_encode(&format!("{title}.xlsx"))
            );
            (
                [
                    (header::CONTENT_TYPE, XLSX.to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response()
        }
    })
}

/// RFC 5987 encoding of a file name (UTF-8, attr-chars kept).
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The report endpoints and their schemas.
pub fn endpoints() -> Module {
    let campaign = json!({"name": "campaign_id", "in": "query", "required": true,
        "description": "The campaign; its period is the summary's period.",
        "schema": {"type": "string", "format": "uuid"}});
    let format = |choices: &[&str]| {
        json!({"name": "format", "in": "query", "required": false,
            "description": "json (default), md (Markdown text), html (text with SVG charts) or xlsx (workbook).",
            "schema": {"type": "string", "enum": choices, "default": "json"}})
    };
    let endpoints = vec![
        Endpoint::new(
            http::Method::GET,
            "/v1/reports/summary",
            get(summary),
            report_op(
                (
                    "活动总结",
                    "Campaign summary (活动总结) of a township or a county: every figure, a row per village (or township), as JSON, Markdown, HTML with SVG charts, or XLSX.",
                ),
                "ReportSummary",
                vec![
                    json!({"name": "region_code", "in": "query", "required": true,
                        "description": "12-digit code of a township or a county.",
                        "schema": {"type": "string", "pattern": "^[0-9]{12}$"}}),
                    campaign.clone(),
                    format(&["json", "md", "html", "xlsx"]),
                ],
            ),
        ),
        Endpoint::new(
            http::Method::GET,
            "/v1/reports/county",
            get(county),
            report_op(
                (
                    "县级领导视图",
                    "County leadership view: the county's figures with a row per township and each township's rank by coverage and by 办结率 (closed / collected; ties share a rank).",
                ),
                "CountyReport",
                vec![
                    json!({"name": "county", "in": "query", "required": true,
                        "description": "The county: 6 digits or its 12-digit code.",
                        "schema": {"type": "string", "pattern": "^([0-9]{6}|[0-9]{12})$"}}),
                    campaign,
                    format(&["json", "md", "html", "xlsx"]),
                ],
            ),
        ),
    ];
    (endpoints, schemas())
}

/// An operation answering JSON, Markdown, HTML or XLSX.
fn report_op(summary: (&str, &str), schema: &str, parameters: Vec<Value>) -> Value {
    let mut o = op(
        "reports",
        summary,
        true,
        None,
        schema_ref(schema),
        parameters,
    );
    let mut content = serde_json::Map::new();
    content.insert(
        "application/json".into(),
        json!({"schema": schema_ref(schema)}),
    );
    content.insert(
        "text/markdown".into(),
        json!({"schema": {"type": "string"}}),
    );
    content.insert("text/html".into(), json!({"schema": {"type": "string"}}));
    content.insert(
        XLSX.into(),
        json!({"schema": {"type": "string", "format": "binary"}}),
    );
    o["responses"]["200"]["content"] = Value::Object(content);
    o
}

fn schemas() -> Vec<(&'static str, Value)> {
    let int = json!({"type": "integer", "format": "int64"});
    let bp = json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 10000,
        "description": "basis points, 10000 = 100%"});
    let nullable_bp = json!({"type": "integer", "format": "int32", "minimum": 0, "maximum": 10000,
        "nullable": true, "description": "basis points; null when there is no base"});
    let string = json!({"type": "string"});
    let object = |props: &[(&str, &Value)]| {
        let properties: serde_json::Map<String, Value> = props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).clone()))
            .collect();
        let required: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
        json!({"type": "object", "required": required, "properties": properties})
    };
    let ints = |names: &[&'static str]| -> Vec<(&'static str, Value)> {
        names.iter().map(|n| (*n, int.clone())).collect()
    };
    let with = |mut base: Vec<(&'static str, Value)>, more: Vec<(&'static str, Value)>| {
        base.extend(more);
        base
    };
    let obj = |fields: Vec<(&'static str, Value)>| {
        let refs: Vec<(&str, &Value)> = fields.iter().map(|(k, v)| (*k, v)).collect();
        object(&refs)
    };
    let mode = obj(vec![
        (
            "mode",
            json!({"type": "string", "enum": ["door_to_door", "phone", "reception", "case_visit", "live_in", "other"]}),
        ),
        ("label", string.clone()),
        ("visits", int.clone()),
    ]);
    let visits = obj(with(
        ints(&[
            "households_total",
            "households_visited",
            "visits",
            "overnight_stays",
            "disputed_visits",
            "items_raised_on_visits",
            "items_resolved_on_spot_on_visits",
        ]),
        vec![
            ("coverage_bp", bp.clone()),
            ("by_mode", json!({"type": "array", "items": mode})),
        ],
    ));
    let help = obj(ints(&[
        "households_helped",
        "poor_households_helped",
        "cash_fen",
        "goods_value_fen",
        "total_fen",
    ]));
    let material = obj(vec![("name", string.clone()), ("quantity", int.clone())]);
    let materials = obj(vec![
        ("total", int.clone()),
        ("by_name", json!({"type": "array", "items": material})),
    ]);
    let category = obj(vec![("category", string.clone()), ("count", int.clone())]);
    let ledger = obj(with(
        ints(&[
            "collected",
            "problems",
            "suggestions",
            "disputes",
            "petitions",
            "resolved_on_spot",
            "resolved_in_time",
            "resolved_late",
            "escalated",
            "explained",
            "open",
            "overdue",
            "closed",
            "reopened",
            "verified",
            "disputes_mediated",
            "dispute_households",
        ]),
        vec![
            ("resolution_rate_bp", nullable_bp.clone()),
            ("by_category", json!({"type": "array", "items": category})),
        ],
    ));
    let callbacks = obj(with(
        ints(&[
            "callbacks",
            "done",
            "unreachable",
            "open",
            "overdue",
            "visits_checked",
            "visits_not_confirmed",
        ]),
        vec![
            ("reach_rate_bp", bp.clone()),
            ("satisfaction_rate_bp", bp.clone()),
            ("visit_confirmation_rate_bp", bp.clone()),
        ],
    ));
    let figures = vec![
        ("visits", visits),
        ("help", help),
        ("materials", materials),
        ("ledger", ledger),
        ("callbacks", callbacks),
    ];
    let level = json!({"type": "string", "enum": ["county", "township", "village"]});
    let row = obj(with(
        vec![("code", string.clone()), ("name", string.clone())],
        figures.clone(),
    ));
    let campaign = obj(vec![
        ("campaign_id", string.clone()),
        ("name", string.clone()),
        ("region_code", string.clone()),
        ("starts_at", string.clone()),
        ("ends_at", string.clone()),
        ("themes", json!({"type": "array", "items": string})),
        (
            "status",
            json!({"type": "string", "enum": ["planned", "active", "closed", "unspecified"]}),
        ),
    ]);
    let summary_fields = with(
        vec![
            ("region_code", string.clone()),
            ("region_name", string.clone()),
            ("level", level.clone()),
            ("campaign", campaign),
            (
                "generated_at",
                json!({"type": "string", "format": "date-time"}),
            ),
            ("row_level", level),
            ("rows", json!({"type": "array", "items": row})),
        ],
        figures,
    );
    let ranked = obj(vec![
        ("code", string.clone()),
        ("name", string.clone()),
        ("coverage_bp", bp),
        (
            "coverage_rank",
            json!({"type": "integer", "format": "int32", "minimum": 1}),
        ),
        ("resolution_rate_bp", nullable_bp),
        (
            "resolution_rank",
            json!({"type": "integer", "format": "int32", "minimum": 1}),
        ),
    ]);
    let county = obj(with(
        summary_fields.clone(),
        vec![("ranking", json!({"type": "array", "items": ranked}))],
    ));
    vec![
        ("ReportSummary", obj(summary_fields)),
        ("CountyReport", county),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_default_to_json_and_name_the_field() {
        assert_eq!(Format::parse(None).unwrap(), Format::Json);
        assert_eq!(Format::parse(Some("md")).unwrap(), Format::Markdown);
        assert_eq!(Format::parse(Some("xlsx")).unwrap(), Format::Xlsx);
        let e = Format::parse(Some("pdf")).unwrap_err();
        assert_eq!(e.field_errors[0].field, "format");
    }

    #[test]
    fn bad_fields_are_named() {
        let e = parse_region("region_code", Some("4304")).unwrap_err();
        assert_eq!(e.field_errors[0].field, "region_code");
        let e = campaign_id(Some("nope")).unwrap_err();
        assert_eq!(e.field_errors[0].field, "campaign_id");
        let e = campaign_id(None).unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn file_names_are_rfc5987_encoded() {
        assert_eq!(percent_encode("a b.xlsx"), "a%20b.xlsx");
        assert_eq!(percent_encode("镇"), "%E9%95%87");
    }

    #[test]
    fn the_operations_declare_every_media_type() {
        let (list, schemas) = endpoints();
        assert_eq!(list.len(), 2);
        for e in &list {
            let content = &e.operation["responses"]["200"]["content"];
            for media in ["application/json", "text/markdown", "text/html", XLSX] {
                assert!(content.get(media).is_some(), "{} {media}", e.path);
            }
        }
        let names: Vec<&str> = schemas.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, vec!["ReportSummary", "CountyReport"]);
        let summary = &schemas[0].1;
        assert!(
            summary["properties"]["ledger"]["properties"]["resolution_rate_bp"]["nullable"]
                .as_bool()
                .unwrap_or_default()
        );
    }

    /// The JSON of a summary has exactly the properties its schema declares.
    #[test]
    fn the_schema_matches_the_json() {
        let (_, schemas) = endpoints();
        let s = figures::summarize(
            &RegionCode::parse("r", "430426104000").unwrap(),
            Level::Township,
            &Default::default(),
            &figures::Answers::default(),
            &[figures::Answers::default()],
            chrono::Utc::now(),
        );
        let value = serde_json::to_value(&s).unwrap();
        fn check(schema: &Value, value: &Value, path: &str) {
            if let Some(props) = schema["properties"].as_object() {
                let obj = value
                    .as_object()
                    .unwrap_or_else(|| panic!("{path} is an object"));
                let mut want: Vec<&String> = props.keys().collect();
                let mut got: Vec<&String> = obj.keys().collect();
                want.sort();
                got.sort();
                assert_eq!(got, want, "{path}");
                for (k, sub) in props {
                    check(sub, &obj[k], &format!("{path}.{k}"));
                }
            } else if schema["type"] == "array" {
                for (i, v) in value.as_array().into_iter().flatten().enumerate() {
                    check(&schema["items"], v, &format!("{path}[{i}]"));
                }
            }
        }
        check(&schemas[0].1, &value, "summary");
    }
}
