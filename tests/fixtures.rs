//! Test data: a small county modelled on the seeds' 祁东县白鹤铺镇, valid ID
//! numbers (made by `zoufang_gen::people`, the generator the demo and the
//! benchmarks use), and complete visit records.
use prost_types::Timestamp;
use uuid::Uuid;
use zoufang_proto::{
    common::v1::{GeoPoint, Help, ItemKind, MaterialHandout, RaisedItem, VisitMode},
    registry::v1::*,
};

use crate::Registry;

/// County 祁东县 (made-up codes in the real layout).
pub const COUNTY: &str = "430426";
/// 白鹤铺镇 (a town: township digits 100–199).
pub const TOWNSHIP: &str = "430426104000";
/// Another town of the county, for scope tests.
pub const OTHER_TOWNSHIP: &str = "430426105000";
/// Villages of 白鹤铺镇.
pub const VILLAGES: [&str; 3] = ["430426104201", "430426104202", "430426104203"];
/// A village of the other town.
pub const OTHER_VILLAGE: &str = "430426105201";

/// The region table of the test county as CSV (code,name,level,pcode).
pub fn region_csv() -> String {
    [
        "code,name,level,pcode",
        "430000000000,湖南省,1,",
        "430400000000,衡阳市,2,430000000000",
        "430426000000,祁东县,3,430400000000",
        "430426104000,白鹤铺镇,4,430426000000",
        "430426104201,黄龙村,5,430426104000",
        "430426104202,肖家村,5,430426104000",
        "430426104203,桃源村,5,430426104000",
        "430426105000,太和堂镇,4,430426000000",
        "430426105201,新塘村,5,430426105000",
    ]
    .join("\n")
}

/// A valid 18-digit ID number (GB 11643 check digit) for a birth date and serial.
pub fn id_number(birth: &str, serial: u32) -> String {
    id_number_from("430426", birth, serial)
}

/// A valid ID number issued in `area` (6 digits).
pub fn id_number_from(area: &str, birth: &str, serial: u32) -> String {
    zoufang_gen::people::id_number(area, birth, u64::from(serial))
}

/// Seconds since the epoch as a timestamp.
pub fn ts(secs: i64) -> Timestamp {
    Timestamp {
        seconds: secs,
        nanos: 0,
    }
}

/// Now minus `ago` seconds, as an optional proto timestamp field.
pub fn ago(ago: i64) -> Option<Timestamp> {
    Some(ts(chrono::Utc::now().timestamp() - ago))
}

/// What `seed` created.
#[derive(Debug, Clone)]
pub struct Seed {
    pub campaign_id: String,
    pub cadre_id: String,
    pub household_ids: Vec<String>,
}

/// Imports the regions, registers a township-office cadre, a campaign over
/// the town and one household per village. `admin` must be a county admin.
pub async fn seed(admin: &mut Registry) -> Seed {
    admin
        .import_regions(ImportRegionsRequest {
            csv: region_csv().into_bytes(),
        })
        .await
        .expect("import regions");
    let cadre_id = Uuid::new_v4().to_string();
    admin
        .register_cadre(RegisterCadreRequest {
            cadre_id: cadre_id.clone(),
            name: "周飞好".into(),
            phone: "13807340001".into(),
            unit: CadreUnit::TownshipOffice as i32,
            position: "工作队员".into(),
            region_code: "430426104".into(),
            roles: vec!["cadre".into()],
        })
        .await
        .expect("register cadre");
    let campaign_id = Uuid::new_v4().to_string();
    admin
        .create_campaign(CreateCampaignRequest {
            campaign_id: campaign_id.clone(),
            region_code: TOWNSHIP.into(),
            name: "白鹤铺镇大走访".into(),
            starts_at: ago(30 * 86400),
            ends_at: ago(-30 * 86400),
            themes: vec!["信访维稳".into(), "民生工程".into()],
            status: CampaignStatus::Active as i32,
            completeness_policy: CompletenessPolicy::Refuse as i32,
            quotas: vec![
                Quota {
                    position: "工作队员".into(),
                    metric: QuotaMetric::HouseholdsVisited as i32,
                    target: 60,
                    min_amount_fen: 0,
                },
                Quota {
                    position: "工作队员".into(),
                    metric: QuotaMetric::OvernightStays as i32,
                    target: 10,
                    min_amount_fen: 0,
                },
                Quota {
                    position: "工作队员".into(),
                    metric: QuotaMetric::HouseholdsHelped as i32,
                    target: 5,
                    min_amount_fen: 10000,
                },
            ],
        })
        .await
        .expect("create campaign");
    let mut household_ids = Vec::new();
    for (i, village) in VILLAGES.iter().enumerate() {
        let id = Uuid::new_v4().to_string();
        admin
            .register_household(household_request(&id, village, i as u32))
            .await
            .expect("register household");
        household_ids.push(id);
    }
    Seed {
        campaign_id,
        cadre_id,
        household_ids,
    }
}

