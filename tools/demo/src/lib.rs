//! `zfdemo`: a demo county and a simulated campaign, made from a seed
//! through the running services' gRPC APIs only.
//!
//! From `--seed` (a SplitMix64 stream; ids are UUIDv5 of the seed) it builds
//! 祁东县 (430426) with townships and villages in the 12-digit code format,
//! work zones, households with tags, valid ID numbers and mobile phones,
//! township and county-department cadres, a campaign with the seeds'
//! quotas and its assignments (包片, 联系村, 帮扶户); then it simulates the
//! campaign: visits in every mode with nights stayed, help and materials,
//! items raised (problems, suggestions, disputes, petitions) resolved on the
//! spot or worked through the ledger (assigned and resolved in time, still
//! in progress, escalated — some signed for and fixed by the department —,
//! explained, left open), walk-in reception items, supervision callbacks
//! answered (satisfied, basically satisfied, one unsatisfied, a few
//! unreachable or not yet made, one visit the resident denies) and petition
//! cases taken in through the petition bridge's batch door.
//!
//! Its [`Totals`] are counted from what it created, with the definitions
//! the campaign summary (`GET /v1/reports/summary`) uses, after waiting
//! until the asynchronous parts (ledger items from visits, callback tasks,
//! callback outcomes) have landed. Every create is idempotent by a derived
//! id and every ledger step starts from the item's current state, so the
//! same seed and size again changes nothing and reports the same totals.
//! Calls that fail for a passing reason (a service busy or restarting) are
//! retried with back-off.
use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    fmt::Write as _,
    future::Future,
    time::Duration,
};

use anyhow::{Context as _, anyhow, bail, ensure};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;
use zoufang_core::auth::{
    BearerInterceptor, DEV_JWT_PRIVATE_KEY_PEM, DEV_JWT_PUBLIC_KEY_PEM, JwtKeys, roles,
};
use zoufang_proto::{
    common::v1::{GeoPoint, Help, ItemKind, MaterialHandout, RaisedItem, VisitMode},
    events::v1::Satisfaction,
    issues::v1::{
        AssignIssueRequest, CreateIssueRequest, EscalateIssueRequest, ExplainIssueRequest,
        GetIssueRequest, GetIssueStatisticsRequest, GetIssueStatisticsResponse, Issue, IssueSource,
        IssueState, ListIssuesRequest, ResolveIssueRequest, SignIssueRequest, StartIssueRequest,
        issue_service_client::IssueServiceClient,
    },
    petition::v1::{
        AcceptCaseRequest, Case, GetCaseRequest, ImportCasesRequest, ListCasesRequest,
        RegisterSourceRequest, Stage, petition_service_client::PetitionServiceClient,
    },
    registry::v1::{
        AssignmentTarget, CadreUnit, CampaignStatus, CompletenessPolicy, CreateAssignmentRequest,
        CreateCampaignRequest, CreateWorkZoneRequest, GetCampaignRequest, GetRegionProgressRequest,
        GetVisitRequest, ImportRegionsRequest, Quota, QuotaMetric, RecordVisitRequest,
        RegionProgress, RegisterCadreRequest, RegisterHouseholdRequest, RegisterHouseholdsRequest,
        registry_service_client::RegistryServiceClient,
    },
    supervision::v1::{
        Callback, CallbackState, CallbackSubject, CallbackTotals, CreateTeamRequest,
        GetCallbackStatisticsRequest, ListWorklistRequest, Method, RecordAttemptRequest,
        SamplingPolicy, SetSamplingPolicyRequest,
        supervision_service_client::SupervisionServiceClient,
    },
};
use zoufang_types::id_number::check_char;

/// The demo county: 祁东县, Hunan (衡阳市).
pub const COUNTY: &str = "430426";
/// Its 12-digit code (the summary's `region_code`).
pub const COUNTY_CODE: &str = "430426000000";
const COUNTY_NAME: &str = "祁东县";
/// Roughly the county seat, WGS-84.
const CENTER: (f64, f64) = (26.787, 112.111);

/// Where the services are and what to make.
#[derive(Debug, Clone)]
pub struct Config {
    /// Registry gRPC URL (`http://127.0.0.1:50051`).
    pub registry_url: String,
    /// Ledger gRPC URL (`http://127.0.0.1:50052`).
    pub issues_url: String,
    /// Supervision gRPC URL (`http://127.0.0.1:50053`).
    pub supervision_url: String,
    /// Petition bridge gRPC URL (`http://127.0.0.1:50055`).
    pub petition_url: String,
    /// Gateway HTTP URL, only to print where the summary is.
    pub gateway_url: String,
    /// The sign-in authority's ES256 private key (PEM): the demo acts as an
    /// operator holding it, as `zfctl token` does.
    pub jwt_private_key: String,
    /// The matching public key (PEM) the services verify with.
    pub jwt_public_key: String,
    /// Everything generated follows from it.
    pub seed: u64,
    /// Households to register (at least 20).
    pub households: usize,
    /// How long to wait for each asynchronous step (ledger, callbacks).
    pub timeout: Duration,
    /// Progress lines on stderr.
    pub verbose: bool,
}

impl Config {
    /// The `scripts/run.sh` addresses with the PUBLISHED development keys
    /// (`scripts/run.sh` runs the services in development mode).
    pub fn local(seed: u64, households: usize) -> Self {
        Self {
            registry_url: "http://127.0.0.1:50051".into(),
            issues_url: "http://127.0.0.1:50052".into(),
            supervision_url: "http://127.0.0.1:50053".into(),
            petition_url: "http://127.0.0.1:50055".into(),
            gateway_url: "http://127.0.0.1:8080".into(),
            jwt_private_key: DEV_JWT_PRIVATE_KEY_PEM.into(),
            jwt_public_key: DEV_JWT_PUBLIC_KEY_PEM.into(),
            seed,
            households,
            timeout: Duration::from_secs(180),
            verbose: false,
        }
    }
}

// ---------------------------------------------------------------------------
// Deterministic randomness and ids

/// SplitMix64: a tiny, well-mixed generator, one stream per purpose.
#[derive(Debug, Clone)]
struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream `label`/`i` of `seed`.
    fn new(seed: u64, label: &str, i: u64) -> Self {
        let mut h = mix(seed);
        for b in label.bytes() {
            h = mix(h ^ u64::from(b));
        }
        Self(mix(h ^ i.wrapping_mul(0xA24B_AED4_963E_E407)))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// An index by weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// A uniform float in `-1.0..1.0`.
    fn signed_unit(&mut self) -> f64 {
        (self.below(2_000_001) as f64 - 1_000_000.0) / 1_000_000.0
    }
}

/// The namespace of every id the generator derives.
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://zoufang.example/zfdemo")
}

/// The id named `name` under `seed`.
fn id(seed: u64, name: &str) -> Uuid {
    Uuid::new_v5(&namespace(), format!("{seed}/{name}").as_bytes())
}

/// A number in 0..100 from an id, the same on every run.
fn bucket(id: Uuid, n: i32) -> u64 {
    let x = id.as_u128();
    mix((x as u64) ^ ((x >> 64) as u64) ^ (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)) % 100
}

// ---------------------------------------------------------------------------
// Names and words

#[rustfmt::skip]
const TOWNS: &[&str] = &[
    "白鹤铺镇", "太和堂镇", "归阳镇", "黄土铺镇", "官家嘴镇", "风石堰镇", "白地市镇", "双桥镇",
    "过水坪镇", "砖塘镇", "灵官镇", "步云桥镇", "石亭子镇", "蒋家桥镇", "粮市镇", "金桥镇",
];
const XIANG: &[&str] = &["马杜桥乡", "凤歧坪乡", "四明山乡"];
#[rustfmt::skip]
const VILLAGE_STEMS: &[&str] = &[
    "黄龙", "肖家", "桃源", "新塘", "石门", "双桥", "枫树", "杨柳", "竹山", "荷塘", "龙井", "凤凰",
    "金盆", "银杏", "白沙", "青山", "长冲", "高岭", "大坪", "小河", "东岭", "西湾", "南岳", "北斗",
    "上田", "下湾", "李家", "王家", "刘家", "周家", "唐家", "谢家", "蒋家", "曾家", "邓家", "罗家",
    "何家", "彭家", "油茶", "梅花", "松柏", "茶园", "清水", "太平", "和平", "永兴", "兴隆", "丰收",
    "红星", "光明", "胜利", "燎原", "团结", "新民", "建设", "民主", "幸福", "前进", "迎春", "向阳",
];
#[rustfmt::skip]
const FIRST: &[&str] = &[
    "黄", "肖", "桃", "新", "石", "双", "枫", "杨", "竹", "荷", "龙", "凤", "金", "白", "青", "长",
    "高", "大", "小", "东", "西", "南", "北", "上", "下", "樟", "杉", "泉", "柏", "花", "茶", "梅",
];
#[rustfmt::skip]
const SECOND: &[&str] = &[
    "冲", "湾", "坪", "岭", "田", "铺", "江", "湖", "园", "溪", "坝", "岗", "洲", "口", "埠", "圳",
    "坳", "垅", "塘", "桥", "山", "源",
];
#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "唐", "周", "李", "王", "刘", "陈", "张", "谢", "蒋", "邓", "曾", "彭", "肖", "罗", "黄", "何",
    "邹", "廖", "谭", "管", "雷", "龙", "石", "伍", "段", "欧阳",
];
#[rustfmt::skip]
const MALE: &[&str] = &[
    "建国", "国华", "志强", "卫东", "德明", "春生", "长顺", "永福", "双喜", "海清", "立新", "怀珠",
    "文喜", "书全", "和平", "红军", "跃进", "金生", "满堂", "水生", "桂生", "志刚", "利民", "伟",
    "军", "华",
];
#[rustfmt::skip]
const FEMALE: &[&str] = &[
    "素贞", "桂英", "秀英", "春梅", "玉兰", "冬梅", "月娥", "翠花", "淑芬", "桂香", "美华", "秋菊",
    "凤英", "小红", "丽华", "芳",
];
#[rustfmt::skip]
const CADRE_GIVEN: &[&str] = &[
    "飞好", "彦青", "山中", "志勇", "晓东", "海波", "建华", "丽娟", "红梅", "文斌", "国庆", "卫平",
    "小军", "春燕", "德华", "振宇", "俊杰", "明辉", "雪莲", "晓燕", "立军", "新民", "亚平", "宏伟",
    "向阳", "桂林", "湘军", "衡松", "正清", "爱民",
];
const OCCUPATIONS: &[&str] = &[
    "户主在家务农，子女外出务工",
    "户主务农，种植水稻和油菜",
    "户主在镇上打零工",
    "户主养殖生猪十余头",
    "户主种植油茶二十余亩",
    "户主经营一家小卖部",
    "户主种植黄花菜",
    "户主常年在广东务工，家中老人带孩子",
];
const LEAFLET: &str = "惠民政策宣传资料";
const EXTRA_MATERIALS: &[&str] = &[
    "农技手册",
    "防范电信诈骗宣传单",
    "医保政策明白卡",
    "防汛安全告知书",
];
const POLICIES: &[&str] = &[
    "城乡居民医保政策",
    "耕地地力保护补贴",
    "产业奖补政策",
    "防返贫监测帮扶政策",
    "农村危房改造政策",
    "城乡居民养老保险",
];
/// The county departments cadres escalate to and that send cadres on case visits.
const DEPARTMENTS: &[&str] = &[
    "县交通运输局",
    "县民政局",
    "县水利局",
    "县住建局",
    "县农业农村局",
    "县信访局",
];

/// Poverty tags (all of them in the registry's list of poor-household tags).
const POOR_TAGS: &[&str] = &["低保", "脱贫户", "脱贫监测户", "特困户", "五保户"];
/// The tag of households with an old petition case.
const PETITION_TAG: &str = "重点信访";

/// Categories, descriptions and where to escalate, by kind.
struct Topic {
    category: &'static str,
    text: &'static str,
    department: &'static str,
    urgent_ok: bool,
}

const fn topic(
    category: &'static str,
    text: &'static str,
    department: &'static str,
    urgent_ok: bool,
) -> Topic {
    Topic {
        category,
        text,
        department,
        urgent_ok,
    }
}

#[rustfmt::skip]
const PROBLEMS: &[Topic] = &[
    topic("交通出行", "组级道路坑洼，雨天泥泞难行，希望硬化", "县交通运输局", false),
    topic("城镇建设", "村口路灯损坏，夜间出行不便", "县住建局", false),
    topic("农田水利", "山塘渗漏，灌溉用水不足", "县水利局", false),
    topic("农田水利", "渠道淤塞，需清淤疏浚", "县水利局", false),
    topic("民生工程", "自来水未通户，饮水水质差", "县水利局", true),
    topic("民生工程", "住房墙体开裂，属危房，需尽快改造", "县住建局", true),
    topic("社会保障", "残疾人两项补贴未按时到账", "县民政局", false),
    topic("环境卫生", "垃圾清运不及时，堆放在路边", "县住建局", false),
    topic("社会治安", "夜间有陌生车辆进村，希望加强巡逻", "县信访局", false),
    topic("民生工程", "低保评定有疑问，希望复核", "县民政局", false),
];
#[rustfmt::skip]
const SUGGESTIONS: &[Topic] = &[
    topic("经济发展", "建议发展油茶产业，统一提供种苗", "县农业农村局", false),
    topic("经济发展", "希望开展农技培训", "县农业农村局", false),
    topic("经济发展", "建议成立合作社统一销售黄花菜", "县农业农村局", false),
    topic("政策咨询", "咨询耕地地力保护补贴标准", "县农业农村局", false),
    topic("政策咨询", "咨询城乡居民养老保险缴费档次", "县民政局", false),
    topic("城镇建设", "建议在村部旁建设文化广场", "县住建局", false),
    topic("民生工程", "建议村卫生室增加常用药品", "县民政局", false),
];
#[rustfmt::skip]
const DISPUTES: &[Topic] = &[
    topic("矛盾纠纷", "与邻居宅基地边界争执", "县信访局", false),
    topic("矛盾纠纷", "山林权属纠纷", "县信访局", false),
    topic("矛盾纠纷", "田水灌溉先后引发纠纷", "县水利局", false),
    topic("矛盾纠纷", "子女赡养老人纠纷", "县民政局", false),
    topic("矛盾纠纷", "土地流转租金纠纷", "县农业农村局", false),
];
#[rustfmt::skip]
const PETITIONS: &[Topic] = &[
    topic("信访积案", "征地补偿款分配问题多年未解决", "县信访局", false),
    topic("信访积案", "历史遗留宅基地确权问题", "县信访局", false),
    topic("信访积案", "修路占地青苗补偿未到位，多次上访", "县交通运输局", false),
];
const ON_SPOT_NOTES: &[&str] = &[
    "现场协调解决",
    "当场讲解政策，群众表示认可",
    "现场联系村干部落实",
    "当场帮助办理",
];

