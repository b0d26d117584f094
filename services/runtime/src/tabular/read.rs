//! Reading the files people really have: Excel workbooks (XLSX, and the
//! older XLS, XLSB and ODS that calamine also reads) and CSV in UTF-8 (with
//! or without a BOM) or GBK/GB18030, the encoding of Excel's CSV export on
//! Chinese Windows. Every cell becomes text, keeping whether Excel stored it
//! as a number (an 18-digit ID number stored as a number has lost digits)
//! or a date.
use std::io::Cursor;

use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Reader};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

/// How a cell was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Text,
    /// Excel stored a number (the text is its integer or decimal form).
    Number,
    /// Excel stored a date or time: the text is its serial number in the
    /// 1900 date system (days since 1899-12-30, the fraction the time of
    /// day; see [`excel_serial_datetime`]), whatever system the workbook uses.
    Date,
    /// A formula error such as #N/A.
    Error,
}

/// One cell as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub kind: CellKind,
}

impl Cell {
    /// A text cell, trimmed.
    pub fn text(s: &str) -> Self {
        Self {
            text: s.trim().to_owned(),
            kind: CellKind::Text,
        }
    }
}

/// One row: the number a user sees in Excel (1-based) and its cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<Cell>,
}

impl Row {
    /// The cell in column `col`, None when the row is shorter.
    pub fn cell(&self, col: usize) -> Option<&Cell> {
        self.cells.get(col)
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.text.is_empty())
    }
}

/// One sheet (a CSV file is one sheet, its name empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub name: String,
    pub rows: Vec<Row>,
}

/// The file formats told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A workbook (zip-based XLSX/XLSB/ODS or the old XLS).
    Workbook,
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workbook => "xlsx",
            Self::Csv => "csv",
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];

/// The format of a body: the zip or OLE magic means a workbook whatever
/// `hint` (a Content-Type or a file name) says; otherwise a hint naming a
/// workbook is refused (the file is not one), and anything else is CSV.
pub fn sniff(body: &[u8], hint: &str) -> Result<Format, String> {
    if body.starts_with(ZIP_MAGIC) || body.starts_with(OLE_MAGIC) {
        return Ok(Format::Workbook);
    }
    let h = hint.trim().to_ascii_lowercase();
    let workbook_type = ["spreadsheetml", "ms-excel", "opendocument.spreadsheet"]
        .iter()
        .any(|t| h.contains(t));
    let workbook_name = [".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"]
        .iter()
        .any(|e| h.ends_with(e));
    if workbook_type || workbook_name {
        return Err("文件不是有效的 Excel 工作簿（XLSX 文件应为 zip 格式）；请用 Excel 另存为 .xlsx 后重新上传".into());
    }
    Ok(Format::Csv)
}

/// A body as grids: [`sniff`] with `hint`, then the workbook's sheets (or
/// only the sheet named `sheet`) or the CSV file as one grid.
pub fn read(body: &[u8], hint: &str, sheet: Option<&str>) -> Result<(Format, Vec<Grid>), String> {
    if body.is_empty() {
        return Err("文件是空的".into());
    }
    let format = sniff(body, hint)?;
    let grids = match format {
        Format::Workbook => workbook(body, sheet)?,
        Format::Csv => vec![csv(body)?],
    };
    Ok((format, grids))
}

/// The sheets of a workbook, in order; `only` picks one by name.
pub fn workbook(body: &[u8], only: Option<&str>) -> Result<Vec<Grid>, String> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(body))
        .map_err(|e| format!("无法读取 Excel 文件：{e}"))?;
    let names = book.sheet_names();
    if let Some(want) = only
        && !names.iter().any(|n| n == want)
    {
        return Err(format!(
            "工作簿中没有名为“{want}”的工作表（有：{}）",
            names.join("、")
        ));
    }
    let mut grids = Vec::new();
    for name in names
        .iter()
        .filter(|n| only.is_none_or(|w| w == n.as_str()))
    {
        if let calamine::Sheets::Xlsx(xlsx) = &mut book {
            check_extent(xlsx, name)?;
        }
        let range = book
            .worksheet_range(name)
            .map_err(|e| format!("无法读取工作表“{name}”：{e}"))?;
        let first_row = range.start().map(|(r, _)| r).unwrap_or(0);
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| Row {
                number: first_row + i as u32 + 1,
                cells: cells.iter().map(cell_of).collect(),
            })
            .collect();
        grids.push(Grid {
            name: name.clone(),
            rows,
        });
    }
    Ok(grids)
}

