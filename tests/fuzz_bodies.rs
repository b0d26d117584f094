//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`): each takes the
//! fuzzer's bytes, runs them through the real parsers and asserts what must
//! hold for every input, so a panic here is a bug (in the parser, or in the
//! property). The same functions run every file under
//! `tests/fuzz-regressions/<target>/` in the test `fuzz_regressions`, so
//! each crash a fuzzer found stays a regression test.
//!
//! This file is also compiled into the fuzz crate (`fuzz/src/lib.rs`
//! includes it by path), which depends only on the crates named here: keep
//! its imports to `zoufang_core`, `zoufang_tabular`, `zoufang_gateway`, `zoufang_proto`,
//! `lapin`, `prost` and `chrono`, and do not refer to `crate::`.
//!
//! Targets:
//! - [`id_number`]: the resident ID number (`domain::IdNumber`, the gateway
//!   import's `check::id_number`, the masks).
//! - [`region_code`]: region codes and prefixes (`domain::RegionCode`,
//!   `RegionScope`, the import's `check::region_code`, a cadre's work area of
//!   6, 9 or 12 digits, the `?region=` parameter and the areas to load).
//! - [`import_row`]: a CSV (UTF-8/GBK) or workbook body through the import's
//!   reader (`import::read_rows`: `zoufang_tabular::workbook` / `zoufang_tabular::csv`,
//!   header mapping) and the row parsers of households, cadres and regions.
//! - [`event_decode`]: AMQP properties off the wire and a payload, as the
//!   consumer decodes them: `Envelope::from_properties`, the retry and
//!   parking re-publication, and the typed event by routing key.
use std::{collections::HashSet, sync::OnceLock};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lapin::{
    BasicProperties,
    protocol::basic::{gen_properties, parse_properties},
    types::{AMQPValue, LongString},
};
use zoufang_bus::{
    consumer::{HandlerError, IncomingEvent, default_retry_delays},
    {
        Envelope,
        envelope::{ATTEMPT_HEADER, ERROR_HEADER, with_header},
    },
};
use zoufang_core::{
    ServiceError,
    auth::{Claims, roles},
};
use zoufang_gateway::desk::import::{
    self, Kind,
    check::{self, halfwidth},
    directory::{self, Directory},
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    events::v1::{
        CadreChanged, CallbackCompleted, CallbackTask, HouseholdRegistered, IssueChanged,
        PetitionCaseChanged, VisitDisputed, VisitRecorded,
    },
    registry::v1::Region,
};
use zoufang_tabular::{Cell, CellKind};
use zoufang_types::{
    IdNumber, MobilePhone, RegionCode, RegionLevel, RegionScope, id_number::check_char,
    mask_id_number, mask_phone,
};

/// The body of a fuzz target.
pub type Body = fn(&[u8]);

/// The targets, as named under `fuzz/fuzz_targets/` and `tests/fuzz-regressions/`.
pub const TARGETS: &[(&str, Body)] = &[
    ("id_number", id_number),
    ("region_code", region_code),
    ("import_row", import_row),
    ("event_decode", event_decode),
];

/// "Today" of every target, so a run does not depend on the date.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
}

/// Scopes the targets act in: everything, a county, a township.
const SCOPES: [&str; 3] = ["", "430426", "430426104"];

/// A refusal is INVALID_ARGUMENT naming `field`, with a reason.
fn names_field(e: &ServiceError, field: &str) {
    match e {
        ServiceError::InvalidArgument(v) => {
            assert!(!v.is_empty(), "{e}");
            assert!(
                v.iter().all(|v| v.field == field && !v.reason.is_empty()),
                "{e}"
            );
        }
        other => panic!("not a field error: {other}"),
    }
}

// ---------------------------------------------------------------- id_number

