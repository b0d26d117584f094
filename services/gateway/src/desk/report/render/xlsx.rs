//! The summary as an XLSX workbook: a summary sheet (every headline figure
//! as a number with its unit), the per-village or per-township table with
//! its total row and a coverage chart, the categories, and for the county
//! view the ranking. Counts are integers, money is 元 with two decimals
//! and rates are percentages with one, as numbers Excel can add up.
use rust_xlsxwriter::{Chart, ChartType, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::{
    Cell, Table, category_table, date_zh, datetime_zh, detail_table, indicators, ranking_table,
};
use zoufang_types::Fen;

use crate::desk::report::figures::{Ranked, Summary};

/// The summary sheet's name.
pub const SUMMARY_SHEET: &str = "活动总结";

struct Formats {
    title: Format,
    header: Format,
    bold: Format,
    count: Format,
    yuan: Format,
    rate: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new()
                .set_bold()
                .set_background_color("#DDEBF7")
                .set_align(FormatAlign::Center)
                .set_text_wrap(),
            bold: Format::new().set_bold(),
            count: Format::new().set_num_format("0"),
            yuan: Format::new().set_num_format("0.00"),
            rate: Format::new().set_num_format("0.0%"),
        }
    }
}

/// The workbook's bytes; with `ranking`, the county view.
pub fn render(s: &Summary, ranking: Option<&[Ranked]>) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();

    let ws = wb.add_worksheet();
    ws.set_name(SUMMARY_SHEET)?;
    ws.write_string_with_format(0, 0, format!("{}“大走访”活动总结", s.region_name), &f.title)?;
    ws.write_string(
        1,
        0,
        format!(
            "活动：{}　时间：{}至{}　数据截至：{}",
            s.campaign.name,
            date_zh(&s.campaign.starts_at),
            date_zh(&s.campaign.ends_at),
            datetime_zh(&s.generated_at)
        ),
    )?;
    for (col, h) in ["类别", "指标", "数值", "单位"].iter().enumerate() {
        ws.write_string_with_format(3, col as u16, *h, &f.header)?;
    }
    for (i, ind) in indicators(&s.totals).iter().enumerate() {
        let row = 4 + i as u32;
        ws.write_string(row, 0, ind.section)?;
        ws.write_string(row, 1, &ind.name)?;
        cell(ws, row, 2, &ind.value, &f)?;
        ws.write_string(row, 3, ind.unit)?;
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 28)?;
    ws.set_column_width(2, 14)?;
    ws.set_column_width(3, 6)?;

    let detail = detail_table(s);
    let ws = wb.add_worksheet();
    let rows = table(ws, &detail, &f)?;
    ws.set_column_width(0, 16)?;
    if rows > 0 {
        // Coverage (column 3) by row name (column 0), without the total row.
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("覆盖率")
            .set_categories((detail.caption.as_str(), 1, 0, rows, 0))
            .set_values((detail.caption.as_str(), 1, 3, rows, 3));
        chart.title().set_name("走访覆盖率");
        chart.x_axis().set_num_format("0%").set_max(1.0);
        chart.legend().set_hidden();
        ws.insert_chart(rows + 3, 0, &chart)?;
    }

    let ws = wb.add_worksheet();
    table(ws, &category_table(&s.totals.ledger), &f)?;
    ws.set_column_width(0, 16)?;

    if let Some(ranked) = ranking {
        let ws = wb.add_worksheet();
        table(ws, &ranking_table(ranked), &f)?;
        ws.set_column_width(0, 16)?;
    }
    wb.save_to_buffer()
}

/// Writes a table on its own sheet (named by its caption) from A1; the
/// number of body rows (without the total).
fn table(ws: &mut Worksheet, t: &Table, f: &Formats) -> Result<u32, XlsxError> {
    ws.set_name(&t.caption)?;
    for (col, h) in t.header.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, h, &f.header)?;
        if col > 0 {
            ws.set_column_width(col as u16, 11)?;
        }
    }
    ws.set_freeze_panes(1, 1)?;
    for (i, r) in t.rows.iter().enumerate() {
        for (col, c) in r.iter().enumerate() {
            cell(ws, 1 + i as u32, col as u16, c, f)?;
        }
    }
    let body = t.rows.len() as u32;
    if let Some(total) = &t.total {
        for (col, c) in total.iter().enumerate() {
            match c {
                Cell::Text(s) => {
                    ws.write_string_with_format(body + 1, col as u16, s, &f.bold)?;
                }
                c => cell(ws, body + 1, col as u16, c, f)?,
            }
        }
    }
    Ok(body)
}

