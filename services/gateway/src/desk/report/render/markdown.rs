//! The summary as Markdown: headings, paragraphs and pipe tables; charts
//! are named and left to the HTML version.
use super::{Block, Cell, Table};

/// Markdown text of `blocks`.
pub fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Title(t) => out.push_str(&format!("# {}\n\n", inline(t))),
            Block::Meta(t) => out.push_str(&format!("*{}*\n\n", inline(t))),
            Block::Heading(t) => out.push_str(&format!("## {}\n\n", inline(t))),
            Block::Para(t) => out.push_str(&format!("{}\n\n", inline(t))),
            Block::Table(t) => table(&mut out, t),
            Block::Chart { title, .. } => {
                out.push_str(&format!("（图：{}，见 HTML 版。）\n\n", inline(title)));
            }
        }
    }
    out
}

fn table(out: &mut String, t: &Table) {
    out.push_str(&format!("**{}**\n\n", inline(&t.caption)));
    let row = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    out.push_str(&row(t.header.iter().map(|h| cell_text(h)).collect()));
    out.push_str(&row(t
        .header
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---".into() } else { "---:".into() })
        .collect()));
    let show = |cells: &[Cell]| cells.iter().map(|c| cell_text(&c.show())).collect();
    for r in &t.rows {
        out.push_str(&row(show(r)));
    }
    if let Some(total) = &t.total {
        let mut cells: Vec<String> = show(total);
        if let Some(first) = cells.first_mut() {
            *first = format!("**{first}**");
        }
        out.push_str(&row(cells));
    }
    out.push('\n');
}

/// Text safe inside a table cell.
fn cell_text(s: &str) -> String {
    inline(s).replace('|', "\\|")
}

/// Text safe in running Markdown: characters that would start markup are escaped.
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#') {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_escaping() {
        let md = render(&[
            Block::Title("白鹤铺镇“大走访”活动总结".into()),
            Block::Para("共走访群众420户*".into()),
            Block::Table(Table {
                caption: "分村情况".into(),
                header: vec!["村".into(), "覆盖率".into()],
                rows: vec![vec![Cell::Text("黄|龙村".into()), Cell::Rate(Some(8571))]],
                total: Some(vec![Cell::Text("合计".into()), Cell::Rate(None)]),
            }),
            Block::Chart {
                title: "覆盖率".into(),
                svg: "<svg/>".into(),
            },
        ]);
        assert!(md.starts_with("# 白鹤铺镇“大走访”活动总结\n\n"));
        assert!(md.contains("共走访群众420户\\*"));
        assert!(md.contains(
            "| 村 | 覆盖率 |\n| --- | ---: |\n| 黄\\|龙村 | 85.7% |\n| **合计** | — |\n"
        ));
        assert!(md.contains("（图：覆盖率，见 HTML 版。）"));
        assert!(!md.contains("<svg"));
    }
}
