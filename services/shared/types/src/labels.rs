//! The Chinese labels of the contracts' enums, in one place: exports,
//! reports, notices and error messages all name a visit mode, an item kind
//! or a ledger source with these words (the export once said 电话 where the
//! report said 电话走访).
use zoufang_proto::{
    common::v1::{ItemKind, VisitMode},
    issues::v1::IssueSource,
};

/// 走访方式: each mode, its key (as reports and JSON name it) and its label,
/// in the order reports list them.
pub const VISIT_MODES: [(VisitMode, &str, &str); 5] = [
    (VisitMode::DoorToDoor, "door_to_door", "入户走访"),
    (VisitMode::Phone, "phone", "电话走访"),
    (VisitMode::Reception, "reception", "集中接访"),
    (VisitMode::CaseVisit, "case_visit", "带案下访"),
    (VisitMode::LiveIn, "live_in", "同吃同住"),
];

/// The word for a visit of no particular mode.
pub const VISIT: &str = "走访";

/// The label of a visit mode (a wire value); "" when unspecified or unknown.
pub fn visit_mode(mode: i32) -> &'static str {
    VISIT_MODES
        .iter()
        .find(|(m, _, _)| *m as i32 == mode)
        .map_or("", |(_, _, label)| label)
}

/// The labels of every visit mode, for a message listing the choices.
pub fn visit_mode_choices() -> String {
    VISIT_MODES.map(|(_, _, label)| label).join(", ")
}

/// 类型 of a raised item; "" when unspecified or unknown.
pub fn item_kind(kind: i32) -> &'static str {
    match ItemKind::try_from(kind).unwrap_or_default() {
        ItemKind::Problem => "问题",
        ItemKind::Suggestion => "意见建议",
        ItemKind::Dispute => "矛盾纠纷",
        ItemKind::Petition => "信访",
        ItemKind::Unspecified => "",
    }
}

/// 来源 of a ledger item; "" when unspecified or unknown.
pub fn issue_source(source: i32) -> &'static str {
    match IssueSource::try_from(source).unwrap_or_default() {
        IssueSource::Visit => "走访",
        IssueSource::Reception => "开门接访",
        IssueSource::Hotline => "热线电话",
        IssueSource::Petition => "信访件",
        IssueSource::Unspecified => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_has_one_label_and_unknown_ones_none() {
        assert_eq!(visit_mode(VisitMode::Phone as i32), "电话走访");
        assert_eq!(visit_mode(VisitMode::DoorToDoor as i32), "入户走访");
        assert_eq!(visit_mode(VisitMode::Unspecified as i32), "");
        assert_eq!(visit_mode(99), "");
        assert_eq!(
            visit_mode_choices(),
            "入户走访, 电话走访, 集中接访, 带案下访, 同吃同住"
        );
    }

    #[test]
    fn kinds_and_sources() {
        assert_eq!(item_kind(ItemKind::Dispute as i32), "矛盾纠纷");
        assert_eq!(item_kind(-1), "");
        assert_eq!(issue_source(IssueSource::Hotline as i32), "热线电话");
        assert_eq!(issue_source(IssueSource::Unspecified as i32), "");
    }
}