/// The resident ID number: the domain parser, the import's cell check, the mask.
pub fn id_number(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let today = today();
    let normalized = s.trim().to_ascii_uppercase();

    let parsed = IdNumber::parse_on("id_number", &s, today);
    match &parsed {
        Ok(id) => {
            // It re-formats to its input (trimmed, x uppercased).
            assert_eq!(id.as_str(), normalized, "a parsed ID number is its input");
            let body = &id.as_str()[..17];
            assert!(body.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(check_char(body), id.as_str().chars().last());
            assert_ne!(&body[..6], "000000");
            let birth = id.birth_date();
            assert_eq!(birth.format("%Y%m%d").to_string(), &body[6..14]);
            assert!(birth.year() >= 1900 && birth <= today, "{birth}");
            // Parsing is idempotent.
            let again = IdNumber::parse_on("other", id.as_str(), today).expect("parses again");
            assert_eq!(&again, id);
            // Shown masked (6 + 4), never whole.
            let masked = id.masked();
            assert_eq!(
                masked,
                format!("{}********{}", &id.as_str()[..6], &id.as_str()[14..])
            );
            assert_eq!(id.to_string(), masked);
            assert_eq!(format!("{id:?}"), format!("IdNumber({masked})"));
        }
        Err(e) => names_field(e, "id_number"),
    }

    // The import checks the same rule with reasons in Chinese; it also takes
    // full-width digits and spaces inside, so it accepts at least as much.
    let cell = Cell::text(&s);
    let checked = check::id_number(Some(&cell), today);
    match (&parsed, &checked) {
        (Ok(id), Ok(v)) => assert_eq!(id.as_str(), v),
        (Ok(id), Err(e)) => panic!("the domain accepts {id:?}, the import refuses it: {e}"),
        (Err(_), Ok(v)) => {
            let id = IdNumber::parse_on("id_number", v, today).expect("the import's value parses");
            assert_eq!(id.as_str(), v);
        }
        (Err(_), Err(e)) => assert!(!e.is_empty()),
    }
    // A number cell of 16+ digits has lost digits and is refused.
    let number = Cell {
        text: cell.text.clone(),
        kind: CellKind::Number,
    };
    match check::id_number(Some(&number), today) {
        Ok(v) => assert_eq!(checked.as_ref().ok(), Some(&v)),
        Err(e) => assert!(!e.is_empty()),
    }

    // The masks take anything stored (trimmed) and never reveal more than
    // 6 + 4 (3 + 4 of a phone).
    let stored = s.trim();
    for (masked, shown) in [(mask_id_number(&s), 10), (mask_phone(&s), 7)] {
        assert_eq!(masked.chars().count(), stored.chars().count());
        let revealed = masked
            .chars()
            .zip(stored.chars())
            .filter(|(m, c)| m == c && *m != '*')
            .count();
        assert!(
            revealed <= shown,
            "{masked:?} reveals {revealed} characters"
        );
    }
    // Check characters only for 17 ASCII digits.
    if let Some(c) = check_char(&s) {
        assert!(s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit()));
        assert!(c.is_ascii_digit() || c == 'X');
    }
    // Phones: the domain parser and the import's check agree.
    let phone = MobilePhone::parse("phone", &s).ok();
    if let Some(p) = &phone {
        assert_eq!(p.as_str().len(), 11);
        let again = MobilePhone::parse("phone", p.as_str()).expect("parses again");
        assert_eq!(&again, p);
        assert_eq!(p.masked(), mask_phone(p.as_str()));
    }
    match check::mobile(Some(&cell)) {
        Ok(Some(v)) => {
            let p = MobilePhone::parse("phone", &v).expect("the import's value parses");
            assert_eq!(p.as_str(), v);
            if let Some(domain) = &phone {
                assert_eq!(domain.as_str(), v);
            }
        }
        Ok(None) => assert!(cell.text.is_empty() && phone.is_none()),
        Err(e) => {
            assert!(!e.is_empty());
            assert!(
                phone.is_none(),
                "the domain accepts {phone:?}, the import refuses: {e}"
            );
        }
    }
}

// -------------------------------------------------------------- region_code

