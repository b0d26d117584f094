//! The completeness check — the seeds' complaint "民情日记记录不详细、不规范"
//! made into rules. A record missing any of these is refused or flagged,
//! as the campaign decides:
//!
//! - `situation` (家庭情况) is filled in;
//! - `narrative` (民情日记) has at least 20 characters;
//! - in-person visits (入户走访, 带案下访, 同吃同住) carry a `location` and at
//!   least one photo (`photo_refs`);
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
    fn phone_visits_need_no_location_or_photo() {
        let mut r = complete();
        r.mode = VisitMode::Phone as i32;
        r.location = None;
        r.photo_refs.clear();
        assert!(check_completeness(&r).is_empty());
    }

    #[test]
    fn narrative_length_counts_characters_not_bytes() {
        let mut r = complete();
        r.narrative = "字".repeat(MIN_NARRATIVE_CHARS - 1);
        assert_eq!(check_completeness(&r), vec!["narrative"]);
        r.narrative.push('字');
        assert!(check_completeness(&r).is_empty());
    }
}