// ---------------------------------------------------------------------------
// The county (from the seed alone)

#[derive(Debug, Clone)]
struct Township {
    code: String,
    name: String,
    villages: Vec<usize>,
    /// (zone id, name, villages).
    zones: Vec<(Uuid, String, Vec<usize>)>,
    secretary: usize,
    mayor: usize,
    leaders: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Village {
    code: String,
    name: String,
    township: usize,
    center: (f64, f64),
    groups: u64,
    weight: u64,
    /// The work-team member responsible (联系村).
    member: usize,
    /// The zone index within its township.
    zone: usize,
}

#[derive(Debug, Clone)]
struct Cadre {
    id: Uuid,
    name: String,
    phone: String,
    unit: CadreUnit,
    position: &'static str,
    region: String,
    roles: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct County {
    townships: Vec<Township>,
    villages: Vec<Village>,
    cadres: Vec<Cadre>,
    departments: Vec<usize>,
    supervisors: Vec<usize>,
}

/// Picks `n` distinct items of `xs` in a seeded order.
fn choose<'a>(rng: &mut Rng, xs: &[&'a str], n: usize) -> Vec<&'a str> {
    let mut pool: Vec<&str> = xs.to_vec();
    let mut out = Vec::new();
    while out.len() < n && !pool.is_empty() {
        let i = rng.below(pool.len() as u64) as usize;
        out.push(pool.remove(i));
    }
    out
}

fn person_name(rng: &mut Rng, given: &[&str]) -> String {
    let surname = if rng.pct(3) {
        "欧阳"
    } else {
        SURNAMES[rng.below(SURNAMES.len() as u64 - 1) as usize]
    };
    format!("{surname}{}", rng.pick(given))
}

/// Registers cadres of the county plan, each with a unique name and phone.
struct CadreMaker {
    seed: u64,
    names: HashSet<String>,
    cadres: Vec<Cadre>,
}

impl CadreMaker {
    fn make(
        &mut self,
        rng: &mut Rng,
        key: &str,
        unit: CadreUnit,
        position: &'static str,
        region: &str,
        roles: Vec<&'static str>,
    ) -> usize {
        let name = loop {
            let n = person_name(rng, CADRE_GIVEN);
            if self.names.insert(n.clone()) {
                break n;
            }
        };
        let n = self.cadres.len();
        self.cadres.push(Cadre {
            id: id(self.seed, &format!("cadre/{key}")),
            name,
            phone: format!("1380734{:04}", n + 1),
            unit,
            position,
            region: region.to_owned(),
            roles,
        });
        n
    }
}

fn plan_county(seed: u64) -> County {
    let mut rng = Rng::new(seed, "county", 0);
    let mut names: Vec<(&str, bool)> = choose(&mut rng, TOWNS, 6)
        .into_iter()
        .map(|n| (n, true))
        .collect();
    names.extend(choose(&mut rng, XIANG, 2).into_iter().map(|n| (n, false)));
    let mut townships = Vec::new();
    let mut villages = Vec::new();
    let mut used_village_names = HashSet::new();
    let mut cadres = CadreMaker {
        seed,
        names: HashSet::new(),
        cadres: Vec::new(),
    };
    let (mut town_no, mut xiang_no) = (100u64, 200u64);
    for (t, (name, town)) in names.into_iter().enumerate() {
        let number = if town {
            town_no += 1 + rng.below(2);
            town_no
        } else {
            xiang_no += 1 + rng.below(2);
            xiang_no
        };
        let code = format!("{COUNTY}{number:03}000");
        let center = (
            CENTER.0 + 0.22 * rng.signed_unit(),
            CENTER.1 + 0.26 * rng.signed_unit(),
        );
        let n_villages = rng.range(10, 17) as usize;
        let mut vs = Vec::new();
        if town {
            // The seat of a town is a community (社区, a residents' committee: 001–199).
            let stem = name.trim_end_matches('镇');
            vs.push(villages.len());
            villages.push(Village {
                code: format!("{}001", &code[..9]),
                name: format!("{stem}社区"),
                township: t,
                center,
                groups: rng.range(6, 10) as u64,
                weight: rng.range(150, 220) as u64,
                member: 0,
                zone: 0,
            });
        }
        for k in 0..n_villages {
            let vname = loop {
                let stem = if rng.pct(55) {
                    (*rng.pick(VILLAGE_STEMS)).to_owned()
                } else {
                    format!("{}{}", rng.pick(FIRST), rng.pick(SECOND))
                };
                let n = format!("{stem}村");
                if used_village_names.insert(n.clone()) {
                    break n;
                }
            };
            vs.push(villages.len());
            villages.push(Village {
                code: format!("{}{:03}", &code[..9], 201 + k),
                name: vname,
                township: t,
                center: (
                    center.0 + 0.035 * rng.signed_unit(),
                    center.1 + 0.04 * rng.signed_unit(),
                ),
                groups: rng.range(6, 12) as u64,
                weight: rng.range(60, 160) as u64,
                member: 0,
                zone: 0,
            });
        }
        let region = &code[..9];
        let head = if town { "镇" } else { "乡" };
        let admin = vec![roles::TOWNSHIP_ADMIN, roles::CADRE];
        let office = CadreUnit::TownshipOffice;
        let key = |what: &str| format!("{t}/{what}");
        let secretary = cadres.make(
            &mut rng,
            &key("secretary"),
            office,
            "党委书记",
            region,
            admin.clone(),
        );
        let mayor = cadres.make(&mut rng, &key("mayor"), office, "乡镇长", region, admin);
        // Work zones (工作片): three or four, each led by a member of the leadership (包片).
        let n_zones = if vs.len() >= 14 { 4 } else { 3 };
        let mut zones = Vec::new();
        let mut leaders = Vec::new();
        for z in 0..n_zones {
            let members: Vec<usize> = vs
                .iter()
                .enumerate()
                .filter(|(i, _)| i * n_zones / vs.len() == z)
                .map(|(_, v)| *v)
                .collect();
            for v in &members {
                villages[*v].zone = z;
            }
            let zname = format!("{head}{}片区", ["第一", "第二", "第三", "第四"][z]);
            zones.push((id(seed, &format!("zone/{t}/{z}")), zname, members));
            leaders.push(cadres.make(
                &mut rng,
                &key(&format!("leader/{z}")),
                office,
                "班子成员",
                region,
                vec![roles::CADRE],
            ));
        }
        // Work-team members (工作队员): each answers for one or two villages (联系村).
        let (mut k, mut m_no) = (0, 0);
        while k < vs.len() {
            let left = vs.len() - k;
            let take = if left >= 3 || (left == 2 && rng.pct(50)) {
                2
            } else {
                1
            };
            let m = cadres.make(
                &mut rng,
                &key(&format!("member/{m_no}")),
                office,
                "工作队员",
                region,
                vec![roles::CADRE],
            );
            for v in &vs[k..(k + take).min(vs.len())] {
                villages[*v].member = m;
            }
            m_no += 1;
            k += take;
        }
        townships.push(Township {
            code,
            name: name.to_owned(),
            villages: vs,
            zones,
            secretary,
            mayor,
            leaders,
        });
    }
    let departments = (0..DEPARTMENTS.len())
        .map(|d| {
            cadres.make(
                &mut rng,
                &format!("department/{d}"),
                CadreUnit::CountyDepartment,
                "县直部门干部",
                COUNTY,
                vec![roles::CADRE],
            )
        })
        .collect();
    let supervisors = (0..3)
        .map(|s| {
            cadres.make(
                &mut rng,
                &format!("supervisor/{s}"),
                CadreUnit::CountyDepartment,
                "督查组成员",
                COUNTY,
                vec![roles::SUPERVISOR],
            )
        })
        .collect();
    County {
        townships,
        villages,
        cadres: cadres.cadres,
        departments,
        supervisors,
    }
}