/// Region codes (12 digits), scopes (prefixes), work areas (6/9/12 digits).
pub fn region_code(data: &[u8]) {
    let s = String::from_utf8_lossy(data);

    match RegionCode::parse("code", &s) {
        Ok(code) => region_code_holds(&s, &code),
        Err(e) => names_field(&e, "code"),
    }
    // The import's check: the same rule after full-width digits are made half-width.
    match check::region_code(&s) {
        Ok(code) => {
            assert_eq!(code.as_str(), halfwidth(s.trim()));
            region_code_holds(code.as_str(), &code);
        }
        Err(e) => {
            assert!(!e.is_empty());
            assert!(RegionCode::parse("code", &halfwidth(s.trim())).is_err());
        }
    }

    match RegionScope::parse("scope", &s) {
        Ok(scope) => {
            let p = scope.as_str();
            assert!(p.len() <= 12 && p.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(p, zoufang_types::region_prefix(s.trim()));
            // A filter never widens the scope.
            for requested in ["", "43", "430426", "430426104201", p, s.trim()] {
                if let Some(f) = scope.narrowest(requested) {
                    assert!(f.starts_with(p), "{f} widens {p}");
                }
            }
        }
        Err(e) => names_field(&e, "scope"),
    }

    let dir = fixture_directory();
    for scope in SCOPES {
        // A cadre's work area: a 6-, 9- or 12-digit prefix within the scope.
        match dir.area(&s, scope) {
            Ok(prefix) => {
                assert!(
                    matches!(prefix.len(), 6 | 9 | 12)
                        && prefix.bytes().all(|b| b.is_ascii_digit()),
                    "{prefix:?}"
                );
                assert!(prefix.starts_with(scope), "{prefix} outside {scope:?}");
                let code = RegionCode::parse("code", &format!("{prefix:0<12}")).expect("a code");
                assert_eq!(code.prefix(), prefix);
            }
            Err(e) => assert!(!e.is_empty()),
        }
        // The `?region=` parameter of an import, narrowed to the caller's scope.
        let claims = claims(scope, &[roles::COUNTY_ADMIN]);
        match import::area_of(&claims, Some(&s)) {
            Ok(area) => {
                assert!(area.len() <= 12 && area.bytes().all(|b| b.is_ascii_digit()));
                assert!(area.starts_with(scope), "{area} outside {scope:?}");
                let codes = [s.as_ref(), "430426104201", "430426105001"];
                for a in directory::areas_to_load(&area, codes.into_iter(), scope) {
                    assert!(matches!(a.len(), 6 | 9), "{a}");
                    assert!(
                        a.starts_with(scope) || scope.starts_with(&a),
                        "{a} vs {scope:?}"
                    );
                }
            }
            Err(e) => assert!(!e.message.is_empty()),
        }
    }
}

/// What holds for every valid code parsed from `input`.
fn region_code_holds(input: &str, code: &RegionCode) {
    let c = code.as_str();
    assert_eq!(c, input.trim());
    assert!(c.len() == 12 && c.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(code.to_string(), c);
    assert_eq!(code.county(), &c[..6]);
    let level = code.level();
    assert_eq!(code.prefix().len(), level.prefix_len());
    assert!(c.starts_with(code.prefix()));
    assert!(c[level.prefix_len()..].bytes().all(|b| b == b'0'));
    assert!(code.check_level("level", level).is_ok());
    assert_eq!(
        RegionLevel::from_csv_level(u8::try_from(level.as_i32()).expect("1..=5")),
        Some(level)
    );
    assert_eq!(code.township().is_some(), level >= RegionLevel::Township);
    assert_eq!(
        code.township_kind().is_some(),
        level == RegionLevel::Township
    );
    assert_eq!(code.village_kind().is_some(), level == RegionLevel::Village);
    assert!(RegionScope::for_code(code).covers_code(code));
    assert!(code.is_within(code));
    // Up the tree: each parent is a valid code of a higher level whose
    // significant prefix the child starts with; a province is the top.
    let mut child = code.clone();
    let mut steps = 0;
    while let Some(parent) = child.parent() {
        steps += 1;
        assert!(steps <= 4, "{c}: more than 4 ancestors");
        let reparsed =
            RegionCode::parse("parent", parent.as_str()).expect("a parent is a valid code");
        assert_eq!(reparsed, parent);
        assert!(
            parent.level() < child.level(),
            "{parent} is not above {child}"
        );
        assert!(child.as_str().starts_with(parent.prefix()));
        assert!(child.is_within(&parent) && code.is_within(&parent));
        assert!(!parent.is_within(&child));
        child = parent;
    }
    assert_eq!(child.level(), RegionLevel::Province);
}

/// A small county (祁东县 430426) as the import's directory knows it: two
/// townships, and a village name that occurs in both.
pub fn fixture_directory() -> &'static Directory {
    static DIR: OnceLock<Directory> = OnceLock::new();
    DIR.get_or_init(|| {
        let r = |code: &str, name: &str, parent: &str| Region {
            code: code.into(),
            name: name.into(),
            level: 0,
            parent_code: parent.into(),
            kind: String::new(),
        };
        let mut d = Directory::default();
        d.add(
            "430426",
            &[
                r("430426104000", "白鹤铺镇", "430426000000"),
                r("430426105000", "黄土铺镇", "430426000000"),
            ],
            &[
                r("430426104201", "黄龙村", "430426104000"),
                r("430426104202", "肖家村", "430426104000"),
                r("430426105201", "黄龙村", "430426105000"),
                r("430426105001", "桃源社区", "430426105000"),
            ],
        );
        d
    })
}

fn claims(scope: &str, roles: &[&str]) -> Claims {
    Claims {
        sub: "fuzz".into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        scope: scope.into(),
        ..Claims::default()
    }
}

// --------------------------------------------------------------- import_row

/// A file body as an import reads it. The first byte picks the kind (bit 4
/// set: 包保 assignments; else its value mod 3: households, cadres,
/// regions), the scope (bits 2–3), whether
/// the caller is a county admin (bit 7) and what the rest is (bit 6): set,
/// the XML of a worksheet, wrapped here in a minimal XLSX (see
/// [`xlsx_around`]: a fuzzer cannot change what is inside a real workbook
/// without breaking its checksums); clear, the file itself, a workbook when
/// it starts with the zip or OLE magic, else CSV.
pub fn import_row(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = if selector & 0x10 != 0 {
        Kind::Assignments
    } else {
        [Kind::Households, Kind::Cadres, Kind::Regions][usize::from(selector % 3)]
    };
    let scope = SCOPES[usize::from((selector >> 2) & 3) % SCOPES.len()];
    let county_admin = selector & 0x80 != 0;
    let wrapped;
    let body = if selector & 0x40 != 0 {
        wrapped = xlsx_around(body);
        &wrapped[..]
    } else {
        body
    };
    // Without a hint a body is a workbook or CSV, or an old XLS (refused).
    let format = match zoufang_tabular::sniff(body, "") {
        Ok(format) => format,
        Err(e) => {
            assert!(e.contains(".xls"), "{e}");
            return;
        }
    };

    let limits = zoufang_tabular::Limits::DEFAULT;
    let (_sheet, header_row, mapping, rows) =
        match import::read_rows(kind, format, body, None, &limits) {
            Ok(read) => read,
            Err(e) => {
                assert!(!e.message().is_empty());
                return;
            }
        };
    assert!(!mapping.is_empty());
    assert!(zoufang_tabular::missing(kind.specs(), &mapping).is_empty());
    // Rows keep the numbers Excel shows: after the header, increasing.
    let mut last = header_row;
    for row in &rows {
        assert!(row.number > last, "row {} after row {last}", row.number);
        last = row.number;
        assert!(!row.is_blank());
        if format == zoufang_tabular::Format::Csv {
            for cell in &row.cells {
                assert_eq!(cell.kind, CellKind::Text);
                assert_eq!(cell.text.trim(), cell.text);
            }
        }
    }

    let numbers: Vec<u32> = rows.iter().map(|r| r.number).collect();
    let dir = fixture_directory();
    let (good, errors): (Vec<u32>, Vec<import::RowError>) = match kind {
        Kind::Households => {
            let p = import::households::parse(&rows, &mapping, dir, scope, today());
            let mut ids = HashSet::new();
            for (_, req) in &p.good {
                let id =
                    IdNumber::parse_on("id_number", &req.id_number, today()).expect("valid id");
                assert_eq!(id.as_str(), req.id_number);
                assert!(ids.insert(req.id_number.clone()), "an ID number twice");
                let village = RegionCode::parse("village_code", &req.village_code).expect("a code");
                assert_eq!(village.level(), RegionLevel::Village);
                assert!(village.as_str().starts_with(scope));
                assert!(req.phone.is_empty() || MobilePhone::parse("phone", &req.phone).is_ok());
                assert!((1..=50).contains(&req.member_count));
                let name_len = req.head_name.chars().count();
                assert!((1..=50).contains(&name_len));
                let tags: HashSet<&String> = req.tags.iter().collect();
                assert_eq!(tags.len(), req.tags.len(), "tags are unique");
                assert!(
                    req.tags
                        .iter()
                        .all(|t| (1..=32).contains(&t.chars().count()))
                );
            }
            (p.good.iter().map(|(n, _)| *n).collect(), p.errors)
        }
        Kind::Cadres => {
            let existing = std::collections::HashMap::from([(
                ("张三".to_owned(), "138****0001".to_owned()),
                "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d".to_owned(),
            )]);
            let p = import::cadres::parse(&rows, &mapping, dir, scope, county_admin, &existing);
            for (_, row) in &p.good {
                let req = &row.req;
                let r = &req.region_code;
                assert!(matches!(r.len(), 6 | 9 | 12) && r.bytes().all(|b| b.is_ascii_digit()));
                assert!(r.starts_with(scope), "{r} outside {scope:?}");
                assert!(!req.name.is_empty() && !req.position.is_empty());
                assert!(req.phone.is_empty() || MobilePhone::parse("phone", &req.phone).is_ok());
                assert!(!req.roles.is_empty());
                if !county_admin {
                    assert!(
                        !req.roles
                            .iter()
                            .any(|r| r == roles::COUNTY_ADMIN || r == roles::PETITION_BUREAU),
                        "only a county admin grants {:?}",
                        req.roles
                    );
                }
            }
            (p.good.iter().map(|(n, _)| *n).collect(), p.errors)
        }
        Kind::Assignments => {
            use zoufang_proto::registry::v1::Cadre;
            let cadres = import::assignments::Cadres::new(&[Cadre {
                cadre_id: "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d".into(),
                name: "张三".into(),
                phone: "138****0001".into(),
                ..Cadre::default()
            }]);
            let zones = import::assignments::Zones::new(vec![]);
            let households = std::collections::HashMap::new();
            let cx = import::assignments::Context {
                dir,
                scope,
                campaign_region: scope,
                cadres: &cadres,
                zones: &zones,
                households: &households,
            };
            let p = import::assignments::parse(
                &rows,
                &mapping,
                "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c01",
                &cx,
            );
            for (_, req) in &p.good {
                assert!(uuid::Uuid::parse_str(&req.assignment_id).is_ok());
                assert_eq!(req.cadre_id, "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d");
            }
            (p.good.iter().map(|(n, _)| *n).collect(), p.errors)
        }
        Kind::Regions => {
            let claims = claims(scope, &[roles::COUNTY_ADMIN]);
            let p = import::regions::parse(&rows, &mapping, &claims);
            let mut codes = HashSet::new();
            for (_, line) in &p.good {
                let code = RegionCode::parse("code", &line.code).expect("a code");
                assert!(codes.insert(line.code.clone()), "a code twice");
                assert_eq!(line.level, code.level());
                let parent = code
                    .parent()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default();
                assert_eq!(line.parent, parent);
                assert!(claims.covers(&line.code) || scope.starts_with(code.prefix()));
                assert!(!line.name.is_empty() && line.name.chars().count() <= 100);
            }
            // The CSV sent to the registry reads back as the same lines.
            if !p.good.is_empty() {
                let csv = import::regions::to_csv(&p.good).expect("csv");
                let grid = zoufang_tabular::csv(&csv).expect("the registry's CSV reads back");
                assert_eq!(grid.rows.len(), p.good.len() + 1);
                for (row, (_, line)) in grid.rows[1..].iter().zip(&p.good) {
                    let cells: Vec<&str> = row.cells.iter().map(|c| c.text.as_str()).collect();
                    let level = line.level.as_i32().to_string();
                    assert_eq!(cells, [&line.code, &line.name, &level, &line.parent]);
                }
            }
            (p.good.iter().map(|(n, _)| *n).collect(), p.errors)
        }
    };
    // Every row ends either imported or with at least one error naming its
    // column and the reason; none both, none lost.
    let good: HashSet<u32> = good.into_iter().collect();
    let bad: HashSet<u32> = errors.iter().map(|e| e.row).collect();
    assert!(good.is_disjoint(&bad), "a row both good and bad");
    let all: HashSet<u32> = numbers.into_iter().collect();
    assert_eq!(&good | &bad, all, "every row is good or bad");
    for e in &errors {
        assert!(!e.column.is_empty() && !e.reason.is_empty(), "{e:?}");
    }
}

/// The shared strings of [`xlsx_around`]'s workbook (`<c t="s"><v>N</v></c>`
/// takes the Nth): the column names of every kind, then some values.
const SHARED_STRINGS: &[&str] = &[
    "户主姓名",
    "身份证号码",
    "联系电话",
    "所属乡镇",
    "所属村",
    "家庭人口",
    "标签",
    "姓名",
    "单位类型",
    "职务",
    "工作区域",
    "角色",
    "区划代码",
    "名称",
    "级别",
    "上级代码",
    "唐怀珠",
    "430426198001010019",
    "13807340001",
    "白鹤铺镇",
    "黄龙村",
    "低保、留守",
    "乡镇机关",
    "村两委",
    "430426104",
    "走访干部",
    "430426104201",
    "村",
    "430426104000",
];

/// A minimal XLSX (zip, entries stored) whose only worksheet is `sheet_xml`;
/// its shared strings are [`SHARED_STRINGS`] and style 1 is a date.
pub fn xlsx_around(sheet_xml: &[u8]) -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let strings: String = SHARED_STRINGS
        .iter()
        .map(|s| format!("<si><t>{s}</t></si>"))
        .collect();
    let files: [(&str, Vec<u8>); 6] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
            .as_bytes()
            .to_vec(),
        ),
        (
            "_rels/.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes(),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/></Relationships>"#).into_bytes(),
        ),
        (
            "xl/sharedStrings.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">{strings}</sst>"#).into_bytes(),
        ),
        (
            "xl/styles.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>"#).into_bytes(),
        ),
    ];
    let mut zip = Vec::new();
    let mut central = Vec::new();
    let entries = files
        .iter()
        .map(|(name, data)| (*name, data.as_slice()))
        .chain([("xl/worksheets/sheet1.xml", sheet_xml)]);
    let mut count = 0u16;
    for (name, data) in entries {
        let offset = u32::try_from(zip.len()).unwrap_or(u32::MAX);
        let (crc, len) = (crc32(data), u32::try_from(data.len()).unwrap_or(u32::MAX));
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        // Version 2.0, no flags, stored, 1980-01-01 00:00.
        let common = |out: &mut Vec<u8>| {
            for v in [20u16, 0, 0, 0, 0x21] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, len, len] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&name_len.to_le_bytes());
        };
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut zip);
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        for v in [0u16, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        count += 1;
    }
    let cd_offset = u32::try_from(zip.len()).unwrap_or(u32::MAX);
    let cd_len = u32::try_from(central.len()).unwrap_or(u32::MAX);
    zip.extend_from_slice(&central);
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, count, count] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    zip.extend_from_slice(&cd_len.to_le_bytes());
    zip.extend_from_slice(&cd_offset.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// CRC-32 (IEEE), as zip checks it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

// ------------------------------------------------------------- event_decode

/// Splits an event input: `[u16 BE n][n bytes: AMQP basic properties as on
/// the wire][u8 k][k bytes: the delivery's routing key][payload]`.
fn split_event(data: &[u8]) -> Option<(&[u8], String, &[u8])> {
    let (n, rest) = data.split_first_chunk::<2>()?;
    let (props, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes(*n)))?;
    let (k, rest) = rest.split_first()?;
    let (key, payload) = rest.split_at_checked(usize::from(*k))?;
    Some((props, String::from_utf8_lossy(key).into_owned(), payload))
}

