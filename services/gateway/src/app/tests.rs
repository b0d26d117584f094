//! The OpenAPI document as served: every `$ref` resolves, every route is
//! described in Chinese and English, GET routes list their parameters,
//! request messages name their required fields, and `web/openapi.json` is
//! the document the gateway serves.
use std::collections::BTreeSet;

use serde_json::Value;

use super::openapi_document;
use crate::door::rpc::Catalog;

fn document() -> Value {
    openapi_document(&Catalog::load().expect("catalog"))
}

/// Every `$ref` in `v`, with where it was found.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.clone(), r));
                    }
                } else {
                    refs(child, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() > 100, "only {} refs", found.len());
    for (at, r) in found {
        let target = r.strip_prefix('#').and_then(|pointer| doc.pointer(pointer));
        assert!(
            target.is_some_and(Value::is_object),
            "{at}: $ref {r} resolves to nothing"
        );
    }
}

#[test]
fn every_route_is_described_in_chinese_and_english() {
    let doc = document();
    let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let mut n = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let summary = op["summary"].as_str().unwrap_or_default();
            let description = op["description"].as_str().unwrap_or_default();
            assert!(
                summary.chars().any(is_cjk),
                "{method} {path}: the summary is Chinese: {summary:?}"
            );
            assert!(
                description
                    .chars()
                    .filter(char::is_ascii_alphabetic)
                    .count()
                    >= 10,
                "{method} {path}: the description is English: {description:?}"
            );
            n += 1;
        }
    }
    assert!(n > 100, "only {n} operations");
}

#[test]
fn every_error_response_has_the_error_shape_and_json_bodies_document_415() {
    let doc = document();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{method} {path} {status}"
                    );
                }
            }
            if op["requestBody"]["content"]["application/json"].is_object() {
                assert!(
                    op["responses"]["415"].is_object(),
                    "{method} {path}: a JSON body documents 415"
                );
            }
        }
    }
}

#[test]
fn get_routes_list_their_path_and_query_parameters() {
    let doc = document();
    // The query fields each GET handler reads (its Query struct).
    let query: &[(&str, &[&str])] = &[
        ("/v1/accounts", &["scope"]),
        ("/v1/import/{job_id}", &["errors_offset", "errors_limit"]),
        (
            "/v1/export/visits",
            &["region_code", "campaign_id", "from", "to", "format"],
        ),
        (
            "/v1/export/ledger",
            &["region_code", "campaign_id", "from", "to", "format"],
        ),
        (
            "/v1/reports/summary",
            &["region_code", "campaign_id", "format"],
        ),
        ("/v1/reports/county", &["county", "campaign_id", "format"]),
    ];
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let Some(get) = ops.get("get") else { continue };
        let params: Vec<(&str, &str)> = get["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["in"].as_str().unwrap_or_default(),
                    p["name"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        for segment in path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                assert!(
                    params.contains(&("path", name)),
                    "GET {path}: path parameter {name}"
                );
            }
        }
        let listed: BTreeSet<&str> = params
            .iter()
            .filter(|(kind, _)| *kind == "query")
            .map(|(_, name)| *name)
            .collect();
        let want: BTreeSet<&str> = query
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, names)| names.iter().copied().collect())
            .unwrap_or_default();
        assert_eq!(listed, want, "GET {path}: query parameters");
    }
}

#[test]
fn request_messages_name_their_required_fields_by_proto_name() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let get = &schemas["zoufang.registry.v1.GetHouseholdRequest"];
    assert_eq!(get["required"], serde_json::json!(["household_id"]));
    let visit = &schemas["zoufang.registry.v1.RecordVisitRequest"];
    let required: Vec<_> = visit["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in [
        "visit_id",
        "campaign_id",
        "household_id",
        "started_at",
        "mode",
    ] {
        assert!(required.contains(&f), "{f} in {required:?}");
    }
    assert!(!required.contains(&"overnight_stay"), "{required:?}");
    // Every required name is a property, and properties are snake_case.
    let mut marked = 0;
    for (name, schema) in schemas.as_object().expect("schemas") {
        let props = schema["properties"].as_object();
        for r in schema["required"].as_array().into_iter().flatten() {
            let r = r.as_str().expect("name");
            assert!(props.is_some_and(|p| p.contains_key(r)), "{name}: {r}");
            marked += 1;
        }
        for key in props.into_iter().flatten().map(|(k, _)| k) {
            assert!(
                !key.chars().any(|c| c.is_ascii_uppercase()),
                "{name}.{key} is not snake_case"
            );
        }
    }
    assert!(marked > 100, "only {marked} required fields");
}

/// Keys sorted at every level, so the file is stable whatever order the
/// document was built in.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `web/openapi.json` is the document the gateway serves (the web console
/// generates its TypeScript types from it). `ZF_UPDATE_OPENAPI=1` rewrites it.
#[test]
fn web_openapi_json_is_the_served_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json");
    let want = serde_json::to_string_pretty(&sorted(&document())).expect("json") + "\n";
    if std::env::var_os("ZF_UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("web/")).expect("mkdir web");
        std::fs::write(&path, &want).expect("write web/openapi.json");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "web/openapi.json is not the document the gateway serves: run \
         `ZF_UPDATE_OPENAPI=1 cargo test -p zoufang-gateway --lib web_openapi_json` \
         to rewrite it, and commit it"
    );
}
