//! Hard validation of a visit record: what is always an error, whatever the
//! campaign's completeness policy says. Every violation is reported at once,
//! each naming its request field path, so a field phone can fix them all in
//! one round trip.
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult};
use zoufang_proto::{
    common::v1::{RaisedItem, VisitMode},
    registry::v1::RecordVisitRequest,
};
use zoufang_types::labels;

pub use super::fingerprint::fingerprint;
use super::{items::validate_items, violations::Violations};

/// Clocks of field phones drift: how far in the future a time may be.
pub const FUTURE_SLACK: Duration = Duration::minutes(10);
/// The longest plausible visit: a live-in stay (同吃同住) spans nights.
pub const MAX_DURATION: Duration = Duration::hours(72);
/// The longest photo reference (an object-store key or URL).
pub const MAX_PHOTO_REF_CHARS: usize = 512;

/// A visit that passed validation, with its ids and times parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidVisit {
    /// The client-chosen id that makes recording idempotent.
    pub visit_id: Uuid,
    /// The campaign (走访活动) the visit counts for.
    pub campaign_id: Uuid,
    /// The household (户) visited.
    pub household_id: Uuid,
    /// The visiting cadres, in request order, without duplicates.
    pub cadre_ids: Vec<Uuid>,
    /// When the visit started.
    pub started_at: DateTime<Utc>,
    /// When the visit ended (not before `started_at`).
    pub ended_at: DateTime<Utc>,
    /// How the visit was made (never `Unspecified`).
    pub mode: VisitMode,
    /// The items raised, numbered 1..=n in request order.
    pub items: Vec<RaisedItem>,
}