fn cell(ws: &mut Worksheet, row: u32, col: u16, c: &Cell, f: &Formats) -> Result<(), XlsxError> {
    match c {
        Cell::Text(s) => ws.write_string(row, col, s)?,
        Cell::Count(n) => ws.write_number_with_format(row, col, *n as f64, &f.count)?,
        Cell::Fen(fen) => {
            ws.write_number_with_format(row, col, Fen(*fen).as_yuan_f64(), &f.yuan)?
        }
        Cell::Rate(Some(bp)) => {
            ws.write_number_with_format(row, col, f64::from(*bp) / 10_000.0, &f.rate)?
        }
        Cell::Rate(None) => ws.write_string(row, col, "—")?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::desk::report::figures::{CampaignInfo, Figures, Help, Level, Row, Visits};

    fn summary() -> Summary {
        let figures = |visited, cash| Figures {
            visits: Visits {
                households_total: 10,
                households_visited: visited,
                coverage_bp: i32::try_from(visited * 1000).unwrap(),
                ..Default::default()
            },
            help: Help {
                households_helped: 1,
                cash_fen: cash,
                total_fen: cash,
                ..Default::default()
            },
            ..Default::default()
        };
        Summary {
            region_code: "430426104000".into(),
            region_name: "白鹤铺镇".into(),
            level: Level::Township,
            campaign: CampaignInfo {
                campaign_id: "c".into(),
                name: "大走访".into(),
                region_code: "430426104000".into(),
                starts_at: String::new(),
                ends_at: String::new(),
                themes: vec![],
                status: "active",
            },
            generated_at: String::new(),
            totals: Figures {
                visits: Visits {
                    households_total: 20,
                    households_visited: 12,
                    coverage_bp: 6000,
                    ..Default::default()
                },
                help: Help {
                    households_helped: 2,
                    cash_fen: 30_050,
                    total_fen: 30_050,
                    ..Default::default()
                },
                ..Default::default()
            },
            row_level: Level::Village,
            rows: vec![
                Row {
                    code: "430426104201".into(),
                    name: "黄龙村".into(),
                    figures: figures(8, 20_000),
                },
                Row {
                    code: "430426104202".into(),
                    name: "肖家村".into(),
                    figures: figures(4, 10_050),
                },
            ],
        }
    }

    #[test]
    fn the_workbook_reads_back_with_the_same_figures() {
        let bytes = render(&summary(), None).unwrap();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), vec!["活动总结", "分村情况", "诉求分类"]);
        let sheet = book.worksheet_range("活动总结").unwrap();
        let value = |name: &str| {
            sheet
                .rows()
                .find(|r| r.get(1) == Some(&Data::String(name.into())))
                .and_then(|r| r.get(2).cloned())
        };
        assert_eq!(value("已走访户数"), Some(Data::Float(12.0)));
        assert_eq!(value("覆盖率"), Some(Data::Float(0.6)));
        assert_eq!(value("慰问金"), Some(Data::Float(300.5)));
        let table = book.worksheet_range("分村情况").unwrap();
        assert_eq!(table.get((1, 0)), Some(&Data::String("黄龙村".into())));
        assert_eq!(table.get((2, 2)), Some(&Data::Float(4.0)));
        assert_eq!(table.get((3, 0)), Some(&Data::String("合计".into())));
        assert_eq!(table.get((3, 2)), Some(&Data::Float(12.0)));
    }

    #[test]
    fn the_county_view_adds_the_ranking_sheet() {
        let s = summary();
        let ranked = crate::desk::report::figures::rank(&s.rows);
        let bytes = render(&s, Some(&ranked)).unwrap();
        let book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names().len(), 4);
        assert_eq!(book.sheet_names()[3], "各乡镇排名");
    }
}
