//! Reading the files townships really have: Excel workbooks (XLSX, and the
//! older XLS, XLSB and ODS that calamine also reads) and CSV in UTF-8 (with
//! or without a BOM) or GBK/GB18030, the encoding of Excel's CSV export on
//! Chinese Windows. Every cell becomes text, keeping whether Excel stored it
//! as a number (an 18-digit ID number stored as a number has lost digits).
use std::io::Cursor;

use calamine::{Data, Reader};

/// How a cell was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Text,
    /// Excel stored a number (the text is its integer or decimal form).
    Number,
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
    /// The cell in column `col`, empty when the row is shorter.
    pub fn cell(&self, col: usize) -> Option<&Cell> {
        self.cells.get(col)
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.text.is_empty())
    }
}

/// One sheet (a CSV file is one sheet).
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

/// The format of a body: the zip or OLE magic means a workbook whatever the
/// Content-Type says; otherwise the Content-Type decides, CSV by default.
pub fn sniff(body: &[u8], content_type: &str) -> Result<Format, String> {
    if body.starts_with(ZIP_MAGIC) || body.starts_with(OLE_MAGIC) {
        return Ok(Format::Workbook);
    }
    let ct = content_type.to_ascii_lowercase();
    if ct.contains("spreadsheetml") || ct.contains("ms-excel") {
        return Err("文件不是有效的 Excel 工作簿（XLSX 文件应为 zip 格式）；请用 Excel 另存为 .xlsx 后重新上传".into());
    }
    Ok(Format::Csv)
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

fn cell_of(d: &Data) -> Cell {
    let (text, kind) = match d {
        Data::Empty => (String::new(), CellKind::Text),
        Data::String(s) => (s.trim().to_owned(), CellKind::Text),
        Data::Int(i) => (i.to_string(), CellKind::Number),
        Data::Float(f) => (number_text(*f), CellKind::Number),
        Data::Bool(b) => (if *b { "是" } else { "否" }.to_owned(), CellKind::Text),
        Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), CellKind::Text),
        Data::DateTime(dt) => (dt.to_string(), CellKind::Text),
        Data::Error(e) => (format!("{e}"), CellKind::Error),
    };
    Cell { text, kind }
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

/// The delimiter of the first line: comma, tab or semicolon, whichever is most frequent.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

/// A CSV file as one grid; a row's number is its record number (as Excel
/// shows the file), header included.
pub fn csv(body: &[u8]) -> Result<Grid, String> {
    let text = decode_text(body)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(&text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("CSV 第{}行无法解析：{e}", i + 1))?;
        rows.push(Row {
            number: i as u32 + 1,
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
    fn numbers_lose_their_point_zero() {
        assert_eq!(number_text(13807340001.0), "13807340001");
        assert_eq!(number_text(4.0), "4");
        assert_eq!(number_text(2.5), "2.5");
    }

    #[test]
    fn zip_magic_means_a_workbook_whatever_the_content_type() {
        assert_eq!(sniff(b"PK\x03\x04rest", "text/csv"), Ok(Format::Workbook));
        assert_eq!(sniff(b"a,b\n", "text/csv"), Ok(Format::Csv));
        assert!(
            sniff(
                b"a,b\n",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
            .is_err()
        );
    }
}
