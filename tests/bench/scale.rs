//! Benchmark: a province-sized dataset loaded through COPY, then the
//! statistics that leaders and supervisors read, measured on it.
//!
//! The generator builds a province shaped like Hunan's (14 cities, 123
//! counties, ~1,500 townships, ~24,000 villages), one campaign per county,
//! households with their encrypted personal data filled with bytes of the
//! real sizes, visits spread over the households (some households never
//! visited), the items raised on them, the ledger (民情台账) in varied states,
//! categories and deadlines, and supervision callbacks for the worklists.
//! Every row is a deterministic function of `--seed` and its index, so
//! nothing is held in memory and the same seed loads the same province.
//!
//! Loading: the services' real migrations run first (as the services run
//! them); then the big tables lose their indexes and constraints, each is
//! filled by one `COPY … FREEZE` stream (all streams at once; the visits,
//! items, ledger and callbacks interleave townships as real traffic would,
//! so one county's rows are spread over the whole table), and the indexes
//! and constraints come back afterwards, built in bulk. The registry's
//! progress counters are then rebuilt by the registry's own
//! `store::progress::rebuild` (COPY bypasses the statements that keep them).
//!
//! Measuring: the services' own code paths, in-process, on their own pools
//! — the registry's `GetRegionProgress` for a township and for a county, the
//! ledger's `GetIssueStatistics` for a township and a county, and a
//! supervisor's `ListWorklist` page — each many times over random townships,
//! counties and supervisors. The baseline, measured in the same run on the
//! same database, is a single-row SELECT by primary key.
//!
//! ```sh
//! cargo run --release -p zoufang-e2e --bin bench-scale -- --households 300000 --visits 600000 --items 60000
//! cargo run --release -p zoufang-e2e --bin bench-scale -- --keep            # the full province; keeps it
//! cargo run --release -p zoufang-e2e --bin bench-scale -- --database NAME   # measure again, no reload
//! ```
use std::{
    collections::HashMap,
    io::Write as _,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use clap::Parser;
use common::percentile;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool};
use tokio::sync::mpsc;
use uuid::Uuid;
use zoufang_core::{
    auth::{Claims, roles},
    pii::{PiiCipher, PiiKey},
};
use zoufang_e2e::{pg_server, unique_name};
use zoufang_proto::{
    issues::v1::GetIssueStatisticsRequest, registry::v1::GetRegionProgressRequest,
    supervision::v1::ListWorklistRequest,
};
use zoufang_types::RegionCode;

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

/// Loads a province through COPY and measures the statistics queries on it.
#[derive(Debug, Parser)]
struct Args {
    /// Households to register.
    #[arg(long, default_value_t = 15_000_000)]
    households: u64,
    /// Visits to record (spread over the households; some get none).
    #[arg(long, default_value_t = 30_000_000)]
    visits: u64,
    /// Ledger items: ~90% raised on visits (also in visit_items), the rest
    /// from walk-in reception, the hotline and petitions.
    #[arg(long, default_value_t = 3_000_000)]
    items: u64,
    /// Only the first N counties of the province (all 123 by default); with
    /// proportionally fewer households this keeps counties full-sized.
    #[arg(long)]
    counties: Option<usize>,
    /// Keep the database afterwards (its name is printed).
    #[arg(long)]
    keep: bool,
    /// Measure an already loaded database (no load; never dropped). When the
    /// database is empty or missing, load it first.
    #[arg(long)]
    database: Option<String>,
    /// Measurements per query kind.
    #[arg(long, default_value_t = 300)]
    reps: usize,
    /// Seed of the generated province.
    #[arg(long, default_value_t = 9)]
    seed: u64,
    /// Load only; skip the measurements.
    #[arg(long)]
    load_only: bool,
}

// ------------------------------------------------------------------ random

