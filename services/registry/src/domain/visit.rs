//! Hard validation of a visit record: what is always an error, whatever the
//! campaign's completeness policy. Every violation is reported at once.
use chrono::{DateTime, Duration, Utc};
use prost::Message;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_proto::{
    common::v1::{ItemKind, RaisedItem, VisitMode},
    registry::v1::RecordVisitRequest,
};
use zoufang_runtime::{ServiceError, ServiceResult, error::FieldViolation};

/// Clocks of field phones drift: how far in the future a time may be.
const FUTURE_SLACK: Duration = Duration::minutes(10);
/// The longest plausible visit (a live-in stay spans days).
const MAX_DURATION: Duration = Duration::hours(72);

/// A visit that passed validation, with its ids and times parsed.
#[derive(Debug, Clone)]
pub struct ValidVisit {
    pub visit_id: Uuid,
    pub campaign_id: Uuid,
    pub household_id: Uuid,
    pub cadre_ids: Vec<Uuid>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub mode: VisitMode,
    /// Items numbered 1..n.
    pub items: Vec<RaisedItem>,
}

struct Collector(Vec<FieldViolation>);

impl Collector {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            reason: reason.into(),
        });
    }

    fn uuid(&mut self, field: &str, value: &str) -> Uuid {
        match Uuid::parse_str(value.trim()) {
            Ok(u) => u,
            Err(_) if value.trim().is_empty() => {
                self.add(field, "is required");
                Uuid::nil()
            }
            Err(_) => {
                self.add(field, format!("{value:?} is not a UUID"));
                Uuid::nil()
            }
        }
    }
}