/// A household registration with a valid ID number and phone.
pub fn household_request(household_id: &str, village: &str, n: u32) -> RegisterHouseholdRequest {
    RegisterHouseholdRequest {
        household_id: household_id.into(),
        village_code: village.into(),
        group_name: "肖家组".into(),
        address: format!("{n}号"),
        head_name: "唐怀珠".into(),
        id_number: random_id_number(),
        phone: format!("139{:08}", (u32::from(rand_u16()) << 8 | n) % 100_000_000),
        member_count: 4,
        tags: vec!["低保".into(), "留守".into()],
    }
}

/// A valid ID number with a random issuing area (one of Hengyang's 99
/// codes 430401–430499: people register where they were born, not always
/// where they live), birth date (1940–1994) and serial, so thousands of
/// test households do not collide: ~2×10⁹ numbers, where birth date and
/// serial alone (2×10⁷) gave two of 400 households the same number in
/// about one run in 250.
pub fn random_id_number() -> String {
    let b = Uuid::new_v4().into_bytes();
    let days = u32::from_le_bytes([b[0], b[1], b[2], 0]) % 20_000;
    let birth = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date")
        + chrono::Days::new(u64::from(days));
    let area = format!("4304{:02}", 1 + u32::from(b[5]) % 99);
    id_number_from(
        &area,
        &birth.format("%Y%m%d").to_string(),
        u32::from(u16::from_le_bytes([b[3], b[4]])),
    )
}

fn rand_u16() -> u16 {
    let b = Uuid::new_v4().into_bytes();
    u16::from_le_bytes([b[0], b[1]])
}

/// A complete door-to-door visit with one problem solved on the spot and one dispute.
pub fn visit_request(seed: &Seed, household_id: &str) -> RecordVisitRequest {
    let visit_id = Uuid::new_v4().to_string();
    RecordVisitRequest {
        photo_refs: vec![format!("photos/2026/11/{visit_id}.jpg")],
        visit_id,
        campaign_id: seed.campaign_id.clone(),
        household_id: household_id.into(),
        cadre_ids: vec![seed.cadre_id.clone()],
        started_at: ago(3 * 3600),
        ended_at: ago(2 * 3600),
        mode: VisitMode::DoorToDoor as i32,
        overnight_stay: false,
        location: Some(GeoPoint {
            latitude: 26.79,
            longitude: 112.11,
        }),
        situation: "一家四口，户主务农，子女外出务工".into(),
        narrative: "户主反映肖家组至桃源组道路难行，雨天泥泞，希望硬化；邻里因宅基地边界有争执。"
            .into(),
        policies_explained: vec!["低保政策".into()],
        materials: vec![MaterialHandout {
            name: "惠民政策宣传资料".into(),
            quantity: 3,
        }],
        help: Some(Help {
            cash_fen: 20000,
            goods_description: "化肥两袋".into(),
            goods_value_fen: 15000,
        }),
        items: vec![
            RaisedItem {
                item_no: 1,
                kind: ItemKind::Problem as i32,
                category: "城镇建设".into(),
                description: "肖家组至桃源组道路需硬化".into(),
                households_involved: 0,
                resolved_on_spot: false,
                resolution_note: String::new(),
                urgent: false,
            },
            RaisedItem {
                item_no: 2,
                kind: ItemKind::Dispute as i32,
                category: "矛盾纠纷".into(),
                description: "宅基地边界争执".into(),
                households_involved: 2,
                resolved_on_spot: true,
                resolution_note: "现场丈量，双方认可".into(),
                urgent: false,
            },
        ],
    }
}