/// SplitMix64: tiny, fast and good enough to shape test data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for item `n` of stream `kind`, independent of the others.
    fn at(seed: u64, kind: u64, n: u64) -> Self {
        Self(mix(mix(seed ^ kind.wrapping_mul(0xA24B_AED4_963E_E407)) ^ n))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn word(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len() as u64) as usize]
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A deterministic (version 4 shaped) uuid for item `n` of stream `kind`.
fn uuid_of(seed: u64, kind: u64, n: u64) -> Uuid {
    let mut r = Rng::at(seed, kind, n);
    let mut b = [0u8; 16];
    r.fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

// Streams of the generator (uuid kinds and per-row randomness).
const K_PROVINCE: u64 = 1;
const K_HOUSEHOLD: u64 = 2;
const K_TRAITS: u64 = 3;
const K_VISITS: u64 = 4;
const K_VISIT: u64 = 5;
const K_ISSUE: u64 = 6;
const K_CALLBACK: u64 = 7;
const K_CADRE: u64 = 8;
const K_CAMPAIGN: u64 = 9;
const K_SUPERVISOR: u64 = 10;
const K_TEAM: u64 = 11;
const K_OTHER_ISSUE: u64 = 12;

/// Township office staff per township, cadres per village committee,
/// supervisors per county.
const STAFF: u64 = 20;
const VILLAGE_CADRES: u64 = 3;
const SUPERVISORS: u64 = 10;

// ---------------------------------------------------------------- province

/// Hunan's 14 prefecture-level divisions and their county-level counts.
const CITIES: &[(&str, &str, usize)] = &[
    ("01", "长沙市", 9),
    ("02", "株洲市", 9),
    ("03", "湘潭市", 5),
    ("04", "衡阳市", 12),
    ("05", "邵阳市", 12),
    ("06", "岳阳市", 9),
    ("07", "常德市", 9),
    ("08", "张家界市", 4),
    ("09", "益阳市", 6),
    ("10", "郴州市", 11),
    ("11", "永州市", 11),
    ("12", "怀化市", 13),
    ("13", "娄底市", 5),
    ("31", "湘西土家族苗族自治州", 8),
];

const PLACE_A: &[&str] = &[
    "白", "黄", "青", "石", "龙", "凤", "桃", "花", "金", "银", "新", "太", "大", "小", "长", "高",
    "东", "西", "南", "北", "双", "马", "鹤", "杨", "柳", "松", "竹", "梅", "荷", "莲", "清", "永",
    "安", "福", "兴", "和", "平", "泉", "溪", "湖",
];
const PLACE_B: &[&str] = &[
    "塘", "岭", "江", "山", "田", "坪", "冲", "湾", "桥", "口", "铺", "源", "坡", "洲", "港", "峰",
    "园", "家", "林", "堂", "阳", "水", "河", "陂", "垸",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "唐", "邓", "曾", "彭", "肖", "蒋", "谭", "廖",
];
const GIVEN: &[&str] = &[
    "建", "国", "华", "明", "军", "平", "强", "伟", "红", "英", "秀", "兰", "春", "桂", "芳", "玉",
    "德", "志", "文", "海", "云", "林", "生", "福", "友", "长", "开", "立", "新", "满",
];

#[derive(Debug, Clone)]
struct County {
    code: String,
    name: String,
    campaign_id: Uuid,
    team_id: Uuid,
    supervisors: Vec<String>,
}

#[derive(Debug, Clone)]
struct Township {
    /// 12-digit code.
    code: String,
    name: String,
    county: usize,
    villages: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
struct Village {
    code: String,
    name: String,
    township: usize,
    county: usize,
    /// Households registered here, and the global index of the first.
    households: u64,
    first: u64,
}

#[derive(Debug, Clone)]
struct Province {
    seed: u64,
    counties: Vec<County>,
    townships: Vec<Township>,
    villages: Vec<Village>,
}

fn place(r: &mut Rng) -> String {
    format!("{}{}", r.word(PLACE_A), r.word(PLACE_B))
}

fn person(r: &mut Rng) -> String {
    let mut s = String::from(r.word(SURNAMES));
    s.push_str(r.word(GIVEN));
    if r.chance(0.7) {
        s.push_str(r.word(GIVEN));
    }
    s
}

impl Province {
    /// The province (or its first `limit` counties) with `households`
    /// spread over the villages by weight.
    fn generate(seed: u64, limit: Option<usize>, households: u64) -> Self {
        let mut r = Rng::at(seed, K_PROVINCE, 0);
        let (mut counties, mut townships, mut villages) = (Vec::new(), Vec::new(), Vec::new());
        let mut weights = Vec::new();
        'cities: for (city, _, n) in CITIES {
            for k in 0..*n {
                if limit.is_some_and(|l| counties.len() >= l) {
                    break 'cities;
                }
                let idx = counties.len();
                let code = format!("43{city}{:02}", if k < 4 { 2 + k } else { 17 + k });
                let n_townships = r.range(7, 18) as usize;
                let n_sub = r.range(0, 2) as usize;
                let n_town = (n_townships - n_sub) * 3 / 5;
                for t in 0..n_townships {
                    let (digits, suffix) = if t < n_sub {
                        (1 + t, "街道")
                    } else if t < n_sub + n_town {
                        (101 + t - n_sub, "镇")
                    } else {
                        (201 + t - n_sub - n_town, "乡")
                    };
                    let tcode = format!("{code}{digits:03}000");
                    let ti = townships.len();
                    let first_village = villages.len();
                    let n_villages = r.range(8, 24) as usize;
                    let communities = match suffix {
                        "街道" => n_villages,
                        "镇" => r.range(1, 2) as usize,
                        _ => 0,
                    };
                    for v in 0..n_villages {
                        let (vd, vs) = if v < communities {
                            (1 + v, "社区")
                        } else {
                            (201 + v - communities, "村")
                        };
                        villages.push(Village {
                            code: format!("{}{vd:03}", &tcode[..9]),
                            name: format!("{}{vs}", place(&mut r)),
                            township: ti,
                            county: idx,
                            households: 0,
                            first: 0,
                        });
                        weights.push(if vs == "社区" { 1.5 } else { 0.5 } + r.unit());
                    }
                    townships.push(Township {
                        code: tcode,
                        name: format!("{}{suffix}", place(&mut r)),
                        county: idx,
                        villages: first_village..villages.len(),
                    });
                }
                counties.push(County {
                    name: format!("{}县", place(&mut r)),
                    campaign_id: uuid_of(seed, K_CAMPAIGN, idx as u64),
                    team_id: uuid_of(seed, K_TEAM, idx as u64),
                    supervisors: (0..SUPERVISORS)
                        .map(|s| uuid_of(seed, K_SUPERVISOR, idx as u64 * 100 + s).to_string())
                        .collect(),
                    code,
                });
            }
        }
        // Households by weight, largest remainders last, so the total is exact.
        let total: f64 = weights.iter().sum();
        let mut given = 0u64;
        for (v, w) in villages.iter_mut().zip(&weights) {
            v.households = (households as f64 * w / total) as u64;
            given += v.households;
        }
        let n = villages.len() as u64;
        for i in 0..households - given {
            villages[(i * 7919 % n) as usize].households += 1;
        }
        let mut first = 0;
        for v in &mut villages {
            v.first = first;
            first += v.households;
        }
        Self {
            seed,
            counties,
            townships,
            villages,
        }
    }

    fn household_id(&self, h: u64) -> Uuid {
        uuid_of(self.seed, K_HOUSEHOLD, h)
    }

    /// Cadre `c` of village `v` (村两委), or staff member `s` of township `t`.
    fn village_cadre(&self, v: usize, c: u64) -> Uuid {
        uuid_of(self.seed, K_CADRE, v as u64 * VILLAGE_CADRES + c)
    }

    fn staff(&self, t: usize, s: u64) -> Uuid {
        uuid_of(self.seed, K_CADRE, (1 << 40) | (t as u64 * STAFF + s))
    }
}

/// What a household is, recomputed identically wherever it is needed.
#[derive(Debug, Clone)]
struct Traits {
    members: i64,
    tags: Vec<&'static str>,
    has_phone: bool,
}

const TAGS: &[(&str, f64)] = &[
    ("低保户", 0.06),
    ("脱贫户", 0.08),
    ("特困户", 0.015),
    ("五保户", 0.01),
    ("残疾", 0.04),
    ("脱贫监测户", 0.02),
    ("留守", 0.06),
    ("空巢老人", 0.08),
    ("退役军人", 0.03),
    ("重点信访", 0.005),
];

fn traits(seed: u64, h: u64) -> Traits {
    let mut r = Rng::at(seed, K_TRAITS, h);
    let tags = TAGS
        .iter()
        .filter(|(_, p)| r.chance(*p))
        .map(|(t, _)| *t)
        .collect();
    Traits {
        members: r.range(1, 7),
        tags,
        has_phone: r.chance(0.9),
    }
}

// ------------------------------------------------------------- COPY text

/// Appends one row of COPY text format.
struct Row<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl<'a> Row<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf, first: true }
    }

    fn sep(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
        self.buf
    }

    /// Text with COPY's escapes (the generated text needs none, but be safe).
    fn text(&mut self, s: &str) -> &mut Self {
        let buf = self.sep();
        for &b in s.as_bytes() {
            match b {
                b'\\' => buf.extend_from_slice(b"\\\\"),
                b'\t' => buf.extend_from_slice(b"\\t"),
                b'\n' => buf.extend_from_slice(b"\\n"),
                b'\r' => buf.extend_from_slice(b"\\r"),
                _ => buf.push(b),
            }
        }
        self
    }

    /// A value written as is (numbers, literals without special characters).
    fn raw(&mut self, s: &str) -> &mut Self {
        self.sep().extend_from_slice(s.as_bytes());
        self
    }

    fn int(&mut self, n: i64) -> &mut Self {
        let buf = self.sep();
        let _ = write!(buf, "{n}");
        self
    }

    fn float(&mut self, x: f64) -> &mut Self {
        let buf = self.sep();
        let _ = write!(buf, "{x:.6}");
        self
    }

    fn bool(&mut self, b: bool) -> &mut Self {
        self.raw(if b { "t" } else { "f" })
    }

    fn null(&mut self) -> &mut Self {
        self.raw("\\N")
    }

    fn uuid(&mut self, u: Uuid) -> &mut Self {
        let mut s = [0u8; 36];
        let s = u.hyphenated().encode_lower(&mut s);
        self.sep().extend_from_slice(s.as_bytes());
        self
    }

    fn opt_uuid(&mut self, u: Option<Uuid>) -> &mut Self {
        match u {
            Some(u) => self.uuid(u),
            None => self.null(),
        }
    }

    /// bytea in hex form (`\x…`, its backslash escaped for COPY).
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let buf = self.sep();
        buf.extend_from_slice(b"\\\\x");
        push_hex(buf, b);
        self
    }

    /// `len` random bytes as bytea: ciphertexts and hashes of the real sizes.
    fn random_bytes(&mut self, r: &mut Rng, len: usize) -> &mut Self {
        let mut b = [0u8; 128];
        r.fill(&mut b[..len]);
        self.bytes(&b[..len])
    }

    /// A bytea[] literal; each element `"\\x…"` (escaped for the array
    /// parser, then for COPY).
    fn bytes_array(&mut self, items: &[&[u8]]) -> &mut Self {
        let buf = self.sep();
        buf.push(b'{');
        for (i, b) in items.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"\"\\\\\\\\x");
            push_hex(buf, b);
            buf.push(b'"');
        }
        buf.push(b'}');
        self
    }

    /// A text[] (or uuid[]) literal with every element quoted.
    fn array<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        let buf = self.sep();
        buf.push(b'{');
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.push(b'"');
            buf.extend_from_slice(s.as_ref().as_bytes());
            buf.push(b'"');
        }
        buf.push(b'}');
        self
    }

    /// A timestamptz from Unix seconds.
    fn ts(&mut self, secs: i64) -> &mut Self {
        let buf = self.sep();
        push_timestamp(buf, secs);
        self
    }

    fn opt_ts(&mut self, secs: Option<i64>) -> &mut Self {
        match secs {
            Some(s) => self.ts(s),
            None => self.null(),
        }
    }

    /// A date from Unix seconds.
    fn date(&mut self, secs: i64) -> &mut Self {
        let (y, m, d) = civil(secs.div_euclid(86_400));
        let buf = self.sep();
        let _ = write!(buf, "{y:04}-{m:02}-{d:02}");
        self
    }

    fn end(&mut self) {
        self.buf.push(b'\n');
    }
}