/// The most cells a sheet's used area (from its first to its last cell) may
/// span: calamine allocates the whole area at once, so one cell far away
/// (row 999999999) asked for 64 GB and aborted the process (found by the
/// fuzz target import_row). 2.5 million is 100 000 rows of 25 columns.
pub const MAX_SHEET_CELLS: u64 = 2_500_000;

/// Refuses an XLSX sheet whose used area exceeds [`MAX_SHEET_CELLS`],
/// streaming its cells before calamine builds the area.
fn check_extent<RS: std::io::Read + std::io::Seek>(
    xlsx: &mut calamine::Xlsx<RS>,
    name: &str,
) -> Result<(), String> {
    let unreadable = |e: calamine::XlsxError| format!("无法读取工作表“{name}”：{e}");
    let mut cells = xlsx.worksheet_cells_reader(name).map_err(unreadable)?;
    let (mut rows, mut cols) = ((u32::MAX, 0u32), (u32::MAX, 0u32));
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (r, c) = cell.get_position();
        rows = (rows.0.min(r), rows.1.max(r));
        cols = (cols.0.min(c), cols.1.max(c));
        let area = (u64::from(rows.1 - rows.0) + 1) * (u64::from(cols.1 - cols.0) + 1);
        if area > MAX_SHEET_CELLS {
            return Err(format!(
                "工作表“{name}”的数据区域过大（第{}行到第{}行、共{}列，超过{MAX_SHEET_CELLS}个单元格）；请删除远处的空白格式或多余内容后重新上传",
                u64::from(rows.0) + 1,
                u64::from(rows.1) + 1,
                u64::from(cols.1 - cols.0) + 1
            ));
        }
    }
    Ok(())
}

fn cell_of(d: &Data) -> Cell {
    let (text, kind) = match d {
        Data::Empty => (String::new(), CellKind::Text),
        Data::String(s) => (s.trim().to_owned(), CellKind::Text),
        Data::Int(i) => (i.to_string(), CellKind::Number),
        Data::Float(f) => (number_text(*f), CellKind::Number),
        Data::Bool(b) => (if *b { "是" } else { "否" }.to_owned(), CellKind::Text),
        Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), CellKind::Text),
        Data::DateTime(dt) if dt.is_datetime() => (number_text(serial_1900(dt)), CellKind::Date),
        Data::DateTime(dt) => (dt.to_string(), CellKind::Text),
        Data::Error(e) => (format!("{e}"), CellKind::Error),
    };
    Cell { text, kind }
}

/// Days between the 1900 and the 1904 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;

/// A workbook date's serial in the 1900 date system. calamine does not say
/// which system a workbook uses, but converts by it: a serial read as 1900
/// that gives another day is a 1904 serial.
fn serial_1900(dt: &ExcelDateTime) -> f64 {
    let v = dt.as_f64();
    let as_1900 = ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false);
    if as_1900.to_ymd_hms_milli() == dt.to_ymd_hms_milli() {
        v
    } else {
        v + DAYS_1900_TO_1904
    }
}

/// An Excel serial date-time in the 1900 date system (what a date cell's
/// text holds, or a date typed into a cell formatted as a number) as a
/// calendar date and time, to the millisecond. None outside Excel's range
/// (1900-01-01 to 9999-12-31) and for 1900-02-29, the day Excel invents.
pub fn excel_serial_datetime(serial: f64) -> Option<NaiveDateTime> {
    const DAY_MS: i64 = 86_400_000;
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let ms = (serial * DAY_MS as f64).round() as i64;
    let (mut days, ms) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    match days {
        // Excel counts 1900 as a leap year: serials before its 29 February
        // are a day late.
        ..60 => days += 1,
        60 => return None,
        _ => {}
    }
    let zero = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    zero.checked_add_signed(TimeDelta::days(days) + TimeDelta::milliseconds(ms))
}

/// A number as people wrote it: integers without ".0" (a phone number
/// 13807340001 or a region code 430426104201), others as they are.
pub fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e19 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// Decodes CSV bytes: UTF-8 (a BOM is dropped), else GB18030 (a superset of
/// GBK); anything else is refused with a clear reason.
pub fn decode_text(body: &[u8]) -> Result<String, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return Err("CSV 文件是 UTF-16 编码；请另存为“CSV UTF-8（逗号分隔）”后重新上传".into());
    }
    match std::str::from_utf8(body) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => {
            let (text, _, had_errors) = encoding_rs::GB18030.decode(body);
            if had_errors {
                Err("CSV 文件既不是 UTF-8 也不是 GBK 编码，无法识别；请另存为“CSV UTF-8（逗号分隔）”后重新上传".into())
            } else {
                Ok(text.into_owned())
            }
        }
    }
}

