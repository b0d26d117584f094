//! The completeness check — the seeds' complaint "民情日记记录不详细、不规范"
//! made into rules. A record missing any of these is refused or flagged,
//! as the campaign decides:
//!
//! - `situation` (家庭情况) is filled in;
//! - `narrative` (民情日记) has at least 20 characters — chars, not bytes,
//!   since a Chinese character is three bytes; surrounding blanks not counted;
//! - in-person visits (入户走访, 带案下访, 同吃同住) carry a `location` and at
//!   least one non-blank photo (`photo_refs`); phone calls and office
//!   receptions (电话, 集中接访) need neither;
//! - every item has a `category`, and a `resolution_note` when it was
//!   resolved on the spot;
//! - help in goods says what the goods were (`help.goods_description`).
use zoufang_proto::{common::v1::VisitMode, registry::v1::RecordVisitRequest};

/// The shortest diary that can say who, what and what was done.
pub const MIN_NARRATIVE_CHARS: usize = 20;

/// Every missing field path, in request order; empty when complete.
pub fn check_completeness(req: &RecordVisitRequest) -> Vec<String> {
    let mut missing = Vec::new();
    if req.situation.trim().is_empty() {
        missing.push("situation".to_owned());
    }
    if req.narrative.trim().chars().count() < MIN_NARRATIVE_CHARS {
        missing.push("narrative".to_owned());
    }
    let in_person = matches!(
        VisitMode::try_from(req.mode),
        Ok(VisitMode::DoorToDoor | VisitMode::LiveIn | VisitMode::CaseVisit)
    );
    if in_person && req.location.is_none() {
        missing.push("location".to_owned());
    }
    if in_person && req.photo_refs.iter().all(|p| p.trim().is_empty()) {
        missing.push("photo_refs".to_owned());
    }
    for (i, item) in req.items.iter().enumerate() {
        if item.category.trim().is_empty() {
            missing.push(format!("items[{i}].category"));
        }
        if item.resolved_on_spot && item.resolution_note.trim().is_empty() {
            missing.push(format!("items[{i}].resolution_note"));
        }
    }
    if let Some(help) = &req.help
        && help.goods_value_fen > 0
        && help.goods_description.trim().is_empty()
    {
        missing.push("help.goods_description".to_owned());
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::common::v1::{GeoPoint, Help, RaisedItem};

    fn complete() -> RecordVisitRequest {
        RecordVisitRequest {
            mode: VisitMode::DoorToDoor as i32,
            situation: "一家四口".into(),
            narrative: "户主反映肖家组至桃源组道路难行，希望硬化".into(),
            location: Some(GeoPoint {
                latitude: 26.8,
                longitude: 112.1,
            }),
            photo_refs: vec!["p1.jpg".into()],
            items: vec![RaisedItem {
                category: "城镇建设".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_record_misses_nothing() {
        assert!(check_completeness(&complete()).is_empty());
    }

    #[test]
    fn each_rule_names_its_field() {
        let mut r = complete();
        r.situation.clear();
        r.narrative = "走访了".into();
        r.location = None;
        r.photo_refs.clear();
        r.items[0].category.clear();
        r.items[0].resolved_on_spot = true;
        r.help = Some(Help {
            goods_value_fen: 100,
            ..Default::default()
        });
        assert_eq!(
            check_completeness(&r),
            vec![
                "situation",
                "narrative",
                "location",
                "photo_refs",
                "items[0].category",
                "items[0].resolution_note",
                "help.goods_description"
            ]
        );
    }

    #[test]
    fn in_person_modes_need_location_and_photo() {
        for mode in [
            VisitMode::DoorToDoor,
            VisitMode::LiveIn,
            VisitMode::CaseVisit,
        ] {
            let mut r = complete();
            r.mode = mode as i32;
            r.location = None;
            r.photo_refs = vec![" ".into()];
            assert_eq!(
                check_completeness(&r),
                vec!["location", "photo_refs"],
                "{mode:?}"
            );
        }
    }

    #[test]
    fn remote_modes_need_no_location_or_photo() {
        for mode in [
            VisitMode::Phone,
            VisitMode::Reception,
            VisitMode::Unspecified,
        ] {
            let mut r = complete();
            r.mode = mode as i32;
            r.location = None;
            r.photo_refs.clear();
            assert!(check_completeness(&r).is_empty(), "{mode:?}");
        }
    }

    #[test]
    fn items_are_named_by_index() {
        let mut r = complete();
        r.items.push(RaisedItem {
            category: "民生工程".into(),
            resolved_on_spot: true,
            resolution_note: "当场联系电工修复".into(),
            ..Default::default()
        });
        r.items.push(RaisedItem {
            category: " ".into(),
            resolved_on_spot: true,
            ..Default::default()
        });
        let expected = ["items[2].category", "items[2].resolution_note"];
        assert_eq!(check_completeness(&r), expected);
    }

    #[test]
    fn goods_need_a_description_cash_does_not() {
        let mut r = complete();
        r.help = Some(Help {
            cash_fen: 20_000,
            ..Default::default()
        });
        assert!(check_completeness(&r).is_empty());
        r.help = Some(Help {
            goods_value_fen: 15_000,
            goods_description: "大米一袋、食用油一桶".into(),
            ..Default::default()
        });
        assert!(check_completeness(&r).is_empty());
    }

    #[test]
    fn narrative_length_counts_characters_not_bytes() {
        let mut r = complete();
        r.narrative = "字".repeat(MIN_NARRATIVE_CHARS - 1);
        assert_eq!(check_completeness(&r), vec!["narrative"]);
        r.narrative.push('字');
        assert!(check_completeness(&r).is_empty());
        // Padding does not make a diary longer.
        r.narrative = format!("{}{}", "字".repeat(10), " ".repeat(30));
        assert_eq!(check_completeness(&r), vec!["narrative"]);
    }
}
