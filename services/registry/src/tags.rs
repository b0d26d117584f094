//! Household tags (户标签) and which of them are sensitive personal data.
//!
//! Poverty and health tags (低保, 特困, 五保, 残疾 …) are personal data in
//! the sense of PIPL's sensitive information: stored encrypted, shown masked
//! unless revealed (and audited), never carried in events. Other tags
//! (留守, 空巢老人, 退役军人, 重点信访 …) are working labels, stored plain.
use zoufang_core::{ServiceError, ServiceResult};

/// Tags that reveal poverty or health status.
pub const SENSITIVE_TAGS: &[&str] = &[
    "低保",
    "特困",
    "五保",
    "残疾",
    "脱贫监测",
    "大病",
    "重病",
    "精神障碍",
    "贫困",
];

/// Tags that mark a poor household (困难群众) for the summaries' "帮扶困难群众
/// … 户": the spellings cadres write, matched exactly through the tags'
/// keyed hashes, so counting them never decrypts a household's tags.
pub const POVERTY_TAGS: &[&str] = &[
    "低保",
    "低保户",
    "特困",
    "特困户",
    "特困供养",
    "五保",
    "五保户",
    "脱贫户",
    "脱贫监测",
    "脱贫监测户",
    "防返贫监测户",
    "监测户",
    "边缘易致贫户",
    "贫困",
    "贫困户",
    "建档立卡贫困户",
    "困难户",
];

/// How a masked sensitive tag is shown.
pub const MASKED_TAG: &str = "敏感标签";

/// True when `tag` reveals poverty or health status.
pub fn is_sensitive(tag: &str) -> bool {
    SENSITIVE_TAGS.iter().any(|s| tag.contains(s))
}

/// Whether a list filtered by `tag` is a reveal, and if so whether the
/// caller may make it: listing the households that carry a sensitive tag
/// tells who is poor or ill as surely as showing their tags, so it takes a
/// role that may reveal (`may_reveal`) and a purpose, and is audited.
/// Ok(true): allowed, audit every household listed; Ok(false): an open tag
/// (or none), nothing to audit.
pub fn filter_is_reveal(tag: &str, may_reveal: bool, purpose: &str) -> ServiceResult<bool> {
    if tag.is_empty() || !is_sensitive(tag) {
        return Ok(false);
    }
    if !may_reveal {
        return Err(ServiceError::PermissionDenied(
            "filtering by a poverty or health tag reveals who carries it: it needs one of the \
             roles allowed to reveal personal data (township_admin, county_admin, supervisor)"
                .into(),
        ));
    }
    if purpose.trim().is_empty() {
        return Err(ServiceError::invalid(
            "purpose",
            "按敏感标签筛选须说明用途（purpose），列出的每一户都将记入审计",
        ));
    }
    Ok(true)
}

/// Trims, drops empties and duplicates, keeps order; refuses odd tags.
pub fn normalize(field: &str, tags: &[String]) -> ServiceResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 32 {
            return Err(ServiceError::invalid(
                format!("{field}[{i}]"),
                "a tag is at most 32 characters",
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// Splits tags into (open, sensitive).
pub fn split(tags: &[String]) -> (Vec<String>, Vec<String>) {
    tags.iter().cloned().partition(|t| !is_sensitive(t))
}

/// The tags as shown to a caller who may not see sensitive ones.
pub fn masked(open: &[String], sensitive_count: usize) -> Vec<String> {
    let mut out = open.to_vec();
    out.extend(std::iter::repeat_n(MASKED_TAG.to_owned(), sensitive_count));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poverty_and_health_tags_are_sensitive() {
        for t in ["低保", "特困户", "五保", "残疾", "脱贫监测"] {
            assert!(is_sensitive(t), "{t}");
        }
        for t in ["留守", "空巢老人", "退役军人", "重点信访"] {
            assert!(!is_sensitive(t), "{t}");
        }
    }

    #[test]
    fn a_sensitive_filter_is_a_reveal() {
        assert_eq!(filter_is_reveal("", false, "").ok(), Some(false));
        assert_eq!(filter_is_reveal("留守", false, "").ok(), Some(false));
        assert_eq!(
            filter_is_reveal("低保户", true, "走访帮扶").ok(),
            Some(true)
        );
        let denied = filter_is_reveal("特困", false, "走访").unwrap_err();
        assert!(
            matches!(denied, ServiceError::PermissionDenied(_)),
            "{denied}"
        );
        let no_purpose = filter_is_reveal("残疾", true, "  ").unwrap_err();
        assert!(no_purpose.to_string().contains("purpose"), "{no_purpose}");
    }

    #[test]
    fn normalize_trims_and_dedups() {
        let tags = vec![" 低保 ".into(), "低保".into(), "".into(), "留守".into()];
        assert_eq!(normalize("tags", &tags).unwrap(), vec!["低保", "留守"]);
    }

    #[test]
    fn overlong_tag_names_its_index() {
        let tags = vec!["ok".into(), "长".repeat(33)];
        let err = normalize("tags", &tags).unwrap_err();
        assert!(err.to_string().contains("tags[1]"));
    }

    #[test]
    fn split_and_mask() {
        let tags = vec!["低保".into(), "留守".into(), "残疾".into()];
        let (open, sensitive) = split(&tags);
        assert_eq!(open, vec!["留守"]);
        assert_eq!(sensitive, vec!["低保", "残疾"]);
        assert_eq!(
            masked(&open, sensitive.len()),
            vec!["留守", MASKED_TAG, MASKED_TAG]
        );
    }
}
