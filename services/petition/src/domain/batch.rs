//! The batch door: a CSV or Excel file of petition cases, one row per case,
//! as petition offices export them, into the same validated cases the
//! webhook takes ([`inbound::validate`]) and a list of bad rows.
//!
//! The columns (Chinese headers in their usual variants; a title row above
//! the header is tolerated; * marks required columns):
//!
//! | column | also written | field |
//! |---|---|---|
//! | 外部编号 * | 件号、工单号 | `external_id` |
//! | 来源系统 | | `source_system`, default: the caller's |
//! | 类型 | | 信访件 → petition, 12345工单 / 工单 → hotline; default petition |
//! | 渠道 * | 信访形式 | 来信、来访、网上、电话 |
//! | 版本 | 序号 | `sequence`, default 1 |
//! | 信访人 * | 姓名 | `petitioner.name` |
//! | 身份证号 | 身份证号码 | `petitioner.id_number` |
//! | 联系电话 | 电话 | `petitioner.phone` |
//! | 区划代码 * | 行政区划代码 | `region_code`, 12 digits |
//! | 内容 * | 诉求内容、反映内容 | `content` |
//! | 收到时间 * | 登记时间、受理时间 | `received_at`: `2026-11-29 08:00[:00]`, `2026/11/29 8:00`, `2026-11-29` (Beijing time), RFC 3339, or an Excel date |
//! | 附件 | | `attachments`: each 名称 and 地址 joined by a vertical bar, several separated by `;` (`照片1.jpg\|https://…/a.jpg;…`) |
//!
//! A bad row is reported as (row as Excel numbers it, column as the file
//! writes it, reason in Chinese); a problem with the whole file (not a
//! spreadsheet, a required column missing) is one Chinese message.
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use zoufang_core::error::FieldViolation;
use zoufang_tabular::{Cell, CellKind, FieldSpec, Mapping, Row};

use super::inbound::{self, CHANNELS, RawAttachment, RawCase, RawPetitioner};

/// The columns of a batch file.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::new(
        "external_id",
        "外部编号",
        &[
            "外部编号",
            "件号",
            "工单号",
            "信访件号",
            "工单编号",
            "external_id",
        ],
        true,
    ),
    FieldSpec::new(
        "source_system",
        "来源系统",
        &["来源系统", "source_system"],
        false,
    ),
    FieldSpec::new("kind", "类型", &["类型", "件类型", "kind"], false),
    FieldSpec::new(
        "channel",
        "渠道",
        &["渠道", "信访形式", "信访方式", "来源渠道", "channel"],
        true,
    ),
    FieldSpec::new(
        "sequence",
        "版本",
        &["版本", "序号", "版本号", "sequence"],
        false,
    ),
    FieldSpec::new(
        "name",
        "信访人",
        &["信访人", "姓名", "信访人姓名", "来电人", "诉求人", "name"],
        true,
    ),
    FieldSpec::new(
        "id_number",
        "身份证号",
        &[
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "信访人身份证号",
            "证件号码",
            "id_number",
        ],
        false,
    ),
    FieldSpec::new(
        "phone",
        "联系电话",
        &[
            "联系电话",
            "电话",
            "手机号",
            "手机号码",
            "联系方式",
            "phone",
        ],
        false,
    ),
    FieldSpec::new(
        "region_code",
        "区划代码",
        &["区划代码", "行政区划代码", "所属区划代码", "region_code"],
        true,
    ),
    FieldSpec::new(
        "content",
        "内容",
        &[
            "内容",
            "诉求内容",
            "反映内容",
            "信访内容",
            "主要内容",
            "content",
        ],
        true,
    ),
    FieldSpec::new(
        "received_at",
        "收到时间",
        &[
            "收到时间",
            "登记时间",
            "受理时间",
            "来信来访时间",
            "来电时间",
            "received_at",
        ],
        true,
    ),
    FieldSpec::new("attachments", "附件", &["附件", "attachments"], false),
];

/// One bad row (or cell): the row number Excel shows, the column as the
/// file names it, and why, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: u32,
    pub column: String,
    pub reason: String,
}

/// A batch file read: the good cases with their row numbers, and the bad
/// rows' errors (a row with an error yields no case).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub cases: Vec<(u32, inbound::Case)>,
    pub errors: Vec<RowError>,
}

