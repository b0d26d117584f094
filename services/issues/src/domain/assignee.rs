//! Whom an item may be handed to (交办): a cadre the ledger's directory
//! knows (kept from the registry's cadre events), whose region covers the
//! item. A cadre registered at the county (6 digits) covers every township;
//! at a township (9 digits, or its 12-digit code), the township and its
//! villages; at a village, that village.
//!
//! The directory learns of a cadre a moment after the registry registered
//! them, so a well-formed id the directory does not know yet is not called
//! invalid: the answer says to retry shortly (FAILED_PRECONDITION), while a
//! malformed id and a cadre outside the item's region are INVALID_ARGUMENT.
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult};
use zoufang_types::RegionCode;

/// A cadre as the directory holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known<'a> {
    pub name: &'a str,
    /// The region prefix the cadre works in, as registered.
    pub region_code: &'a str,
}

/// The cadre id of a request: required, and a registry id (a UUID).
pub fn parse_cadre_id(field: &str, raw: &str) -> ServiceResult<Uuid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ServiceError::invalid(field, "请选择要交办的干部"));
    }
    Uuid::parse_str(raw).map_err(|_| {
        ServiceError::invalid(
            field,
            format!("干部编号 {raw:?} 无效：请从干部名录中选择已登记的干部"),
        )
    })
}

/// The significant prefix of a cadre's region: a 12-digit code stands for
/// its region (`430426107000` is the township `430426107`), a shorter one
/// is a prefix already.
pub fn region_prefix(region: &str) -> &str {
    let region = region.trim();
    if region.len() == 12
        && let Ok(code) = RegionCode::parse("region_code", region)
    {
        let len = code.prefix().len();
        return &region[..len];
    }
    region
}

/// True when a cadre working in `cadre_region` covers an item in
/// `item_region` (a 12-digit code): the item lies within the cadre's
/// region. An empty or sub-county region covers nothing: cadres work
/// within a county.
pub fn covers(cadre_region: &str, item_region: &str) -> bool {
    let prefix = region_prefix(cadre_region);
    prefix.len() >= 6 && item_region.trim().starts_with(prefix)
}

/// Checks the cadre `cadre_id` the directory gave (`None`: not known) for
/// an item in `item_region`.
pub fn check(
    field: &str,
    cadre_id: Uuid,
    known: Option<Known<'_>>,
    item_region: &str,
) -> ServiceResult<()> {
    let Some(cadre) = known else {
        return Err(ServiceError::FailedPrecondition(format!(
            "{field}：干部 {cadre_id} 不在民情台账的干部名录中。刚在走访登记中登记的干部要过几秒才同步到台账，请稍后重试；\
             若一直如此，请先在走访登记中登记该干部"
        )));
    };
    if !covers(cadre.region_code, item_region) {
        return Err(ServiceError::invalid(
            field,
            format!(
                "干部{}的工作区域（{}）不包含该事项所在地（{}）：请交办给负责该乡镇或村的干部",
                cadre.name, cadre.region_code, item_region
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: &str = "430426104201";

    fn known<'a>(region: &'a str) -> Option<Known<'a>> {
        Some(Known {
            name: "李四",
            region_code: region,
        })
    }

    fn field_of(e: &ServiceError) -> String {
        match e {
            ServiceError::InvalidArgument(vs) => vs[0].field.clone(),
            other => panic!("not INVALID_ARGUMENT: {other:?}"),
        }
    }

    #[test]
    fn a_malformed_or_missing_id_is_invalid_and_names_the_field() {
        for raw in ["", "  ", "nobody", "c-1"] {
            let e = parse_cadre_id("cadre_id", raw).unwrap_err();
            assert_eq!(field_of(&e), "cadre_id", "{raw:?}");
        }
        let id = Uuid::new_v4();
        assert_eq!(parse_cadre_id("cadre_id", &format!(" {id} ")).unwrap(), id);
    }

    #[test]
    fn the_county_covers_every_township_a_township_its_villages() {
        assert!(covers("430426", ITEM));
        assert!(covers("430426104", ITEM));
        assert!(covers("430426104000", ITEM), "a township's 12-digit code");
        assert!(covers("430426104000", "430426104000"));
        assert!(covers("430426104201", ITEM), "the item's own village");
        assert!(!covers("430426105", ITEM), "another township");
        assert!(!covers("430426105000", ITEM));
        assert!(!covers("430426104202", ITEM), "another village");
        assert!(!covers("430427", ITEM), "another county");
        assert!(!covers("4304", ITEM), "wider than a county");
        assert!(!covers("", ITEM));
    }

    #[test]
    fn an_unknown_cadre_is_to_be_retried_and_an_outsider_refused() {
        let id = Uuid::new_v4();
        match check("cadre_id", id, None, ITEM) {
            Err(ServiceError::FailedPrecondition(m)) => {
                assert!(m.contains("cadre_id") && m.contains("稍后重试"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let e = check("cadre_id", id, known("430426105"), ITEM).unwrap_err();
        assert_eq!(field_of(&e), "cadre_id");
        assert!(e.to_string().contains("李四"), "{e}");
        assert!(check("cadre_id", id, known("430426"), ITEM).is_ok());
        assert!(check("cadre_id", id, known("430426104"), ITEM).is_ok());
    }
}