fn push_hex(buf: &mut Vec<u8>, b: &[u8]) {
    for &x in b {
        buf.push(HEX[usize::from(x >> 4)]);
        buf.push(HEX[usize::from(x & 15)]);
    }
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn push_timestamp(buf: &mut Vec<u8>, secs: i64) {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let _ = write!(
        buf,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}+00",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
}

// ----------------------------------------------------------------- content

const SITUATIONS: &[&str] = &[
    "一家四口，户主务农，子女外出务工",
    "老两口留守在家，身体尚可",
    "独居老人，患慢性病，常年服药",
    "三代同堂，种植水稻十余亩",
    "户主在镇上打零工，妻子在家照顾孩子",
    "家庭养殖生猪二十余头，收入稳定",
    "因病致贫，已纳入低保",
    "新建房屋一栋，生活条件改善",
    "子女在外地工作，老人由邻居照应",
    "户主残疾，靠低保和亲属接济生活",
];
const NARRATIVE: &[&str] = &[
    "入户时户主正在晒谷，详细了解了今年的收成和家庭开支情况。",
    "户主反映组里道路雨天泥泞难行，希望尽快硬化。",
    "宣讲了医保缴费政策和城乡居民养老保险的参保办法。",
    "老人说起儿子在广东务工，过年才回家，平时自己种点菜。",
    "查看了房屋安全情况，厨房墙体有裂缝，已记录并拍照。",
    "邻里之间因宅基地边界有些争执，现场做了调解工作。",
    "了解到孙子明年读初中，询问了教育资助政策。",
    "饮水管道去年冬天冻裂，至今没有修好，用水不便。",
    "户主对村里的人居环境整治表示满意，提了垃圾清运的建议。",
    "帮助老人核对了惠农补贴到账情况，解释了发放时间。",
    "交谈中得知家里有人患大病，讲解了大病救助的申请流程。",
    "走访时与户主一起算了今年的收支账，收入比去年有所增加。",
];
const POLICIES: &[&str] = &[
    "医保缴费政策",
    "城乡居民养老保险",
    "低保政策",
    "耕地地力保护补贴",
    "教育资助政策",
    "防返贫监测",
    "农村危房改造",
    "防汛防火安全",
];
const MATERIALS: &[&str] = &[
    "惠民政策宣传资料",
    "防诈骗宣传单",
    "医保政策明白卡",
    "安全生产宣传册",
    "便民服务联系卡",
    "法律援助手册",
];
const GOODS: &[&str] = &["大米一袋、食用油一桶", "化肥两袋", "棉被一床", "牛奶一箱"];
const CATEGORIES: &[&str] = &[
    "经济发展",
    "城镇建设",
    "民生工程",
    "农田水利",
    "社会治安",
    "环境卫生",
    "交通出行",
    "社会保障",
    "政策咨询",
    "其他",
];
const DESCRIPTIONS: &[&str] = &[
    "组级道路需硬化",
    "饮水管道破损需维修",
    "申请危房改造",
    "咨询医保报销比例",
    "农田灌溉渠道堵塞",
    "反映垃圾清运不及时",
    "希望增设路灯",
    "邻里宅基地边界争执",
    "土地流转费用未结清",
    "反映低保评定不公",
    "多年前征地补偿问题",
    "山林权属纠纷",
];
const DEPARTMENTS: &[&str] = &[
    "县住建局",
    "县水利局",
    "县人社局",
    "县自然资源局",
    "县交通运输局",
];

/// Appends sentences from `pool` until about `chars` characters.
fn prose(r: &mut Rng, pool: &[&'static str], chars: usize) -> String {
    let mut s = String::new();
    while s.chars().count() < chars {
        s.push_str(r.word(pool));
    }
    s
}

// ------------------------------------------------------------- generators

/// Where generated rows go: one buffer per table, sent in ~1 MiB chunks to
/// that table's COPY stream.
struct Sink {
    buf: Vec<u8>,
    tx: mpsc::Sender<Vec<u8>>,
}

impl Sink {
    const CHUNK: usize = 1 << 20;

    fn new(tx: mpsc::Sender<Vec<u8>>) -> Self {
        Self {
            buf: Vec::with_capacity(Self::CHUNK + 8192),
            tx,
        }
    }

    fn row(&mut self) -> Row<'_> {
        Row::new(&mut self.buf)
    }

    /// Sends the buffer when full; false when the COPY side has gone away.
    fn flush_if_full(&mut self) -> bool {
        if self.buf.len() < Self::CHUNK {
            return true;
        }
        self.flush()
    }

    fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(Self::CHUNK + 8192));
        self.tx.blocking_send(full).is_ok()
    }
}

/// The fixed parts every generator needs.
#[derive(Clone)]
struct Gen {
    p: Arc<Province>,
    /// Keyed hashes of the tags, as the registry computes them.
    tag_hashes: Arc<HashMap<&'static str, Vec<u8>>>,
    /// Unix seconds: the campaigns began 90 days before `now`.
    now: i64,
    start: i64,
    /// Share of households never visited, and the mean extra visits of a
    /// visited household (geometric).
    unvisited: f64,
    extra_q: f64,
    /// Items per visit, and non-visit ledger items per household.
    item_rate: f64,
    other_rate: f64,
}

impl Gen {
    fn new(p: Arc<Province>, args: &Args, now: i64) -> Self {
        let pii = PiiCipher::new(&PiiKey::dev());
        let tag_hashes = TAGS
            .iter()
            .map(|(t, _)| (*t, pii.keyed_hash("tag", t)))
            .collect();
        let h = args.households.max(1) as f64;
        let per_household = args.visits as f64 / h;
        let visited = per_household.min(0.88);
        let extra = (per_household / visited.max(1e-9) - 1.0).max(0.0);
        let visit_items = args.items as f64 * 0.9;
        Self {
            p,
            tag_hashes: Arc::new(tag_hashes),
            now,
            start: now - 90 * 86_400,
            unvisited: 1.0 - visited,
            extra_q: extra / (1.0 + extra),
            item_rate: if args.visits == 0 {
                0.0
            } else {
                visit_items / args.visits as f64
            },
            other_rate: (args.items as f64 - visit_items) / h,
        }
    }

    /// Households in village order (as imports register them).
    fn households(&self, sink: &mut Sink) -> bool {
        let p = &self.p;
        for v in &p.villages {
            let county = &v.code[..6];
            for h in v.first..v.first + v.households {
                let mut r = Rng::at(p.seed, K_HOUSEHOLD, h);
                let t = traits(p.seed, h);
                let group = r.range(1, 12);
                let (open, sensitive): (Vec<&str>, Vec<&str>) = t
                    .tags
                    .iter()
                    .partition(|tag| !zoufang_registry::tags::is_sensitive(tag));
                let hashes: Vec<&[u8]> = t
                    .tags
                    .iter()
                    .map(|tag| self.tag_hashes[tag].as_slice())
                    .collect();
                let mut row = sink.row();
                row.raw(county)
                    .uuid(p.household_id(h))
                    .raw(&v.code)
                    .text(&format!("第{group}组"))
                    .text(&format!("{}第{group}组{}号", v.name, r.range(1, 80)))
                    .text(&person(&mut r))
                    // ID number: version + nonce + 18 digits + tag.
                    .random_bytes(&mut r, 1 + 12 + 18 + 16)
                    .random_bytes(&mut r, 32);
                if t.has_phone {
                    row.random_bytes(&mut r, 1 + 12 + 11 + 16)
                        .random_bytes(&mut r, 32);
                } else {
                    row.null().null();
                }
                row.int(t.members).array(&open);
                if sensitive.is_empty() {
                    row.null();
                } else {
                    let json = serde_json::to_string(&sensitive).unwrap_or_default();
                    row.random_bytes(&mut r, 1 + 12 + json.len() + 16);
                }
                row.bytes_array(&hashes)
                    .bool(!t.tags.is_empty())
                    .random_bytes(&mut r, 32)
                    .ts(self.start - 86_400 * r.range(10, 400))
                    .end();
                if !sink.flush_if_full() {
                    return false;
                }
            }
        }
        sink.flush()
    }

    /// Visits, their items, the ledger and the callbacks, walking the
    /// townships round-robin one household at a time, so each county's rows
    /// spread over the whole of every table as real traffic leaves them.
    fn activity(
        &self,
        visits: &mut Sink,
        items: &mut Sink,
        issues: &mut Sink,
        callbacks: &mut Sink,
    ) -> bool {
        let p = &self.p;
        // Per township: the next village and household.
        let mut cursors: Vec<(usize, usize, u64)> = p
            .townships
            .iter()
            .enumerate()
            .map(|(ti, t)| (ti, t.villages.start, p.villages[t.villages.start].first))
            .collect();
        while !cursors.is_empty() {
            let mut i = 0;
            while i < cursors.len() {
                let (ti, mut vi, mut h) = cursors[i];
                let t = &p.townships[ti];
                while vi < t.villages.end && h >= p.villages[vi].first + p.villages[vi].households {
                    vi += 1;
                    if vi < t.villages.end {
                        h = p.villages[vi].first;
                    }
                }
                if vi >= t.villages.end {
                    cursors.swap_remove(i);
                    continue;
                }
                self.household_activity(vi, h, visits, items, issues, callbacks);
                cursors[i] = (ti, vi, h + 1);
                i += 1;
            }
            if !(visits.flush_if_full()
                && items.flush_if_full()
                && issues.flush_if_full()
                && callbacks.flush_if_full())
            {
                return false;
            }
        }
        visits.flush() && items.flush() && issues.flush() && callbacks.flush()
    }

