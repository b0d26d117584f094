//! Exports through the gateway on the real services: visits in two villages
//! of one township (and one in the next township) come out as the
//! 大走访活动记录表 and their items, worked through the ledger, as the
//! 民情台账 — CSV (UTF-8 with BOM, read back as CSV) and XLSX (read back
//! with calamine) — filtered by region, campaign and Beijing calendar days,
//! row for row; only masked personal data; a township admin gets their own
//! township (a wider request is narrowed) and 403 for another; a region of
//! more than one page streams every row.
use std::{io::Cursor, time::Duration};

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use futures::{StreamExt, stream};
use prost_types::Timestamp;
use uuid::Uuid;
use zoufang_core::auth::roles;
use zoufang_e2e::{Issues, Registry, eventually, fixtures, gateway::TestGateway};
use zoufang_proto::{
    common::v1::{GeoPoint, Help, ItemKind, MaterialHandout, RaisedItem, VisitMode},
    issues::v1::*,
    registry::v1::*,
};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const TOWNSHIP: &str = "430426104000";
const OTHER_TOWNSHIP: &str = "430426105000";
/// A household as registered: (village, head, group, members, phone, tags).
type HouseholdSeed = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    &'static str,
    &'static [&'static str],
);
const HOUSEHOLDS: [HouseholdSeed; 3] = [
    (
        "430426104201",
        "唐怀珠",
        "黄龙一组",
        4,
        "13907340001",
        &["低保", "留守"],
    ),
    (
        "430426104202",
        "肖国华",
        "肖家组",
        3,
        "13907340002",
        &["空巢老人"],
    ),
    ("430426105201", "陈新民", "新塘组", 5, "13907340003", &[]),
];

/// The year of the test's October campaign: the latest whose campaign (to
/// 11-15) is over in Beijing, so that every visit lies in the past and
/// nothing that entered the ledger today falls in its October, whatever the
/// machine's date.
fn year() -> i32 {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let over = NaiveDate::from_ymd_opt(today.year(), 11, 16).expect("a date");
    if today >= over {
        today.year()
    } else {
        today.year() - 1
    }
}

/// `text` with `YYYY` as the campaign's year.
fn y(text: &str) -> String {
    text.replace("YYYY", &year().to_string())
}

