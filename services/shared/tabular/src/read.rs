//! Reading the files people really have: Excel workbooks (XLSX, read by
//! [`super::xlsx`]) and CSV in UTF-8 (with or without a BOM) or
//! GBK/GB18030, the encoding of Excel's CSV export on Chinese Windows.
//! Every cell becomes text, keeping whether Excel stored it as a number (an
//! 18-digit ID number stored as a number has lost digits) or a date. Only
//! XLSX and CSV are read: the older formats (XLS, XLSB, ODS) are refused,
//! since their readers could not be bounded (an 826-byte ODS of one row
//! repeated took a service down). Everything is read within [`Limits`].
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use super::{
    limits::{Budget, Limits, ReadError, human_bytes},
    xlsx::{column_name, read_xlsx},
};

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
    /// An XLSX workbook (any zip: what is not XLSX is refused when read).
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

/// The format of a body: the zip magic means a workbook whatever `hint` (a
/// Content-Type or a file name) says; the old XLS (an OLE file) and a hint
/// naming another workbook format are refused (only XLSX and CSV are read);
/// anything else is CSV.
pub fn sniff(body: &[u8], hint: &str) -> Result<Format, String> {
    if body.starts_with(ZIP_MAGIC) {
        return Ok(Format::Workbook);
    }
    if body.starts_with(OLE_MAGIC) {
        return Err("不支持旧版 Excel（.xls）文件，只接受 XLSX 和 CSV 文件；请用 Excel 另存为 .xlsx 后重新上传".into());
    }
    let h = hint.trim().to_ascii_lowercase();
    if h.contains("opendocument") || h.ends_with(".ods") {
        return Err("不支持 ODS（OpenDocument）表格，只接受 XLSX 和 CSV 文件；请用 Excel 或 WPS 另存为 .xlsx 后重新上传".into());
    }
    let workbook_type = ["spreadsheetml", "ms-excel"].iter().any(|t| h.contains(t));
    let workbook_name = [".xlsx", ".xlsm", ".xlsb", ".xls"]
        .iter()
        .any(|e| h.ends_with(e));
    if workbook_type || workbook_name {
        return Err("文件不是有效的 Excel 工作簿（XLSX 文件应为 zip 格式）；请用 Excel 另存为 .xlsx 后重新上传".into());
    }
    Ok(Format::Csv)
}

/// A body as grids within the default [`Limits`]: see [`read_with`].
pub fn read(
    body: &[u8],
    hint: &str,
    sheet: Option<&str>,
) -> Result<(Format, Vec<Grid>), ReadError> {
    read_with(body, hint, sheet, &Limits::DEFAULT)
}

/// A body as grids: [`sniff`] with `hint`, then the workbook's sheets (or
/// only the sheet named `sheet`) or the CSV file as one grid.
pub fn read_with(
    body: &[u8],
    hint: &str,
    sheet: Option<&str>,
    limits: &Limits,
) -> Result<(Format, Vec<Grid>), ReadError> {
    if body.is_empty() {
        return Err("文件是空的".into());
    }
    check_file_size(body, limits)?;
    let format = sniff(body, hint)?;
    let grids = match format {
        Format::Workbook => read_xlsx(body, sheet, limits)?,
        Format::Csv => vec![csv_with(body, limits)?],
    };
    Ok((format, grids))
}

/// Refuses a file over [`Limits::max_file_bytes`].
pub fn check_file_size(body: &[u8], limits: &Limits) -> Result<(), ReadError> {
    if body.len() > limits.max_file_bytes {
        return Err(file_too_large(limits));
    }
    Ok(())
}

/// The error of a file over [`Limits::max_file_bytes`], in Chinese.
pub fn file_too_large(limits: &Limits) -> ReadError {
    ReadError::TooLarge(format!(
        "文件过大（超过{}的上限）；请把文件拆分后分批导入",
        human_bytes(limits.max_file_bytes as u64)
    ))
}

/// The sheets of an XLSX workbook, in order; `only` picks one by name.
pub fn workbook(body: &[u8], only: Option<&str>) -> Result<Vec<Grid>, ReadError> {
    read_xlsx(body, only, &Limits::DEFAULT)
}

/// [`workbook`] within `limits`.
pub fn workbook_with(
    body: &[u8],
    only: Option<&str>,
    limits: &Limits,
) -> Result<Vec<Grid>, ReadError> {
    read_xlsx(body, only, limits)
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
fn line_breaks(a: &[u8], b: &[u8]) -> usize {
    let crlf = |s: &[u8]| s.windows(2).filter(|w| w == b"\r\n").count();
    let split = usize::from(a.last() == Some(&b'\r') && b.first() == Some(&b'\n'));
    a.len() + b.len() - crlf(a) - crlf(b) - split
}

/// The delimiter of the first line that has one (a title line above the
/// header may have none): comma, tab or semicolon, whichever is most frequent.
/// Works on the bytes: in GBK and GB18030 no byte of a Chinese character is
/// one of these, nor a quote or a line break.
fn delimiter(body: &[u8]) -> u8 {
    const DELIMITERS: [u8; 3] = [b',', b'\t', b';'];
    let Some(first) = body
        .split(|b| *b == b'\n')
        .find(|l| l.iter().any(|b| DELIMITERS.contains(b)))
    else {
        return b',';
    };
    DELIMITERS
        .into_iter()
        .max_by_key(|d| first.iter().filter(|b| *b == d).count())
        .unwrap_or(b',')
}

/// How a CSV file's text is encoded.
#[derive(Clone, Copy)]
enum Encoding {
    Utf8,
    Gb18030,
}

fn decode_field(field: &[u8], encoding: Encoding) -> Option<String> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(field).ok().map(str::to_owned),
        Encoding::Gb18030 => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(field)
            .map(|c| c.into_owned()),
    }
}