    fn household_activity(
        &self,
        vi: usize,
        h: u64,
        visits: &mut Sink,
        items: &mut Sink,
        issues: &mut Sink,
        callbacks: &mut Sink,
    ) {
        let p = &self.p;
        let v = &p.villages[vi];
        let county = &p.counties[v.county];
        let mut r = Rng::at(p.seed, K_VISITS, h);
        let t = traits(p.seed, h);
        let household_id = p.household_id(h);
        let tagged = !t.tags.is_empty();
        let mut n_visits = 0u64;
        if !r.chance(self.unvisited) {
            n_visits = 1;
            while n_visits < 32 && r.chance(self.extra_q) {
                n_visits += 1;
            }
        }
        // The township cadre answering for this village (包村干部).
        let local = (vi - p.townships[v.township].villages.start) as u64;
        let responsible = p.staff(v.township, local % STAFF);
        for k in 0..n_visits {
            let visit_no = (h << 5) | k;
            let visit_id = uuid_of(p.seed, K_VISIT, visit_no);
            let mut r = Rng::at(p.seed, K_VISIT, visit_no);
            let started = self.start + r.range(0, self.now - self.start - 7200);
            let ended = started + r.range(20, 90) * 60;
            let recorded = ended + r.range(60, 3600);
            let mut cadres = vec![if r.chance(0.7) {
                responsible
            } else {
                p.village_cadre(vi, r.below(VILLAGE_CADRES))
            }];
            if r.chance(0.25) {
                cadres.push(p.village_cadre(vi, r.below(VILLAGE_CADRES)));
                cadres.dedup();
            }
            let cadre_texts: Vec<String> = cadres.iter().map(Uuid::to_string).collect();
            let mode: i64 = match r.below(100) {
                0..=79 => 1,
                80..=87 => 2,
                88..=91 => 3,
                92..=94 => 4,
                _ => 5,
            };
            let overnight = mode == 5 || r.chance(0.02);
            let help_p = if tagged { 0.3 } else { 0.04 };
            let cash = if r.chance(help_p) {
                r.range(2, 10) * 10_000
            } else {
                0
            };
            let goods = if r.chance(help_p * 0.6) {
                r.range(5, 30) * 1_000
            } else {
                0
            };
            let disputed = r.chance(0.003);
            let n_items = if r.chance(self.item_rate * 0.8) {
                1 + u64::from(r.chance(0.2)) * (1 + u64::from(r.chance(0.25)))
            } else {
                0
            };
            let mut row = visits.row();
            row.raw(&county.code)
                .uuid(visit_id)
                .uuid(county.campaign_id)
                .uuid(household_id)
                .raw(&v.code)
                .array(&cadre_texts)
                .ts(started)
                .ts(ended)
                .int(mode)
                .bool(overnight);
            if mode == 2 {
                row.null().null();
            } else {
                row.float(26.0 + (v.county as f64 * 0.037) % 3.0 + r.unit() * 0.05)
                    .float(110.0 + (v.county as f64 * 0.053) % 3.5 + r.unit() * 0.05);
            }
            let chars = r.range(60, 160) as usize;
            let narrative = prose(&mut r, NARRATIVE, chars);
            row.text(r.word(SITUATIONS)).text(&narrative);
            let policies: Vec<&str> = (0..r.below(3)).map(|_| r.word(POLICIES)).collect();
            row.array(&policies);
            let mut materials = String::from("[");
            for m in 0..r.below(3) {
                if m > 0 {
                    materials.push_str(", ");
                }
                let _ = std::fmt::Write::write_fmt(
                    &mut materials,
                    format_args!(
                        "{{\"name\": \"{}\", \"quantity\": {}}}",
                        r.word(MATERIALS),
                        r.range(1, 5)
                    ),
                );
            }
            materials.push(']');
            row.text(&materials)
                .int(cash)
                .text(if goods > 0 { r.word(GOODS) } else { "" })
                .int(goods);
            let photos: Vec<String> = (0..r.range(1, 3))
                .map(|i| format!("photos/2026/{visit_id}-{i}.jpg"))
                .collect();
            row.array(&photos);
            let complete = r.chance(0.95);
            row.bool(complete)
                .array(if complete {
                    &[][..]
                } else {
                    &["narrative"][..]
                })
                .bool(disputed)
                .text(if disputed {
                    "回访时户主否认有过此次走访"
                } else {
                    ""
                })
                .random_bytes(&mut r, 32)
                .ts(recorded)
                .end();

            // A share of visits is called back (督查回访), blind to the cadre.
            if !disputed && r.chance(0.03) {
                let created = recorded + 86_400;
                let due = created + 7 * 86_400;
                let state = if due < self.now - 2 * 86_400 {
                    match r.below(100) {
                        0..=87 => "done",
                        88..=91 => "unreachable",
                        _ => "open",
                    }
                } else if r.chance(0.3) {
                    "done"
                } else {
                    "open"
                };
                let callback_id = uuid_of(p.seed, K_CALLBACK, visit_no << 2);
                let supervisor = r.pick(&county.supervisors);
                let done = state == "done";
                let completed = (state != "open").then(|| created + r.range(3600, 5 * 86_400));
                let mut row = callbacks.row();
                row.raw(&county.code)
                    .uuid(callback_id)
                    .int(2)
                    .null()
                    .uuid(visit_id)
                    .uuid(household_id)
                    .raw(&v.code)
                    .uuid(county.campaign_id)
                    .raw(supervisor)
                    .raw(state)
                    .ts(due)
                    .int(match state {
                        "done" => r.range(1, 2),
                        "unreachable" => 3,
                        _ => r.range(0, 1),
                    })
                    .int(3)
                    .text(&format!("核实{}的走访", v.name))
                    .int(1)
                    .array(&cadre_texts)
                    .bool(done)
                    .bool(done && r.chance(0.97))
                    .bool(false)
                    .int(0)
                    .text(if done { "户主确认走访属实" } else { "" })
                    .int(t.members)
                    .int(cash + goods)
                    .date(started);
                if done {
                    row.int(t.members).int(cash + goods).date(started);
                } else {
                    row.null().null().null();
                }
                row.int(0).ts(created).opt_ts(completed).end();
            }

            for item_no in 1..=n_items {
                self.visit_item(
                    &mut r,
                    (vi, h, visit_no, item_no),
                    (visit_id, household_id, &cadres, recorded),
                    items,
                    issues,
                    callbacks,
                );
            }
        }
        // Items from walk-in reception, the hotline and petition cases.
        let mut others = 0;
        while others < 3 && r.chance(if others == 0 { self.other_rate } else { 0.1 }) {
            others += 1;
            let created = self.start + r.range(0, self.now - self.start - 3600);
            let source = match r.below(100) {
                0..=39 => 2,
                40..=84 => 3,
                _ => 4,
            };
            let issue_id = uuid_of(p.seed, K_OTHER_ISSUE, (h << 2) | others);
            let kind = if source == 4 {
                4
            } else {
                1 + r.below(3) as i64
            };
            let category = match kind {
                3 => "矛盾纠纷",
                4 => "信访积案",
                _ => r.word(CATEGORIES),
            };
            let (in_campaign, known, urgent) = (r.chance(0.6), r.chance(0.8), r.chance(0.05));
            let description = r.word(DESCRIPTIONS);
            self.issue(
                &mut r,
                IssueSeed {
                    issue_id,
                    source,
                    visit_id: None,
                    item_no: 0,
                    campaign: in_campaign,
                    household_id: known.then_some(household_id),
                    vi,
                    kind,
                    on_spot: false,
                    urgent,
                    households_involved: 0,
                    responsible,
                    created,
                    description,
                    category,
                },
                issues,
                callbacks,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn visit_item(
        &self,
        r: &mut Rng,
        (vi, _h, visit_no, item_no): (usize, u64, u64, u64),
        (visit_id, household_id, cadres, recorded): (Uuid, Uuid, &[Uuid], i64),
        items: &mut Sink,
        issues: &mut Sink,
        callbacks: &mut Sink,
    ) {
        let p = &self.p;
        let v = &p.villages[vi];
        let kind: i64 = match r.below(100) {
            0..=59 => 1,
            60..=79 => 2,
            80..=91 => 3,
            _ => 4,
        };
        let category = match kind {
            3 => "矛盾纠纷",
            4 => "信访积案",
            _ => r.word(CATEGORIES),
        };
        let description = r.word(DESCRIPTIONS);
        let households_involved = if kind == 3 { r.range(2, 5) } else { 0 };
        let on_spot = kind != 4 && r.chance(0.3);
        let urgent = r.chance(0.03);
        items
            .row()
            .raw(&v.code[..6])
            .uuid(visit_id)
            .int(item_no as i64)
            .int(kind)
            .text(category)
            .text(description)
            .int(households_involved)
            .bool(on_spot)
            .text(if on_spot {
                "现场解释说明，户主认可"
            } else {
                ""
            })
            .bool(urgent)
            .end();
        let created = recorded + r.range(1, 30);
        self.issue(
            r,
            IssueSeed {
                issue_id: uuid_of(p.seed, K_ISSUE, (visit_no << 2) | item_no),
                source: 1,
                visit_id: Some(visit_id),
                item_no: item_no as i64,
                campaign: true,
                household_id: Some(household_id),
                vi,
                kind,
                on_spot,
                urgent,
                households_involved,
                responsible: cadres[0],
                created,
                description,
                category,
            },
            issues,
            callbacks,
        );
    }

    /// One ledger item and, when it was resolved or explained and sampled,
    /// its callback.
    fn issue(&self, r: &mut Rng, s: IssueSeed<'_>, issues: &mut Sink, callbacks: &mut Sink) {
        let p = &self.p;
        let v = &p.villages[s.vi];
        let county = &p.counties[v.county];
        // A ledger item keeps the category the visit gave it.
        let category = s.category;
        let age_days = (self.now - s.created) as f64 / 86_400.0;
        let priority = if s.urgent {
            3
        } else if r.chance(0.1) {
            2
        } else {
            1
        };
        let mut disposition = 0;
        let mut deadline = None;
        let mut resolved_at = None;
        let mut in_time = None;
        let mut ever_escalated = false;
        let mut department = "";
        let mut merged_into = None;
        let state: &str;
        if s.on_spot {
            disposition = 1;
            resolved_at = Some(s.created);
            in_time = Some(true);
            state = if r.chance(0.7) {
                "verified"
            } else {
                "resolved"
            };
        } else if r.chance(0.02) {
            state = "duplicate";
            merged_into = Some(uuid_of(p.seed, K_ISSUE, r.next()));
        } else {
            disposition = match r.below(100) {
                0..=67 => 2,
                68..=79 => 3,
                _ => 4,
            };
            if disposition == 4 {
                // 解释说明: explained within days, a few still waiting.
                let at = s.created + r.range(3600, 5 * 86_400);
                if at < self.now && r.chance(0.8) {
                    resolved_at = Some(at);
                    state = "explained";
                } else {
                    state = "assigned";
                }
            } else {
                let days = *r.pick(&[7, 15, 30]);
                let due = s.created + days * 86_400;
                deadline = Some(due);
                if disposition == 3 {
                    ever_escalated = true;
                    department = r.word(DEPARTMENTS);
                }
                let done = r.chance((age_days / (days as f64 * 1.2)).min(0.95));
                if done {
                    let at =
                        (s.created + r.range(86_400, days * 86_400 * 13 / 10)).min(self.now - 60);
                    resolved_at = Some(at);
                    in_time = Some(at <= due);
                    state = if r.chance(0.65) {
                        "verified"
                    } else {
                        "resolved"
                    };
                } else {
                    state = match r.below(100) {
                        0..=14 => "open",
                        15..=44 => "assigned",
                        45..=89 => {
                            if disposition == 3 {
                                "escalated"
                            } else {
                                "in_progress"
                            }
                        }
                        _ => "reopened",
                    };
                }
            }
        }
        let reopened = state == "reopened" || r.chance(0.02);
        let version = r.range(1, 6);
        let mut row = issues.row();
        row.raw(&county.code)
            .uuid(s.issue_id)
            .int(s.source)
            .opt_uuid(s.visit_id)
            .int(s.item_no)
            .opt_uuid(s.campaign.then_some(county.campaign_id))
            .opt_uuid(s.household_id)
            .raw(&v.code)
            .int(s.kind)
            .text(category)
            .text(s.description)
            .int(s.households_involved)
            .int(priority)
            .int(disposition)
            .raw(state)
            .text(&if disposition >= 2 {
                s.responsible.to_string()
            } else {
                String::new()
            })
            .text(department)
            .opt_ts(deadline)
            .text(if resolved_at.is_some() && disposition != 4 {
                "已按要求整改到位"
            } else {
                ""
            })
            .text(if disposition == 4 {
                "已向当事人解释相关政策"
            } else {
                ""
            })
            .int(i64::from(reopened))
            .int(1 + i64::from(reopened))
            .int(i64::from(ever_escalated))
            .opt_uuid(merged_into)
            .bool(r.chance(0.05))
            .raw(match in_time {
                Some(true) => "t",
                Some(false) => "f",
                None => "\\N",
            })
            .bool(ever_escalated)
            .int(version)
            .random_bytes(r, 32)
            .ts(s.created)
            .ts(resolved_at.unwrap_or(s.created))
            .opt_ts(resolved_at)
            .end();

        // Callbacks on resolved or explained items: always for urgent,
        // dispute and petition items, a share of the others.
        let closed = matches!(state, "resolved" | "verified" | "explained");
        if closed && (s.urgent || s.kind >= 3 || r.chance(0.3)) {
            let created = resolved_at.unwrap_or(s.created) + 43_200;
            let state = match state {
                "verified" => "done",
                "explained" if r.chance(0.7) => "done",
                _ => "open",
            };
            let done = state == "done";
            let mut row = callbacks.row();
            row.raw(&county.code)
                .uuid(uuid_of(
                    p.seed,
                    K_CALLBACK,
                    (s.issue_id.as_u64_pair().0 << 2) | 1,
                ))
                .int(1)
                .uuid(s.issue_id)
                .opt_uuid(s.visit_id)
                .opt_uuid(s.household_id)
                .raw(&v.code)
                .opt_uuid(s.campaign.then_some(county.campaign_id))
                .raw(r.pick(&county.supervisors).as_str())
                .raw(state)
                .ts(created + 7 * 86_400)
                .int(if done { r.range(1, 2) } else { r.range(0, 2) })
                .int(3)
                .text(&format!("{}：{}", category, s.description))
                .int(1)
                .array(&[s.responsible.to_string()])
                .bool(done)
                .bool(false)
                .bool(done)
                .int(if done {
                    *r.pick(&[1, 1, 1, 2, 2, 3])
                } else {
                    0
                })
                .text(if done { "问题已解决" } else { "" })
                .null()
                .null()
                .null()
                .null()
                .null()
                .null()
                .int(0)
                .ts(created)
                .opt_ts(done.then(|| created + r.range(3600, 3 * 86_400)))
                .end();
        }
    }
}

struct IssueSeed<'a> {
    issue_id: Uuid,
    source: i64,
    visit_id: Option<Uuid>,
    item_no: i64,
    campaign: bool,
    household_id: Option<Uuid>,
    vi: usize,
    kind: i64,
    on_spot: bool,
    urgent: bool,
    households_involved: i64,
    responsible: Uuid,
    created: i64,
    description: &'a str,
    category: &'a str,
}

// ------------------------------------------------------------ the tables

const HOUSEHOLDS_COPY: &str =
    "COPY registry.households (county, household_id, village_code, group_name, address,
    head_name, id_number_cipher, id_number_hash, phone_cipher, phone_hash, member_count, open_tags,
    sensitive_tags_cipher, tag_hashes, is_key, body_hash, registered_at) FROM STDIN WITH (FREEZE)";
const VISITS_COPY: &str = "COPY registry.visits (county, visit_id, campaign_id, household_id, village_code,
    cadre_ids, started_at, ended_at, mode, overnight_stay, latitude, longitude, situation, narrative,
    policies_explained, materials, help_cash_fen, help_goods_description, help_goods_value_fen,
    photo_refs, complete, missing_fields, disputed, dispute_reason, body_hash, recorded_at)
    FROM STDIN WITH (FREEZE)";