/// A timestamp written as RFC 3339, `YYYY` standing for the campaign's year.
fn at(rfc3339: &str) -> Option<Timestamp> {
    let t = DateTime::parse_from_rfc3339(&y(rfc3339)).expect("time");
    Some(Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

/// The Beijing calendar day of a proto timestamp, as the sheets show it.
fn beijing_day(ts: Option<&Timestamp>) -> String {
    ts.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, 0))
        .map(|t| {
            t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}

/// What the seed created.
struct World {
    campaign_id: String,
    households: Vec<String>,
    id_numbers: Vec<String>,
    cadres: [String; 3],
}

async fn register_cadre(r: &mut Registry, name: &str, phone: &str, region: &str) -> String {
    let id = Uuid::new_v4().to_string();
    r.register_cadre(RegisterCadreRequest {
        cadre_id: id.clone(),
        name: name.into(),
        phone: phone.into(),
        unit: CadreUnit::TownshipOffice as i32,
        position: "工作队员".into(),
        region_code: region.into(),
        roles: vec!["cadre".into()],
    })
    .await
    .expect("register cadre");
    id
}

/// Regions, three cadres, a county-wide October campaign that flags (not
/// refuses) incomplete records, and the three households.
async fn seed(r: &mut Registry) -> World {
    r.import_regions(ImportRegionsRequest {
        csv: fixtures::region_csv().into_bytes(),
    })
    .await
    .expect("import regions");
    let cadres = [
        register_cadre(r, "周飞好", "13807340001", "430426104").await,
        register_cadre(r, "李明", "13807340002", "430426104").await,
        register_cadre(r, "王强", "13807340003", "430426105").await,
    ];
    let campaign_id = Uuid::new_v4().to_string();
    r.create_campaign(CreateCampaignRequest {
        campaign_id: campaign_id.clone(),
        region_code: "430426000000".into(),
        name: "祁东县十月大走访".into(),
        starts_at: at("YYYY-09-30T16:00:00Z"),
        ends_at: at("YYYY-11-15T16:00:00Z"),
        themes: vec!["民生工程".into()],
        status: CampaignStatus::Active as i32,
        completeness_policy: CompletenessPolicy::Flag as i32,
        quotas: vec![],
    })
    .await
    .expect("create campaign");
    let (mut households, mut id_numbers) = (vec![], vec![]);
    for (village, head, group, members, phone, tags) in HOUSEHOLDS {
        let id = Uuid::new_v4().to_string();
        let id_number = fixtures::random_id_number();
        r.register_household(RegisterHouseholdRequest {
            household_id: id.clone(),
            village_code: village.into(),
            group_name: group.into(),
            address: "1号".into(),
            head_name: head.into(),
            id_number: id_number.clone(),
            phone: phone.into(),
            member_count: members,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })
        .await
        .expect("register household");
        households.push(id);
        id_numbers.push(id_number);
    }
    World {
        campaign_id,
        households,
        id_numbers,
        cadres,
    }
}

fn visit(
    w: &World,
    household: usize,
    cadres: &[usize],
    start: &str,
    end: &str,
) -> RecordVisitRequest {
    RecordVisitRequest {
        visit_id: Uuid::new_v4().to_string(),
        campaign_id: w.campaign_id.clone(),
        household_id: w.households[household].clone(),
        cadre_ids: cadres.iter().map(|c| w.cadres[*c].clone()).collect(),
        started_at: at(start),
        ended_at: at(end),
        mode: VisitMode::DoorToDoor as i32,
        location: Some(GeoPoint {
            latitude: 26.79,
            longitude: 112.11,
        }),
        photo_refs: vec!["photos/1.jpg".into()],
        ..Default::default()
    }
}

/// Four visits: two in 白鹤铺镇 inside 10-01..10-20 (Beijing), one there on
/// 10-25 (a phone call with too short a diary), one in 太和堂镇.
async fn record_visits(r: &mut Registry, w: &World) {
    let v1 = RecordVisitRequest {
        situation: "一家四口，户主务农，子女外出务工".into(),
        narrative: "户主反映肖家组至桃源组道路难行，雨天泥泞，希望硬化；邻里因宅基地边界有争执。"
            .into(),
        policies_explained: vec!["低保政策".into(), "医保政策".into()],
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
                ..Default::default()
            },
            RaisedItem {
                item_no: 2,
                kind: ItemKind::Dispute as i32,
                category: "矛盾纠纷".into(),
                description: "宅基地边界争执".into(),
                households_involved: 2,
                resolved_on_spot: true,
                resolution_note: "现场丈量，双方认可".into(),
                ..Default::default()
            },
        ],
        // 09:30–10:45 on 10-08, Beijing.
        ..visit(
            w,
            0,
            &[0, 1],
            "YYYY-10-08T01:30:00Z",
            "YYYY-10-08T02:45:00Z",
        )
    };
    let v2 = RecordVisitRequest {
        mode: VisitMode::LiveIn as i32,
        overnight_stay: true,
        photo_refs: vec!["photos/2.jpg".into(), "photos/3.jpg".into()],
        situation: "独居老人，身体尚可".into(),
        narrative: "与老人同吃同住一晚，了解其生活起居与用水情况，老人希望村里发展产业。".into(),
        policies_explained: vec!["养老保险政策".into()],
        items: vec![RaisedItem {
            item_no: 1,
            kind: ItemKind::Suggestion as i32,
            category: "经济发展".into(),
            description: "希望引进农产品加工企业".into(),
            ..Default::default()
        }],
        // 07:30 on 10-20 in Beijing is still 10-19 in UTC.
        ..visit(w, 1, &[0], "YYYY-10-19T23:30:00Z", "YYYY-10-20T00:40:00Z")
    };
    let v3 = RecordVisitRequest {
        mode: VisitMode::Phone as i32,
        location: None,
        photo_refs: vec![],
        situation: "户主在家".into(),
        narrative: "电话回访道路情况。".into(),
        ..visit(w, 0, &[1], "YYYY-10-25T07:00:00Z", "YYYY-10-25T07:20:00Z")
    };
    let v4 = RecordVisitRequest {
        situation: "五口之家，以种植为主".into(),
        narrative: "户主反映早年土地征收补偿未落实到位，已多次上访，情绪较激动，已做安抚。".into(),
        items: vec![RaisedItem {
            item_no: 1,
            kind: ItemKind::Petition as i32,
            category: "信访积案".into(),
            description: "土地征收补偿遗留问题".into(),
            urgent: true,
            ..Default::default()
        }],
        ..visit(w, 2, &[2], "YYYY-10-10T02:00:00Z", "YYYY-10-10T03:00:00Z")
    };
    for v in [v1, v2, v3, v4] {
        r.record_visit(v).await.expect("record visit");
    }
}