/// An event input from its parts (the inverse of [`split_event`]), for seeds.
pub fn encode_event(props: &BasicProperties, delivery_key: &str, payload: &[u8]) -> Vec<u8> {
    let wire = properties_to_wire(props).expect("properties encode");
    let mut out = Vec::new();
    out.extend_from_slice(&u16::try_from(wire.len()).expect("short").to_be_bytes());
    out.extend_from_slice(&wire);
    out.push(u8::try_from(delivery_key.len()).expect("short key"));
    out.extend_from_slice(delivery_key.as_bytes());
    out.extend_from_slice(payload);
    out
}

fn properties_to_wire(props: &BasicProperties) -> Option<Vec<u8>> {
    let (bytes, _) = gen_properties(props)(Vec::new().into()).ok()?.into_inner();
    Some(bytes)
}

fn properties_from_wire(wire: &[u8]) -> Option<BasicProperties> {
    parse_properties(wire).ok().map(|(_, p)| p)
}

/// Whether the envelope's time comes from the properties (else it is "now").
fn carries_time(props: &BasicProperties) -> bool {
    let headers = props
        .headers()
        .as_ref()
        .map(zoufang_bus::headers_to_map)
        .unwrap_or_default();
    headers
        .get("ce-time")
        .is_some_and(|t| DateTime::parse_from_rfc3339(t).is_ok())
        || props.timestamp().is_some_and(|t| {
            i64::try_from(t).is_ok_and(|t| DateTime::<Utc>::from_timestamp(t, 0).is_some())
        })
}