fn region_csv(c: &County) -> String {
    let mut lines = vec![
        "code,name,level,pcode".to_owned(),
        "430000000000,湖南省,1,".into(),
        "430400000000,衡阳市,2,430000000000".into(),
        format!("{COUNTY_CODE},{COUNTY_NAME},3,430400000000"),
    ];
    for t in &c.townships {
        lines.push(format!("{},{},4,{COUNTY_CODE}", t.code, t.name));
        for v in &t.villages {
            let v = &c.villages[*v];
            lines.push(format!("{},{},5,{}", v.code, v.name, t.code));
        }
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------
// Households (household i depends on the seed and i alone)

#[derive(Debug, Clone)]
struct Household {
    id: Uuid,
    village: usize,
    group: String,
    address: String,
    head: String,
    id_number: String,
    phone: String,
    members: i32,
    tags: Vec<&'static str>,
    location: (f64, f64),
}

impl Household {
    fn poor(&self) -> bool {
        self.tags.iter().any(|t| POOR_TAGS.contains(t))
    }

    fn petitioner(&self) -> bool {
        self.tags.contains(&PETITION_TAG)
    }
}

/// A valid 18-digit ID number of the county (GB 11643 check digit).
fn id_number(birth: NaiveDate, serial: u64) -> String {
    let first17 = format!(
        "{COUNTY}{}{:03}",
        birth.format("%Y%m%d"),
        serial as u32 % 1000
    );
    let check = check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

#[rustfmt::skip]
const PHONE_PREFIXES: &[&str] = &[
    "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "173", "177",
    "180", "186", "187", "189", "199",
];

fn plan_households(seed: u64, n: usize, county: &County) -> Vec<Household> {
    let weights: Vec<u64> = county.villages.iter().map(|v| v.weight).collect();
    let mut ids = HashSet::new();
    let mut phones: HashSet<String> = county.cadres.iter().map(|c| c.phone.clone()).collect();
    let mut numbers: HashMap<usize, u64> = HashMap::new();
    let epoch = NaiveDate::from_ymd_opt(1938, 1, 1).unwrap_or_default();
    (0..n)
        .map(|i| {
            let mut rng = Rng::new(seed, "household", i as u64);
            let village = rng.weighted(&weights);
            let v = &county.villages[village];
            let male = rng.pct(78);
            let head = person_name(&mut rng, if male { MALE } else { FEMALE });
            // Heads of households: born 1938–1995; odd serials are men.
            let id_number = loop {
                let birth = epoch + chrono::Days::new(rng.below(58 * 365));
                let serial = rng.below(500) * 2 + u64::from(male);
                let number = id_number(birth, serial);
                if ids.insert(number.clone()) {
                    break number;
                }
            };
            let phone = loop {
                let p = format!("{}{:08}", rng.pick(PHONE_PREFIXES), rng.below(100_000_000));
                if phones.insert(p.clone()) {
                    break p;
                }
            };
            let mut tags = Vec::new();
            match rng.below(100) {
                0..=7 => tags.push("低保"),
                8..=16 => tags.push("脱贫户"),
                17..=19 => tags.push("脱贫监测户"),
                20..=21 => tags.push("特困户"),
                22 => tags.push("五保户"),
                _ => {}
            }
            let old = rng.pct(11);
            if old {
                tags.push("空巢老人");
            } else if rng.pct(11) {
                tags.push("留守");
            }
            for (tag, p) in [("残疾", 5), ("退役军人", 4), (PETITION_TAG, 2), ("大病", 2)] {
                if rng.pct(p) {
                    tags.push(tag);
                }
            }
            let members = if old {
                rng.range(1, 2) as i32
            } else {
                rng.range(2, 7) as i32
            };
            let group = format!("{}组", 1 + rng.below(v.groups));
            let no = numbers.entry(village).or_insert(0);
            *no += 1 + rng.below(3);
            let address = format!("{}{}{}号", v.name, group, no);
            let location = (
                v.center.0 + 0.008 * rng.signed_unit(),
                v.center.1 + 0.008 * rng.signed_unit(),
            );
            Household {
                id: id(seed, &format!("household/{i}")),
                village,
                group,
                address,
                head,
                id_number,
                phone,
                members,
                tags,
                location,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The campaign (from the seed and the size)

/// What happens to an item in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// 当即解决 during the visit.
    OnSpot,
    /// Nobody has taken it up yet.
    Open,
    /// Assigned with a deadline and being worked on (办理中).
    InProgress,
    /// Assigned with a deadline and resolved (限时解决).
    TimeLimited,
    /// Closed with an explanation (解释说明).
    Explain,
    /// Escalated to a county department, not yet fixed (上报).
    Escalate,
    /// Escalated, signed for and fixed by the department.
    EscalateResolved,
}

/// What the resident says when a supervisor calls about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Not called yet.
    LeaveOpen,
    /// Nobody answers, three times.
    Unreachable,
    Satisfied,
    Basically,
    /// 不满意: the item reopens.
    Unsatisfied,
}

#[derive(Debug, Clone)]
struct Item {
    /// The visit (or, for walk-ins, the issue id) and the item's number (0 for walk-ins).
    key: (Uuid, i32),
    village: usize,
    kind: ItemKind,
    category: &'static str,
    description: String,
    households_involved: i32,
    urgent: bool,
    resolution_note: String,
    fate: Fate,
    department: &'static str,
    answer: Answer,
    /// For walk-in reception items (开门接访): the household who came.
    walk_in: Option<Uuid>,
    /// Who answers for it (the village's work-team member).
    responsible: usize,
}

#[derive(Debug, Clone)]
struct Visit {
    id: Uuid,
    household: usize,
    cadres: Vec<usize>,
    /// The township cadre whose day the visit takes.
    owner: usize,
    mode: VisitMode,
    overnight: bool,
    follow_up: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cash_fen: i64,
    goods_fen: i64,
    goods: &'static str,
    materials: Vec<(&'static str, i32)>,
    policies: Vec<&'static str>,
    items: Vec<usize>,
}

#[derive(Debug, Clone)]
struct PetitionCase {
    external_id: String,
    channel: &'static str,
    name: String,
    id_number: String,
    phone: String,
    region: String,
    content: String,
    received: String,
    accept: bool,
    /// The petitioner heads a registered household (the bridge matches it).
    registered: bool,
}

#[derive(Debug, Clone)]
struct Campaign {
    id: Uuid,
    name: String,
    anchor: DateTime<Utc>,
    visits: Vec<Visit>,
    items: Vec<Item>,
    /// (assignment id, cadre, target, target id).
    assignments: Vec<(Uuid, usize, AssignmentTarget, String)>,
    /// The visit the resident denies on callback (verified by callback for sure).
    denied_visit: Option<usize>,
    cases: Vec<PetitionCase>,
}

/// The campaign's quotas by position (the seeds' figures).
fn quotas() -> Vec<Quota> {
    let q = |position: &str, metric: QuotaMetric, target: i64, min_amount_fen: i64| Quota {
        position: position.into(),
        metric: metric as i32,
        target,
        min_amount_fen,
    };
    vec![
        q("党委书记", QuotaMetric::HouseholdsVisited, 50, 0),
        q("乡镇长", QuotaMetric::HouseholdsVisited, 50, 0),
        q("班子成员", QuotaMetric::HouseholdsVisited, 50, 0),
        q("工作队员", QuotaMetric::HouseholdsVisited, 60, 0),
        q("工作队员", QuotaMetric::OvernightStays, 10, 0),
        q("工作队员", QuotaMetric::HouseholdsHelped, 5, 10_000),
    ]
}

fn campaign_request(c: &Campaign) -> CreateCampaignRequest {
    CreateCampaignRequest {
        campaign_id: c.id.to_string(),
        region_code: COUNTY_CODE.into(),
        name: c.name.clone(),
        starts_at: Some(ts(c.anchor)),
        ends_at: Some(ts(c.anchor + chrono::Duration::days(60))),
        themes: vec![
            "信访维稳".into(),
            "民生工程".into(),
            "中心工作".into(),
            "政策宣传".into(),
        ],
        status: CampaignStatus::Active as i32,
        completeness_policy: CompletenessPolicy::Refuse as i32,
        quotas: quotas(),
    }
}

fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

/// Beijing midnight `days` before today's Beijing date, in UTC.
fn beijing_midnight_days_ago(days: i64) -> DateTime<Utc> {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let date = today - chrono::Duration::days(days);
    date.and_time(NaiveTime::MIN).and_utc() - chrono::Duration::hours(8)
}

/// The day `day` of the campaign, `minutes` after Beijing midnight, in UTC.
fn at(anchor: DateTime<Utc>, day: i64, minutes: i64) -> DateTime<Utc> {
    anchor + chrono::Duration::days(day) + chrono::Duration::minutes(minutes)
}

fn topics(kind: ItemKind) -> &'static [Topic] {
    match kind {
        ItemKind::Suggestion => SUGGESTIONS,
        ItemKind::Dispute => DISPUTES,
        ItemKind::Petition => PETITIONS,
        _ => PROBLEMS,
    }
}

/// An item's fate when it was not resolved on the spot.
fn later_fate(rng: &mut Rng, kind: ItemKind) -> Fate {
    use Fate::*;
    let (fates, weights): (&[Fate], &[u64]) = match kind {
        ItemKind::Suggestion => (&[TimeLimited, Explain, Open], &[35, 50, 15]),
        ItemKind::Dispute => (
            &[TimeLimited, InProgress, Escalate, Explain],
            &[60, 15, 10, 15],
        ),
        ItemKind::Petition => (
            &[TimeLimited, InProgress, Escalate, EscalateResolved, Explain],
            &[25, 15, 15, 15, 30],
        ),
        _ => (
            &[
                TimeLimited,
                InProgress,
                Escalate,
                EscalateResolved,
                Explain,
                Open,
            ],
            &[48, 10, 8, 8, 16, 10],
        ),
    };
    fates[rng.weighted(weights)]
}

/// A new item of `kind` raised in `village`.
fn new_item(
    rng: &mut Rng,
    key: (Uuid, i32),
    village: usize,
    responsible: usize,
    kind: ItemKind,
    may_settle_on_spot: bool,
) -> Item {
    let t = rng.pick(topics(kind));
    // Only problems and suggestions are settled on the spot: a dispute is
    // mediated, and a petition answered, through the ledger (and every one
    // is called back). An item resolved on the spot is resolved by the
    // ledger's own consumer of the visit event, so any other ledger on the
    // same broker (a second stack, parallel test runs) resolves it too and
    // announces it under another event id; were it callback-worthy, each
    // such announcement would make supervision call it back once more.
    let on_spot_pct = match kind {
        ItemKind::Problem => 35,
        ItemKind::Suggestion => 30,
        _ => 0,
    };
    let urgent = t.urgent_ok && rng.pct(50);
    let on_spot = may_settle_on_spot && !urgent && rng.pct(on_spot_pct);
    let households_involved = if kind == ItemKind::Dispute {
        [1, 2, 2, 2, 2, 2, 2, 3, 3, 4][rng.below(10) as usize]
    } else {
        0
    };
    let resolution_note = if on_spot {
        (*rng.pick(ON_SPOT_NOTES)).to_owned()
    } else {
        String::new()
    };
    let fate = if on_spot {
        Fate::OnSpot
    } else {
        later_fate(rng, kind)
    };
    Item {
        key,
        village,
        kind,
        category: t.category,
        description: t.text.to_owned(),
        households_involved,
        urgent,
        resolution_note,
        fate,
        department: t.department,
        answer: Answer::Satisfied,
        walk_in: None,
        responsible,
    }
}

fn item_kind(rng: &mut Rng) -> ItemKind {
    [
        ItemKind::Problem,
        ItemKind::Suggestion,
        ItemKind::Dispute,
        ItemKind::Petition,
    ][rng.weighted(&[34, 44, 16, 6])]
}

/// Who visits whom, how, when, what was given and raised.
fn plan_campaign(
    seed: u64,
    size: usize,
    county: &County,
    households: &[Household],
    anchor: DateTime<Utc>,
) -> Campaign {
    let tag = format!("{size}/");
    let mut visits: Vec<Visit> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let mut assignments = Vec::new();

    // 包片 and 联系村.
    for (t, town) in county.townships.iter().enumerate() {
        for (z, (zone_id, _, _)) in town.zones.iter().enumerate() {
            assignments.push((
                id(seed, &format!("{tag}assignment/zone/{t}/{z}")),
                town.leaders[z],
                AssignmentTarget::Zone,
                zone_id.to_string(),
            ));
        }
        for v in &town.villages {
            let village = &county.villages[*v];
            assignments.push((
                id(seed, &format!("{tag}assignment/village/{v}")),
                village.member,
                AssignmentTarget::Village,
                village.code.clone(),
            ));
        }
    }
    // 帮扶户: each work-team member helps up to three poor households of their villages.
    let mut helped_by: HashSet<usize> = HashSet::new();
    let mut per_member: HashMap<usize, usize> = HashMap::new();
    for (h, hh) in households.iter().enumerate() {
        let member = county.villages[hh.village].member;
        let n = per_member.entry(member).or_insert(0);
        if hh.poor() && *n < 3 {
            *n += 1;
            helped_by.insert(h);
            assignments.push((
                id(seed, &format!("{tag}assignment/household/{h}")),
                member,
                AssignmentTarget::Household,
                hh.id.to_string(),
            ));
        }
    }

    let mut dept_visits = vec![0usize; county.departments.len()];
    let mut next_dept = 0usize;
    for (h, hh) in households.iter().enumerate() {
        let mut rng = Rng::new(seed, &format!("{tag}visits"), h as u64);
        let village = &county.villages[hh.village];
        let town = &county.townships[village.township];
        let member = village.member;
        let bangfu = helped_by.contains(&h);
        if !(bangfu || hh.petitioner() || rng.pct(88)) {
            continue;
        }
        let n_visits = if (bangfu && rng.pct(60)) || rng.pct(12) {
            2
        } else {
            1
        };
        for k in 0..n_visits {
            let follow_up = k == 1;
            let vid = id(seed, &format!("{tag}visit/{h}/{k}"));
            let (cadres, owner, mode) = if follow_up {
                let mode = if rng.pct(50) {
                    VisitMode::Phone
                } else {
                    VisitMode::DoorToDoor
                };
                (vec![member], member, mode)
            } else if hh.petitioner() {
                // 带案下访: a county department or the party secretary brings the case.
                let n = county.departments.len();
                match (0..n)
                    .map(|i| (next_dept + i) % n)
                    .find(|d| dept_visits[*d] < 3)
                {
                    Some(d) => {
                        dept_visits[d] += 1;
                        next_dept = d + 1;
                        (
                            vec![county.departments[d], member],
                            member,
                            VisitMode::CaseVisit,
                        )
                    }
                    None => (vec![town.secretary], town.secretary, VisitMode::CaseVisit),
                }
            } else {
                let who = match rng.below(100) {
                    0..=7 => town.leaders[village.zone],
                    8..=9 if hh.poor() => town.secretary,
                    10..=11 if hh.poor() => town.mayor,
                    _ => member,
                };
                let mode = if who == member {
                    match rng.below(100) {
                        0..=10 => VisitMode::LiveIn,
                        11..=14 => VisitMode::Reception,
                        15..=17 => VisitMode::Phone,
                        _ => VisitMode::DoorToDoor,
                    }
                } else {
                    VisitMode::DoorToDoor
                };
                (vec![who], who, mode)
            };
            let in_person = matches!(
                mode,
                VisitMode::DoorToDoor | VisitMode::LiveIn | VisitMode::CaseVisit
            );
            // Help: the helped households from their cadre; other poor
            // households often; a few others in goods.
            let (mut cash_fen, mut goods_fen, mut goods) = (0, 0, "");
            if in_person {
                if bangfu && k == n_visits - 1 {
                    cash_fen = rng.range(2, 5) * 10_000;
                    if rng.pct(40) {
                        goods_fen = rng.range(80, 150) * 100;
                        goods = "大米一袋、食用油一桶";
                    }
                } else if !bangfu && hh.poor() && !follow_up && rng.pct(45) {
                    cash_fen = rng.range(1, 2) * 10_000;
                } else if !follow_up && rng.pct(3) {
                    goods_fen = 12_000;
                    goods = "化肥两袋";
                }
            }
            let mut materials = Vec::new();
            if in_person && rng.pct(65) {
                materials.push((LEAFLET, rng.range(1, 3) as i32));
                if rng.pct(35) {
                    materials.push((*rng.pick(EXTRA_MATERIALS), 1));
                }
            }
            let mut policies = Vec::new();
            if in_person || mode == VisitMode::Reception {
                policies.push(*rng.pick(POLICIES));
                if hh.poor() {
                    policies.push("低保和特困供养政策");
                }
            }
            // Items raised.
            let mut visit_items = Vec::new();
            let (one, two) = match mode {
                VisitMode::Reception => (60, 10),
                VisitMode::Phone => (8, 0),
                VisitMode::CaseVisit => (100, 20),
                _ if follow_up => (6, 0),
                _ => (24, 5),
            };
            let n_items = if rng.pct(one) {
                1 + usize::from(rng.pct(two))
            } else {
                0
            };
            for no in 0..n_items {
                let kind = if mode == VisitMode::CaseVisit && no == 0 {
                    ItemKind::Petition
                } else {
                    item_kind(&mut rng)
                };
                let key = (vid, no as i32 + 1);
                let item = new_item(&mut rng, key, hh.village, member, kind, true);
                visit_items.push(items.len());
                items.push(item);
            }
            visits.push(Visit {
                id: vid,
                household: h,
                cadres,
                owner,
                mode,
                overnight: mode == VisitMode::LiveIn,
                follow_up,
                start: anchor,
                end: anchor,
                cash_fen,
                goods_fen,
                goods,
                materials,
                policies,
                items: visit_items,
            });
        }
    }

    // Walk-in reception (开门接访) at each township office: about one item per 150 households.
    let mut per_town: Vec<Vec<usize>> = vec![Vec::new(); county.townships.len()];
    for (h, hh) in households.iter().enumerate() {
        per_town[county.villages[hh.village].township].push(h);
    }
    for (t, town_households) in per_town.iter().enumerate() {
        for k in 0..town_households.len().div_ceil(150) {
            let mut rng = Rng::new(seed, &format!("{tag}walk-in/{t}"), k as u64);
            let hh = &households[*rng.pick(town_households)];
            let issue_id = id(seed, &format!("{tag}walk-in/{t}/{k}"));
            let kind = item_kind(&mut rng);
            let member = county.villages[hh.village].member;
            let mut item = new_item(&mut rng, (issue_id, 0), hh.village, member, kind, false);
            item.walk_in = Some(hh.id);
            items.push(item);
        }
    }

    schedule(&mut visits, anchor);

    // Callback answers: by a hash of the item; one resident is not satisfied.
    for item in &mut items {
        item.answer = match bucket(item.key.0, item.key.1) {
            0..=2 => Answer::LeaveOpen,
            3..=5 => Answer::Unreachable,
            6..=21 => Answer::Basically,
            _ => Answer::Satisfied,
        };
    }
    let unsatisfied = items
        .iter()
        .position(|i| i.kind == ItemKind::Dispute && i.fate == Fate::TimeLimited)
        .or_else(|| {
            items
                .iter()
                .position(|i| i.fate == Fate::TimeLimited && gets_callback(i, &after_ledger(i)))
        });
    if let Some(i) = unsatisfied {
        items[i].answer = Answer::Unsatisfied;
    }

    // The denied visit: one whose verification is certain (its first cadre
    // has no more visits that week than the policy's minimum), a phone call
    // if there is one.
    let groups = visit_groups(&visits, county);
    let certain = |v: &Visit| groups[&group_key(v, county)] <= MIN_VISITS_PER_CADRE as usize;
    let denied_visit = visits
        .iter()
        .position(|v| certain(v) && v.mode == VisitMode::Phone)
        .or_else(|| visits.iter().position(certain));

    let cases = plan_cases(seed, size, county, households, anchor);
    Campaign {
        id: id(seed, &format!("{size}/campaign")),
        name: format!("{COUNTY_NAME}“万名干部下乡进村入户”大走访（演示 {seed}）"),
        anchor,
        visits,
        items,
        assignments,
        denied_visit,
        cases,
    }
}

/// Petition cases (信访件) from the county's petition system: the 重点信访
/// households' cases, and one petitioner the registry does not know. All
/// but the first are accepted (受理).
fn plan_cases(
    seed: u64,
    size: usize,
    county: &County,
    households: &[Household],
    anchor: DateTime<Utc>,
) -> Vec<PetitionCase> {
    let n_cases = (size / 250).clamp(3, 12);
    let mut petitioners: Vec<usize> = (0..households.len())
        .filter(|h| households[*h].petitioner())
        .collect();
    petitioners.extend((0..households.len()).filter(|h| !households[*h].petitioner()));
    let used: HashSet<&str> = households.iter().map(|h| h.id_number.as_str()).collect();
    let contents = [
        "反映征地补偿款分配不公，要求重新核算",
        "反映宅基地被邻居占用多年未解决",
        "反映修路占地青苗补偿未到位",
        "反映低保资格被取消，要求复核",
        "反映山林承包合同纠纷",
        "反映危房改造补助未发放",
    ];
    let channels = ["来信", "来访", "网上", "电话"];
    (0..n_cases)
        .map(|k| {
            let mut rng = Rng::new(seed, &format!("{size}/petition"), k as u64);
            let received_day = 20 + rng.range(0, 8);
            let received_min = 8 * 60 + rng.range(0, 8 * 60);
            let received = (at(anchor, received_day, received_min) + chrono::Duration::hours(8))
                .format("%Y-%m-%d %H:%M")
                .to_string();
            let external_id = format!("QDXF-{seed}-{size}-{:03}", k + 1);
            let content = (*rng.pick(&contents)).to_owned();
            let channel = *rng.pick(&channels);
            if k + 1 == n_cases || petitioners.len() <= k {
                // Someone outside the register: no household is matched.
                let birth = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default()
                    + chrono::Days::new(k as u64);
                let village = rng.pick(&county.villages);
                PetitionCase {
                    external_id,
                    channel,
                    name: person_name(&mut rng, MALE),
                    id_number: (0..1000u64)
                        .map(|s| id_number(birth, 999 - s))
                        .find(|n| !used.contains(n.as_str()))
                        .unwrap_or_default(),
                    phone: String::new(),
                    region: village.code.clone(),
                    content,
                    received,
                    accept: k != 0,
                    registered: false,
                }
            } else {
                let hh = &households[petitioners[k]];
                PetitionCase {
                    external_id,
                    channel,
                    name: hh.head.clone(),
                    id_number: hh.id_number.clone(),
                    phone: hh.phone.clone(),
                    region: county.villages[hh.village].code.clone(),
                    content,
                    received,
                    accept: k != 0,
                    registered: true,
                }
            }
        })
        .collect()
}

/// Puts each cadre's visits on the calendar: first visits over days 0–20,
/// follow-ups over days 21–28, daytime visits one after another between
/// 08:30 and 17:30 Beijing time, nights (同吃同住) from 18:00 to 07:30.
fn schedule(visits: &mut [Visit], anchor: DateTime<Utc>) {
    let mut by_owner: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, v) in visits.iter().enumerate() {
        by_owner.entry(v.owner).or_default().push(i);
    }
    for (owner, list) in by_owner {
        for (follow_up, first_day, days) in [(false, 0i64, 21i64), (true, 21, 8)] {
            let phase: Vec<usize> = list
                .iter()
                .copied()
                .filter(|i| visits[*i].follow_up == follow_up)
                .collect();
            let nights: Vec<usize> = phase
                .iter()
                .copied()
                .filter(|i| visits[*i].overnight)
                .collect();
            // At most one night a day: the rest become ordinary visits.
            for extra in nights.iter().skip(days as usize) {
                visits[*extra].overnight = false;
                visits[*extra].mode = VisitMode::DoorToDoor;
            }
            let nights: Vec<usize> = nights.into_iter().take(days as usize).collect();
            for (j, i) in nights.iter().enumerate() {
                let day = first_day + j as i64 * days / nights.len() as i64;
                visits[*i].start = at(anchor, day, 18 * 60);
                visits[*i].end = at(anchor, day + 1, 7 * 60 + 30);
            }
            let daytime: Vec<usize> = phase
                .iter()
                .copied()
                .filter(|i| !visits[*i].overnight)
                .collect();
            if daytime.is_empty() {
                continue;
            }
            let per_day = daytime.len().div_ceil(days as usize).max(1) as i64;
            let step = (540 / per_day).clamp(15, 100);
            let mut slots: HashMap<i64, i64> = HashMap::new();
            for (k, i) in daytime.iter().enumerate() {
                let day = first_day + k as i64 * days / daytime.len() as i64;
                let slot = slots.entry(day).or_insert(0);
                let start = 8 * 60 + 30 + *slot * step;
                *slot += 1;
                let mut rng = Rng::new(owner as u64, "duration", *i as u64);
                let minutes = match visits[*i].mode {
                    VisitMode::Phone => rng.range(6, 15).min(step - 2),
                    _ => (step * rng.range(45, 80) / 100).max(12),
                };
                visits[*i].start = at(anchor, day, start);
                visits[*i].end = at(anchor, day, start + minutes);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The model of what the services end up holding

/// Supervision's sampling policy for the campaign: every urgent, dispute and
/// petition item resolved or explained (none of the others), and the first
/// two visits of each cadre and week — so the callbacks are known in advance.
const MIN_VISITS_PER_CADRE: u32 = 2;
/// Attempts before a callback closes as unreachable.
const MAX_ATTEMPTS: u32 = 3;

fn policy() -> SamplingPolicy {
    SamplingPolicy {
        item_share_bp: 0,
        visit_share_bp: 0,
        min_visits_per_cadre: MIN_VISITS_PER_CADRE,
        high_risk_threshold: 60,
        high_risk_visit_share_bp: 0,
        due_days: 7,
        max_attempts: MAX_ATTEMPTS,
    }
}

/// Supervision samples visits per first cadre and Monday-week of the start (UTC date).
fn group_key(v: &Visit, county: &County) -> (Uuid, NaiveDate) {
    let date = v.start.date_naive();
    let monday = date - chrono::Duration::days(i64::from(date.weekday().num_days_from_monday()));
    (county.cadres[v.cadres[0]].id, monday)
}

fn visit_groups(visits: &[Visit], county: &County) -> HashMap<(Uuid, NaiveDate), usize> {
    let mut groups = HashMap::new();
    for v in visits {
        *groups.entry(group_key(v, county)).or_insert(0) += 1;
    }
    groups
}

/// An item as the ledger holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ledgered {
    state: IssueState,
    /// 0 none, 1 on the spot, 2 time-limited, 3 escalated, 4 explained.
    disposition: i32,
    in_time: Option<bool>,
    ever_escalated: bool,
    reopened: bool,
}

fn after_ledger(item: &Item) -> Ledgered {
    let l = |state, disposition, in_time, ever_escalated| Ledgered {
        state,
        disposition,
        in_time,
        ever_escalated,
        reopened: false,
    };
    match item.fate {
        Fate::OnSpot => l(IssueState::Resolved, 1, Some(true), false),
        Fate::Open => l(IssueState::Open, 0, None, false),
        Fate::InProgress => l(IssueState::InProgress, 2, None, false),
        Fate::TimeLimited => l(IssueState::Resolved, 2, Some(true), false),
        Fate::Explain => l(IssueState::Explained, 4, Some(true), false),
        Fate::Escalate => l(IssueState::Escalated, 3, None, true),
        Fate::EscalateResolved => l(IssueState::Resolved, 3, Some(true), true),
    }
}

/// Supervision calls back every urgent, dispute and petition item once it is
/// resolved or explained (the policy samples none of the others).
fn gets_callback(item: &Item, l: &Ledgered) -> bool {
    matches!(l.state, IssueState::Resolved | IssueState::Explained)
        && (item.urgent || matches!(item.kind, ItemKind::Dispute | ItemKind::Petition))
}

fn after_callback(item: &Item, mut l: Ledgered) -> Ledgered {
    if !gets_callback(item, &l) {
        return l;
    }
    match item.answer {
        Answer::Satisfied | Answer::Basically => l.state = IssueState::Verified,
        Answer::Unsatisfied => {
            l.state = IssueState::Reopened;
            l.in_time = None;
            l.reopened = true;
        }
        Answer::LeaveOpen | Answer::Unreachable => {}
    }
    l
}

fn open_state(s: IssueState) -> bool {
    matches!(
        s,
        IssueState::Open
            | IssueState::Assigned
            | IssueState::InProgress
            | IssueState::Escalated
            | IssueState::Reopened
    )
}

// ---------------------------------------------------------------------------
// Totals

/// Setup counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    pub townships: i64,
    pub villages: i64,
    pub work_zones: i64,
    pub cadres: i64,
    pub assignments: i64,
    pub households: i64,
    pub poor_households: i64,
    pub petition_households: i64,
}

/// Visit figures (the registry's region progress).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitTotals {
    pub households_total: i64,
    pub households_visited: i64,
    pub coverage_bp: i64,
    pub visits: i64,
    /// 入户走访, 电话, 集中接访, 带案下访, 同吃同住.
    pub by_mode: [i64; 5],
    pub overnight_stays: i64,
    pub disputed_visits: i64,
    pub items_raised_on_visits: i64,
    pub items_resolved_on_spot_on_visits: i64,
}

/// Help given (帮扶慰问).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpTotals {
    pub households_helped: i64,
    pub poor_households_helped: i64,
    pub cash_fen: i64,
    pub goods_value_fen: i64,
}

/// The ledger's figures for the campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerTotals {
    pub collected: i64,
    /// Of them, taken in at walk-in reception (开门接访) rather than on a visit.
    pub walk_in: i64,
    pub problems: i64,
    pub suggestions: i64,
    pub disputes: i64,
    pub petitions: i64,
    pub resolved_on_spot: i64,
    pub resolved_in_time: i64,
    pub resolved_late: i64,
    pub escalated: i64,
    pub explained: i64,
    pub open: i64,
    pub overdue: i64,
    pub reopened: i64,
    pub verified: i64,
    pub disputes_mediated: i64,
    pub dispute_households: i64,
    pub by_category: BTreeMap<String, i64>,
}

/// Supervision callbacks for the campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackFigures {
    pub callbacks: i64,
    pub done: i64,
    pub unreachable: i64,
    pub open: i64,
    pub overdue: i64,
    pub attempted: i64,
    pub reached: i64,
    pub items_answered: i64,
    pub items_satisfied: i64,
    pub unsatisfied: i64,
    pub visits_checked: i64,
    pub visits_not_confirmed: i64,
}

/// Petition cases taken in through the bridge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PetitionTotals {
    pub cases: i64,
    pub accepted: i64,
    pub matched_households: i64,
    /// Ledger items the cases became (outside the campaign: a case has none).
    pub ledger_items: i64,
}

/// What the generator made, counted the way the campaign summary counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub seed: u64,
    pub campaign_id: String,
    pub campaign_name: String,
    pub region_code: String,
    pub setup: Setup,
    pub visits: VisitTotals,
    pub help: HelpTotals,
    pub materials: BTreeMap<String, i64>,
    pub ledger: LedgerTotals,
    pub callbacks: CallbackFigures,
    pub petition: PetitionTotals,
}