impl Batch {
    /// How many data rows the file has (blank rows not counted): the good
    /// ones and the bad ones, a bad row counted once however many errors.
    pub fn rows(&self) -> usize {
        let mut bad: Vec<u32> = self.errors.iter().map(|e| e.row).collect();
        bad.sort_unstable();
        bad.dedup();
        self.cases.len() + bad.len()
    }
}

/// Reads a batch file of cases: CSV (UTF-8 or GBK) or an Excel workbook
/// (the first sheet whose header has the required columns), told apart by
/// the content and `filename_or_content_type`. Rows without a source system
/// get `default_source_system`; `now` decides what lies in the future.
/// Err is a problem with the whole file, in Chinese.
pub fn parse(
    body: &[u8],
    filename_or_content_type: &str,
    default_source_system: &str,
    now: DateTime<Utc>,
) -> Result<Batch, String> {
    let (_, grids) = zoufang_tabular::read(body, filename_or_content_type, None)?;
    let (grid, located) = zoufang_tabular::choose(FIELDS, &grids)?;
    let rows: Vec<&Row> = grid.rows[located.first_data..]
        .iter()
        .filter(|r| !r.is_blank())
        .collect();
    if rows.is_empty() {
        return Err(format!(
            "第{}行是表头，但表头下没有数据行",
            located.header_row
        ));
    }
    let mut batch = Batch::default();
    // (source system, external id, version) → the row it was first on.
    let mut seen: HashMap<(String, String, u64), u32> = HashMap::new();
    for row in rows {
        let mut r = RowReader::new(row, &located.mapping);
        let raw = r.raw_case(default_source_system);
        match inbound::validate(raw, now) {
            Ok(case) if r.errors.is_empty() => {
                let key = (
                    case.source_system.clone(),
                    case.external_id.clone(),
                    case.sequence,
                );
                match seen.get(&key) {
                    Some(first) => r.fail(
                        "external_id",
                        format!("与第{first}行重复（外部编号和版本都相同）"),
                    ),
                    None => {
                        seen.insert(key, row.number);
                        batch.cases.push((row.number, case));
                    }
                }
            }
            Ok(_) => {}
            Err(violations) => {
                for v in violations {
                    r.violation(v);
                }
            }
        }
        batch.errors.extend(r.into_errors());
    }
    Ok(batch)
}

/// One row's cells by field, collecting its errors.
struct RowReader<'r> {
    row: &'r Row,
    mapping: &'r Mapping,
    /// (column index, error); fields reported before validation are not
    /// reported again by it.
    errors: Vec<(usize, RowError)>,
    reported: Vec<&'static str>,
}

impl<'r> RowReader<'r> {
    fn new(row: &'r Row, mapping: &'r Mapping) -> Self {
        Self {
            row,
            mapping,
            errors: vec![],
            reported: vec![],
        }
    }

