//! Every input under `tests/fuzz-regressions/<target>/` through the body of
//! its fuzz target (`zoufang_e2e::fuzz_bodies`): the seeds kept there and
//! each crash `scripts/fuzz.sh` found. A body asserts what must hold for
//! every input, so a failure here is a bug (or a property that is wrong).
//! Needs no database or broker.
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    time::{Duration, UNIX_EPOCH},
};

use chrono::{DateTime, Utc};
use lapin::BasicProperties;
use prost::Message;
use zoufang_bus::Envelope;
use zoufang_e2e::fuzz_bodies::{TARGETS, encode_event};
use zoufang_proto::catalogue;
use zoufang_proto::events::v1::{IssueChanged, VisitRecorded};
use zoufang_types::id_number::check_char;

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-regressions")
}

/// The files of one target, sorted (dot files skipped).
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = regressions_dir().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_input_passes_its_target() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for (target, body) in TARGETS {
        let files = inputs(target);
        assert!(
            !files.is_empty(),
            "no inputs for {target} under tests/fuzz-regressions/{target}/"
        );
        for file in files {
            let data = std::fs::read(&file).expect("read input");
            ran += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(&data))) {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{target}: {}: {why}", file.display()));
            }
        }
    }
    println!(
        "fuzz regressions: {ran} inputs through {} targets",
        TARGETS.len()
    );
    assert!(
        failures.is_empty(),
        "{} input(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The seed inputs (`seeds()`) are committed under `tests/fuzz-regressions/`
/// as generated, so the fuzzer and the replay above start from them. With
/// `ZF_WRITE_FUZZ_SEEDS=1` the test writes them first (after changing a
/// seed). The XLSX seed is compared by presence only: the workbook writer
/// stamps the time into it.
#[test]
fn committed_seeds_are_the_generated_ones() {
    let write = std::env::var("ZF_WRITE_FUZZ_SEEDS").is_ok_and(|v| v == "1");
    for (target, name, bytes) in seeds() {
        let dir = regressions_dir().join(target);
        let path = dir.join(name);
        if write {
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(&path, &bytes).expect("write seed");
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with ZF_WRITE_FUZZ_SEEDS=1 to write the seeds",
                path.display()
            )
        });
        if !name.ends_with(".xlsx") {
            assert!(
                committed == bytes,
                "{} differs from its seed; run with ZF_WRITE_FUZZ_SEEDS=1 to write the seeds",
                path.display()
            );
        }
    }
}