/// What is past its deadline now: open ledger items and open callbacks of
/// the demo (nothing right after it is made: the ledger's deadlines are
/// days away and callbacks are due in a week).
#[derive(Debug, Clone, Copy, Default)]
struct Overdue {
    items: i64,
    callbacks: i64,
}

/// `num / den` in basis points, truncated.
fn bp(num: i64, den: i64) -> i64 {
    if den <= 0 {
        0
    } else {
        num.max(0) * 10_000 / den
    }
}

const MODES: [(VisitMode, &str, &str, &str); 5] = [
    (
        VisitMode::DoorToDoor,
        "door_to_door",
        "入户走访",
        "door to door",
    ),
    (VisitMode::Phone, "phone", "电话走访", "phone"),
    (VisitMode::Reception, "reception", "集中接访", "reception"),
    (VisitMode::CaseVisit, "case_visit", "带案下访", "case visit"),
    (VisitMode::LiveIn, "live_in", "同吃同住", "live-in"),
];

fn mode_index(m: VisitMode) -> usize {
    MODES.iter().position(|(x, ..)| *x == m).unwrap_or(0)
}

fn count(
    seed: u64,
    county: &County,
    households: &[Household],
    c: &Campaign,
    petition: PetitionTotals,
    overdue: Overdue,
) -> Totals {
    let denied: HashSet<usize> = c.denied_visit.into_iter().collect();
    let mut t = Totals {
        seed,
        campaign_id: c.id.to_string(),
        campaign_name: c.name.clone(),
        region_code: COUNTY_CODE.into(),
        petition,
        ..Default::default()
    };
    t.setup = Setup {
        townships: county.townships.len() as i64,
        villages: county.villages.len() as i64,
        work_zones: county.townships.iter().map(|t| t.zones.len() as i64).sum(),
        cadres: county.cadres.len() as i64,
        assignments: c.assignments.len() as i64,
        households: households.len() as i64,
        poor_households: households.iter().filter(|h| h.poor()).count() as i64,
        petition_households: households.iter().filter(|h| h.petitioner()).count() as i64,
    };

    // The registry's figures leave out visits the resident denied.
    let mut visited = HashSet::new();
    let mut helped = HashSet::new();
    for (i, v) in c.visits.iter().enumerate() {
        if denied.contains(&i) {
            t.visits.disputed_visits += 1;
            continue;
        }
        visited.insert(v.household);
        t.visits.visits += 1;
        t.visits.by_mode[mode_index(v.mode)] += 1;
        t.visits.overnight_stays += i64::from(v.overnight);
        t.visits.items_raised_on_visits += v.items.len() as i64;
        t.visits.items_resolved_on_spot_on_visits += v
            .items
            .iter()
            .filter(|i| c.items[**i].fate == Fate::OnSpot)
            .count() as i64;
        if v.cash_fen + v.goods_fen > 0 {
            helped.insert(v.household);
        }
        t.help.cash_fen += v.cash_fen;
        t.help.goods_value_fen += v.goods_fen;
        for (name, q) in &v.materials {
            *t.materials.entry((*name).to_owned()).or_default() += i64::from(*q);
        }
    }
    t.visits.households_total = households.len() as i64;
    t.visits.households_visited = visited.len() as i64;
    t.visits.coverage_bp = bp(t.visits.households_visited, t.visits.households_total);
    t.help.households_helped = helped.len() as i64;
    t.help.poor_households_helped = helped.iter().filter(|h| households[**h].poor()).count() as i64;

    // The ledger's, with the ledger's definitions.
    let l = &mut t.ledger;
    let cb = &mut t.callbacks;
    for item in &c.items {
        let first = after_ledger(item);
        let end = after_callback(item, first);
        l.collected += 1;
        l.walk_in += i64::from(item.walk_in.is_some());
        match item.kind {
            ItemKind::Problem => l.problems += 1,
            ItemKind::Suggestion => l.suggestions += 1,
            ItemKind::Dispute => l.disputes += 1,
            _ => l.petitions += 1,
        }
        *l.by_category.entry(item.category.to_owned()).or_default() += 1;
        l.resolved_on_spot += i64::from(end.disposition == 1);
        l.resolved_in_time +=
            i64::from(end.in_time == Some(true) && !matches!(end.disposition, 1 | 4));
        l.resolved_late += i64::from(end.in_time == Some(false) && end.disposition != 4);
        l.escalated += i64::from(end.ever_escalated);
        l.explained += i64::from(end.disposition == 4);
        l.reopened += i64::from(end.reopened);
        l.verified += i64::from(end.state == IssueState::Verified);
        let closed = matches!(
            end.state,
            IssueState::Resolved | IssueState::Verified | IssueState::Explained
        );
        if item.kind == ItemKind::Dispute && closed {
            l.disputes_mediated += 1;
            l.dispute_households += i64::from(item.households_involved);
        }
        l.open += i64::from(open_state(end.state));
        if gets_callback(item, &first) {
            cb.callbacks += 1;
            match item.answer {
                Answer::LeaveOpen => cb.open += 1,
                Answer::Unreachable => {
                    cb.unreachable += 1;
                    cb.attempted += 1;
                }
                answer => {
                    cb.done += 1;
                    cb.attempted += 1;
                    cb.reached += 1;
                    cb.items_answered += 1;
                    cb.items_satisfied +=
                        i64::from(matches!(answer, Answer::Satisfied | Answer::Basically));
                    cb.unsatisfied += i64::from(answer == Answer::Unsatisfied);
                }
            }
        }
    }
    // Visit callbacks: the first two of each cadre and week, all reached.
    let checked: i64 = visit_groups(&c.visits, county)
        .values()
        .map(|n| (*n).min(MIN_VISITS_PER_CADRE as usize) as i64)
        .sum();
    cb.callbacks += checked;
    cb.done += checked;
    cb.attempted += checked;
    cb.reached += checked;
    cb.visits_checked = checked;
    cb.visits_not_confirmed = denied.len() as i64;
    l.overdue = overdue.items;
    cb.overdue = overdue.callbacks;
    t
}