    fn cell(&self, key: &str) -> Option<&'r Cell> {
        let row: &'r Row = self.row;
        self.mapping.column(key).and_then(|c| row.cell(c))
    }

    /// The trimmed text of a field's cell ("" when absent); a formula error
    /// is reported and reads as "".
    fn text(&mut self, key: &'static str) -> String {
        match self.cell(key) {
            Some(c) if c.kind == CellKind::Error => {
                self.fail(
                    key,
                    format!("单元格是公式错误（{}），请填写实际内容", c.text),
                );
                String::new()
            }
            Some(c) => c.text.trim().to_owned(),
            None => String::new(),
        }
    }

    /// A code's cell: half-width, no spaces; a number of 16 digits or more
    /// has lost its last digits to Excel and is reported.
    fn code(&mut self, key: &'static str) -> String {
        let t: String = halfwidth(&self.text(key))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let number = self.cell(key).is_some_and(|c| c.kind == CellKind::Number);
        if number && t.len() >= 16 {
            self.fail(
                key,
                "单元格是数字格式，Excel 只保留15位有效数字，后几位已丢失；请把该列设为文本格式后重新填写",
            );
            return String::new();
        }
        t
    }

    fn fail(&mut self, key: &'static str, reason: impl Into<String>) {
        let column = self.mapping.header(FIELDS, key).to_owned();
        let at = self.mapping.column(key).unwrap_or(usize::MAX);
        self.reported.push(key);
        self.errors.push((
            at,
            RowError {
                row: self.row.number,
                column,
                reason: reason.into(),
            },
        ));
    }

    /// The case as the row writes it, the cells in the JSON schema's form;
    /// what cannot be put in that form is reported here.
    fn raw_case(&mut self, default_source_system: &str) -> RawCase {
        let external_id = self.code("external_id");
        let mut source_system = self.text("source_system");
        if source_system.is_empty() {
            source_system = default_source_system.trim().to_owned();
        }
        let kind = kind_of(&self.text("kind"));
        let channel = self.text("channel");
        let sequence = self.sequence();
        let name = self.text("name");
        let id_number = self.code("id_number");
        let phone = halfwidth(&self.text("phone"));
        let region_code = self.code("region_code");
        let content = self.text("content");
        let received_at = self.received_at();
        let attachments = self.attachments();
        RawCase {
            external_id,
            source_system,
            kind,
            channel,
            sequence,
            petitioner: Some(RawPetitioner {
                name,
                id_number,
                phone,
            }),
            region_code,
            content,
            received_at,
            attachments,
        }
    }

    fn sequence(&mut self) -> u64 {
        let t = halfwidth(&self.text("sequence"));
        if t.is_empty() {
            return 1;
        }
        match t.parse::<u64>() {
            Ok(n) if n >= 1 => n,
            _ => {
                self.fail("sequence", format!("应为正整数（1、2、3……），实际为“{t}”"));
                1
            }
        }
    }

    /// The received time as RFC 3339 ("" when empty, left to validation).
    fn received_at(&mut self) -> String {
        let t = self.text("received_at");
        if t.is_empty() {
            return t;
        }
        let kind = self.cell("received_at").map_or(CellKind::Text, |c| c.kind);
        match time_of(&t, kind) {
            Some(at) => at.to_rfc3339(),
            None => {
                let reason = if kind == CellKind::Text {
                    format!(
                        "无法识别的时间“{t}”：应如 2026-11-29 08:00、2026/11/29 8:00 或 2026-11-29（北京时间）"
                    )
                } else {
                    format!("Excel 日期“{t}”超出有效范围")
                };
                self.fail("received_at", reason);
                String::new()
            }
        }
    }

    fn attachments(&mut self) -> Vec<RawAttachment> {
        let t = self.text("attachments");
        let mut out = Vec::new();
        let parts = t
            .split([';', '；', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty());
        for (i, part) in parts.enumerate() {
            match part.split_once(['|', '｜']) {
                Some((name, reference)) => out.push(RawAttachment {
                    name: name.trim().to_owned(),
                    reference: reference.trim().to_owned(),
                }),
                None => self.fail(
                    "attachments",
                    format!(
                        "第{}个附件“{part}”应写作“名称|地址”，多个附件用分号隔开",
                        i + 1
                    ),
                ),
            }
        }
        out
    }

    /// A violation [`inbound::validate`] found, against its column, in Chinese.
    fn violation(&mut self, v: FieldViolation) {
        let (key, attachment) = key_of(&v.field);
        let Some(key) = key else {
            let at = usize::MAX;
            let reason = in_chinese(&v.reason);
            self.errors.push((
                at,
                RowError {
                    row: self.row.number,
                    column: v.field,
                    reason,
                },
            ));
            return;
        };
        if self.reported.contains(&key) {
            return;
        }
        let written = self.cell(key).map(|c| c.text.trim()).unwrap_or("");
        let reason = match (key, v.reason.as_str()) {
            (_, "required" | "is required") if attachment.is_none() => "不能为空".to_owned(),
            ("kind", _) => format!("应为“信访件”或“12345工单”，实际为“{written}”"),
            ("channel", _) => format!("应为{}之一，实际为“{written}”", CHANNELS.join("、")),
            ("received_at", "lies in the future") => "不能晚于当前时间".to_owned(),
            ("received_at", _) => "不能为空".to_owned(),
            ("attachments", reason) => {
                let (i, part) = attachment.unwrap_or((0, "name"));
                let part = if part == "ref" { "地址" } else { "名称" };
                format!("第{}个附件的{part}{}", i + 1, in_chinese(reason))
            }
            (_, reason) => in_chinese(reason),
        };
        self.fail(key, reason);
    }

    /// The row's errors in the order of the file's columns.
    fn into_errors(mut self) -> Vec<RowError> {
        self.errors.sort_by_key(|(at, _)| *at);
        self.errors.into_iter().map(|(_, e)| e).collect()
    }
}

