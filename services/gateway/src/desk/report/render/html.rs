//! The summary as one self-contained HTML page (no script), with its SVG
//! charts inline and print-friendly styles.
use super::{Block, Cell, Table, svg::esc};

const STYLE: &str = "body{font-family:'Noto Serif CJK SC','SimSun',serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.8;color:#222}\
h1{text-align:center;font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}p.meta{text-align:center;color:#555}\
p{text-indent:2em}table{border-collapse:collapse;margin:1em 0;font-size:.9em;font-family:sans-serif}\
caption{font-weight:bold;margin-bottom:.3em}th,td{border:1px solid #999;padding:.2em .5em}\
td.n{text-align:right}tr.total td{font-weight:bold;background:#f3f3f3}figure{margin:1em 0}\
figcaption{font-weight:bold;font-family:sans-serif}svg{max-width:100%;height:auto}\
@media print{body{margin:0}}";

/// The HTML page of `blocks`; `title` names the page.
pub fn render(title: &str, blocks: &[Block]) -> String {
    let mut body = String::new();
    for b in blocks {
        match b {
            Block::Title(t) => body.push_str(&format!("<h1>{}</h1>\n", esc(t))),
            Block::Meta(t) => body.push_str(&format!("<p class=\"meta\">{}</p>\n", esc(t))),
            Block::Heading(t) => body.push_str(&format!("<h2>{}</h2>\n", esc(t))),
            Block::Para(t) => body.push_str(&format!("<p>{}</p>\n", esc(t))),
            Block::Table(t) => table(&mut body, t),
            Block::Chart { title, svg } => body.push_str(&format!(
                "<figure><figcaption>{}</figcaption>\n{svg}\n</figure>\n",
                esc(title)
            )),
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
}

fn table(out: &mut String, t: &Table) {
    out.push_str(&format!(
        "<table><caption>{}</caption><thead><tr>",
        esc(&t.caption)
    ));
    for h in &t.header {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>\n");
    let row = |out: &mut String, cells: &[Cell], class: &str| {
        out.push_str(&format!("<tr{class}>"));
        for c in cells {
            let numeric = !matches!(c, Cell::Text(_));
            out.push_str(&format!(
                "<td{}>{}</td>",
                if numeric { " class=\"n\"" } else { "" },
                esc(&c.show())
            ));
        }
        out.push_str("</tr>\n");
    };
    for r in &t.rows {
        row(out, r, "");
    }
    if let Some(total) = &t.total {
        row(out, total, " class=\"total\"");
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_escaped_text_and_inline_charts() {
        let page = render(
            "总结<1>",
            &[
                Block::Title("总结<1>".into()),
                Block::Para("A&B".into()),
                Block::Table(Table {
                    caption: "分村情况".into(),
                    header: vec!["村".into(), "帮扶金额（元）".into()],
                    rows: vec![vec![Cell::Text("黄龙村".into()), Cell::Fen(60_000)]],
                    total: None,
                }),
                Block::Chart {
                    title: "覆盖率".into(),
                    svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".into(),
                },
            ],
        );
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<title>总结&lt;1&gt;</title>"));
        assert!(page.contains("<p>A&amp;B</p>"));
        assert!(page.contains("<td class=\"n\">600.00</td>"));
        assert!(page.contains("<figcaption>覆盖率</figcaption>\n<svg xmlns="));
        assert!(!page.contains("<script"));
    }
}