impl Totals {
    /// The figures in the shape of the campaign summary's JSON (`visits`,
    /// `help`, `materials`, `ledger`, `callbacks`), to compare with it.
    pub fn figures_json(&self) -> Value {
        let v = &self.visits;
        let l = &self.ledger;
        let c = &self.callbacks;
        let closed = l.collected - l.open;
        json!({
            "visits": {
                "households_total": v.households_total,
                "households_visited": v.households_visited,
                "coverage_bp": v.coverage_bp,
                "visits": v.visits,
                "by_mode": MODES.iter().enumerate().map(|(i, (_, key, label, _))| json!({
                    "mode": key, "label": label, "visits": v.by_mode[i],
                })).collect::<Vec<_>>(),
                "overnight_stays": v.overnight_stays,
                "disputed_visits": v.disputed_visits,
                "items_raised_on_visits": v.items_raised_on_visits,
                "items_resolved_on_spot_on_visits": v.items_resolved_on_spot_on_visits,
            },
            "help": {
                "households_helped": self.help.households_helped,
                "poor_households_helped": self.help.poor_households_helped,
                "cash_fen": self.help.cash_fen,
                "goods_value_fen": self.help.goods_value_fen,
                "total_fen": self.help.cash_fen + self.help.goods_value_fen,
            },
            "materials": {
                "total": self.materials.values().sum::<i64>(),
                "by_name": self.materials.iter()
                    .map(|(name, q)| json!({"name": name, "quantity": q}))
                    .collect::<Vec<_>>(),
            },
            "ledger": {
                "collected": l.collected,
                "problems": l.problems,
                "suggestions": l.suggestions,
                "disputes": l.disputes,
                "petitions": l.petitions,
                "resolved_on_spot": l.resolved_on_spot,
                "resolved_in_time": l.resolved_in_time,
                "resolved_late": l.resolved_late,
                "escalated": l.escalated,
                "explained": l.explained,
                "open": l.open,
                "overdue": l.overdue,
                "closed": closed,
                "resolution_rate_bp": (l.collected > 0).then(|| bp(closed, l.collected)),
                "reopened": l.reopened,
                "verified": l.verified,
                "disputes_mediated": l.disputes_mediated,
                "dispute_households": l.dispute_households,
                "by_category": l.by_category.iter()
                    .map(|(k, n)| json!({"category": k, "count": n}))
                    .collect::<Vec<_>>(),
            },
            "callbacks": {
                "callbacks": c.callbacks,
                "done": c.done,
                "unreachable": c.unreachable,
                "open": c.open,
                "overdue": c.overdue,
                "reach_rate_bp": bp(c.reached, c.attempted),
                "satisfaction_rate_bp": bp(c.items_satisfied, c.items_answered),
                "visit_confirmation_rate_bp":
                    bp(c.visits_checked - c.visits_not_confirmed, c.visits_checked),
                "visits_checked": c.visits_checked,
                "visits_not_confirmed": c.visits_not_confirmed,
            },
        })
    }

    /// Everything, as JSON (`--json`).
    pub fn to_json(&self, gateway_url: &str) -> Value {
        let s = &self.setup;
        let p = &self.petition;
        json!({
            "seed": self.seed,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "region_code": self.region_code,
            "summary_url": self.summary_url(gateway_url),
            "setup": {
                "townships": s.townships, "villages": s.villages, "work_zones": s.work_zones,
                "cadres": s.cadres, "assignments": s.assignments, "households": s.households,
                "poor_households": s.poor_households, "petition_households": s.petition_households,
            },
            "figures": self.figures_json(),
            "ledger_walk_in": self.ledger.walk_in,
            "callbacks_unsatisfied": self.callbacks.unsatisfied,
            "petition": {
                "cases": p.cases, "accepted": p.accepted,
                "matched_households": p.matched_households, "ledger_items": p.ledger_items,
            },
        })
    }

    /// Where the gateway serves this campaign's county summary.
    pub fn summary_url(&self, gateway_url: &str) -> String {
        format!(
            "{}/v1/reports/summary?region_code={}&campaign_id={}",
            gateway_url.trim_end_matches('/'),
            self.region_code,
            self.campaign_id
        )
    }