fn to_chrono(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

/// Validates a visit record; `now` is the server's clock.
pub fn validate_visit(req: &RecordVisitRequest, now: DateTime<Utc>) -> ServiceResult<ValidVisit> {
    let mut c = Collector(Vec::new());
    let visit_id = c.uuid("visit_id", &req.visit_id);
    let campaign_id = c.uuid("campaign_id", &req.campaign_id);
    let household_id = c.uuid("household_id", &req.household_id);

    let mut cadre_ids = Vec::new();
    if req.cadre_ids.is_empty() {
        c.add("cadre_ids", "name at least one visiting cadre");
    }
    for (i, id) in req.cadre_ids.iter().enumerate() {
        let field = format!("cadre_ids[{i}]");
        let id = c.uuid(&field, id);
        if cadre_ids.contains(&id) && !id.is_nil() {
            c.add(field, "is listed twice");
        }
        cadre_ids.push(id);
    }

    let started_at = req.started_at.as_ref().and_then(to_chrono);
    let ended_at = req.ended_at.as_ref().and_then(to_chrono);
    if started_at.is_none() {
        c.add("started_at", "is required");
    }
    if ended_at.is_none() {
        c.add("ended_at", "is required");
    }
    if let (Some(s), Some(e)) = (started_at, ended_at) {
        if e < s {
            c.add("ended_at", "is before started_at");
        } else if e - s > MAX_DURATION {
            c.add("ended_at", "a visit lasts at most 72 hours");
        }
        if e > now + FUTURE_SLACK {
            c.add("ended_at", "is in the future");
        }
    }

    let mode = VisitMode::try_from(req.mode).unwrap_or(VisitMode::Unspecified);
    if mode == VisitMode::Unspecified {
        c.add(
            "mode",
            "choose how the visit was made (入户走访, 电话, 集中接访, 带案下访, 同吃同住)",
        );
    }
    if req.narrative.trim().is_empty() {
        c.add("narrative", "the visit diary (民情日记) is empty");
    }
    if let Some(loc) = &req.location {
        if !(-90.0..=90.0).contains(&loc.latitude) {
            c.add("location.latitude", "must be between -90 and 90");
        }
        if !(-180.0..=180.0).contains(&loc.longitude) {
            c.add("location.longitude", "must be between -180 and 180");
        }
        if loc.latitude == 0.0 && loc.longitude == 0.0 {
            c.add(
                "location",
                "0,0 is not a place in China: the phone had no fix",
            );
        }
    }
    for (i, m) in req.materials.iter().enumerate() {
        if m.name.trim().is_empty() {
            c.add(format!("materials[{i}].name"), "is required");
        }
        if m.quantity < 1 {
            c.add(format!("materials[{i}].quantity"), "must be at least 1");
        }
    }
    if let Some(h) = &req.help {
        if h.cash_fen < 0 {
            c.add("help.cash_fen", "cannot be negative");
        }
        if h.goods_value_fen < 0 {
            c.add("help.goods_value_fen", "cannot be negative");
        }
    }
    for (i, p) in req.photo_refs.iter().enumerate() {
        if p.trim().is_empty() || p.len() > 512 {
            c.add(
                format!("photo_refs[{i}]"),
                "must be a non-empty reference of at most 512 characters",
            );
        }
    }

    let mut items = Vec::with_capacity(req.items.len());
    for (i, item) in req.items.iter().enumerate() {
        let f = |name: &str| format!("items[{i}].{name}");
        let kind = ItemKind::try_from(item.kind).unwrap_or(ItemKind::Unspecified);
        if kind == ItemKind::Unspecified {
            c.add(f("kind"), "choose problem, suggestion, dispute or petition");
        }
        if item.description.trim().is_empty() {
            c.add(f("description"), "is required");
        }
        if item.households_involved < 0 {
            c.add(f("households_involved"), "cannot be negative");
        } else if kind == ItemKind::Dispute && item.households_involved < 1 {
            c.add(
                f("households_involved"),
                "a dispute involves at least one household (涉及户数)",
            );
        }
        let n = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if item.item_no != 0 && item.item_no != n {
            c.add(
                f("item_no"),
                format!("must be {n} (or 0 to let the server number items)"),
            );
        }
        items.push(RaisedItem {
            item_no: n,
            ..item.clone()
        });
    }

    if !c.0.is_empty() {
        return Err(ServiceError::InvalidArgument(c.0));
    }
    Ok(ValidVisit {
        visit_id,
        campaign_id,
        household_id,
        cadre_ids,
        started_at: started_at.unwrap_or(now),
        ended_at: ended_at.unwrap_or(now),
        mode,
        items,
    })
}

/// SHA-256 over the normalized request (items numbered), to tell a retry of
/// the same visit from a different visit under the same id.
pub fn fingerprint(req: &RecordVisitRequest) -> [u8; 32] {
    let mut normalized = req.clone();
    for (i, item) in normalized.items.iter_mut().enumerate() {
        item.item_no = i32::try_from(i + 1).unwrap_or(i32::MAX);
    }
    Sha256::digest(normalized.encode_to_vec()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::common::v1::GeoPoint;

    fn ts(dt: DateTime<Utc>) -> prost_types::Timestamp {
        prost_types::Timestamp {
            seconds: dt.timestamp(),
            nanos: 0,
        }
    }

    fn good(now: DateTime<Utc>) -> RecordVisitRequest {
        RecordVisitRequest {
            visit_id: Uuid::new_v4().to_string(),
            campaign_id: Uuid::new_v4().to_string(),
            household_id: Uuid::new_v4().to_string(),
            cadre_ids: vec![Uuid::new_v4().to_string()],
            started_at: Some(ts(now - Duration::hours(2))),
            ended_at: Some(ts(now - Duration::hours(1))),
            mode: VisitMode::DoorToDoor as i32,
            narrative: "户主反映道路难行".into(),
            location: Some(GeoPoint {
                latitude: 26.8,
                longitude: 112.1,
            }),
            items: vec![RaisedItem {
                kind: ItemKind::Dispute as i32,
                description: "宅基地".into(),
                households_involved: 2,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn fields(req: &RecordVisitRequest, now: DateTime<Utc>) -> Vec<String> {
        match validate_visit(req, now) {
            Err(ServiceError::InvalidArgument(vs)) => vs.into_iter().map(|v| v.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_good_visit_passes_and_items_are_numbered() {
        let now = Utc::now();
        let v = validate_visit(&good(now), now).unwrap();
        assert_eq!(v.items[0].item_no, 1);
        assert_eq!(v.mode, VisitMode::DoorToDoor);
    }

    #[test]
    fn every_violation_is_named() {
        let now = Utc::now();
        let mut r = good(now);
        r.visit_id = "x".into();
        r.cadre_ids = vec![];
        r.mode = 0;
        r.narrative = " ".into();
        r.ended_at = Some(ts(now - Duration::hours(3)));
        r.items[0].households_involved = 0;
        r.items[0].description.clear();
        assert_eq!(
            fields(&r, now),
            vec![
                "visit_id",
                "cadre_ids",
                "ended_at",
                "mode",
                "narrative",
                "items[0].description",
                "items[0].households_involved"
            ]
        );
    }

    #[test]
    fn times_locations_and_amounts_are_checked() {
        let now = Utc::now();
        let mut r = good(now);
        r.ended_at = Some(ts(now + Duration::hours(1)));
        r.location = Some(GeoPoint {
            latitude: 0.0,
            longitude: 0.0,
        });
        r.help = Some(zoufang_proto::common::v1::Help {
            cash_fen: -1,
            ..Default::default()
        });
        r.cadre_ids.push(r.cadre_ids[0].clone());
        assert_eq!(
            fields(&r, now),
            vec!["cadre_ids[1]", "ended_at", "location", "help.cash_fen"]
        );
        let mut r = good(now);
        r.started_at = Some(ts(now - Duration::hours(100)));
        assert_eq!(fields(&r, now), vec!["ended_at"]);
    }

    #[test]
    fn fingerprint_ignores_item_numbering_but_not_content() {
        let now = Utc::now();
        let a = good(now);
        let mut b = a.clone();
        b.items[0].item_no = 1;
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.narrative.push('。');
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