const ITEMS_COPY: &str =
    "COPY registry.visit_items (county, visit_id, item_no, kind, category, description,
    households_involved, resolved_on_spot, resolution_note, urgent) FROM STDIN WITH (FREEZE)";
const ISSUES_COPY: &str = "COPY issues.issues (county, issue_id, source, visit_id, item_no, campaign_id,
    household_id, region_code, kind, category, description, households_involved, priority,
    disposition, state, responsible_cadre_id, department, deadline, resolution, explanation,
    reopen_count, rectification_round, escalation_level, merged_into, supervised, resolved_in_time,
    ever_escalated, version, body_hash, created_at, updated_at, resolved_at) FROM STDIN WITH (FREEZE)";
const CALLBACKS_COPY: &str =
    "COPY supervision.callbacks (county, callback_id, subject, issue_id, visit_id,
    household_id, region_code, campaign_id, supervisor_id, state, due_at, attempts, max_attempts,
    summary, policy_version, cadre_ids, reached, visit_confirmed, fix_confirmed, satisfaction,
    comment, recorded_member_count, recorded_help_fen, recorded_visit_date, answered_member_count,
    answered_help_fen, answered_visit_date, backcheck_mismatches, created_at, completed_at)
    FROM STDIN WITH (FREEZE)";

/// The tables filled in bulk, whose indexes and constraints are dropped
/// before and rebuilt after.
const BULK_TABLES: &[&str] = &[
    "registry.households",
    "registry.visits",
    "registry.visit_items",
    "issues.issues",
    "supervision.callbacks",
];