/// Validates a visit record; `now` is the server's clock.
pub fn validate_visit(req: &RecordVisitRequest, now: DateTime<Utc>) -> ServiceResult<ValidVisit> {
    let mut v = Violations::new();
    let visit_id = v.uuid("visit_id", &req.visit_id);
    let campaign_id = v.uuid("campaign_id", &req.campaign_id);
    let household_id = v.uuid("household_id", &req.household_id);

    let mut cadre_ids = Vec::with_capacity(req.cadre_ids.len());
    if req.cadre_ids.is_empty() {
        v.add("cadre_ids", "name at least one visiting cadre");
    }
    for (i, id) in req.cadre_ids.iter().enumerate() {
        let field = format!("cadre_ids[{i}]");
        let id = v.uuid(&field, id);
        // Compared parsed, so the same id in another letter case is caught.
        if !id.is_nil() && cadre_ids.contains(&id) {
            v.add(field, "is listed twice");
        } else {
            cadre_ids.push(id);
        }
    }

    let started_at = v.time("started_at", req.started_at.as_ref());
    let ended_at = v.time("ended_at", req.ended_at.as_ref());
    if let Some(s) = started_at
        && s > now + FUTURE_SLACK
    {
        v.add("started_at", "is in the future");
    }
    if let (Some(s), Some(e)) = (started_at, ended_at) {
        if e < s {
            v.add("ended_at", "is before started_at");
        } else if e - s > MAX_DURATION {
            v.add("ended_at", "a visit lasts at most 72 hours");
        }
    }
    if let Some(e) = ended_at
        && e > now + FUTURE_SLACK
    {
        v.add("ended_at", "is in the future");
    }

    let mode = VisitMode::try_from(req.mode).unwrap_or(VisitMode::Unspecified);
    if mode == VisitMode::Unspecified {
        let choices = labels::visit_mode_choices();
        v.add("mode", format!("choose how the visit was made ({choices})"));
    }
    if req.narrative.trim().is_empty() {
        v.add("narrative", "the visit diary (民情日记) is empty");
    }
    if let Some(loc) = &req.location {
        // NaN and infinities fail the range checks too.
        if !(-90.0..=90.0).contains(&loc.latitude) {
            v.add("location.latitude", "must be between -90 and 90");
        }
        if !(-180.0..=180.0).contains(&loc.longitude) {
            v.add("location.longitude", "must be between -180 and 180");
        }
        if loc.latitude == 0.0 && loc.longitude == 0.0 {
            v.add(
                "location",
                "0,0 is not a place in China: the phone had no fix",
            );
        }
    }
    for (i, m) in req.materials.iter().enumerate() {
        if m.name.trim().is_empty() {
            v.add(format!("materials[{i}].name"), "is required");
        }
        if m.quantity < 1 {
            v.add(format!("materials[{i}].quantity"), "must be at least 1");
        }
    }
    if let Some(h) = &req.help {
        if h.cash_fen < 0 {
            v.add("help.cash_fen", "cannot be negative");
        }
        if h.goods_value_fen < 0 {
            v.add("help.goods_value_fen", "cannot be negative");
        }
    }
    for (i, p) in req.photo_refs.iter().enumerate() {
        if p.trim().is_empty() {
            v.add(format!("photo_refs[{i}]"), "is empty");
        } else if p.chars().count() > MAX_PHOTO_REF_CHARS {
            v.add(format!("photo_refs[{i}]"), "is longer than 512 characters");
        }
    }

    let items = validate_items(&req.items, &mut v);

    v.finish()?;
    match (started_at, ended_at) {
        (Some(started_at), Some(ended_at)) => Ok(ValidVisit {
            visit_id,
            campaign_id,
            household_id,
            cadre_ids,
            started_at,
            ended_at,
            mode,
            items,
        }),
        // Unreachable: a missing time was recorded as a violation above.
        _ => Err(ServiceError::invalid("started_at", "is required")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::common::v1::{GeoPoint, Help, ItemKind, MaterialHandout};

    fn ts(dt: DateTime<Utc>) -> prost_types::Timestamp {
        let seconds = dt.timestamp();
        prost_types::Timestamp { seconds, nanos: 0 }
    }

    fn geo(latitude: f64, longitude: f64) -> Option<GeoPoint> {
        Some(GeoPoint {
            latitude,
            longitude,
        })
    }

    fn item(kind: ItemKind, description: &str, households_involved: i32) -> RaisedItem {
        let (kind, description) = (kind as i32, description.into());
        RaisedItem {
            kind,
            description,
            households_involved,
            ..Default::default()
        }
    }

    fn good(now: DateTime<Utc>) -> RecordVisitRequest {
        let id = || Uuid::new_v4().to_string();
        let material = MaterialHandout {
            name: "惠民政策明白卡".into(),
            quantity: 1,
        };
        RecordVisitRequest {
            visit_id: id(),
            campaign_id: id(),
            household_id: id(),
            cadre_ids: vec![id(), id()],
            started_at: Some(ts(now - Duration::hours(2))),
            ended_at: Some(ts(now - Duration::hours(1))),
            mode: VisitMode::DoorToDoor as i32,
            narrative: "户主反映道路难行".into(),
            location: geo(26.8, 112.1),
            materials: vec![material],
            help: Some(Help {
                cash_fen: 10_000,
                ..Default::default()
            }),
            photo_refs: vec!["visits/2026/11/p1.jpg".into()],
            items: vec![
                item(ItemKind::Dispute, "宅基地边界", 2),
                item(ItemKind::Problem, "路灯不亮", 0),
            ],
            ..Default::default()
        }
    }

    /// The fields a changed good request is refused for; empty when valid.
    fn check(change: impl FnOnce(&mut RecordVisitRequest, DateTime<Utc>)) -> Vec<String> {
        let now = Utc::now();
        let mut r = good(now);
        change(&mut r, now);
        match validate_visit(&r, now) {
            Ok(_) => vec![],
            Err(ServiceError::InvalidArgument(vs)) => vs.into_iter().map(|v| v.field).collect(),
            Err(other) => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_good_visit_passes_parsed_and_numbered() {
        let now = Utc::now();
        let r = good(now);
        let v = validate_visit(&r, now).unwrap();
        assert_eq!(v.visit_id.to_string(), r.visit_id);
        assert_eq!(v.cadre_ids.len(), 2);
        assert_eq!(v.mode, VisitMode::DoorToDoor);
        assert_eq!(v.ended_at - v.started_at, Duration::hours(1));
        let numbers: Vec<i32> = v.items.iter().map(|i| i.item_no).collect();
        assert_eq!(numbers, vec![1, 2]);
        let mut numbered = r.clone();
        numbered.items[0].item_no = 1;
        numbered.items[1].item_no = 2;
        assert_eq!(validate_visit(&numbered, now).unwrap().items, v.items);
    }

    #[test]
    fn every_violation_is_named_in_request_order() {
        let fields = check(|r, now| {
            r.visit_id = "x".into();
            r.campaign_id = " ".into();
            r.cadre_ids = vec![];
            r.mode = 99;
            r.narrative = " \n".into();
            r.ended_at = Some(ts(now - Duration::hours(3)));
            r.items[0].households_involved = 0;
            r.items[0].description.clear();
            r.items[1].kind = 0;
            r.items[1].item_no = 1;
        });
        let expected = [
            "visit_id",
            "campaign_id",
            "cadre_ids",
            "ended_at",
            "mode",
            "narrative",
            "items[0].description",
            "items[0].households_involved",
            "items[1].kind",
            "items[1].item_no",
        ];
        assert_eq!(fields, expected);
    }

    #[test]
    fn ids_are_uuids_and_cadres_listed_once() {
        let fields = check(|r, _| {
            r.household_id = Uuid::nil().to_string();
            r.cadre_ids.push(r.cadre_ids[0].to_uppercase());
            r.cadre_ids.push("张三".into());
        });
        assert_eq!(fields, ["household_id", "cadre_ids[2]", "cadre_ids[3]"]);
        assert!(check(|r, _| r.visit_id = format!(" {} ", r.visit_id)).is_empty());
    }

    #[test]
    fn times_are_checked() {
        let at = |s: Option<i64>, e: Option<i64>| {
            check(|r, now| {
                r.started_at = s.map(|h| ts(now + Duration::hours(h)));
                r.ended_at = e.map(|h| ts(now + Duration::hours(h)));
            })
        };
        assert_eq!(at(None, None), ["started_at", "ended_at"]);
        assert_eq!(at(Some(-2), Some(1)), ["ended_at"]);
        assert_eq!(at(Some(1), Some(2)), ["started_at", "ended_at"]);
        assert_eq!(at(Some(-73), Some(0)), ["ended_at"]);
        assert!(at(Some(-72), Some(0)).is_empty(), "a 72-hour stay is fine");
        let drift = check(|r, now| r.ended_at = Some(ts(now + FUTURE_SLACK)));
        assert!(drift.is_empty(), "clock drift is tolerated");
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(check(|r, _| r.ended_at = Some(bad)), ["ended_at"]);
    }

    #[test]
    fn locations_materials_help_and_photos_are_checked() {
        let fields = check(|r, _| {
            r.location = geo(91.0, f64::NAN);
            r.materials[0].name = " ".into();
            r.materials[0].quantity = 0;
            r.help = Some(Help {
                cash_fen: -1,
                goods_value_fen: -1,
                ..Default::default()
            });
            r.photo_refs = vec!["".into(), "p".repeat(513), "字".repeat(512)];
        });
        let expected = [
            "location.latitude",
            "location.longitude",
            "materials[0].name",
            "materials[0].quantity",
            "help.cash_fen",
            "help.goods_value_fen",
            "photo_refs[0]",
            "photo_refs[1]",
        ];
        assert_eq!(fields, expected);
        assert_eq!(check(|r, _| r.location = geo(0.0, 0.0)), ["location"]);
        assert_eq!(check(|r, _| r.location = geo(-90.1, 180.1)).len(), 2);
        assert!(check(|r, _| r.location = None).is_empty(), "optional here");
    }

    #[test]
    fn violations_carry_reasons() {
        let now = Utc::now();
        let mut r = good(now);
        r.narrative.clear();
        let e = validate_visit(&r, now).unwrap_err().to_string();
        assert!(
            e.contains("narrative: the visit diary (民情日记) is empty"),
            "{e}"
        );
    }

    #[test]
    fn fingerprint_agrees_with_validation_numbering() {
        let now = Utc::now();
        let r = good(now);
        let mut numbered = r.clone();
        numbered.items = validate_visit(&r, now).unwrap().items;
        assert_eq!(fingerprint(&r), fingerprint(&numbered));
    }
}