/// How many line breaks `a` then `b` (both only CR and LF) make: CRLF, CR
/// or LF each one, a CRLF split between them one.
fn line_breaks(a: &str, b: &str) -> usize {
    let both = format!("{a}{b}");
    both.replace("\r\n", "\n").len()
}

/// The delimiter of the first line that has one (a title line above the
/// header may have none): comma, tab or semicolon, whichever is most frequent.
fn delimiter(text: &str) -> u8 {
    const DELIMITERS: [u8; 3] = [b',', b'\t', b';'];
    let Some(first) = text
        .lines()
        .find(|l| l.bytes().any(|b| DELIMITERS.contains(&b)))
    else {
        return b',';
    };
    DELIMITERS
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

/// A CSV file as one grid; a row's number is the one Excel shows opening
/// the file: records counted, header included, a quoted cell over several
/// lines in one row, an empty line a row of its own (not in the grid).
pub fn csv(body: &[u8]) -> Result<Grid, String> {
    let text = decode_text(body)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(&text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut number = 0u32;
    // The line breaks after the previous record's content (the start of the
    // file counts as one).
    let mut tail = "\n";
    loop {
        let start = reader.position().byte() as usize;
        let more = reader
            .read_record(&mut record)
            .map_err(|e| format!("CSV 第{}行无法解析：{e}", number + 1))?;
        if !more {
            break;
        }
        let end = reader.position().byte() as usize;
        // What was read: the empty lines the reader skipped, the record,
        // its line break (or part of it).
        let raw = text.get(start..end).unwrap_or("");
        let content = raw.trim_matches(['\r', '\n']);
        let head = raw.len() - raw.trim_start_matches(['\r', '\n']).len();
        let breaks = line_breaks(tail, &raw[..head]);
        number += u32::try_from(breaks).unwrap_or(u32::MAX).max(1);
        tail = if content.is_empty() {
            ""
        } else {
            &raw[raw.trim_end_matches(['\r', '\n']).len()..]
        };
        rows.push(Row {
            number,
            cells: record.iter().map(Cell::text).collect(),
        });
    }
    Ok(Grid {
        name: String::new(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_and_gbk_are_read_and_utf16_is_refused() {
        let g = csv("\u{feff}户主姓名,身份证号\n张三,1\n".as_bytes()).unwrap();
        assert_eq!(g.rows[0].cells[0].text, "户主姓名");
        assert_eq!(g.rows[1].number, 2);
        let (gbk, _, _) = encoding_rs::GBK.encode("户主姓名,所属村\n李四,黄龙村\n");
        let g = csv(&gbk).unwrap();
        assert_eq!(g.rows[1].cells[1].text, "黄龙村");
        assert!(
            decode_text(b"\xFF\xFEa\x00")
                .unwrap_err()
                .contains("UTF-16")
        );
        assert!(
            decode_text(&[0x81, 0x20, 0xFF, 0xFF])
                .unwrap_err()
                .contains("GBK")
        );
    }

    #[test]
    fn tabs_and_quoted_cells() {
        let g = csv("姓名\t电话\n\"王, 五\"\t 138 \n".as_bytes()).unwrap();
        assert_eq!(g.rows[1].cells[0].text, "王, 五");
        assert_eq!(g.rows[1].cells[1].text, "138");
    }

    #[test]
    fn rows_are_numbered_as_excel_shows_them() {
        let g = csv("姓名,备注\n\n张三,\"两行\n备注\"\r\n\r\n李四,\n王五,x".as_bytes()).unwrap();
        let numbers: Vec<u32> = g.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![1, 3, 5, 6]);
        assert_eq!(g.rows[1].cells[1].text, "两行\n备注");
        assert_eq!(g.rows[2].cells[0].text, "李四");
        let g = csv("\r\n姓名\r\r张三\r".as_bytes()).unwrap();
        let numbers: Vec<u32> = g.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![2, 4]);
    }

    #[test]
    fn the_delimiter_is_found_under_a_title_line() {
        let g = csv("农户花名册\n姓名\t电话\n王五\t138\n".as_bytes()).unwrap();
        assert_eq!(g.rows[0].cells, vec![Cell::text("农户花名册")]);
        assert_eq!(g.rows[2].cells[1].text, "138");
        let g = csv("名单\n姓名,电话\n".as_bytes()).unwrap();
        assert_eq!(g.rows[1].cells.len(), 2);
        let g = csv("名单\n".as_bytes()).unwrap();
        assert_eq!(g.rows.len(), 1);
    }

    #[test]
    fn numbers_lose_their_point_zero() {
        assert_eq!(number_text(13807340001.0), "13807340001");
        assert_eq!(number_text(4.0), "4");
        assert_eq!(number_text(2.5), "2.5");
    }

    #[test]
    fn zip_magic_means_a_workbook_whatever_the_hint() {
        assert_eq!(sniff(b"PK\x03\x04rest", "text/csv"), Ok(Format::Workbook));
        assert_eq!(sniff(b"PK\x03\x04rest", "cases.csv"), Ok(Format::Workbook));
        assert_eq!(sniff(b"a,b\n", "text/csv"), Ok(Format::Csv));
        assert_eq!(sniff(b"a,b\n", "信访件.CSV"), Ok(Format::Csv));
        assert_eq!(sniff(b"a,b\n", ""), Ok(Format::Csv));
        for hint in [
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-excel",
            "信访件.xlsx",
            "old.XLS",
        ] {
            assert!(sniff(b"a,b\n", hint).is_err(), "{hint}");
        }
        assert_eq!(read(b"", "a.csv", None).unwrap_err(), "文件是空的");
    }

    #[test]
    fn excel_serials_are_dates_and_times() {
        let at = |s: f64| excel_serial_datetime(s).map(|t| t.to_string());
        assert_eq!(at(45943.5).as_deref(), Some("2025-10-13 12:00:00"));
        assert_eq!(at(46355.0).as_deref(), Some("2026-11-29 00:00:00"));
        // 08:00 is not exact in binary; it still reads as 08:00.
        assert_eq!(
            at(46355.0 + 8.0 / 24.0).as_deref(),
            Some("2026-11-29 08:00:00")
        );
        assert_eq!(at(1.0).as_deref(), Some("1900-01-01 00:00:00"));
        assert_eq!(at(59.0).as_deref(), Some("1900-02-28 00:00:00"));
        assert_eq!(at(61.0).as_deref(), Some("1900-03-01 00:00:00"));
        assert_eq!(at(60.0), None);
        assert_eq!(at(0.5), None);
        assert_eq!(at(f64::NAN), None);
        assert_eq!(at(3e6), None);
    }

    #[test]
    fn workbook_cells_keep_how_excel_stored_them() {
        use rust_xlsxwriter::{ExcelDateTime as XlsxDate, Format as XlsxFormat, Workbook};
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("名单").unwrap();
        sheet.write_string(1, 0, "农户花名册").unwrap();
        sheet.write_string(2, 0, " 张三 ").unwrap();
        sheet.write_number(2, 1, 430426199001011234.0).unwrap();
        sheet.write_number(2, 2, 13807340001.0).unwrap();
        let date = XlsxFormat::new().set_num_format("yyyy-mm-dd hh:mm");
        let when = XlsxDate::parse_from_str("2026-11-29 08:00").unwrap();
        sheet
            .write_datetime_with_format(2, 3, &when, &date)
            .unwrap();
        book.add_worksheet().set_name("说明").unwrap();
        let bytes = book.save_to_buffer().unwrap();

        let (format, grids) = read(&bytes, "x.xlsx", None).unwrap();
        assert_eq!(format, Format::Workbook);
        assert_eq!(grids.len(), 2);
        let g = &grids[0];
        assert_eq!(g.name, "名单");
        // The rows are numbered as Excel shows them, blank rows above included.
        assert_eq!(g.rows[0].number, 2);
        let row = &g.rows[1];
        assert_eq!(row.number, 3);
        assert_eq!(row.cells[0], Cell::text("张三"));
        assert_eq!(row.cells[1].kind, CellKind::Number);
        assert_eq!(row.cells[2].text, "13807340001");
        assert_eq!(row.cells[3].kind, CellKind::Date);
        let serial: f64 = row.cells[3].text.parse().unwrap();
        assert_eq!(
            excel_serial_datetime(serial).map(|t| t.to_string()),
            Some("2026-11-29 08:00:00".into())
        );

        let only = workbook(&bytes, Some("说明")).unwrap();
        // One cell far from the others: refused, not a 64 GB allocation.
        let mut far = Workbook::new();
        let sheet = far.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        sheet.write_string(1_048_575, 3, "x").unwrap();
        let far = far.save_to_buffer().unwrap();
        let e = workbook(&far, None).unwrap_err();
        assert!(e.contains("数据区域过大"), "{e}");
        assert_eq!(only.len(), 1);
        assert!(
            workbook(&bytes, Some("其他"))
                .unwrap_err()
                .contains("名单、说明")
        );
    }
}