/// The seeds (target, file name, bytes): a valid ID number and near misses,
/// region codes of each length, CSV in UTF-8 and GBK, a small XLSX, encoded
/// events. For `import_row` the first byte picks the kind (bit 4: 包保
/// assignments; else mod 3), the scope
/// (bits 2–3), worksheet XML (bit 6) and a county admin (bit 7); see
/// `fuzz_bodies::import_row`.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "id_number",
            "seed-valid.txt",
            b"11010519491231002X".to_vec(),
        ),
        (
            "id_number",
            "seed-lowercase-x.txt",
            b" 11010519491231002x\n".to_vec(),
        ),
        (
            "id_number",
            "seed-bad-check.txt",
            b"110105194912310021".to_vec(),
        ),
        (
            "id_number",
            "seed-fullwidth.txt",
            "１１０１０５１９４９１２３１００２Ｘ".as_bytes().to_vec(),
        ),
        ("region_code", "seed-village.txt", b"430426104201".to_vec()),
        (
            "region_code",
            "seed-township-under-city.txt",
            b"441900003000".to_vec(),
        ),
        ("region_code", "seed-county-6.txt", b"430426".to_vec()),
        ("region_code", "seed-township-9.txt", b"430426104".to_vec()),
        (
            "region_code",
            "seed-township-name.txt",
            "白鹤铺镇".as_bytes().to_vec(),
        ),
    ];

    let id = |serial: u32| {
        let body = format!("43042619800101{serial:03}");
        format!("{body}{}", check_char(&body).expect("digits"))
    };
    let households = format!(
        "白鹤铺镇农户花名册\n户主姓名,身份证号码,联系电话,所属乡镇,所属村,村民小组,家庭人口,标签\n\
         唐怀珠,{},13807340001,白鹤铺镇,黄龙村,肖家组,4,低保、留守\n\
         李四,{},,,肖家村,,3人,\n\
         王五,{},1380734,,430426104201,,2,\n",
        id(1),
        id(2),
        id(1)
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&households);
    let cadres = "姓名,联系电话,单位类型,职务,工作区域,角色\n\
                  张三,13800000001,乡镇机关,副镇长,430426104,走访干部\n\
                  李娟,13807340002,村两委,支书,黄龙村,\n\
                  赵六,,县直部门,科员,430426,县级管理员\n";
    let regions = "区划代码,名称,级别,上级代码\n\
                   430426000000,祁东县,县,430400000000\n\
                   430426104000,白鹤铺镇,乡镇,\n\
                   430426104201,黄龙村,村,430426104000\n\
                   430426000201,错误,5,\n";
    let with = |selector: u8, body: &[u8]| [&[selector][..], body].concat();
    out.extend([
        (
            "import_row",
            "seed-households-utf8.csv",
            with(0, households.as_bytes()),
        ),
        ("import_row", "seed-households-gbk.csv", with(6, &gbk)),
        ("import_row", "seed-cadres.csv", with(10, cadres.as_bytes())),
        (
            "import_row",
            "seed-regions.csv",
            with(2, regions.as_bytes()),
        ),
        (
            "import_row",
            "seed-assignments.csv",
            with(
                0x10,
                "干部姓名,村\n张三,黄龙村\n张三,\n李四,黄龙村\n".as_bytes(),
            ),
        ),
        (
            "import_row",
            "seed-households.xlsx",
            with(6, &households_xlsx(&id(7))),
        ),
    ]);
    // Worksheet XML (bit 6 of the selector), wrapped by the body in a
    // minimal workbook; `t="s"` cells index `fuzz_bodies::SHARED_STRINGS`.
    let sheet = |rows: &[&str]| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>"#,
            rows.concat()
        )
    };
    let households_sheet = sheet(&[
        r#"<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c><c r="D2" t="s"><v>4</v></c><c r="E2" t="s"><v>5</v></c><c r="F2" t="s"><v>6</v></c><c r="G2" t="inlineStr"><is><t>登记日期</t></is></c></row>"#,
        r#"<row r="3"><c r="A3" t="s"><v>16</v></c><c r="B3" t="s"><v>17</v></c><c r="C3"><v>13807340001</v></c><c r="D3" t="s"><v>20</v></c><c r="E3"><v>4</v></c><c r="F3" t="s"><v>21</v></c><c r="G3" s="1"><v>46355.5</v></c></row>"#,
        r#"<row r="5"><c r="A5" t="inlineStr"><is><t>李四</t></is></c><c r="B5"><v>430426198001010000</v></c><c r="C5" t="e"><v>#N/A</v></c><c r="D5" t="str"><v>肖家村</v></c><c r="E5" t="b"><v>1</v></c></row>"#,
    ]);
    let cadres_sheet = sheet(&[
        r#"<row r="1"><c r="A1" t="s"><v>7</v></c><c r="B1" t="s"><v>2</v></c><c r="C1" t="s"><v>8</v></c><c r="D1" t="s"><v>9</v></c><c r="E1" t="s"><v>10</v></c><c r="F1" t="s"><v>11</v></c></row>"#,
        r#"<row r="2"><c r="A2" t="s"><v>16</v></c><c r="B2"><v>13807340002</v></c><c r="C2" t="s"><v>22</v></c><c r="D2" t="inlineStr"><is><t>副镇长</t></is></c><c r="E2" t="s"><v>24</v></c><c r="F2" t="s"><v>25</v></c></row>"#,
    ]);
    let regions_sheet = sheet(&[
        r#"<row r="1"><c r="A1" t="s"><v>12</v></c><c r="B1" t="s"><v>13</v></c><c r="C1" t="s"><v>14</v></c><c r="D1" t="s"><v>15</v></c></row>"#,
        r#"<row r="2"><c r="A2" t="s"><v>26</v></c><c r="B2" t="s"><v>20</v></c><c r="C2" t="s"><v>27</v></c><c r="D2" t="s"><v>28</v></c></row>"#,
        r#"<row r="3"><c r="A3"><v>430426104000</v></c><c r="B3" t="s"><v>19</v></c><c r="C3"><v>4</v></c></row>"#,
    ]);
    out.extend([
        (
            "import_row",
            "seed-households-sheet.xml",
            with(69, households_sheet.as_bytes()),
        ),
        (
            "import_row",
            "seed-cadres-sheet.xml",
            with(73, cadres_sheet.as_bytes()),
        ),
        (
            "import_row",
            "seed-regions-sheet.xml",
            with(65, regions_sheet.as_bytes()),
        ),
    ]);

    let envelope = Envelope {
        id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
        source: "/zoufang/registry".into(),
        routing_key: catalogue::registry::VISIT_RECORDED.into(),
        subject: "visits/0190".into(),
        time: DateTime::<Utc>::from(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
        county: "430426".into(),
        trace: [(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        )]
        .into(),
        attempt: 1,
    };
    let visit = VisitRecorded {
        visit_id: "0190".into(),
        village_code: "430426104201".into(),
        cadre_ids: vec!["c1".into(), "c2".into()],
        complete: true,
        household_tags: vec!["留守".into()],
        household_member_count: 4,
        ..Default::default()
    };
    let issue_env = Envelope {
        routing_key: catalogue::issues::RESOLVED.into(),
        attempt: 0,
        ..envelope.clone()
    };
    let issue = IssueChanged {
        issue_id: "i1".into(),
        ..Default::default()
    };
    out.extend([
        (
            "event_decode",
            "seed-visit-recorded.bin",
            encode_event(
                &envelope.to_properties(),
                "issues.events",
                &visit.encode_to_vec(),
            ),
        ),
        (
            "event_decode",
            "seed-issue-resolved.bin",
            encode_event(
                &issue_env.to_properties(),
                "supervision.events",
                &issue.encode_to_vec(),
            ),
        ),
        (
            "event_decode",
            "seed-no-id.bin",
            encode_event(
                &BasicProperties::default(),
                catalogue::registry::VISIT_RECORDED,
                b"\x0a\x01x",
            ),
        ),
    ]);
    out
}

/// A small workbook of households under a title row; one ID number stored
/// as a number (digits lost), a phone as a number, a count in words.
fn households_xlsx(valid_id: &str) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("花名册").expect("name");
    sheet
        .write_string(0, 0, "白鹤铺镇农户花名册")
        .expect("cell");
    for (col, h) in (0u16..).zip(["户主", "身份证号", "手机号", "村（社区）", "人口数"])
    {
        sheet.write_string(1, col, h).expect("cell");
    }
    sheet.write_string(2, 0, "唐怀珠").expect("cell");
    sheet.write_string(2, 1, valid_id).expect("cell");
    sheet.write_number(2, 2, 13807340001.0).expect("cell");
    sheet.write_string(2, 3, "黄龙村").expect("cell");
    sheet.write_number(2, 4, 4.0).expect("cell");
    sheet.write_string(3, 0, "李四").expect("cell");
    sheet
        .write_number(3, 1, 430426198001010000.0)
        .expect("cell");
    sheet.write_string(3, 3, "肖家村").expect("cell");
    sheet.write_string(3, 4, "四").expect("cell");
    book.save_to_buffer().expect("xlsx")
}