/// The small tables: regions, cadres, campaigns, supervision teams and
/// sampling policies, as COPY text per table.
fn small_tables(p: &Province, now: i64) -> Vec<(&'static str, Vec<u8>)> {
    let mut r = Rng::at(p.seed, K_PROVINCE, 1);
    let mut regions = Vec::new();
    let region = |buf: &mut Vec<u8>, code: &str, name: &str, level: i64| {
        let rc = RegionCode::parse("code", code).expect("generated codes are valid");
        let kind = rc
            .township_kind()
            .map(|k| k.label_zh())
            .or_else(|| rc.village_kind().map(|k| k.label_zh()))
            .unwrap_or("");
        let mut row = Row::new(buf);
        row.raw(rc.county()).raw(code).text(name).int(level);
        match rc.parent() {
            Some(parent) => row.raw(parent.as_str()),
            None => row.null(),
        };
        row.text(kind).end();
    };
    region(&mut regions, "430000000000", "湖南省", 1);
    for (city, name, _) in CITIES
        .iter()
        .filter(|(code, _, _)| p.counties.iter().any(|c| &c.code[2..4] == *code))
    {
        region(&mut regions, &format!("43{city}00000000"), name, 2);
    }
    for c in &p.counties {
        region(&mut regions, &format!("{}000000", c.code), &c.name, 3);
    }
    for t in &p.townships {
        region(&mut regions, &t.code, &t.name, 4);
    }
    for v in &p.villages {
        region(&mut regions, &v.code, &v.name, 5);
    }

    let mut cadres = Vec::new();
    let cadre =
        |buf: &mut Vec<u8>, r: &mut Rng, id: Uuid, unit: i64, position: &str, region: &str| {
            Row::new(buf)
                .raw(&region[..6])
                .uuid(id)
                .text(&person(r))
                .random_bytes(r, 1 + 12 + 11 + 16)
                .random_bytes(r, 32)
                .int(unit)
                .text(position)
                .raw(region)
                .array(&["cadre"])
                .random_bytes(r, 32)
                .end();
        };
    for (ti, t) in p.townships.iter().enumerate() {
        for s in 0..STAFF {
            let position = if s < 2 {
                "乡镇领导"
            } else {
                "乡镇干部"
            };
            cadre(
                &mut cadres,
                &mut r,
                p.staff(ti, s),
                1,
                position,
                &t.code[..9],
            );
        }
    }
    for (vi, v) in p.villages.iter().enumerate() {
        for c in 0..VILLAGE_CADRES {
            let position = ["村支部书记", "村委会主任", "村委委员"][c as usize];
            cadre(
                &mut cadres,
                &mut r,
                p.village_cadre(vi, c),
                2,
                position,
                &v.code,
            );
        }
    }

    let (mut campaigns, mut teams, mut members, mut policies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in &p.counties {
        Row::new(&mut campaigns)
            .raw(&c.code)
            .uuid(c.campaign_id)
            .raw(&c.code)
            .text(&format!("{}2026年秋季“大走访”活动", c.name))
            .ts(now - 90 * 86_400)
            .ts(now + 30 * 86_400)
            .array(&["信访维稳", "民生工程", "政策宣传"])
            .int(2)
            .int(2)
            .random_bytes(&mut r, 32)
            .end();
        Row::new(&mut teams)
            .raw(&c.code)
            .uuid(c.team_id)
            .text(&format!("{}督查组", c.name))
            .raw(&c.code)
            .end();
        for s in &c.supervisors {
            Row::new(&mut members)
                .raw(&c.code)
                .uuid(c.team_id)
                .raw(s)
                .end();
        }
        Row::new(&mut policies)
            .raw(&c.code)
            .uuid(c.campaign_id)
            .int(1)
            .int(3000)
            .int(300)
            .int(2)
            .int(60)
            .int(1000)
            .int(7)
            .int(3)
            .end();
    }
    vec![
        ("COPY registry.regions (county, code, name, level, parent_code, kind) FROM STDIN", regions),
        (
            "COPY registry.cadres (county, cadre_id, name, phone_cipher, phone_hash, unit, position,
                region_code, roles, body_hash) FROM STDIN",
            cadres,
        ),
        (
            "COPY registry.campaigns (county, campaign_id, region_code, name, starts_at, ends_at,
                themes, status, completeness_policy, body_hash) FROM STDIN",
            campaigns,
        ),
        ("COPY supervision.teams (county, team_id, name, region_code) FROM STDIN", teams),
        ("COPY supervision.team_members (county, team_id, supervisor_id) FROM STDIN", members),
        (
            "COPY supervision.sampling_policies (county, campaign_id, version, item_share_bp,
                visit_share_bp, min_visits_per_cadre, high_risk_threshold,
                high_risk_visit_share_bp, due_days, max_attempts) FROM STDIN",
            policies,
        ),
    ]
}

// ---------------------------------------------------------------- loading

fn url(database: &str) -> String {
    format!("{}/{database}", pg_server())
}

async fn connect(database: &str) -> anyhow::Result<PgConnection> {
    Ok(PgConnection::connect(&url(database)).await?)
}

/// Runs every service's migrations, exactly as each service does at start.
async fn migrate(database: &str) -> anyhow::Result<Vec<PgPool>> {
    let u = url(database);
    let mut pools = Vec::new();
    for (schema, migrator) in [
        (zoufang_registry::SCHEMA, &zoufang_registry::app::MIGRATOR),
        (zoufang_issues::SCHEMA, &zoufang_issues::app::MIGRATOR),
        (
            zoufang_supervision::SCHEMA,
            &zoufang_supervision::app::MIGRATOR,
        ),
        (zoufang_notify::SCHEMA, &zoufang_notify::app::MIGRATOR),
        (zoufang_gateway::SCHEMA, &zoufang_gateway::app::MIGRATOR),
        (zoufang_petition::SCHEMA, &zoufang_petition::app::MIGRATOR),
    ] {
        pools.push(
            zoufang_core::db::connect_and_migrate(&u, schema, 4, migrator)
                .await
                .with_context(|| format!("migrating {schema}"))?,
        );
    }
    Ok(pools)
}

/// DDL to drop and later restore the indexes and constraints of the bulk tables.
#[derive(Debug, Default)]
struct Ddl {
    drop: Vec<String>,
    /// Primary keys, unique constraints and plain indexes (with the table, for timing).
    build: Vec<(String, String)>,
    /// Foreign keys, added after every index exists.
    foreign: Vec<(String, String)>,
}

async fn capture_ddl(conn: &mut PgConnection) -> anyhow::Result<Ddl> {
    let tables: Vec<String> = BULK_TABLES.iter().map(|t| (*t).to_owned()).collect();
    let constraints: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, c.contype::text, pg_get_constraintdef(c.oid)
         FROM pg_constraint c
         WHERE c.contype IN ('p', 'u', 'f')
           AND (c.conrelid::regclass::text = ANY($1) OR c.confrelid::regclass::text = ANY($1))
         ORDER BY c.contype",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await?;
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT format('%I.%I', i.schemaname, i.tablename), format('%I.%I', i.schemaname, i.indexname), i.indexdef
         FROM pg_indexes i
         WHERE format('%I.%I', i.schemaname, i.tablename) = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                           WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)",
    )
    .bind(&tables)
    .fetch_all(&mut *conn)
    .await?;
    let mut ddl = Ddl::default();
    // Drop foreign keys before the keys they reference; add them back last.
    for (table, name, kind, def) in &constraints {
        let add = format!("ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}");
        let drop = format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\"");
        if kind == "f" {
            ddl.drop.insert(0, drop);
            ddl.foreign.push((table.clone(), add));
        } else {
            ddl.drop.push(drop);
            ddl.build.push((table.clone(), add));
        }
    }
    for (table, name, def) in indexes {
        ddl.drop.push(format!("DROP INDEX {name}"));
        ddl.build.push((table, def));
    }
    Ok(ddl)
}

/// One COPY stream into `statement`'s table, truncated first in the same
/// transaction so FREEZE applies. Triggers are off for the session (the
/// progress counters are rebuilt afterwards in one pass).
async fn copy_stream(
    database: String,
    statement: &'static str,
    mut rx: mpsc::Receiver<Vec<u8>>,
) -> anyhow::Result<(u64, u64, Duration)> {
    let mut conn = connect(&database).await?;
    conn.execute("SET session_replication_role = replica")
        .await?;
    conn.execute("SET synchronous_commit = off").await?;
    let table = statement
        .split_whitespace()
        .nth(1)
        .context("COPY statement names its table")?
        .to_owned();
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    tx.execute(AssertSqlSafe(format!("TRUNCATE {table}")))
        .await?;
    let mut copy = tx.copy_in_raw(statement).await?;
    let mut bytes = 0u64;
    while let Some(chunk) = rx.recv().await {
        bytes += chunk.len() as u64;
        if let Err(e) = copy.send(chunk).await {
            return Err(anyhow::Error::from(e).context(format!("COPY into {table}")));
        }
    }
    let rows = copy
        .finish()
        .await
        .with_context(|| format!("COPY into {table}"))?;
    tx.commit().await?;
    Ok((rows, bytes, started.elapsed()))
}