/// GETs a download: (status, content type, content disposition, body).
async fn download(
    stack: &TestGateway,
    token: Option<&str>,
    path: &str,
) -> (u16, String, String, Vec<u8>) {
    let mut req = stack.http().get(stack.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("GET");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, content_type, disposition) = (
        resp.status().as_u16(),
        header("content-type"),
        header("content-disposition"),
    );
    (
        status,
        content_type,
        disposition,
        resp.bytes().await.expect("body").to_vec(),
    )
}

/// The header and rows of a CSV export, which must start with a UTF-8 BOM.
fn csv_rows(body: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = body
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .expect("a UTF-8 byte-order mark");
    let mut r = csv::Reader::from_reader(text);
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// (title, header, rows) of an XLSX export, numbers as the CSV writes them
/// (money with two decimals).
fn xlsx_rows(body: Vec<u8>, sheet: &str) -> (String, Vec<String>, Vec<Vec<String>>) {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body)).expect("xlsx");
    assert_eq!(book.sheet_names(), [sheet]);
    let range = book.worksheet_range(sheet).expect("sheet");
    let all: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    let title = all[0][0].to_string();
    let at = all
        .iter()
        .position(|r| r.first() == Some(&Data::String("序号".into())))
        .expect("header row");
    let header: Vec<String> = all[at].iter().map(ToString::to_string).collect();
    let money = header.iter().position(|h| h == "帮扶情况(元)");
    let rows = all[at + 1..]
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, d)| match d {
                    Data::Float(f) if Some(i) == money => format!("{f:.2}"),
                    Data::Float(f) => format!("{f:.0}"),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    (title, header, rows)
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| (*s).to_owned()).collect()
}