    /// A table with Chinese labels and English beside them.
    pub fn table(&self) -> String {
        let (s, v, h, l, c, p) = (
            &self.setup,
            &self.visits,
            &self.help,
            &self.ledger,
            &self.callbacks,
            &self.petition,
        );
        let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
        let pct = |bp: i64| format!("{}.{:02}%", bp / 100, bp % 100);
        let mut rows: Vec<(String, &str, String)> = vec![];
        let mut row = |zh: &str, en: &'static str, value: String| {
            rows.push((zh.to_owned(), en, value));
        };
        row("乡镇", "townships", s.townships.to_string());
        row("村（社区）", "villages", s.villages.to_string());
        row("工作片", "work zones", s.work_zones.to_string());
        row("干部", "cadres", s.cadres.to_string());
        row("包保责任", "assignments", s.assignments.to_string());
        row(
            "登记户数",
            "households registered",
            v.households_total.to_string(),
        );
        row(
            "  困难群众户",
            "poor households",
            s.poor_households.to_string(),
        );
        row(
            "  重点信访户",
            "petition households",
            s.petition_households.to_string(),
        );
        row(
            "走访群众户数",
            "households visited",
            v.households_visited.to_string(),
        );
        row("走访覆盖率", "coverage", pct(v.coverage_bp));
        row("走访次数", "visits", v.visits.to_string());
        for (i, (_, _, label, en)) in MODES.iter().enumerate() {
            row(&format!("  {label}"), en, v.by_mode[i].to_string());
        }
        row(
            "住宿（晚）",
            "overnight stays",
            v.overnight_stays.to_string(),
        );
        row(
            "回访否认的走访",
            "visits denied on callback",
            v.disputed_visits.to_string(),
        );
        row(
            "帮扶慰问户数",
            "households helped",
            h.households_helped.to_string(),
        );
        row(
            "  其中困难群众",
            "poor households helped",
            h.poor_households_helped.to_string(),
        );
        row("慰问金（元）", "cash given, yuan", yuan(h.cash_fen));
        row(
            "物资折款（元）",
            "goods given, yuan",
            yuan(h.goods_value_fen),
        );
        row(
            "送资料（份）",
            "materials handed out",
            self.materials.values().sum::<i64>().to_string(),
        );
        row("梳理问题建议", "items collected", l.collected.to_string());
        row(
            "  走访中反映",
            "raised on visits",
            v.items_raised_on_visits.to_string(),
        );
        row("  开门接访", "walk-in reception", l.walk_in.to_string());
        row("  问题", "problems", l.problems.to_string());
        row("  意见建议", "suggestions", l.suggestions.to_string());
        row("  矛盾纠纷", "disputes", l.disputes.to_string());
        row("  信访", "petitions", l.petitions.to_string());
        row(
            "当即解决",
            "resolved on the spot",
            l.resolved_on_spot.to_string(),
        );
        row(
            "限时解决",
            "resolved in time",
            l.resolved_in_time.to_string(),
        );
        row("上报部门", "escalated", l.escalated.to_string());
        row("解释说明", "explained", l.explained.to_string());
        row("办理中", "still open", l.open.to_string());
        row("  超期", "overdue", l.overdue.to_string());
        row("回访核实", "verified on callback", l.verified.to_string());
        row(
            "不满意重办",
            "reopened (unsatisfied)",
            l.reopened.to_string(),
        );
        row(
            "化解矛盾纠纷（起）",
            "disputes mediated",
            l.disputes_mediated.to_string(),
        );
        row(
            "  涉及户数",
            "households involved",
            l.dispute_households.to_string(),
        );
        row(
            "办结率",
            "resolution rate",
            pct(bp(l.collected - l.open, l.collected)),
        );
        row("督查回访", "callbacks", c.callbacks.to_string());
        row("  已回访", "done", c.done.to_string());
        row("  联系不上", "unreachable", c.unreachable.to_string());
        row("  待回访", "open", c.open.to_string());
        row(
            "  满意率",
            "satisfaction rate",
            pct(bp(c.items_satisfied, c.items_answered)),
        );
        row("  不满意", "unsatisfied", c.unsatisfied.to_string());
        row("  核实走访", "visits checked", c.visits_checked.to_string());
        row(
            "  走访未核实",
            "visits not confirmed",
            c.visits_not_confirmed.to_string(),
        );
        row("信访件", "petition cases", p.cases.to_string());
        row("  已受理", "accepted", p.accepted.to_string());
        row(
            "  匹配到户",
            "matched to households",
            p.matched_households.to_string(),
        );
        row("  进入台账", "in the ledger", p.ledger_items.to_string());
        let mut out = String::new();
        for (zh, en, value) in rows {
            // CJK characters take two columns.
            let width: usize = zh
                .chars()
                .map(|c| if c.is_ascii() { 1 } else { 2 })
                .sum::<usize>()
                + 1
                + en.len();
            let pad = 46usize.saturating_sub(width);
            let _ = writeln!(out, "  {zh} {en}{} {value:>12}", " ".repeat(pad));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Comparing figures

/// Compares every figure `want` and `got` both have (objects by key; the
/// lists `by_mode`, `by_name` and `by_category` by their mode, name or
/// category, where an entry on one side only is a difference). Returns how
/// many figures were compared and the differences.
pub fn diff_figures(want: &Value, got: &Value) -> (usize, Vec<String>) {
    let mut diffs = Vec::new();
    let n = diff_at("", want, got, &mut diffs);
    (n, diffs)
}

fn list_key(v: &Value) -> Option<String> {
    ["mode", "category", "name"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
}

fn diff_at(path: &str, want: &Value, got: &Value, diffs: &mut Vec<String>) -> usize {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .filter_map(|(k, wv)| g.get(k).map(|gv| (k, wv, gv)))
            .map(|(k, wv, gv)| diff_at(&format!("{path}.{k}"), wv, gv, diffs))
            .sum(),
        (Value::Array(w), Value::Array(g)) => {
            let keyed = |xs: &[Value]| -> BTreeMap<String, Value> {
                xs.iter()
                    .enumerate()
                    .map(|(i, x)| (list_key(x).unwrap_or_else(|| i.to_string()), x.clone()))
                    .collect()
            };
            let (w, g) = (keyed(w), keyed(g));
            let mut n = 0;
            for k in w.keys().chain(g.keys()).collect::<BTreeSet<_>>() {
                match (w.get(k), g.get(k)) {
                    (Some(a), Some(b)) => n += diff_at(&format!("{path}[{k}]"), a, b, diffs),
                    (a, b) => {
                        n += 1;
                        diffs.push(format!("{path}[{k}]: generated {a:?}, reported {b:?}"));
                    }
                }
            }
            n
        }
        (w, g) => {
            if w != g {
                diffs.push(format!("{path}: generated {w}, reported {g}"));
            }
            1
        }
    }
}

/// The figures the services give for the county and campaign, in the
/// summary's shape (the same mapping the gateway makes).
fn service_figures(
    p: &RegionProgress,
    s: &GetIssueStatisticsResponse,
    c: &CallbackTotals,
) -> Value {
    let mut materials: BTreeMap<String, i64> = BTreeMap::new();
    for m in &p.materials {
        *materials.entry(m.name.clone()).or_default() += i64::from(m.quantity);
    }
    let closed = (s.collected - s.open).max(0);
    let by_mode: Vec<Value> = MODES
        .iter()
        .map(|(mode, key, label, _)| {
            let visits: i64 = p
                .visits_by_mode
                .iter()
                .filter(|m| m.mode == *mode as i32)
                .map(|m| m.visits)
                .sum();
            json!({"mode": key, "label": label, "visits": visits})
        })
        .collect();
    json!({
        "visits": {
            "households_total": p.households_total,
            "households_visited": p.households_visited,
            "coverage_bp": p.coverage_bp,
            "visits": p.visits,
            "by_mode": by_mode,
            "overnight_stays": p.overnight_stays,
            "disputed_visits": p.disputed_visits,
            "items_raised_on_visits": p.items_raised,
            "items_resolved_on_spot_on_visits": p.items_resolved_on_spot,
        },
        "help": {
            "households_helped": p.households_helped,
            "poor_households_helped": p.poor_households_helped,
            "cash_fen": p.help_cash_fen,
            "goods_value_fen": p.help_goods_value_fen,
            "total_fen": p.help_cash_fen + p.help_goods_value_fen,
        },
        "materials": {
            "total": materials.values().sum::<i64>(),
            "by_name": materials.iter()
                .map(|(name, q)| json!({"name": name, "quantity": q}))
                .collect::<Vec<_>>(),
        },
        "ledger": {
            "collected": s.collected, "problems": s.problems, "suggestions": s.suggestions,
            "disputes": s.disputes, "petitions": s.petitions,
            "resolved_on_spot": s.resolved_on_spot, "resolved_in_time": s.resolved_in_time,
            "resolved_late": s.resolved_late, "escalated": s.escalated, "explained": s.explained,
            "open": s.open, "overdue": s.overdue, "closed": closed,
            "resolution_rate_bp": (s.collected > 0).then(|| bp(closed, s.collected)),
            "reopened": s.reopened, "verified": s.verified,
            "disputes_mediated": s.disputes_mediated, "dispute_households": s.dispute_households,
            "by_category": s.by_category.iter()
                .map(|k| json!({"category": k.category, "count": k.count}))
                .collect::<Vec<_>>(),
        },
        "callbacks": {
            "callbacks": c.callbacks, "done": c.done, "unreachable": c.unreachable,
            "open": c.open, "overdue": c.overdue,
            "reach_rate_bp": c.reach_rate_bp, "satisfaction_rate_bp": c.satisfaction_rate_bp,
            "visit_confirmation_rate_bp": c.visit_confirmation_rate_bp,
            "visits_checked": c.visits_checked, "visits_not_confirmed": c.visits_not_confirmed,
        },
    })
}

// ---------------------------------------------------------------------------
// Talking to the services

type Authed = InterceptedService<Channel, BearerInterceptor>;
type Registry = RegistryServiceClient<Authed>;
type Ledger = IssueServiceClient<Authed>;
type Supervision = SupervisionServiceClient<Authed>;
type Petition = PetitionServiceClient<Authed>;

struct Clients {
    keys: JwtKeys,
    registry: Channel,
    issues: Channel,
    supervision: Channel,
    petition: Channel,
    admin: String,
}

async fn channel(what: &str, url: &str) -> anyhow::Result<Channel> {
    Channel::from_shared(url.to_owned())
        .with_context(|| format!("{what} URL {url:?}"))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .with_context(|| format!("cannot reach the {what} service at {url}"))
}

impl Clients {
    async fn connect(config: &Config) -> anyhow::Result<Self> {
        let keys = JwtKeys::from_pem_es256(
            Some(config.jwt_private_key.as_bytes()),
            config.jwt_public_key.as_bytes(),
        )?;
        let admin = keys.mint_for(
            "zfdemo",
            &[roles::COUNTY_ADMIN, roles::TOWNSHIP_ADMIN],
            COUNTY,
            chrono::Duration::hours(12),
        )?;
        Ok(Self {
            registry: channel("registry", &config.registry_url).await?,
            issues: channel("issues", &config.issues_url).await?,
            supervision: channel("supervision", &config.supervision_url).await?,
            petition: channel("petition", &config.petition_url).await?,
            keys,
            admin,
        })
    }

    fn token(&self, sub: &str, roles: &[&str]) -> anyhow::Result<String> {
        self.keys
            .mint_for(sub, roles, COUNTY, chrono::Duration::hours(12))
    }

    fn registry(&self) -> Registry {
        RegistryServiceClient::with_interceptor(
            self.registry.clone(),
            BearerInterceptor(self.admin.clone()),
        )
    }

    fn ledger(&self) -> Ledger {
        self.ledger_as(&self.admin)
    }

    fn ledger_as(&self, token: &str) -> Ledger {
        IssueServiceClient::with_interceptor(
            self.issues.clone(),
            BearerInterceptor(token.to_owned()),
        )
    }

    fn supervision(&self) -> Supervision {
        self.supervision_as(&self.admin)
    }

    fn supervision_as(&self, token: &str) -> Supervision {
        SupervisionServiceClient::with_interceptor(
            self.supervision.clone(),
            BearerInterceptor(token.to_owned()),
        )
    }

    fn petition(&self) -> Petition {
        PetitionServiceClient::with_interceptor(
            self.petition.clone(),
            BearerInterceptor(self.admin.clone()),
        )
    }
}

/// A gRPC error with what was being done.
fn rpc(what: impl std::fmt::Display) -> impl FnOnce(tonic::Status) -> anyhow::Error {
    move |s| anyhow!("{what}: {} ({:?})", s.message(), s.code())
}

/// Failures worth another try: the service is busy (a pool timeout is an
/// internal error), restarting or unreachable for a moment.
fn transient(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable
            | Code::Internal
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
    )
}

/// Tries of a call that keeps failing transiently.
const TRIES: u32 = 7;

/// The back-off before try `n` (from 2): 0.25 s doubling, at most 8 s.
async fn back_off(n: u32) {
    let ms = (250u64 << (n.saturating_sub(2)).min(5)).min(8_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// `client.method(request)`, tried again on transient failures (every call
/// made this way is idempotent or a read); the response's body.
macro_rules! call {
    ($what:expr, $client:expr, $method:ident, $req:expr) => {{
        let req = $req;
        let mut client = $client.clone();
        let mut n = 1;
        loop {
            match client.$method(req.clone()).await {
                Ok(r) => break Ok::<_, anyhow::Error>(r.into_inner()),
                Err(s) if transient(&s) && n < TRIES => {
                    n += 1;
                    back_off(n).await;
                }
                Err(s) => break Err(rpc($what)(s)),
            }
        }
    }};
}

/// Polls `check` every 200 ms until it says done, or fails after `timeout`
/// with its last word on what is missing.
async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<String>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let Some(missing) = check().await? else {
            return Ok(());
        };
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "timed out after {} s waiting for {what}: {missing}",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Calls in flight at once (each service's pool is small).
const CONCURRENCY: usize = 6;

fn say(config: &Config, msg: impl std::fmt::Display) {
    if config.verbose {
        eprintln!("[zfdemo] {msg}");
    }
}

/// Generates the demo county and campaign against running services and
/// returns its totals.
pub async fn run(config: &Config) -> anyhow::Result<Totals> {
    ensure!(
        config.households >= 20,
        "--households must be at least 20 (got {})",
        config.households
    );
    let seed = config.seed;
    let clients = Clients::connect(config).await?;
    let county = plan_county(seed);
    let households = plan_households(seed, config.households, &county);

    say(
        config,
        format_args!(
            "{COUNTY_NAME}: {} townships, {} villages, {} cadres, {} households",
            county.townships.len(),
            county.villages.len(),
            county.cadres.len(),
            households.len()
        ),
    );
    setup_county(&clients, &county).await?;
    register_households(&clients, &county, &households).await?;

    // The campaign's period is its own record: a rerun takes it from there.
    let campaign_id = id(seed, &format!("{}/campaign", households.len()));
    let registry = clients.registry();
    let existing = {
        let mut n = 1;
        loop {
            let req = GetCampaignRequest {
                campaign_id: campaign_id.to_string(),
            };
            match registry.clone().get_campaign(req).await {
                Ok(r) => break r.into_inner().campaign,
                Err(s) if s.code() == Code::NotFound => break None,
                Err(s) if transient(&s) && n < TRIES => {
                    n += 1;
                    back_off(n).await;
                }
                Err(s) => return Err(rpc("read the campaign")(s)),
            }
        }
    };
    let anchor = match &existing {
        Some(c) => c
            .starts_at
            .as_ref()
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
            .ok_or_else(|| anyhow!("campaign {campaign_id} has no start"))?,
        None => beijing_midnight_days_ago(30),
    };
    let campaign = plan_campaign(seed, households.len(), &county, &households, anchor);
    let supervision = clients.supervision();
    if existing.is_none() {
        // The policy first: it applies to the events after it.
        let req = SetSamplingPolicyRequest {
            campaign_id: campaign.id.to_string(),
            region_code: COUNTY_CODE.into(),
            policy: Some(policy()),
        };
        call!(
            "set the sampling policy",
            supervision,
            set_sampling_policy,
            req
        )?;
    }
    call!(
        "create the campaign",
        registry,
        create_campaign,
        campaign_request(&campaign)
    )?;
    let team = CreateTeamRequest {
        team_id: id(seed, "team").to_string(),
        name: "县委大走访督查组".into(),
        region_code: COUNTY.into(),
        member_ids: county
            .supervisors
            .iter()
            .map(|s| county.cadres[*s].id.to_string())
            .collect(),
    };
    call!(
        "create the supervision team",
        supervision,
        create_team,
        team
    )?;
    say(
        config,
        format_args!(
            "campaign {} ({}), {} assignments",
            campaign.id,
            campaign.name,
            campaign.assignments.len()
        ),
    );
    create_assignments(&clients, &county, &campaign).await?;

    say(
        config,
        format_args!(
            "recording {} visits and {} walk-in items",
            campaign.visits.len(),
            campaign
                .items
                .iter()
                .filter(|i| i.walk_in.is_some())
                .count()
        ),
    );
    record_visits(&clients, &county, &households, &campaign).await?;
    create_walk_ins(&clients, &county, &campaign).await?;

    say(config, "waiting for the ledger to hold every item");
    let issues = wait_for_ledger(&clients, config, &campaign).await?;
    say(config, "working the ledger");
    work_ledger(&clients, &county, &campaign, issues.clone()).await?;

    let expected = count(
        seed,
        &county,
        &households,
        &campaign,
        PetitionTotals::default(),
        Overdue::default(),
    );
    let want = expected.callbacks.callbacks;
    say(config, format_args!("waiting for {want} callback tasks"));
    let campaign_key = campaign.id.to_string();
    wait_for("the callback tasks", config.timeout, || {
        let supervision = supervision.clone();
        let campaign_id = campaign_key.clone();
        async move {
            let t = callback_totals(&supervision, &campaign_id).await?;
            ensure!(
                t.callbacks <= want,
                "supervision holds {} callbacks for the campaign, more than the {want} expected",
                t.callbacks
            );
            Ok((t.callbacks < want).then(|| format!("{} of {want} tasks", t.callbacks)))
        }
    })
    .await?;
    say(config, "answering callbacks");
    let callbacks_overdue =
        work_callbacks(&clients, &county, &households, &campaign, &issues).await?;
    wait_for_outcomes(&clients, config, &campaign, &expected).await?;

    say(config, "taking in petition cases");
    let petition = petition_cases(&clients, config, &campaign).await?;

    // Deadlines are the ledger's (set when items arrive and are assigned).
    let now = Utc::now().timestamp();
    let items_overdue = list_campaign_issues(&clients.ledger(), &campaign_key)
        .await?
        .iter()
        .filter(|i| {
            IssueState::try_from(i.state).is_ok_and(open_state)
                && i.deadline.as_ref().is_some_and(|d| d.seconds < now)
        })
        .count() as i64;
    let overdue = Overdue {
        items: items_overdue,
        callbacks: callbacks_overdue,
    };
    Ok(count(
        seed,
        &county,
        &households,
        &campaign,
        petition,
        overdue,
    ))
}

/// Compares the totals with what the services themselves answer for the
/// county and campaign; the differences (none when they agree).
pub async fn check_with_services(config: &Config, totals: &Totals) -> anyhow::Result<Vec<String>> {
    let clients = Clients::connect(config).await?;
    let req = GetRegionProgressRequest {
        campaign_id: totals.campaign_id.clone(),
        region_code: COUNTY_CODE.into(),
        zone_id: String::new(),
    };
    let progress = call!(
        "read the county's progress",
        clients.registry(),
        get_region_progress,
        req
    )?
    .total
    .unwrap_or_default();
    let stats = issue_stats(&clients.ledger(), &totals.campaign_id).await?;
    let callbacks = callback_totals(&clients.supervision(), &totals.campaign_id).await?;
    let (_, diffs) = diff_figures(
        &totals.figures_json(),
        &service_figures(&progress, &stats, &callbacks),
    );
    Ok(diffs)
}

async fn issue_stats(
    ledger: &Ledger,
    campaign_id: &str,
) -> anyhow::Result<GetIssueStatisticsResponse> {
    let req = GetIssueStatisticsRequest {
        region_code: COUNTY.into(),
        campaign_id: campaign_id.to_owned(),
    };
    call!(
        "read the ledger's statistics",
        ledger,
        get_issue_statistics,
        req
    )
}

async fn callback_totals(s: &Supervision, campaign_id: &str) -> anyhow::Result<CallbackTotals> {
    let req = GetCallbackStatisticsRequest {
        region_code: COUNTY.into(),
        campaign_id: campaign_id.to_owned(),
        failure_threshold_bp: 0,
    };
    Ok(call!(
        "read the callback statistics",
        s,
        get_callback_statistics,
        req
    )?
    .totals
    .unwrap_or_default())
}

async fn setup_county(clients: &Clients, county: &County) -> anyhow::Result<()> {
    let registry = clients.registry();
    let regions = ImportRegionsRequest {
        csv: region_csv(county).into_bytes(),
    };
    call!("import the region codes", registry, import_regions, regions)?;
    for town in &county.townships {
        for (zone_id, name, villages) in &town.zones {
            let req = CreateWorkZoneRequest {
                zone_id: zone_id.to_string(),
                township_code: town.code.clone(),
                name: name.clone(),
                village_codes: villages
                    .iter()
                    .map(|v| county.villages[*v].code.clone())
                    .collect(),
            };
            call!(
                format!("create work zone {name} of {}", town.name),
                registry,
                create_work_zone,
                req
            )?;
        }
    }
    stream::iter(county.cadres.iter())
        .map(|c| {
            let registry = registry.clone();
            let req = RegisterCadreRequest {
                cadre_id: c.id.to_string(),
                name: c.name.clone(),
                phone: c.phone.clone(),
                unit: c.unit as i32,
                position: c.position.into(),
                region_code: c.region.clone(),
                roles: c.roles.iter().map(|r| (*r).to_owned()).collect(),
            };
            async move {
                call!(
                    format!("register cadre {}", c.name),
                    registry,
                    register_cadre,
                    req
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn register_households(
    clients: &Clients,
    county: &County,
    households: &[Household],
) -> anyhow::Result<()> {
    let registry = clients.registry();
    for (b, batch) in households.chunks(500).enumerate() {
        let req = RegisterHouseholdsRequest {
            households: batch
                .iter()
                .map(|h| RegisterHouseholdRequest {
                    household_id: h.id.to_string(),
                    village_code: county.villages[h.village].code.clone(),
                    group_name: h.group.clone(),
                    address: h.address.clone(),
                    head_name: h.head.clone(),
                    id_number: h.id_number.clone(),
                    phone: h.phone.clone(),
                    member_count: h.members,
                    tags: h.tags.iter().map(|t| (*t).to_owned()).collect(),
                })
                .collect(),
            all_or_nothing: false,
            validate_only: false,
        };
        let r = call!("register households", registry, register_households, req)?;
        if r.failed > 0 {
            let first = r
                .results
                .iter()
                .find(|x| !x.errors.is_empty())
                .map(|x| {
                    let e: Vec<String> = x
                        .errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.reason))
                        .collect();
                    format!("household {}: {}", b * 500 + x.index as usize, e.join("; "))
                })
                .unwrap_or_default();
            bail!(
                "the registry refused {} households (a demo of another --seed or \
                 --households in this database?); first: {first}",
                r.failed
            );
        }
    }
    Ok(())
}

async fn create_assignments(
    clients: &Clients,
    county: &County,
    c: &Campaign,
) -> anyhow::Result<()> {
    let registry = clients.registry();
    stream::iter(c.assignments.iter())
        .map(|(aid, cadre, target, target_id)| {
            let registry = registry.clone();
            let req = CreateAssignmentRequest {
                assignment_id: aid.to_string(),
                campaign_id: c.id.to_string(),
                cadre_id: county.cadres[*cadre].id.to_string(),
                target: *target as i32,
                target_id: target_id.clone(),
            };
            async move {
                call!(
                    format!("assign {target:?} {target_id}"),
                    registry,
                    create_assignment,
                    req
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

fn mode_phrase(mode: VisitMode) -> &'static str {
    match mode {
        VisitMode::DoorToDoor => "入户走访",
        VisitMode::Phone => "电话回访",
        VisitMode::Reception => "在村部集中接访",
        VisitMode::CaseVisit => "带案下访",
        VisitMode::LiveIn => "与农户同吃同住",
        VisitMode::Unspecified => "走访",
    }
}

fn visit_request(
    county: &County,
    households: &[Household],
    c: &Campaign,
    v: &Visit,
) -> RecordVisitRequest {
    let hh = &households[v.household];
    let village = &county.villages[hh.village];
    let cadre = &county.cadres[v.cadres[0]];
    let in_person = matches!(
        v.mode,
        VisitMode::DoorToDoor | VisitMode::LiveIn | VisitMode::CaseVisit
    );
    let items: Vec<RaisedItem> = v
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let item = &c.items[*i];
            RaisedItem {
                item_no: n as i32 + 1,
                kind: item.kind as i32,
                category: item.category.into(),
                description: item.description.clone(),
                households_involved: item.households_involved,
                resolved_on_spot: item.fate == Fate::OnSpot,
                resolution_note: item.resolution_note.clone(),
                urgent: item.urgent,
            }
        })
        .collect();
    let mut narrative = format!(
        "{}{}{}{}户主{}家，了解家庭生产生活情况，",
        cadre.name,
        mode_phrase(v.mode),
        village.name,
        hh.group,
        hh.head
    );
    if items.is_empty() {
        narrative.push_str("群众对近期村里工作表示满意，无新的诉求。");
    } else {
        let said: Vec<&str> = items.iter().map(|i| i.description.as_str()).collect();
        let _ = write!(narrative, "户主反映：{}。", said.join("；"));
    }
    if v.cash_fen > 0 {
        let _ = write!(narrative, "送去慰问金{}元。", v.cash_fen / 100);
    }
    if !v.goods.is_empty() {
        let _ = write!(narrative, "送去{}。", v.goods);
    }
    if v.overnight {
        narrative.push_str("当晚住在户中，与群众拉家常。");
    }
    let situation = if hh.tags.contains(&"空巢老人") {
        format!("{}口人，老人独居，子女在外地", hh.members)
    } else {
        let mut rng = Rng::new(v.household as u64, "situation", 0);
        format!("一家{}口，{}", hh.members, rng.pick(OCCUPATIONS))
    };
    RecordVisitRequest {
        visit_id: v.id.to_string(),
        campaign_id: c.id.to_string(),
        household_id: hh.id.to_string(),
        cadre_ids: v
            .cadres
            .iter()
            .map(|x| county.cadres[*x].id.to_string())
            .collect(),
        started_at: Some(ts(v.start)),
        ended_at: Some(ts(v.end)),
        mode: v.mode as i32,
        overnight_stay: v.overnight,
        location: in_person.then_some(GeoPoint {
            latitude: hh.location.0,
            longitude: hh.location.1,
        }),
        situation,
        narrative,
        policies_explained: v.policies.iter().map(|p| (*p).to_owned()).collect(),
        materials: v
            .materials
            .iter()
            .map(|(name, q)| MaterialHandout {
                name: (*name).into(),
                quantity: *q,
            })
            .collect(),
        help: (v.cash_fen + v.goods_fen > 0).then(|| Help {
            cash_fen: v.cash_fen,
            goods_description: v.goods.into(),
            goods_value_fen: v.goods_fen,
        }),
        photo_refs: if in_person {
            vec![format!(
                "demo/{}/{}.jpg",
                &c.id.simple().to_string()[..8],
                v.id
            )]
        } else {
            vec![]
        },
        items,
    }
}

async fn record_visits(
    clients: &Clients,
    county: &County,
    households: &[Household],
    c: &Campaign,
) -> anyhow::Result<()> {
    let registry = clients.registry();
    stream::iter(c.visits.iter())
        .map(|v| {
            let registry = registry.clone();
            let req = visit_request(county, households, c, v);
            async move {
                call!(
                    format!("record visit {}", v.id),
                    registry,
                    record_visit,
                    req
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn create_walk_ins(clients: &Clients, county: &County, c: &Campaign) -> anyhow::Result<()> {
    let ledger = clients.ledger();
    stream::iter(c.items.iter().filter(|i| i.walk_in.is_some()))
        .map(|item| {
            let ledger = ledger.clone();
            let req = CreateIssueRequest {
                issue_id: item.key.0.to_string(),
                source: IssueSource::Reception as i32,
                region_code: county.villages[item.village].code.clone(),
                household_id: item.walk_in.map(|h| h.to_string()).unwrap_or_default(),
                campaign_id: c.id.to_string(),
                kind: item.kind as i32,
                category: item.category.into(),
                description: format!("开门接访：{}", item.description),
                households_involved: item.households_involved,
                urgent: item.urgent,
                concerned_cadre_ids: vec![],
            };
            async move { call!("create a walk-in item", ledger, create_issue, req) }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Every ledger item of the campaign.
async fn list_campaign_issues(ledger: &Ledger, campaign_id: &str) -> anyhow::Result<Vec<Issue>> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = ListIssuesRequest {
            region_code: COUNTY.into(),
            campaign_id: campaign_id.to_owned(),
            page_size: 500,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = call!("list the campaign's ledger items", ledger, list_issues, req)?;
        out.extend(page.issues);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

/// Waits until the ledger holds every item (those of visits come from the
/// registry's events) and returns them, each with its plan index.
async fn wait_for_ledger(
    clients: &Clients,
    config: &Config,
    c: &Campaign,
) -> anyhow::Result<Vec<(usize, Issue)>> {
    let want = c.items.len() as i64;
    let campaign_id = c.id.to_string();
    let ledger = clients.ledger();
    wait_for("the ledger items", config.timeout, || {
        let ledger = ledger.clone();
        let campaign_id = campaign_id.clone();
        async move {
            let s = issue_stats(&ledger, &campaign_id).await?;
            Ok((s.collected < want).then(|| format!("{} of {want} items", s.collected)))
        }
    })
    .await?;
    let by_key: HashMap<(Uuid, i32), usize> = c
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.key, i))
        .collect();
    let mut out = Vec::new();
    for issue in list_campaign_issues(&ledger, &campaign_id).await? {
        let key = if issue.visit_id.is_empty() {
            (Uuid::parse_str(&issue.issue_id)?, 0)
        } else {
            (Uuid::parse_str(&issue.visit_id)?, issue.item_no)
        };
        let i = by_key
            .get(&key)
            .ok_or_else(|| anyhow!("ledger item {} is not one of the demo's", issue.issue_id))?;
        out.push((*i, issue));
    }
    ensure!(
        out.len() == c.items.len(),
        "the ledger holds {} of the campaign's {} items",
        out.len(),
        c.items.len()
    );
    Ok(out)
}

/// Moves each item from where it is towards its fate.
async fn work_ledger(
    clients: &Clients,
    county: &County,
    c: &Campaign,
    issues: Vec<(usize, Issue)>,
) -> anyhow::Result<()> {
    stream::iter(issues)
        .map(|(i, issue)| {
            let item = &c.items[i];
            let cadre = county.cadres[item.responsible].id.to_string();
            async move {
                let department = clients.token(item.department, &[roles::DEPARTMENT])?;
                advance(
                    clients.ledger(),
                    clients.ledger_as(&department),
                    issue,
                    item,
                    &cadre,
                )
                .await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Takes the item's next steps from its current state. A step that fails
/// for a passing reason, or finds the item changed (a stale version), is
/// retried from the item as the ledger then holds it.
async fn advance(
    mut admin: Ledger,
    mut department: Ledger,
    mut issue: Issue,
    item: &Item,
    cadre: &str,
) -> anyhow::Result<()> {
    use IssueState as S;
    let id = issue.issue_id.clone();
    let mut troubles = 0;
    loop {
        let state = S::try_from(issue.state).unwrap_or(S::Unspecified);
        let v = issue.version;
        let (step, result) = match (item.fate, state) {
            (Fate::TimeLimited | Fate::InProgress, S::Open) => (
                "assign",
                admin
                    .assign_issue(AssignIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        cadre_id: cadre.into(),
                        deadline_days: if item.kind == ItemKind::Petition {
                            30
                        } else {
                            15
                        },
                        note: "限时解决".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::InProgress, S::Assigned) => (
                "start",
                admin
                    .start_issue(StartIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        note: "已到现场查看，正在协调".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::TimeLimited, S::Assigned | S::InProgress) => (
                "resolve",
                admin
                    .resolve_issue(ResolveIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        resolution: match item.kind {
                            ItemKind::Dispute => "组织双方调解，达成书面协议".into(),
                            ItemKind::Suggestion => "建议已采纳，纳入村级工作计划".into(),
                            _ => "已按期办结，群众认可".into(),
                        },
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::Explain, S::Open) => (
                "explain",
                admin
                    .explain_issue(ExplainIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        explanation: "已向群众解释相关政策规定，群众表示理解".into(),
                        resident_acknowledged: true,
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::Escalate | Fate::EscalateResolved, S::Open) => (
                "escalate",
                admin
                    .escalate_issue(EscalateIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        department: item.department.into(),
                        assisting_departments: vec![],
                        sign_within_hours: 48,
                        note: "需县直部门协调解决".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::EscalateResolved, S::Escalated) if issue.signed_at.is_none() => (
                "sign for",
                department
                    .sign_issue(SignIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        note: "已签收".into(),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            (Fate::EscalateResolved, S::Escalated) => (
                "resolve",
                department
                    .resolve_issue(ResolveIssueRequest {
                        issue_id: id.clone(),
                        expected_version: v,
                        resolution: format!("{}已安排资金解决", item.department),
                    })
                    .await
                    .map(|r| r.into_inner().issue),
            ),
            _ => return Ok(()),
        };
        match result {
            Ok(Some(next)) => issue = next,
            Ok(None) => bail!("the ledger answered {step} of item {id} without the item"),
            Err(s) if (transient(&s) || s.code() == Code::Aborted) && troubles < TRIES => {
                troubles += 1;
                back_off(troubles + 1).await;
                let req = GetIssueRequest {
                    issue_id: id.clone(),
                };
                issue = call!(format!("read ledger item {id}"), admin, get_issue, req)?
                    .issue
                    .ok_or_else(|| anyhow!("the ledger answered without item {id}"))?;
            }
            Err(s) => return Err(rpc(format!("{step} ledger item {id}"))(s)),
        }
    }
}

/// What a supervisor records for one callback.
enum Reply {
    Item(Answer),
    Visit {
        confirmed: bool,
        members: i32,
        date: String,
    },
}

/// Answers the callbacks on each supervisor's worklist as planned; the
/// number of the demo's callbacks left open past their due time.
async fn work_callbacks(
    clients: &Clients,
    county: &County,
    households: &[Household],
    c: &Campaign,
    issues: &[(usize, Issue)],
) -> anyhow::Result<i64> {
    let by_issue: HashMap<&str, usize> = issues
        .iter()
        .map(|(i, issue)| (issue.issue_id.as_str(), *i))
        .collect();
    let by_visit: HashMap<String, usize> = c
        .visits
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id.to_string(), i))
        .collect();
    let reply_to = |cb: &Callback| -> Option<Reply> {
        if cb.subject == CallbackSubject::Issue as i32 {
            let item = &c.items[*by_issue.get(cb.issue_id.as_str())?];
            (item.answer != Answer::LeaveOpen).then_some(Reply::Item(item.answer))
        } else {
            let i = *by_visit.get(&cb.visit_id)?;
            let v = &c.visits[i];
            Some(Reply::Visit {
                confirmed: c.denied_visit != Some(i),
                members: households[v.household].members,
                date: v.start.date_naive().format("%Y-%m-%d").to_string(),
            })
        }
    };
    let mut overdue = 0;
    for s in &county.supervisors {
        let sub = county.cadres[*s].id.to_string();
        let sup = clients.supervision_as(&clients.token(&sub, &[roles::SUPERVISOR])?);
        loop {
            let req = ListWorklistRequest {
                page_size: 500,
                overdue_only: false,
            };
            let page = call!("read the worklist", sup, list_worklist, req)?.callbacks;
            let now = Utc::now().timestamp();
            let ours_overdue = page
                .iter()
                .filter(|cb| {
                    let ours = by_issue.contains_key(cb.issue_id.as_str())
                        || by_visit.contains_key(&cb.visit_id);
                    ours && cb.due_at.as_ref().is_some_and(|d| d.seconds < now)
                })
                .count() as i64;
            let todo: Vec<(Callback, Reply)> = page
                .into_iter()
                .filter_map(|cb| reply_to(&cb).map(|r| (cb, r)))
                .collect();
            if todo.is_empty() {
                overdue += ours_overdue;
                break;
            }
            stream::iter(todo)
                .map(|(cb, reply)| answer(sup.clone(), cb, reply))
                .buffer_unordered(CONCURRENCY)
                .try_collect::<Vec<_>>()
                .await?;
        }
    }
    Ok(overdue)
}

/// One attempt, tried again on transient failures; None when the callback
/// was closed meanwhile (an earlier try went through after all).
async fn attempt(
    sup: &mut Supervision,
    req: RecordAttemptRequest,
) -> anyhow::Result<Option<Callback>> {
    let mut n = 1;
    loop {
        match sup.record_attempt(req.clone()).await {
            Ok(r) => return Ok(r.into_inner().callback),
            Err(s) if s.code() == Code::FailedPrecondition => return Ok(None),
            Err(s) if transient(&s) && n < TRIES => {
                n += 1;
                back_off(n).await;
            }
            Err(s) => {
                return Err(rpc(format!(
                    "record a callback attempt on {}",
                    req.callback_id
                ))(s));
            }
        }
    }
}

async fn answer(mut sup: Supervision, cb: Callback, reply: Reply) -> anyhow::Result<()> {
    let base = RecordAttemptRequest {
        callback_id: cb.callback_id.clone(),
        method: Method::Phone as i32,
        ..Default::default()
    };
    let req = match reply {
        Reply::Item(Answer::Unreachable) => {
            for _ in 0..MAX_ATTEMPTS + 2 {
                let req = RecordAttemptRequest {
                    reached: false,
                    comment: "电话无人接听".into(),
                    ..base.clone()
                };
                match attempt(&mut sup, req).await? {
                    Some(c) if c.state == CallbackState::Open as i32 => {}
                    _ => break,
                }
            }
            return Ok(());
        }
        Reply::Item(a) => {
            let (satisfaction, fixed, comment) = match a {
                Answer::Unsatisfied => (
                    Satisfaction::Unsatisfied,
                    false,
                    "群众反映问题没有真正解决，要求重新处理",
                ),
                Answer::Basically => (
                    Satisfaction::BasicallySatisfied,
                    true,
                    "问题已解决，希望以后多来看看",
                ),
                _ => (Satisfaction::Satisfied, true, "问题已解决，群众满意"),
            };
            RecordAttemptRequest {
                reached: true,
                fix_confirmed: fixed,
                satisfaction: satisfaction as i32,
                comment: comment.into(),
                ..base
            }
        }
        Reply::Visit {
            confirmed: true,
            members,
            date,
        } => RecordAttemptRequest {
            reached: true,
            visit_confirmed: true,
            comment: "户主确认干部上门走访".into(),
            answered_member_count: Some(members),
            answered_visit_date: date,
            ..base
        },
        Reply::Visit {
            confirmed: false, ..
        } => RecordAttemptRequest {
            reached: true,
            visit_confirmed: false,
            comment: "户主称没有干部来过".into(),
            ..base
        },
    };
    attempt(&mut sup, req).await?;
    Ok(())
}

/// Waits until the callback outcomes reached the ledger (verified, reopened)
/// and the registry (the denied visit flagged disputed).
async fn wait_for_outcomes(
    clients: &Clients,
    config: &Config,
    c: &Campaign,
    expected: &Totals,
) -> anyhow::Result<()> {
    let campaign_id = c.id.to_string();
    let ledger = clients.ledger();
    let (verified, reopened) = (expected.ledger.verified, expected.ledger.reopened);
    wait_for(
        "the callback outcomes in the ledger",
        config.timeout,
        || {
            let ledger = ledger.clone();
            let campaign_id = campaign_id.clone();
            async move {
                let s = issue_stats(&ledger, &campaign_id).await?;
                Ok((s.verified != verified || s.reopened != reopened).then(|| {
                    format!(
                        "verified {} of {verified}, reopened {} of {reopened}",
                        s.verified, s.reopened
                    )
                }))
            }
        },
    )
    .await?;
    if let Some(i) = c.denied_visit {
        let visit_id = c.visits[i].id.to_string();
        let registry = clients.registry();
        wait_for("the denied visit to be flagged", config.timeout, || {
            let registry = registry.clone();
            let visit_id = visit_id.clone();
            async move {
                let req = GetVisitRequest {
                    visit_id: visit_id.clone(),
                };
                let v = call!("read the denied visit", registry, get_visit, req)?
                    .visit
                    .unwrap_or_default();
                Ok((!v.disputed).then(|| format!("visit {visit_id} not yet disputed")))
            }
        })
        .await?;
    }
    Ok(())
}

/// The bridge's cases from the demo's petition system.
async fn our_cases(
    petition: &Petition,
    source: &str,
    ours: &HashMap<&str, &PetitionCase>,
) -> anyhow::Result<Vec<Case>> {
    let mut out: Vec<Case> = Vec::new();
    let mut page_token = String::new();
    loop {
        let req = ListCasesRequest {
            region_code: COUNTY.into(),
            page_size: 500,
            page_token: page_token.clone(),
            ..Default::default()
        };
        let page = call!("list the petition cases", petition, list_cases, req)?;
        out.extend(
            page.cases
                .into_iter()
                .filter(|k| k.source_system == source && ours.contains_key(k.external_id.as_str())),
        );
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = page.next_page_token;
    }
}

/// Registers the county's petition system, imports its cases as a CSV
/// batch, accepts all but the first (受理), and waits for their ledger items.
async fn petition_cases(
    clients: &Clients,
    config: &Config,
    c: &Campaign,
) -> anyhow::Result<PetitionTotals> {
    let petition = clients.petition();
    let source = "qidong-xinfang";
    let req = RegisterSourceRequest {
        source_system: source.into(),
        display_name: "祁东县信访信息系统".into(),
        region_code: COUNTY.into(),
        callback_url: String::new(),
        secret: format!("zfdemo-{}-signing-secret", config.seed),
    };
    call!(
        "register the petition system",
        petition,
        register_source,
        req
    )?;
    let mut csv = String::from("外部编号,渠道,信访人,身份证号,联系电话,区划代码,内容,收到时间\n");
    for k in &c.cases {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{}",
            k.external_id, k.channel, k.name, k.id_number, k.phone, k.region, k.content, k.received
        );
    }
    let req = ImportCasesRequest {
        source_system: source.into(),
        file_name: "信访件.csv".into(),
        content: csv.into_bytes(),
    };
    let r = call!("import the petition cases", petition, import_cases, req)?;
    if let Some(e) = r.errors.first() {
        bail!(
            "the petition bridge refused row {} ({}): {}",
            e.row,
            e.column,
            e.reason
        );
    }
    let ours: HashMap<&str, &PetitionCase> = c
        .cases
        .iter()
        .map(|k| (k.external_id.as_str(), k))
        .collect();
    let cases = our_cases(&petition, source, &ours).await?;
    ensure!(
        cases.len() == c.cases.len(),
        "the petition bridge holds {} of the {} cases",
        cases.len(),
        c.cases.len()
    );
    for k in &cases {
        if !(ours[k.external_id.as_str()].accept && k.stage == Stage::Received as i32) {
            continue;
        }
        let req = AcceptCaseRequest {
            case_id: k.case_id.clone(),
            expected_version: 0,
            note: "依法受理，转乡镇办理".into(),
            new_facts: false,
        };
        let mut petition = petition.clone();
        let mut n = 1;
        loop {
            match petition.accept_case(req.clone()).await {
                Ok(_) => break,
                Err(s) if transient(&s) && n < TRIES => {
                    n += 1;
                    back_off(n).await;
                }
                // An earlier try went through after all?
                Err(s) if s.code() == Code::FailedPrecondition => {
                    let get = GetCaseRequest {
                        case_id: k.case_id.clone(),
                    };
                    let now = call!("read a petition case", petition, get_case, get)?;
                    if now.case.is_some_and(|x| x.stage != Stage::Received as i32) {
                        break;
                    }
                    return Err(rpc(format!("accept case {}", k.external_id))(s));
                }
                Err(s) => return Err(rpc(format!("accept case {}", k.external_id))(s)),
            }
        }
    }
    let issue_ids: Vec<String> = cases.iter().map(|k| k.issue_id.clone()).collect();
    ensure!(
        issue_ids.iter().all(|i| !i.is_empty()),
        "the petition bridge named no ledger item for some cases"
    );
    let ledger = clients.ledger();
    wait_for("the petition cases' ledger items", config.timeout, || {
        let ledger = ledger.clone();
        let issue_ids = issue_ids.clone();
        async move {
            let mut missing = 0;
            for id in &issue_ids {
                let req = GetIssueRequest {
                    issue_id: id.clone(),
                };
                match ledger.clone().get_issue(req).await {
                    Ok(_) => {}
                    Err(s) if s.code() == Code::NotFound || transient(&s) => missing += 1,
                    Err(s) => return Err(rpc("read a petition case's item")(s)),
                }
            }
            Ok((missing > 0).then(|| format!("{missing} items missing")))
        }
    })
    .await?;
    // The totals are the generated cases'; the bridge must hold exactly them.
    let totals = PetitionTotals {
        cases: c.cases.len() as i64,
        accepted: c.cases.iter().filter(|k| k.accept).count() as i64,
        matched_households: c.cases.iter().filter(|k| k.registered).count() as i64,
        ledger_items: c.cases.len() as i64,
    };
    let cases = our_cases(&petition, source, &ours).await?;
    let held = PetitionTotals {
        cases: cases.len() as i64,
        accepted: cases
            .iter()
            .filter(|k| k.stage != Stage::Received as i32)
            .count() as i64,
        matched_households: cases.iter().filter(|k| !k.household_id.is_empty()).count() as i64,
        ledger_items: issue_ids.len() as i64,
    };
    ensure!(
        held == totals,
        "the petition bridge holds {held:?}, not the generated {totals:?}"
    );
    Ok(totals)
}