/// A field path of the JSON schema as a column key; for an attachment also
/// its index and part (`name` or `ref`).
fn key_of(field: &str) -> (Option<&'static str>, Option<(usize, &str)>) {
    if let Some(rest) = field.strip_prefix("attachments[") {
        let attachment = rest
            .split_once("].")
            .and_then(|(i, part)| Some((i.parse().ok()?, part)));
        return (Some("attachments"), attachment);
    }
    let key = match field {
        "petitioner.name" => "name",
        "petitioner.id_number" => "id_number",
        "petitioner.phone" => "phone",
        other => match FIELDS.iter().find(|s| s.key == other) {
            Some(spec) => spec.key,
            None => return (None, None),
        },
    };
    (Some(key), None)
}

/// The kind as written to the schema's (empty: a petition); anything else
/// is left for validation to refuse.
fn kind_of(written: &str) -> String {
    let k: String = halfwidth(written)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    match k.as_str() {
        "" | "信访件" | "信访" | "petition" => "petition".into(),
        "12345工单" | "工单" | "12345" | "12345热线工单" | "热线工单" | "hotline" => {
            "hotline".into()
        }
        _ => written.to_owned(),
    }
}

use zoufang_types::beijing::offset as beijing;

/// A time as written: RFC 3339; a date and time or a date alone, read as
/// Beijing time; an Excel date (a serial number) from a workbook cell.
fn time_of(written: &str, kind: CellKind) -> Option<DateTime<FixedOffset>> {
    if matches!(kind, CellKind::Date | CellKind::Number) {
        let serial: f64 = written.parse().ok()?;
        let local = zoufang_tabular::excel_serial_datetime(serial)?;
        return beijing().from_local_datetime(&local).single();
    }
    let t = halfwidth(written);
    let t = t.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Some(at);
    }
    // 2026/11/29 and 2026年11月29日 as 2026-11-29.
    let t = t
        .replace(['/', '年', '月'], "-")
        .replace('日', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let local = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(&t, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    beijing().from_local_datetime(&local).single()
}

/// Full-width ASCII (ＡＢＣ１２３) as half-width, the ideographic space as a space.
fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// A reason of the shared rules (`zoufang_types`, the schema's
/// length limits) in Chinese; one not known here is kept, marked.
fn in_chinese(reason: &str) -> String {
    let r = reason.trim();
    let pair = |rest: &str, sep: &str| {
        rest.split_once(sep)
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    };
    if r == "required" || r == "is required" {
        return "不能为空".into();
    }
    if let Some(n) = r
        .strip_prefix("at most ")
        .and_then(|s| s.strip_suffix(" characters"))
    {
        return format!("不能超过{n}个字");
    }
    if let Some(n) = r.strip_prefix("must be 18 characters, got ") {
        return format!("应为18位，实际为{n}位");
    }
    if let Some((want, got)) = r
        .strip_prefix("must be ")
        .and_then(|s| pair(s, " digits, got "))
    {
        return format!("应为{want}位数字，实际为{got}位");
    }
    if r == "the first 17 characters must be digits" {
        return "前17位必须是数字".into();
    }
    if let Some(got) = r.strip_prefix("the last character must be a digit or X, got ") {
        return format!("最后一位应为数字或X，实际为“{}”", got.trim_matches('\''));
    }
    if r.starts_with("the address code") {
        return "前6位地址码不能为000000".into();
    }
    // The birth date is not repeated: reasons go back to the caller.
    if let Some((_birth, what)) = r.strip_prefix("birth date ").and_then(|s| pair(s, " ")) {
        match what.as_str() {
            "is not a valid date" => return "出生日期（第7–14位）不是有效日期".into(),
            "is before 1900" => return "出生日期（第7–14位）早于1900年".into(),
            "is in the future" => return "出生日期（第7–14位）晚于今天".into(),
            _ => {}
        }
    }
    if let Some((want, got)) = r
        .strip_prefix("checksum digit should be ")
        .and_then(|s| pair(s, ", not "))
    {
        return format!("校验位错误：最后一位应为{want}，实际为{got}");
    }
    if r.starts_with("must contain digits only (") {
        return "只能包含数字（可带空格、短横线和+86）".into();
    }
    if r.ends_with("must contain digits only") {
        return "只能包含数字".into();
    }
    if r.starts_with("is not a mainland mobile number") {
        return "不是有效的手机号：应以13–19开头".into();
    }
    if r.starts_with("the province part") {
        return "前2位（省级代码）不能为00".into();
    }
    if r.starts_with("a village part is set") {
        return "第7–9位（乡镇代码）为000，却填写了村级代码".into();
    }
    format!("不符合要求（{r}）")
}

#[cfg(test)]
mod tests {
    use zoufang_types::id_number::check_char;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// A valid ID number born on `birth` (yyyymmdd).
    fn id(birth: &str) -> String {
        let body = format!("430426{birth}123");
        let check = check_char(&body).unwrap_or('0');
        format!("{body}{check}")
    }

    fn errors(b: &Batch) -> Vec<(u32, &str, &str)> {
        b.errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect()
    }

    const HEADER: &str =
        "外部编号,来源系统,类型,渠道,版本,信访人,身份证号,联系电话,区划代码,内容,收到时间,附件";

    #[test]
    fn a_utf8_csv_with_bom_and_a_title_row() {
        let good_id = id("19800101");
        let text = format!(
            "\u{feff}白鹤铺镇信访件登记表\n{HEADER}\n\
             XF-001,,信访件,网上,,唐某,{good_id},139 1234 5678,430426104201,反映宅基地纠纷,2026-11-29 08:00,照片1.jpg|https://files.example/a.jpg;笔录.pdf|https://files.example/b.pdf\n\
             \n\
             GD-002,hotline-12345,12345工单,电话,3,李某,,,430426104000,\"路灯不亮,晚上出行不便\",2026/11/28 8:05,\n"
        );
        let b = parse(text.as_bytes(), "text/csv", "county-xinfang", now()).unwrap();
        assert_eq!(errors(&b), vec![]);
        assert_eq!(b.cases.len(), 2);

        let (row, c) = &b.cases[0];
        assert_eq!(*row, 3);
        assert_eq!(c.external_id, "XF-001");
        assert_eq!(c.source_system, "county-xinfang");
        assert!(!c.hotline);
        assert_eq!(c.channel, "网上");
        assert_eq!(c.sequence, 1);
        assert_eq!(c.petitioner_name, "唐某");
        assert_eq!(
            c.id_number.as_ref().map(|i| i.as_str()),
            Some(good_id.as_str())
        );
        assert_eq!(c.phone.as_ref().map(|p| p.as_str()), Some("13912345678"));
        assert_eq!(c.region.as_str(), "430426104201");
        assert_eq!(c.received_at, utc("2026-11-29T00:00:00Z"));
        assert_eq!(
            c.attachments,
            vec![
                ("照片1.jpg".into(), "https://files.example/a.jpg".into()),
                ("笔录.pdf".into(), "https://files.example/b.pdf".into()),
            ]
        );

        // The blank row is skipped but counts in the numbering.
        let (row, c) = &b.cases[1];
        assert_eq!(*row, 5);
        assert_eq!(c.source_system, "hotline-12345");
        assert!(c.hotline);
        assert_eq!(c.sequence, 3);
        assert_eq!(c.content, "路灯不亮,晚上出行不便");
        assert_eq!(c.id_number, None);
        assert_eq!(c.received_at, utc("2026-11-28T00:05:00Z"));
    }

    #[test]
    fn a_gbk_csv_with_other_header_names_and_time_forms() {
        let text = "工单号,信访形式,姓名,身份证号码,电话,行政区划代码,诉求内容,受理时间,类型\n\
                    GD-1,电话,王某,,13800000000,430426104201,噪音扰民,2026-11-29,工单\n\
                    GD-2,来访,赵某,,,430426104201,土地纠纷,2026-11-28 09:30:15,\n\
                    GD-3,来信,钱某,,,430426104201,修路,2026-11-28T09:30:00+08:00,信访件\n\
                    GD-4,网上,孙某,,,430426104201,低保,2026年11月27日 14:00,\n";
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        let b = parse(&gbk, "cases.csv", "county-xinfang", now()).unwrap();
        assert_eq!(errors(&b), vec![]);
        let at: Vec<DateTime<Utc>> = b.cases.iter().map(|(_, c)| c.received_at).collect();
        assert_eq!(
            at,
            vec![
                utc("2026-11-28T16:00:00Z"),
                utc("2026-11-28T01:30:15Z"),
                utc("2026-11-28T01:30:00Z"),
                utc("2026-11-27T06:00:00Z"),
            ]
        );
        assert!(b.cases[0].1.hotline);
        assert!(!b.cases[1].1.hotline);
        assert_eq!(b.cases[0].1.petitioner_name, "王某");
    }

    #[test]
    fn an_xlsx_with_date_cells_numbers_and_an_id_number_that_lost_its_digits() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut book = Workbook::new();
        let notes = book.add_worksheet();
        notes.set_name("填表说明").unwrap();
        notes
            .write_string(0, 0, "每行一件，身份证号请设为文本格式")
            .unwrap();
        let sheet = book.add_worksheet();
        sheet.set_name("信访件").unwrap();
        sheet.write_string(0, 0, "信访件批量导入").unwrap();
        let headers = [
            "件号",
            "渠道",
            "信访人",
            "身份证号码",
            "联系电话",
            "区划代码",
            "反映内容",
            "登记时间",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet.write_string(1, c as u16, *h).unwrap();
        }
        let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let when = ExcelDateTime::parse_from_str("2026-11-29 08:00").unwrap();
        let good_id = id("19800101");
        // Row 3: a date cell, the phone and region code as numbers.
        sheet.write_number(2, 0, 20261129001.0).unwrap();
        sheet.write_string(2, 1, "来访").unwrap();
        sheet.write_string(2, 2, "周某").unwrap();
        sheet.write_string(2, 3, &good_id).unwrap();
        sheet.write_number(2, 4, 13912345678.0).unwrap();
        sheet.write_number(2, 5, 430426104201.0).unwrap();
        sheet.write_string(2, 6, "反映宅基地纠纷").unwrap();
        sheet
            .write_datetime_with_format(2, 7, &when, &date)
            .unwrap();
        // Row 4: the ID number typed as a number; the date as a bare serial.
        sheet.write_string(3, 0, "XF-4").unwrap();
        sheet.write_string(3, 1, "来信").unwrap();
        sheet.write_string(3, 2, "吴某").unwrap();
        sheet
            .write_number(3, 3, good_id.parse::<f64>().unwrap())
            .unwrap();
        sheet.write_number(3, 5, 430426104201.0).unwrap();
        sheet.write_string(3, 6, "修路").unwrap();
        sheet.write_number(3, 7, 46354.5).unwrap();
        // Row 5: a text time.
        sheet.write_string(4, 0, "XF-5").unwrap();
        sheet.write_string(4, 1, "网上").unwrap();
        sheet.write_string(4, 2, "郑某").unwrap();
        sheet.write_string(4, 5, "430426104201").unwrap();
        sheet.write_string(4, 6, "低保").unwrap();
        sheet.write_string(4, 7, "2026-11-29 08:00:00").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let b = parse(&bytes, "信访件.xlsx", "county-xinfang", now()).unwrap();
        assert_eq!(
            errors(&b),
            vec![(
                4,
                "身份证号码",
                "单元格是数字格式，Excel 只保留15位有效数字，后几位已丢失；请把该列设为文本格式后重新填写"
            )]
        );
        let rows: Vec<u32> = b.cases.iter().map(|(r, _)| *r).collect();
        assert_eq!(rows, vec![3, 5]);
        let c = &b.cases[0].1;
        assert_eq!(c.external_id, "20261129001");
        assert_eq!(c.received_at, utc("2026-11-29T00:00:00Z"));
        assert_eq!(c.phone.as_ref().map(|p| p.as_str()), Some("13912345678"));
        assert_eq!(c.region.as_str(), "430426104201");
        assert_eq!(b.cases[1].1.received_at, utc("2026-11-29T00:00:00Z"));

        // The bare serial reads as a date when the ID number is fine.
        let time = time_of("46354.5", CellKind::Number).map(|t| t.with_timezone(&Utc));
        assert_eq!(time, Some(utc("2026-11-28T04:00:00Z")));
    }

    #[test]
    fn bad_rows_are_reported_by_row_column_and_reason_in_chinese() {
        let good_id = id("19800101");
        let bad_check = {
            let mut s = id("19800101");
            let last = if s.ends_with('1') { '2' } else { '1' };
            s.pop();
            s.push(last);
            s
        };
        let rows = [
            format!("XF-1,,,网上,,唐某,{good_id},,430426104201,内容,2026-11-29 08:00,"),
            // 3: channel, kind, region, phone
            "XF-2,,信件,邮件,,唐某,,123,4304,内容,2026-11-29 08:00,".to_owned(),
            // 4: ID checksum, a time in the future, version
            format!("XF-3,,,来信,第二版,唐某,{bad_check},,430426104201,内容,2026-12-29 08:00,"),
            // 5: no external id, no name, an unreadable time, a bad attachment
            ",,,来访,,,,,430426104201,内容,昨天上午,照片".to_owned(),
            // 6: the same case as row 2
            "XF-1,,,网上,1,唐某,,,430426104201,内容,2026-11-29 09:00,".to_owned(),
            // 7: content missing, an attachment without a name
            "XF-7,,,电话,,唐某,,,430426104201,,2026-11-29,|https://files.example/x".to_owned(),
        ];
        let header = HEADER.replace("身份证号", "身份证号码");
        let text = format!("{header}\n{}\n", rows.join("\n"));
        let b = parse(text.as_bytes(), "text/csv", "county-xinfang", now()).unwrap();
        assert_eq!(b.cases.len(), 1);
        assert_eq!(b.cases[0].0, 2);
        assert_eq!(b.rows(), 6);
        let mut bad_check_last = bad_check.clone();
        let last = bad_check_last.pop().unwrap_or(' ');
        let want_check = check_char(&bad_check_last).unwrap_or('?');
        let checksum = format!("校验位错误：最后一位应为{want_check}，实际为{last}");
        assert_eq!(
            errors(&b),
            vec![
                (3, "类型", "应为“信访件”或“12345工单”，实际为“信件”"),
                (3, "渠道", "应为来信、来访、网上、电话之一，实际为“邮件”"),
                (3, "联系电话", "应为11位数字，实际为3位"),
                (3, "区划代码", "应为12位数字，实际为4位"),
                (4, "版本", "应为正整数（1、2、3……），实际为“第二版”"),
                (4, "身份证号码", checksum.as_str()),
                (4, "收到时间", "不能晚于当前时间"),
                (5, "外部编号", "不能为空"),
                (5, "信访人", "不能为空"),
                (
                    5,
                    "收到时间",
                    "无法识别的时间“昨天上午”：应如 2026-11-29 08:00、2026/11/29 8:00 或 2026-11-29（北京时间）"
                ),
                (
                    5,
                    "附件",
                    "第1个附件“照片”应写作“名称|地址”，多个附件用分号隔开"
                ),
                (6, "外部编号", "与第2行重复（外部编号和版本都相同）"),
                (7, "内容", "不能为空"),
                (7, "附件", "第1个附件的名称不能为空"),
            ]
        );
    }

    #[test]
    fn whole_file_problems_are_one_message_in_chinese() {
        let text = "外部编号,渠道,信访人,区划代码,内容\nXF-1,网上,唐某,430426104201,内容\n";
        let err = parse(text.as_bytes(), "text/csv", "s", now()).unwrap_err();
        assert!(err.contains("缺少必需的列：“收到时间”"), "{err}");
        assert!(err.contains("登记时间"), "{err}");
        assert!(!err.contains("“渠道”"), "{err}");

        let err = parse(HEADER.as_bytes(), "text/csv", "s", now()).unwrap_err();
        assert_eq!(err, "第1行是表头，但表头下没有数据行");
        assert!(
            parse(b"a,b\n1,2\n", "text/csv", "s", now())
                .unwrap_err()
                .starts_with("找不到表头")
        );
        assert!(
            parse(b"not a workbook", "cases.xlsx", "s", now())
                .unwrap_err()
                .contains("不是有效的 Excel 工作簿")
        );
        assert_eq!(
            parse(b"", "cases.csv", "s", now()).unwrap_err(),
            "文件是空的"
        );
    }

    #[test]
    fn reasons_of_the_shared_rules_in_chinese() {
        assert_eq!(in_chinese("at most 50 characters"), "不能超过50个字");
        assert_eq!(
            in_chinese("must be 18 characters, got 17"),
            "应为18位，实际为17位"
        );
        assert_eq!(
            in_chinese("birth date 20271301 is not a valid date"),
            "出生日期（第7–14位）不是有效日期"
        );
        assert_eq!(
            in_chinese("the last character must be a digit or X, got 'Y'"),
            "最后一位应为数字或X，实际为“Y”"
        );
        assert_eq!(in_chinese("something new"), "不符合要求（something new）");
        assert_eq!(key_of("petitioner.id_number"), (Some("id_number"), None));
        assert_eq!(
            key_of("attachments[2].ref"),
            (Some("attachments"), Some((2, "ref")))
        );
        assert_eq!(key_of("body"), (None, None));
    }
}