/// Rows without their 序号, ordered by the given column, and the 序号 seen.
fn unnumbered(mut rows: Vec<Vec<String>>, by: usize) -> (Vec<Vec<String>>, Vec<String>) {
    rows.sort_by(|a, b| a[by].cmp(&b[by]));
    let seq = rows.iter().map(|r| r[0].clone()).collect();
    (rows.into_iter().map(|r| r[1..].to_vec()).collect(), seq)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// The Chinese file name of a Content-Disposition.
fn file_name(disposition: &str) -> String {
    let encoded = disposition
        .split("filename*=UTF-8''")
        .nth(1)
        .expect("filename*");
    percent_decode(encoded)
}

fn v1_row() -> Vec<String> {
    strings(&[
        &y("YYYY-10-08"),
        "09:30-10:45",
        "白鹤铺镇",
        "黄龙村",
        "黄龙一组",
        "唐怀珠",
        "4",
        "139****0001",
        "留守、敏感标签",
        "周飞好、李明",
        "入户走访",
        "否",
        "一家四口，户主务农，子女外出务工",
        "户主反映肖家组至桃源组道路难行，雨天泥泞，希望硬化；邻里因宅基地边界有争执。",
        "1.[问题·城镇建设]肖家组至桃源组道路需硬化\n2.[矛盾纠纷·矛盾纠纷]宅基地边界争执（涉及2户）",
        "1.转民情台账办理\n2.当即解决：现场丈量，双方认可",
        "低保政策、医保政策",
        "惠民政策宣传资料×3",
        "350.00",
        "现金200.00元；化肥两袋（折合150.00元）",
        "1",
        "",
    ])
}

fn v2_row() -> Vec<String> {
    strings(&[
        &y("YYYY-10-20"),
        "07:30-08:40",
        "白鹤铺镇",
        "肖家村",
        "肖家组",
        "肖国华",
        "3",
        "139****0002",
        "空巢老人",
        "周飞好",
        "同吃同住",
        "是",
        "独居老人，身体尚可",
        "与老人同吃同住一晚，了解其生活起居与用水情况，老人希望村里发展产业。",
        "1.[意见建议·经济发展]希望引进农产品加工企业",
        "1.转民情台账办理",
        "养老保险政策",
        "",
        "0.00",
        "",
        "2",
        "",
    ])
}

fn v3_row() -> Vec<String> {
    strings(&[
        &y("YYYY-10-25"),
        "15:00-15:20",
        "白鹤铺镇",
        "黄龙村",
        "黄龙一组",
        "唐怀珠",
        "4",
        "139****0001",
        "留守、敏感标签",
        "李明",
        "电话走访",
        "否",
        "户主在家",
        "电话回访道路情况。",
        "",
        "",
        "",
        "",
        "0.00",
        "",
        "0",
        "记录不完整，缺：民情日记",
    ])
}

/// No full phone number or ID number anywhere in an export.
fn assert_masked(w: &World, text: &str) {
    for (_, _, _, _, phone, _) in HOUSEHOLDS {
        assert!(!text.contains(phone), "a full phone {phone} leaked");
    }
    for id in &w.id_numbers {
        assert!(!text.contains(id.as_str()), "an ID number leaked");
        assert!(!text.contains(&id[..14]), "part of an ID number leaked");
    }
    assert!(!text.contains("13807340001"), "a cadre's phone leaked");
}

/// Finds a ledger item of the campaign by its content.
async fn item(ledger: &mut Issues, campaign_id: &str, description: &str) -> Issue {
    ledger
        .list_issues(ListIssuesRequest {
            campaign_id: campaign_id.into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("list issues")
        .into_inner()
        .issues
        .into_iter()
        .find(|i| i.description == description)
        .unwrap_or_else(|| panic!("no ledger item {description}"))
}

/// Works the township's items through the ledger: the road is assigned,
/// fixed and verified; the suggestion goes up to a department; a walk-in
/// question at the township office is explained. Returns them as they end.
async fn work_the_ledger(ledger: &mut Issues, w: &World) -> [Issue; 4] {
    let road = item(ledger, &w.campaign_id, "肖家组至桃源组道路需硬化").await;
    let road = ledger
        .assign_issue(AssignIssueRequest {
            issue_id: road.issue_id.clone(),
            expected_version: road.version,
            cadre_id: w.cadres[0].clone(),
            deadline_days: 10,
            note: "限时解决".into(),
        })
        .await
        .expect("assign")
        .into_inner()
        .issue
        .unwrap();
    let road = ledger
        .resolve_issue(ResolveIssueRequest {
            issue_id: road.issue_id.clone(),
            expected_version: road.version,
            resolution: "已协调硬化600米".into(),
        })
        .await
        .expect("resolve")
        .into_inner()
        .issue
        .unwrap();
    let road = ledger
        .verify_issue(VerifyIssueRequest {
            issue_id: road.issue_id.clone(),
            expected_version: road.version,
            note: "回访确认".into(),
        })
        .await
        .expect("verify")
        .into_inner()
        .issue
        .unwrap();
    let dispute = item(ledger, &w.campaign_id, "宅基地边界争执").await;
    let suggestion = item(ledger, &w.campaign_id, "希望引进农产品加工企业").await;
    let suggestion = ledger
        .escalate_issue(EscalateIssueRequest {
            issue_id: suggestion.issue_id.clone(),
            expected_version: suggestion.version,
            department: "县农业农村局".into(),
            assisting_departments: vec!["县商务局".into()],
            sign_within_hours: 24,
            note: String::new(),
        })
        .await
        .expect("escalate")
        .into_inner()
        .issue
        .unwrap();
    let walk_in = ledger
        .create_issue(CreateIssueRequest {
            issue_id: Uuid::new_v4().to_string(),
            source: IssueSource::Reception as i32,
            region_code: TOWNSHIP.into(),
            campaign_id: w.campaign_id.clone(),
            kind: ItemKind::Problem as i32,
            category: "民生工程".into(),
            description: "咨询城乡居民医保缴费标准".into(),
            ..Default::default()
        })
        .await
        .expect("walk-in")
        .into_inner()
        .issue
        .unwrap();
    let walk_in = ledger
        .explain_issue(ExplainIssueRequest {
            issue_id: walk_in.issue_id.clone(),
            expected_version: walk_in.version,
            explanation: "已按政策解释缴费标准".into(),
            resident_acknowledged: true,
        })
        .await
        .expect("explain")
        .into_inner()
        .issue
        .unwrap();
    [road, dispute, suggestion, walk_in]
}

/// The 民情台账 row of each item, without 序号, as worked above.
fn ledger_rows(items: &[Issue; 4]) -> Vec<Vec<String>> {
    let [road, dispute, suggestion, walk_in] = items;
    let day = |i: &Issue| beijing_day(i.created_at.as_ref());
    let deadline = |i: &Issue| beijing_day(i.deadline.as_ref());
    let done = |i: &Issue| beijing_day(i.resolved_at.as_ref());
    let mut rows = vec![
        strings(&[
            &day(road),
            "白鹤铺镇",
            "黄龙村",
            "唐怀珠",
            "走访",
            "问题",
            "城镇建设",
            "肖家组至桃源组道路需硬化",
            "",
            "一般",
            "限时解决",
            "周飞好",
            "",
            &deadline(road),
            "已销号",
            "已协调硬化600米",
            &done(road),
            "已回访，群众认可",
            "",
        ]),
        strings(&[
            &day(dispute),
            "白鹤铺镇",
            "黄龙村",
            "唐怀珠",
            "走访",
            "矛盾纠纷",
            "矛盾纠纷",
            "宅基地边界争执",
            "2",
            // The ledger rates disputes higher and gives them to the
            // visiting cadre.
            "较急",
            "当即解决",
            "周飞好",
            "",
            &deadline(dispute),
            "已办结",
            "现场丈量，双方认可",
            &done(dispute),
            "待回访",
            "",
        ]),
        strings(&[
            &day(suggestion),
            "白鹤铺镇",
            "肖家村",
            "肖国华",
            "走访",
            "意见建议",
            "经济发展",
            "希望引进农产品加工企业",
            "",
            "一般",
            "上报",
            "",
            "县农业农村局（协办：县商务局）",
            &deadline(suggestion),
            "已上报",
            "",
            "",
            "",
            "已上报县直部门",
        ]),
        strings(&[
            &day(walk_in),
            "白鹤铺镇",
            "",
            "",
            "开门接访",
            "问题",
            "民生工程",
            "咨询城乡居民医保缴费标准",
            "",
            "一般",
            "解释说明",
            "",
            "",
            &deadline(walk_in),
            "已解释说明",
            "解释说明：已按政策解释缴费标准（群众认可）",
            &done(walk_in),
            "待回访",
            "",
        ]),
    ];
    rows.sort_by(|a, b| a[7].cmp(&b[7]));
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visits_and_ledger_export_by_region_and_period_as_csv_and_xlsx() {
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let w = seed(&mut registry).await;
    record_visits(&mut registry, &w).await;
    let mut ledger = stack
        .issues
        .issues_client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    // Three items of 白鹤铺镇's visits and one of 太和堂镇's reach the ledger.
    let arrived = eventually(Duration::from_secs(20), || {
        let mut l = ledger.clone();
        let campaign_id = w.campaign_id.clone();
        async move {
            let n = l
                .list_issues(ListIssuesRequest {
                    campaign_id,
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .issues
                .len();
            (n == 4).then_some(())
        }
    })
    .await;
    assert!(arrived.is_some(), "the visits' items reach the ledger");
    // The road goes to the first cadre: the ledger's directory must know them.
    zoufang_e2e::ledger::await_cadre(&stack.issues.pool, &w.cadres[0]).await;
    let items = work_the_ledger(&mut ledger, &w).await;

    let admin = stack.admin_token().await;
    let county = stack
        .account(
            &admin,
            "county-admin",
            &[roles::COUNTY_ADMIN],
            "430426",
            "county-admin",
        )
        .await;
    let c = &w.campaign_id;
    let year = year();

    // The township's visit days 10-01..10-20 as CSV: the first two visits.
    let path = format!(
        "/v1/export/visits?region_code={TOWNSHIP}&campaign_id={c}&from={year}-10-01&to={year}-10-20&format=csv"
    );
    let (status, content_type, disposition, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "text/csv; charset=utf-8");
    assert!(
        disposition.starts_with(&format!(
            "attachment; filename=\"visits-430426104-{year}1001-{year}1020.csv\"; filename*=UTF-8''"
        )),
        "{disposition}"
    );
    assert_eq!(
        file_name(&disposition),
        format!("白鹤铺镇大走访活动记录表_{year}-10-01至{year}-10-20.csv")
    );
    assert_masked(&w, &String::from_utf8_lossy(&body));
    let (header, rows) = csv_rows(&body);
    assert_eq!(
        header,
        strings(&[
            "序号",
            "走访日期",
            "起止时间",
            "乡镇",
            "村(社区)",
            "村民小组",
            "户主姓名",
            "家庭人口",
            "联系电话",
            "户类别",
            "走访干部",
            "走访方式",
            "是否住宿",
            "家庭情况",
            "民情日记",
            "群众诉求/反映问题",
            "处理情况",
            "政策宣传",
            "发放资料",
            "帮扶情况(元)",
            "帮扶明细",
            "照片(张)",
            "备注",
        ])
    );
    let (rows, mut seq) = unnumbered(rows, 1);
    seq.sort();
    assert_eq!(seq, ["1", "2"], "numbered in the order streamed");
    assert_eq!(rows, vec![v1_row(), v2_row()]);

    // The same as XLSX: a title, sorted by date, typed cells.
    let path = format!(
        "/v1/export/visits?region_code={TOWNSHIP}&campaign_id={c}&from={year}-10-01&to={year}-10-20"
    );
    let (status, content_type, disposition, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, XLSX);
    assert_eq!(
        file_name(&disposition),
        format!("白鹤铺镇大走访活动记录表_{year}-10-01至{year}-10-20.xlsx")
    );
    let (title, xheader, xrows) = xlsx_rows(body, "大走访活动记录表");
    assert_eq!(title, "白鹤铺镇大走访活动记录表");
    assert_eq!(xheader, header);
    let numbered = |n: &str, mut row: Vec<String>| {
        row.insert(0, n.to_owned());
        row
    };
    assert_eq!(
        xrows,
        vec![numbered("1", v1_row()), numbered("2", v2_row())]
    );
    assert_masked(&w, &format!("{xrows:?}"));

    // Beijing days: up to 10-19 leaves out the visit at 07:30 on the 20th
    // (23:30 on the 19th in UTC).
    let path = format!("/v1/export/visits?region_code={TOWNSHIP}&to={year}-10-19&format=csv");
    let (status, _, _, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(status, 200);
    let (_, rows) = csv_rows(&body);
    assert_eq!(rows, vec![numbered("1", v1_row())]);

    // A village: only its own visits, the incomplete phone call included.
    let path = "/v1/export/visits?region_code=430426104201&format=csv";
    let (_, _, disposition, body) = download(&stack, Some(&county), path).await;
    assert_eq!(file_name(&disposition), "黄龙村大走访活动记录表.csv");
    let (rows, _) = unnumbered(csv_rows(&body).1, 1);
    assert_eq!(rows, vec![v1_row(), v3_row()]);

    // The county: the other township's visit is there too.
    let path = format!("/v1/export/visits?region_code=430426&campaign_id={c}&format=csv");
    let (_, _, disposition, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(file_name(&disposition), "祁东县大走访活动记录表.csv");
    let (_, rows) = csv_rows(&body);
    assert_eq!(rows.len(), 4);
    let other = rows.iter().find(|r| r[3] == "太和堂镇").expect("太和堂镇");
    assert_eq!(
        (
            &other[4][..],
            &other[6][..],
            &other[8][..],
            &other[9][..],
            &other[10][..]
        ),
        ("新塘村", "陈新民", "139****0003", "", "王强")
    );
    assert_eq!(other[15], "1.[信访·信访积案]土地征收补偿遗留问题（紧急）");

    // The ledger of the township for the campaign, registered today.
    let today = beijing_day(items[0].created_at.as_ref());
    let path = format!(
        "/v1/export/ledger?region_code={TOWNSHIP}&campaign_id={c}&from={today}&to={today}&format=csv"
    );
    let (status, content_type, disposition, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "text/csv; charset=utf-8");
    assert_eq!(
        file_name(&disposition),
        format!("白鹤铺镇民情台账_{today}至{today}.csv")
    );
    assert_masked(&w, &String::from_utf8_lossy(&body));
    let (header, rows) = csv_rows(&body);
    assert_eq!(
        header,
        strings(&[
            "序号",
            "登记日期",
            "乡镇",
            "村(社区)",
            "户主姓名",
            "来源",
            "类型",
            "类别",
            "事项内容",
            "涉及户数",
            "紧急程度",
            "处置方式",
            "责任人",
            "责任单位",
            "办理时限",
            "办理状态",
            "办理结果",
            "办结日期",
            "回访情况",
            "备注",
        ])
    );
    let (rows, mut seq) = unnumbered(rows, 8);
    seq.sort();
    assert_eq!(seq, ["1", "2", "3", "4"]);
    let expected = ledger_rows(&items);
    assert_eq!(rows, expected);

    // As XLSX, the same rows.
    let path = format!(
        "/v1/export/ledger?region_code={TOWNSHIP}&campaign_id={c}&from={today}&format=xlsx"
    );
    let (status, content_type, _, body) = download(&stack, Some(&county), &path).await;
    assert_eq!((status, content_type.as_str()), (200, XLSX));
    let (title, xheader, xrows) = xlsx_rows(body, "民情台账");
    assert_eq!(title, "白鹤铺镇民情台账");
    assert_eq!(xheader, header);
    let (xrows, seq) = unnumbered(xrows, 8);
    assert_eq!(xrows, expected);
    let mut seq = seq;
    seq.sort();
    assert_eq!(seq, ["1", "2", "3", "4"]);

    // Items registered in October: none (they entered the ledger today).
    let path = format!(
        "/v1/export/ledger?region_code={TOWNSHIP}&campaign_id={c}&from={year}-10-01&to={year}-10-31&format=csv"
    );
    let (status, _, _, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(status, 200);
    assert_eq!(csv_rows(&body).1, Vec::<Vec<String>>::new());

    // Bad requests name the parameter; no token, no file.
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("from=2026-10-02&to=2026-10-01", "to"),
        ("format=pdf", "format"),
        ("campaign_id=nope", "campaign_id"),
    ] {
        let (status, body) = stack
            .get(
                &format!("/v1/export/visits?region_code={TOWNSHIP}&{query}"),
                Some(&county),
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field_errors"][0]["field"], field, "{query}");
    }
    let (status, _, _, _) = download(&stack, None, "/v1/export/ledger?format=csv").await;
    assert_eq!(status, 401);
    // The bootstrap admin sees everything, so must say which region.
    let (status, body) = stack.get("/v1/export/visits", Some(&admin)).await;
    assert_eq!(status, 400);
    assert_eq!(body["field_errors"][0]["field"], "region_code");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_township_admin_exports_their_own_township_only() {
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let w = seed(&mut registry).await;
    record_visits(&mut registry, &w).await;
    let admin = stack.admin_token().await;
    let township = stack
        .account(
            &admin,
            "bhp-admin",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "bhp-admin",
        )
        .await;

    // Another township: refused, as the services refuse it, in both formats.
    for path in [
        format!("/v1/export/visits?region_code={OTHER_TOWNSHIP}"),
        format!("/v1/export/visits?region_code={OTHER_TOWNSHIP}&format=csv"),
        format!("/v1/export/ledger?region_code={OTHER_TOWNSHIP}&format=csv"),
        "/v1/export/ledger?region_code=430426105201&format=xlsx".to_owned(),
    ] {
        let (status, body) = stack.get(&path, Some(&township)).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["code"], "permission_denied", "{path}");
    }

    // No region: the scope. The county: narrowed to the scope. Either way
    // 白鹤铺镇's three visits, by date, and the file says so.
    for path in [
        format!("/v1/export/visits?campaign_id={}", w.campaign_id),
        format!(
            "/v1/export/visits?region_code=430426000000&campaign_id={}",
            w.campaign_id
        ),
    ] {
        let (status, _, disposition, body) = download(&stack, Some(&township), &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(file_name(&disposition), "白鹤铺镇大走访活动记录表.xlsx");
        let (title, _, rows) = xlsx_rows(body, "大走访活动记录表");
        assert_eq!(title, "白鹤铺镇大走访活动记录表");
        let numbered: Vec<Vec<String>> = [v1_row(), v2_row(), v3_row()]
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.insert(0, (i + 1).to_string());
                r
            })
            .collect();
        assert_eq!(rows, numbered, "{path}");
        assert_masked(&w, &format!("{rows:?}"));
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_region_of_several_pages_streams_every_row() {
    const VISITS: usize = 1_100;
    let stack = TestGateway::start().await;
    let mut registry = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], "430426")
        .await;
    let w = seed(&mut registry).await;
    // One visit a day-and-a-bit apart from 10-01 on, all in 黄龙村.
    let year = year();
    let base = DateTime::parse_from_rfc3339(&format!("{year}-10-01T00:00:00Z")).unwrap();
    let requests: Vec<RecordVisitRequest> = (0..VISITS)
        .map(|i| {
            let start = base + chrono::Duration::minutes(i as i64 * 50);
            let end = start + chrono::Duration::minutes(30);
            RecordVisitRequest {
                situation: "一家四口".into(),
                narrative: format!("第{i}次走访，了解家庭生产生活情况，宣讲惠民政策。"),
                ..visit(&w, 0, &[0], &start.to_rfc3339(), &end.to_rfc3339())
            }
        })
        .collect();
    let results: Vec<_> = stream::iter(requests)
        .map(|req| {
            let mut r = registry.clone();
            async move { r.record_visit(req).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "every visit recorded");
    let admin = stack.admin_token().await;
    let county = stack
        .account(
            &admin,
            "county-admin",
            &[roles::COUNTY_ADMIN],
            "430426",
            "county-admin",
        )
        .await;

    let path = "/v1/export/visits?region_code=430426104201&format=csv";
    let (status, _, _, body) = download(&stack, Some(&county), path).await;
    assert_eq!(status, 200);
    let (_, rows) = csv_rows(&body);
    assert_eq!(rows.len(), VISITS);
    let seq: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let want: Vec<String> = (1..=VISITS).map(|n| n.to_string()).collect();
    assert_eq!(seq, want, "numbered across pages");
    let mut diaries: Vec<&str> = rows.iter().map(|r| r[14].as_str()).collect();
    diaries.sort();
    diaries.dedup();
    assert_eq!(diaries.len(), VISITS, "every visit once");
    assert!(
        rows.iter()
            .all(|r| r[6] == "唐怀珠" && r[8] == "139****0001")
    );

    // A period in the middle of the pages: 10-10..10-20 Beijing.
    let in_period = (0..VISITS)
        .filter(|i| {
            let start = base + chrono::Duration::minutes(*i as i64 * 50);
            let day = start
                .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
                .format("%Y-%m-%d")
                .to_string();
            (format!("{year}-10-10")..format!("{year}-10-21")).contains(&day)
        })
        .count();
    assert!(in_period > 0 && in_period < VISITS);
    let path =
        format!("/v1/export/visits?region_code=430426104201&from={year}-10-10&to={year}-10-20");
    let (status, _, _, body) = download(&stack, Some(&county), &path).await;
    assert_eq!(status, 200);
    let (_, _, rows) = xlsx_rows(body, "大走访活动记录表");
    assert_eq!(rows.len(), in_period);
    let days: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert!(days.windows(2).all(|d| d[0] <= d[1]), "sorted by date");
    assert_eq!(
        (days[0].to_owned(), days[days.len() - 1].to_owned()),
        (format!("{year}-10-10"), format!("{year}-10-20"))
    );
    stack.stop().await;
}