/// Equal envelopes, the time compared only when `timed`.
fn assert_same_envelope(a: &Envelope, b: &Envelope, timed: bool, what: &str) {
    let mut b = b.clone();
    if !timed {
        b.time = a.time;
    }
    assert_eq!(a, &b, "{what}");
}

/// AMQP properties and a payload, decoded as a consumer does.
pub fn event_decode(data: &[u8]) {
    let Some((wire, delivery_key, payload)) = split_event(data) else {
        return;
    };
    let Some(props) = properties_from_wire(wire) else {
        return;
    };
    let envelope = match Envelope::from_properties(&props, &delivery_key) {
        Ok(e) => e,
        Err(reason) => {
            // Parked with its reason.
            assert!(!reason.is_empty());
            return;
        }
    };
    let timed = carries_time(&props);
    let again = Envelope::from_properties(&props, &delivery_key).expect("decodes again");
    assert_same_envelope(&envelope, &again, timed, "decoding is deterministic");
    assert_eq!(
        envelope.ce_type(),
        format!("zoufang.{}", envelope.routing_key)
    );

    // A retry re-publishes the delivery's properties with the attempt counted
    // and the error noted (only while retries remain); parking notes the
    // error. Through the broker and back, the envelope is the same.
    let retries = default_retry_delays().len();
    let mut republished = vec![(
        with_header(
            props.clone(),
            ERROR_HEADER,
            AMQPValue::LongString(LongString::from("park: fuzz")),
        ),
        envelope.attempt,
    )];
    if (envelope.attempt as usize) < retries {
        let retried = with_header(
            with_header(
                props.clone(),
                ATTEMPT_HEADER,
                AMQPValue::LongUInt(envelope.attempt + 1),
            ),
            ERROR_HEADER,
            AMQPValue::LongString(LongString::from("retry: fuzz")),
        );
        republished.push((retried, envelope.attempt + 1));
    }
    for (p, attempt) in republished {
        let wire = properties_to_wire(&p).expect("re-published properties encode");
        let back = properties_from_wire(&wire).expect("and decode");
        let env = Envelope::from_properties(&back, &delivery_key).expect("still an envelope");
        let mut expected = envelope.clone();
        expected.attempt = attempt;
        assert_same_envelope(&expected, &env, timed, "re-published");
    }

    // The outbox relay publishes `to_properties`: an envelope it could have
    // published (short strings fit, an RFC 3339 year) reads back the same.
    let publishable = envelope.source.len() <= 255
        && envelope.ce_type().len() <= 255
        && (0..=9999).contains(&envelope.time.year());
    if publishable {
        let wire = properties_to_wire(&envelope.to_properties()).expect("encodes");
        let back = properties_from_wire(&wire).expect("decodes");
        let env = Envelope::from_properties(&back, "ignored").expect("an envelope");
        assert_same_envelope(&envelope, &env, true, "published and read back");
    }

    // The typed event, as the consumers decode it by routing key; an unknown
    // key is parked by them, but no payload may break any decoder.
    let event = IncomingEvent {
        envelope,
        payload: payload.to_vec(),
    };
    let key = event.envelope.routing_key.as_str();
    let typed: &[fn(&IncomingEvent)] = match key {
        catalogue::registry::VISIT_RECORDED => &[typed::<VisitRecorded>],
        catalogue::registry::VISIT_DISPUTED => &[typed::<VisitDisputed>],
        catalogue::registry::HOUSEHOLD_REGISTERED => &[typed::<HouseholdRegistered>],
        catalogue::supervision::CALLBACK_COMPLETED
        | catalogue::supervision::CALLBACK_UNREACHABLE => &[typed::<CallbackCompleted>],
        catalogue::supervision::CALLBACK_ASSIGNED | catalogue::supervision::CALLBACK_OVERDUE => {
            &[typed::<CallbackTask>]
        }
        k if k.starts_with(catalogue::issues::PREFIX) => &[typed::<IssueChanged>],
        k if k.starts_with(catalogue::petition::PREFIX) => &[typed::<PetitionCaseChanged>],
        k if k.starts_with(catalogue::registry::CADRE_PREFIX) => &[typed::<CadreChanged>],
        _ => &[
            typed::<VisitRecorded>,
            typed::<VisitDisputed>,
            typed::<HouseholdRegistered>,
            typed::<CallbackCompleted>,
            typed::<CallbackTask>,
            typed::<IssueChanged>,
            typed::<PetitionCaseChanged>,
            typed::<CadreChanged>,
        ],
    };
    for decode in typed {
        decode(&event);
    }
}

/// Decodes the payload as `M`: a message re-encodes to bytes that decode to
/// the same bytes again; a refusal parks the event naming its routing key.
/// The consumers' typed path (`decode_if`, which also checks the payload's
/// change against the key) never fails otherwise either.
fn typed<M: catalogue::Event>(event: &IncomingEvent) {
    match event.decode_if::<M>() {
        Ok(Some(_)) => assert!(event.is::<M>()),
        Ok(None) => assert!(!event.is::<M>()),
        Err(HandlerError::Park(e)) => {
            assert!(format!("{e:#}").contains(&event.envelope.routing_key));
        }
        Err(other) => panic!("an event the handler cannot read must be parked, not {other}"),
    }
    match event.decode::<M>() {
        Ok(m) => {
            let bytes = m.encode_to_vec();
            assert_eq!(m.encoded_len(), bytes.len());
            let again = M::decode(bytes.as_slice()).expect("a re-encoded event decodes");
            assert_eq!(again.encode_to_vec(), bytes, "re-encoding is stable");
        }
        Err(HandlerError::Park(e)) => {
            assert!(format!("{e:#}").contains(&event.envelope.routing_key));
        }
        Err(other) => panic!("an undecodable payload must be parked, not {other}"),
    }
}