/// Runs `statements` on `workers` connections at once, printing each one's time.
async fn run_parallel(
    database: &str,
    workers: usize,
    what: &str,
    statements: Vec<(String, String)>,
) -> anyhow::Result<()> {
    let queue = Arc::new(tokio::sync::Mutex::new(statements));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (queue, database, what) = (queue.clone(), database.to_owned(), what.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(&database).await?;
            conn.execute("SET maintenance_work_mem = '1GB'").await?;
            conn.execute("SET session_replication_role = replica")
                .await?;
            loop {
                let Some((table, sql)) = queue.lock().await.pop() else {
                    break;
                };
                let t = Instant::now();
                conn.execute(AssertSqlSafe(sql.clone()))
                    .await
                    .with_context(|| sql.clone())?;
                let short: String = sql.chars().take(110).collect();
                println!(
                    "  {what:<11} {table:<22} {:>8.1} s  {short}",
                    t.elapsed().as_secs_f64()
                );
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

async fn load(args: &Args, database: &str, p: &Arc<Province>, now: i64) -> anyhow::Result<()> {
    let loading = Instant::now();
    println!(
        "province: {} counties, {} townships, {} villages; {} households, ~{} visits, ~{} ledger items",
        p.counties.len(),
        p.townships.len(),
        p.villages.len(),
        args.households,
        args.visits,
        args.items
    );
    let t = Instant::now();
    let pools = migrate(database).await?;
    for pool in pools {
        pool.close().await;
    }
    println!(
        "migrations (all six services)          {:>8.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut conn = connect(database).await?;
    let t = Instant::now();
    for (statement, data) in small_tables(p, now) {
        let mut copy = conn.copy_in_raw(statement).await?;
        copy.send(data).await?;
        copy.finish().await.with_context(|| statement.to_owned())?;
    }
    println!(
        "regions, cadres, campaigns, teams        {:>8.1} s",
        t.elapsed().as_secs_f64()
    );

    let ddl = capture_ddl(&mut conn).await?;
    for sql in &ddl.drop {
        conn.execute(AssertSqlSafe(sql.clone())).await?;
    }

    // One COPY stream per table, all at once; two generator threads.
    let g = Gen::new(p.clone(), args, now);
    let statements = [
        HOUSEHOLDS_COPY,
        VISITS_COPY,
        ITEMS_COPY,
        ISSUES_COPY,
        CALLBACKS_COPY,
    ];
    let mut senders = Vec::new();
    let mut streams = Vec::new();
    for statement in statements {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
        senders.push(tx);
        streams.push(tokio::spawn(copy_stream(
            database.to_owned(),
            statement,
            rx,
        )));
    }
    let t = Instant::now();
    let mut senders = senders.into_iter();
    let mut households = Sink::new(senders.next().context("sender")?);
    let mut visits = Sink::new(senders.next().context("sender")?);
    let mut items = Sink::new(senders.next().context("sender")?);
    let mut issues = Sink::new(senders.next().context("sender")?);
    let mut callbacks = Sink::new(senders.next().context("sender")?);
    let g2 = g.clone();
    let gen_households = std::thread::spawn(move || g2.households(&mut households));
    let gen_activity = std::thread::spawn(move || {
        g.activity(&mut visits, &mut items, &mut issues, &mut callbacks)
    });
    let mut results = Vec::new();
    for (statement, stream) in statements.iter().zip(streams) {
        let table = statement
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
            .to_owned();
        results.push((table, stream.await?));
    }
    let generated =
        gen_households.join().is_ok_and(|ok| ok) & gen_activity.join().is_ok_and(|ok| ok);
    println!("COPY, one FREEZE stream per table, all at once:");
    for (table, result) in &results {
        let (rows, bytes, took) = result
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{table}: {e:#}"))?;
        println!(
            "  {table:<22} {rows:>11} rows {:>8.1} s {:>10.0} rows/s {:>8.0} MB",
            took.as_secs_f64(),
            *rows as f64 / took.as_secs_f64(),
            *bytes as f64 / 1e6
        );
    }
    anyhow::ensure!(generated, "a generator stopped early");
    let total_rows: u64 = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(|r| r.0))
        .sum();
    println!(
        "  all COPY streams       {total_rows:>11} rows {:>8.1} s {:>10.0} rows/s",
        t.elapsed().as_secs_f64(),
        total_rows as f64 / t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    println!("indexes and keys, built after the load (2 at a time):");
    // Largest tables first (the queue pops from its end).
    let weight = |table: &str| match table {
        "registry.visits" => 5,
        "registry.households" => 4,
        "issues.issues" => 3,
        "supervision.callbacks" => 2,
        _ => 1,
    };
    let mut build = ddl.build;
    build.sort_by_key(|(table, _)| weight(table));
    run_parallel(database, 2, "index", build).await?;
    println!(
        "  indexes                                {:>8.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    run_parallel(database, 2, "foreign key", ddl.foreign).await?;
    println!(
        "  foreign keys (validated)               {:>8.1} s",
        t.elapsed().as_secs_f64()
    );

    // The registry's derived counters: COPY bypassed the statements that
    // keep them.
    let t = Instant::now();
    conn.execute("SET work_mem = '256MB'").await?;
    let mut tx = conn.begin().await?;
    tx.execute("SET LOCAL search_path = registry").await?;
    zoufang_registry::store::progress::rebuild(&mut tx).await?;
    tx.commit().await?;
    println!(
        "progress counters (store::progress::rebuild) {:>8.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    conn.execute("SET maintenance_work_mem = '1GB'").await?;
    for schema in ["registry", "issues", "supervision"] {
        conn.execute(AssertSqlSafe(format!(
            "DO $$ DECLARE t text; BEGIN
               FOR t IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = '{schema}'
               LOOP EXECUTE 'ANALYZE ' || t; END LOOP; END $$"
        )))
        .await?;
    }
    // VACUUM cannot run inside DO; the bulk tables are frozen by COPY FREEZE,
    // so this only sets the visibility map of what the rebuild wrote.
    for table in ["issues.issues", "supervision.callbacks"] {
        conn.execute(AssertSqlSafe(format!("VACUUM {table}")))
            .await?;
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
         WHERE schemaname = 'registry' AND tablename LIKE 'progress%'",
    )
    .fetch_all(&mut conn)
    .await?;
    for table in tables {
        conn.execute(AssertSqlSafe(format!("VACUUM {table}")))
            .await?;
    }
    println!(
        "ANALYZE and VACUUM                     {:>8.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "load total                             {:>8.1} s",
        loading.elapsed().as_secs_f64()
    );
    Ok(())
}

// -------------------------------------------------------------- measuring

fn claims(sub: &str, role: &str, scope: &str) -> Claims {
    Claims {
        sub: sub.to_owned(),
        roles: vec![role.to_owned()],
        scope: scope.to_owned(),
        exp: i64::MAX,
        ..Claims::default()
    }
}

/// Latency samples (µs) of one query kind.
#[derive(Debug, Default)]
struct Samples {
    us: Vec<u64>,
}

impl Samples {
    fn quantiles(&mut self) -> (f64, f64, f64) {
        self.us.sort_unstable();
        (
            percentile(&self.us, 0.50),
            percentile(&self.us, 0.95),
            percentile(&self.us, 0.99),
        )
    }
}

/// Runs `call` once and returns (what it counted, microseconds). This
/// machine's PostgreSQL is shared and sometimes restarted under us (the
/// fault tests do it): an error is retried after a pause, up to a minute,
/// and only the successful call is timed.
async fn timed<T, E, F, Fut>(what: &str, mut call: F) -> anyhow::Result<(T, u64)>
where
    E: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    for attempt in 1.. {
        let t = Instant::now();
        match call().await {
            Ok(v) => return Ok((v, t.elapsed().as_micros() as u64)),
            Err(e) if attempt < 30 => {
                eprintln!("{what}: {e:?}; retrying in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => anyhow::bail!("{what}: {e:?}"),
        }
    }
    unreachable!("the loop returns")
}

async fn measure(args: &Args, database: &str, p: &Province) -> anyhow::Result<()> {
    let u = url(database);
    let registry_pool = zoufang_core::db::connect_and_migrate(
        &u,
        zoufang_registry::SCHEMA,
        4,
        &zoufang_registry::app::MIGRATOR,
    )
    .await?;
    let issues_pool = zoufang_core::db::connect_and_migrate(
        &u,
        zoufang_issues::SCHEMA,
        4,
        &zoufang_issues::app::MIGRATOR,
    )
    .await?;
    let supervision_pool = zoufang_core::db::connect_and_migrate(
        &u,
        zoufang_supervision::SCHEMA,
        4,
        &zoufang_supervision::app::MIGRATOR,
    )
    .await?;
    let registry = zoufang_registry::ops::State::new(
        registry_pool.clone(),
        PiiCipher::new(&PiiKey::dev()),
        zoufang_core::clock::Clock::system(),
    );
    let issues = zoufang_issues::ops::State {
        pool: issues_pool,
        settings: Default::default(),
        clock: zoufang_core::clock::Clock::system(),
    };
    let supervision = zoufang_supervision::ops::State {
        pool: supervision_pool,
        registry: tonic::transport::Channel::from_static("http://127.0.0.1:9").connect_lazy(),
        // Never called here: the bench records visits, it reads no phones.
        exchange: Arc::new(zoufang_core::auth::exchange::TokenExchange::new(
            "http://127.0.0.1:9/internal/token",
            "supervision",
            &zoufang_core::auth::exchange::dev_service_secret("supervision"),
        )?),
        clock: zoufang_core::clock::Clock::system(),
    };

    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'registry.households', count(*) FROM registry.households
         UNION ALL SELECT 'registry.visits', count(*) FROM registry.visits
         UNION ALL SELECT 'registry.visit_items', count(*) FROM registry.visit_items
         UNION ALL SELECT 'issues.issues', count(*) FROM issues.issues
         UNION ALL SELECT 'supervision.callbacks', count(*) FROM supervision.callbacks
         UNION ALL SELECT 'open callbacks', count(*) FROM supervision.callbacks WHERE state = 'open'",
    )
    .fetch_all(&registry_pool)
    .await?;
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&registry_pool)
        .await?;
    println!("database {database}: {:.1} GB", size as f64 / 1e9);
    for (table, n) in counts {
        println!("  {table:<22} {n:>11}");
    }

    let mut r = Rng::new(args.seed ^ 0x5eed);
    let labels = [
        "baseline",
        "township coverage",
        "county coverage",
        "township ledger",
        "county ledger",
        "worklist page",
    ];
    let mut samples: Vec<Samples> = labels.iter().map(|_| Samples::default()).collect();
    let warmup = 5.min(args.reps);
    let mut rows_seen = [0usize; 6];
    for rep in 0..args.reps + warmup {
        let keep = rep >= warmup;
        let mut record = |k: usize, (rows, us): (usize, u64)| {
            if keep {
                samples[k].us.push(us);
                rows_seen[k] += rows;
            }
        };
        // Baseline: one household by primary key.
        let v = &p.villages[r.below(p.villages.len() as u64) as usize];
        let h = v.first + r.below(v.households.max(1));
        record(
            0,
            timed(labels[0], || async {
                sqlx::query_scalar::<_, String>(
                    "SELECT head_name FROM households WHERE county = $1 AND household_id = $2",
                )
                .bind(&v.code[..6])
                .bind(p.household_id(h))
                .fetch_optional(&registry_pool)
                .await
                .map(|row| usize::from(row.is_some()))
            })
            .await?,
        );

        let township = &p.townships[r.below(p.townships.len() as u64) as usize];
        let county = &p.counties[township.county];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetRegionProgressRequest {
            campaign_id: county.campaign_id.to_string(),
            region_code: township.code.clone(),
            zone_id: String::new(),
        };
        record(
            1,
            timed(labels[1], || async {
                zoufang_registry::ops::progress::region(&registry, &admin, req.clone())
                    .await
                    .map(|r| r.children.len())
            })
            .await?,
        );

        let county = &p.counties[r.below(p.counties.len() as u64) as usize];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetRegionProgressRequest {
            campaign_id: county.campaign_id.to_string(),
            region_code: format!("{}000000", county.code),
            zone_id: String::new(),
        };
        record(
            2,
            timed(labels[2], || async {
                zoufang_registry::ops::progress::region(&registry, &admin, req.clone())
                    .await
                    .map(|r| r.children.len())
            })
            .await?,
        );

        let township = &p.townships[r.below(p.townships.len() as u64) as usize];
        let county = &p.counties[township.county];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetIssueStatisticsRequest {
            region_code: township.code[..9].to_owned(),
            campaign_id: county.campaign_id.to_string(),
        };
        record(
            3,
            timed(labels[3], || async {
                zoufang_issues::ops::query::statistics(&issues, &admin, req.clone())
                    .await
                    .map(|s| s.collected as usize)
            })
            .await?,
        );

        let county = &p.counties[r.below(p.counties.len() as u64) as usize];
        let admin = claims("bench-admin", roles::COUNTY_ADMIN, &county.code);
        let req = GetIssueStatisticsRequest {
            region_code: county.code.clone(),
            campaign_id: county.campaign_id.to_string(),
        };
        record(
            4,
            timed(labels[4], || async {
                zoufang_issues::ops::query::statistics(&issues, &admin, req.clone())
                    .await
                    .map(|s| s.collected as usize)
            })
            .await?,
        );

        let county = &p.counties[r.below(p.counties.len() as u64) as usize];
        let supervisor = claims(
            r.pick(&county.supervisors).as_str(),
            roles::SUPERVISOR,
            &county.code,
        );
        let req = ListWorklistRequest {
            page_size: 0,
            overdue_only: false,
        };
        record(
            5,
            timed(labels[5], || async {
                zoufang_supervision::ops::callbacks::worklist(&supervision, &supervisor, req)
                    .await
                    .map(|page| page.callbacks.len())
            })
            .await?,
        );
    }

    let (b50, b95, b99) = samples[0].quantiles();
    let n = args.reps.max(1) as f64;
    println!(
        "\n{} repetitions each over random townships, counties and supervisors (after {warmup} warm-up):",
        args.reps
    );
    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>8}  {:>10}  {:>11}  per answer",
        "query", "target", "p50 ms", "p95 ms", "p99 ms", "p50/base", "p95/base"
    );
    println!(
        "{:<20} {:>8} {b50:>8.2} {b95:>8.2} {b99:>8.2}  {:>10}  {:>11}  1 household by primary key",
        "baseline", "", "1.0", "1.0"
    );
    let targets = [0.0, 50.0, 200.0, 50.0, 200.0, 20.0];
    let what = [
        "",
        "villages (rows)",
        "townships (rows)",
        "ledger items counted",
        "ledger items counted",
        "callbacks on the page",
    ];
    for k in 1..6 {
        let (q50, q95, q99) = samples[k].quantiles();
        let verdict = if q95 <= targets[k] { "met" } else { "MISSED" };
        println!(
            "{:<20} {:>5.0} ms {q50:>8.2} {q95:>8.2} {q99:>8.2}  {:>9.1}×  {:>10.1}×  {:.0} {} — p95 {verdict}",
            labels[k],
            targets[k],
            q50 / b50.max(1e-3),
            q95 / b95.max(1e-3),
            rows_seen[k] as f64 / n,
            what[k],
        );
    }
    Ok(())
}

/// What a database was loaded with, kept in it so `--database` measures
/// against the same generated province.
async fn loaded_params(
    database: &str,
) -> anyhow::Result<Option<(u64, u64, u64, Option<usize>, u64)>> {
    let mut conn = connect(database).await?;
    let present: bool =
        sqlx::query_scalar("SELECT to_regclass('public.bench_scale_params') IS NOT NULL")
            .fetch_one(&mut conn)
            .await?;
    if !present {
        return Ok(None);
    }
    let row: Option<(i64, i64, i64, Option<i32>, i64)> = sqlx::query_as(
        "SELECT households, visits, items, counties, seed FROM public.bench_scale_params",
    )
    .fetch_optional(&mut conn)
    .await?;
    Ok(row.map(|(h, v, i, c, s)| {
        (
            h as u64,
            v as u64,
            i as u64,
            c.map(|c| c as usize),
            s as u64,
        )
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    let now = chrono::Utc::now().timestamp();
    let reuse = args.database.is_some();
    let database = args
        .database
        .clone()
        .unwrap_or_else(|| unique_name("zfscale"));

    let mut admin = connect("postgres").await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&database)
            .fetch_one(&mut admin)
            .await?;
    let params = if exists {
        loaded_params(&database).await?
    } else {
        None
    };
    if let Some((households, visits, items, counties, seed)) = params {
        println!(
            "database {database}: already loaded (--households {households} --visits {visits} \
             --items {items}{} --seed {seed}), measuring only",
            counties
                .map(|c| format!(" --counties {c}"))
                .unwrap_or_default()
        );
        (
            args.households,
            args.visits,
            args.items,
            args.counties,
            args.seed,
        ) = (households, visits, items, counties, seed);
    }
    let p = Arc::new(Province::generate(
        args.seed,
        args.counties,
        args.households,
    ));
    if params.is_none() {
        load(&args, &database, &p, now).await?;
        let mut conn = connect(&database).await?;
        conn.execute(
            "CREATE TABLE public.bench_scale_params (households bigint, visits bigint, items bigint,
                counties integer, seed bigint)",
        )
        .await?;
        sqlx::query("INSERT INTO public.bench_scale_params VALUES ($1, $2, $3, $4, $5)")
            .bind(args.households as i64)
            .bind(args.visits as i64)
            .bind(args.items as i64)
            .bind(args.counties.map(|c| c as i32))
            .bind(args.seed as i64)
            .execute(&mut conn)
            .await?;
    }
    if !args.load_only {
        measure(&args, &database, &p).await?;
    }
    if args.keep || reuse {
        println!("kept database {database}");
    } else {
        admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE \"{database}\" WITH (FORCE)"
            )))
            .await?;
        println!("dropped database {database}");
    }
    Ok(())
}
