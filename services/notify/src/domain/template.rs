//! Message templates: Chinese text with `{{name}}` placeholders filled from
//! the event. Templates are rows, editable without a rebuild; an edit may
//! use only the placeholders its kind offers, so a typo is refused at once
//! rather than sent to a township as a blank.
use std::collections::BTreeMap;

use zoufang_core::error::{ServiceError, ServiceResult};

/// Values for a template's placeholders.
pub type Vars = BTreeMap<String, String>;

/// Every template kind and the placeholders it offers.
pub const KINDS: &[(&str, &[&str])] = &[
    ("issue.assigned", ISSUE_VARS),
    ("issue.reopened", ISSUE_VARS),
    ("issue.due_soon", ISSUE_VARS),
    ("issue.overdue", ISSUE_VARS),
    ("issue.overdue.township", ISSUE_VARS),
    ("issue.overdue.county", ISSUE_VARS),
    ("callback.assigned", CALLBACK_VARS),
    ("callback.overdue", CALLBACK_VARS),
    ("visit.disputed", DISPUTE_VARS),
    ("petition.received", PETITION_VARS),
    ("digest", DIGEST_VARS),
];

const ISSUE_VARS: &[&str] = &[
    "link",
    "region_code",
    "region_name",
    "category",
    "kind_zh",
    "description",
    "deadline",
    "priority",
    "responsible",
    "reopen_count",
    "note",
    "state",
];
const CALLBACK_VARS: &[&str] = &[
    "link",
    "region_code",
    "region_name",
    "subject_zh",
    "summary",
    "due_at",
];
const DISPUTE_VARS: &[&str] = &["link", "region_code", "region_name", "reason"];
const PETITION_VARS: &[&str] = &[
    "link",
    "region_code",
    "region_name",
    "channel",
    "source_system",
    "kind_zh",
    "summary",
    "due_at",
];
const DIGEST_VARS: &[&str] = &["link", "count", "overdue_count", "due_soon_count", "items"];

/// The placeholders `kind` offers; None for an unknown kind.
pub fn variables(kind: &str) -> Option<&'static [&'static str]> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

/// Fills `{{name}}` placeholders; an unknown name renders empty.
pub fn render(text: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                if let Some(v) = vars.get(name) {
                    out.push_str(v);
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder names used in `text`.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        names.push(after[..close].trim().to_owned());
        rest = &after[close + 2..];
    }
    names
}

/// Checks an edited template text: no unclosed `{{`, only the kind's
/// placeholders. The error names the field.
pub fn validate(kind: &str, field: &str, text: &str) -> ServiceResult<()> {
    let allowed = variables(kind)
        .ok_or_else(|| ServiceError::invalid("template.kind", format!("unknown kind {kind:?}")))?;
    let opens = text.matches("{{").count();
    let closes = text.matches("}}").count();
    if opens != closes {
        return Err(ServiceError::invalid(
            field,
            "a placeholder is not closed: write {{name}}",
        ));
    }
    for name in placeholders(text) {
        if !allowed.contains(&name.as_str()) {
            return Err(ServiceError::invalid(
                field,
                format!(
                    "unknown placeholder {{{{{name}}}}}; {kind} offers {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fills_placeholders_and_blanks_unknown_ones() {
        let v = vars(&[("category", "道路"), ("deadline", "2026-12-01 18:00")]);
        assert_eq!(
            render("新交办事项：{{category}}，时限{{ deadline }}{{nope}}。", &v),
            "新交办事项：道路，时限2026-12-01 18:00。"
        );
        assert_eq!(render("未闭合 {{category", &v), "未闭合 {{category");
    }

    #[test]
    fn validation_names_the_field_and_the_bad_placeholder() {
        assert!(
            validate(
                "issue.assigned",
                "template.body",
                "{{category}} {{deadline}}"
            )
            .is_ok()
        );
        let err = validate("issue.assigned", "template.body", "{{categroy}}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("template.body") && err.contains("categroy"),
            "{err}"
        );
        assert!(validate("issue.assigned", "template.title", "{{category").is_err());
        assert!(validate("no.such.kind", "template.body", "x").is_err());
    }

    #[test]
    fn every_kind_has_a_link() {
        for (kind, vars) in KINDS {
            assert!(vars.contains(&"link"), "{kind}");
        }
    }
}