/// A CSV file as one grid within the default [`Limits`]: see [`csv_with`].
pub fn csv(body: &[u8]) -> Result<Grid, ReadError> {
    csv_with(body, &Limits::DEFAULT)
}

/// A CSV file as one grid, read record by record (the file is never copied
/// nor decoded whole; each cell is decoded as it is read and counted
/// against `limits`). A row's number is the one Excel shows opening the
/// file: records counted, header included, a quoted cell over several lines
/// in one row, an empty line a row of its own (not in the grid).
pub fn csv_with(body: &[u8], limits: &Limits) -> Result<Grid, ReadError> {
    check_file_size(body, limits)?;
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return Err("CSV 文件是 UTF-16 编码；请另存为“CSV UTF-8（逗号分隔）”后重新上传".into());
    }
    let encoding = if std::str::from_utf8(body).is_ok() {
        Encoding::Utf8
    } else {
        Encoding::Gb18030
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(body))
        .from_reader(body);
    let mut budget = Budget::new(*limits);
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut number = 0u32;
    // The line breaks after the previous record's content (the start of the
    // file counts as one).
    let mut tail: &[u8] = b"\n";
    let is_break = |b: &u8| *b == b'\r' || *b == b'\n';
    loop {
        let start = reader.position().byte() as usize;
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| format!("CSV 第{}行无法解析：{e}", number + 1))?;
        if !more {
            break;
        }
        let end = reader.position().byte() as usize;
        // What was read: the empty lines the reader skipped, the record,
        // its line break (or part of it).
        let raw = body.get(start..end).unwrap_or(b"");
        let head = raw.iter().take_while(|b| is_break(b)).count();
        let body_end = raw.len() - raw.iter().rev().take_while(|b| is_break(b)).count();
        let breaks = line_breaks(tail, &raw[..head]);
        number = number.saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX).max(1));
        tail = if head == raw.len() {
            b""
        } else {
            &raw[body_end..]
        };
        if rows.len() >= limits.max_rows as usize {
            return Err(budget.too_many_rows(""));
        }
        budget.cells(record.len() as u64)?;
        let mut cells = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            let text = decode_field(field, encoding).ok_or_else(|| {
                format!(
                    "CSV 文件第{number}行既不是 UTF-8 也不是 GBK 编码，无法识别；请另存为“CSV UTF-8（逗号分隔）”后重新上传"
                )
            })?;
            budget.text(&text, || {
                format!("CSV 第{number}行第{}列", column_name(i as u32))
            })?;
            cells.push(Cell::text(&text));
        }
        rows.push(Row { number, cells });
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
        assert_eq!(
            read(b"", "a.csv", None).unwrap_err().message(),
            "文件是空的"
        );
        for (body, hint) in [
            (&[0xD0, 0xCF, 0x11, 0xE0, 0, 0][..], "old.xls"),
            (b"a,b\n", "application/vnd.oasis.opendocument.spreadsheet"),
            (b"a,b\n", "名单.ods"),
        ] {
            let e = sniff(body, hint).unwrap_err();
            assert!(e.contains("只接受 XLSX 和 CSV"), "{hint}: {e}");
        }
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
        // One cell far from the others: refused, not a million blank rows.
        let mut far = Workbook::new();
        let sheet = far.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        sheet.write_string(1_048_575, 3, "x").unwrap();
        let far = far.save_to_buffer().unwrap();
        let e = workbook(&far, None).unwrap_err();
        assert!(e.is_too_large() && e.message().contains("行数过多"), "{e}");
        assert_eq!(only.len(), 1);
        assert!(
            workbook(&bytes, Some("其他"))
                .unwrap_err()
                .message()
                .contains("名单、说明")
        );
    }

    #[test]
    fn csv_is_read_within_its_limits() {
        let limits = Limits {
            max_file_bytes: 64,
            max_rows: 3,
            max_cells: 7,
            max_cell_chars: 5,
            ..Limits::DEFAULT
        };
        let e = csv_with(&[b'a'; 65], &limits).unwrap_err();
        assert!(e.is_too_large() && e.message().contains("KB的上限"), "{e}");
        let e = csv_with(b"a\nb\nc\nd\n", &limits).unwrap_err();
        assert!(e.message().contains("超过3行"), "{e}");
        let e = csv_with(b"a,b,c\nd,e,f\n,,\n", &limits).unwrap_err();
        assert!(e.message().contains("7个单元格"), "{e}");
        let e = csv_with("姓名,备注\n张三,六个字的备注\n".as_bytes(), &limits).unwrap_err();
        assert!(e.message().contains("CSV 第2行第B列"), "{e}");
        // GBK is decoded cell by cell; a byte neither UTF-8 nor GBK names its row.
        let e = csv_with(b"a,b\nc,\x81\x20\n", &limits).unwrap_err();
        assert!(!e.is_too_large() && e.message().contains("第2行"), "{e}");
    }
}
