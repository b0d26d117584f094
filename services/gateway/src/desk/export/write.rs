//! Rows to bytes. CSV: UTF-8 with a byte-order mark (so Excel on a Chinese
//! Windows opens it as UTF-8 rather than GBK), CRLF line ends, written a
//! page at a time; text that Excel would take for a formula (`=`, `+`, `-`,
//! `@` first) is prefixed with `'`. XLSX: one sheet with the form's title,
//! a line naming region, period and time of export, the header row frozen
//! and filtered, long text wrapped, landscape A4 one page wide with the
//! header repeated on every printed page.
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use zoufang_types::Fen;

use super::layout::Cell;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What Excel starts a formula (or DDE) with.
fn neutralized(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// The CSV bytes of some rows; with `header`, the BOM and the header row first.
pub fn csv_chunk(header: Option<&[&str]>, rows: &[Vec<Cell>]) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if header.is_some() {
        out.extend_from_slice(BOM);
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    if let Some(h) = header {
        w.write_record(h)?;
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => neutralized(s).into_owned(),
                Cell::Int(n) => n.to_string(),
                Cell::Yuan(f) => Fen(*f).yuan(),
            })
            .collect();
        w.write_record(&cells)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// The sheet's headings.
#[derive(Debug, Clone)]
pub struct Heading<'a> {
    /// Also the sheet's name, e.g. 大走访活动记录表.
    pub sheet: &'a str,
    /// e.g. 白鹤铺镇大走访活动记录表.
    pub title: String,
    /// Region, period, campaign, time of export.
    pub subtitle: String,
}

/// Rows above the header: title and subtitle.
pub const HEADER_ROW: u32 = 2;

/// The workbook of one sheet.
pub fn xlsx(
    h: &Heading<'_>,
    columns: &[(&str, f64)],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, XlsxError> {
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let subtitle = Format::new().set_align(FormatAlign::Left);
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let text = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
        .set_text_wrap();
    let count = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
        .set_num_format("0");
    let money = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top)
        .set_num_format("0.00");

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(h.sheet)?;
    let last_col = columns.len().saturating_sub(1) as u16;
    ws.merge_range(0, 0, 0, last_col, &h.title, &title)?;
    ws.set_row_height(0, 28)?;
    ws.merge_range(1, 0, 1, last_col, &h.subtitle, &subtitle)?;
    for (col, (name, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, col as u16, *name, &header)?;
        ws.set_column_width(col as u16, *width)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + i as u32;
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16;
            match cell {
                Cell::Text(s) => ws.write_string_with_format(r, col, s, &text)?,
                Cell::Int(n) => ws.write_number_with_format(r, col, *n as f64, &count)?,
                Cell::Yuan(f) => {
                    ws.write_number_with_format(r, col, Fen(*f).as_yuan_f64(), &money)?
                }
            };
        }
    }
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + rows.len() as u32, last_col)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    wb.save_to_buffer()
}

/// `Content-Disposition` for a download: an ASCII fallback name and the
/// Chinese one as RFC 5987 `filename*`.
pub fn disposition(ascii: &str, name: &str) -> String {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;

    fn rows() -> Vec<Vec<Cell>> {
        vec![
            vec![
                Cell::Int(1),
                Cell::Text("唐怀珠".into()),
                Cell::Text("=HYPERLINK(\"x\")".into()),
                Cell::Yuan(35050),
                Cell::Text("第一行\n第二行, \"引号\"".into()),
            ],
            vec![
                Cell::Int(2),
                Cell::Text("-5".into()),
                Cell::Text(String::new()),
                Cell::Yuan(0),
                Cell::Text("@sum".into()),
            ],
        ]
    }

    const COLUMNS: [(&str, f64); 5] = [
        ("序号", 6.0),
        ("户主姓名", 9.0),
        ("备注", 9.0),
        ("帮扶情况(元)", 9.0),
        ("民情日记", 9.0),
    ];

    #[test]
    fn csv_has_a_bom_a_header_crlf_and_no_formulas() {
        let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
        let first = csv_chunk(Some(&names), &rows()[..1]).unwrap();
        assert!(first.starts_with(BOM));
        let text = String::from_utf8(first[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "序号,户主姓名,备注,帮扶情况(元),民情日记\r\n\
             1,唐怀珠,\"'=HYPERLINK(\"\"x\"\")\",350.50,\"第一行\n第二行, \"\"引号\"\"\"\r\n"
        );
        let next = csv_chunk(None, &rows()[1..]).unwrap();
        assert_eq!(String::from_utf8(next).unwrap(), "2,'-5,,0.00,'@sum\r\n");
        // Read back with a CSV reader: the cells survive.
        let mut all = csv_chunk(Some(&names), &rows()).unwrap();
        all.drain(..3);
        let mut r = csv::Reader::from_reader(all.as_slice());
        let back: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(&back[0][4], "第一行\n第二行, \"引号\"");
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn xlsx_has_title_header_and_typed_cells() {
        let h = Heading {
            sheet: "大走访活动记录表",
            title: "白鹤铺镇大走访活动记录表".into(),
            subtitle: "时间：全部".into(),
        };
        let bytes = xlsx(&h, &COLUMNS, &rows()).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["大走访活动记录表"]);
        let range = book.worksheet_range("大走访活动记录表").unwrap();
        let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(0, 0), Data::String("白鹤铺镇大走访活动记录表".into()));
        assert_eq!(cell(2, 3), Data::String("帮扶情况(元)".into()));
        assert_eq!(cell(3, 0), Data::Float(1.0));
        assert_eq!(cell(3, 2), Data::String("=HYPERLINK(\"x\")".into()));
        assert_eq!(cell(3, 3), Data::Float(350.5));
        assert_eq!(cell(4, 1), Data::String("-5".into()));
        // An empty sheet is still a valid workbook with its header.
        let bytes = xlsx(&h, &COLUMNS, &[]).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("大走访活动记录表").unwrap();
        assert_eq!(range.get_value((2, 0)), Some(&Data::String("序号".into())));
    }

    #[test]
    fn dispositions_name_the_file_twice() {
        assert_eq!(
            disposition("visits-430426104.csv", "白鹤铺镇 记录.csv"),
            "attachment; filename=\"visits-430426104.csv\"; \
             filename*=UTF-8''%E7%99%BD%E9%B9%A4%E9%93%BA%E9%95%87%20%E8%AE%B0%E5%BD%95.csv"
        );
    }
}
