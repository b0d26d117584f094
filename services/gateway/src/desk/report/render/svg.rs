//! Charts as SVG, drawn here (no script): coverage by village or township as
//! horizontal bars with the overall coverage marked, and the ledger funnel.
use std::fmt::Write as _;

use super::pct;

const WIDTH: i64 = 720;
const FONT: &str = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei',sans-serif\"";

/// Escapes text for XML content and attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open(height: i64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{l}\" {FONT} font-size=\"13\"><title>{l}</title>",
        l = esc(label)
    )
}

/// Horizontal bars of coverage (basis points) per name, bars below
/// `overall_bp` in orange, with a dashed line at `overall_bp`.
pub fn coverage_bars(bars: &[(String, i32)], overall_bp: i32) -> String {
    const LEFT: i64 = 150;
    const AREA: i64 = 480;
    const ROW: i64 = 26;
    const TOP: i64 = 28;
    let height = TOP + ROW * bars.len().max(1) as i64 + 24;
    let x_of = |bp: i32| LEFT + AREA * i64::from(bp.clamp(0, 10_000)) / 10_000;
    let mut s = open(height, "走访覆盖率");
    for tick in [0, 2500, 5000, 7500, 10_000] {
        let x = x_of(tick);
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"{TOP}\" x2=\"{x}\" y2=\"{y2}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"#666\" font-size=\"11\">{}%</text>",
            tick / 100,
            y2 = height - 20,
            ty = TOP - 8,
        );
    }
    if bars.is_empty() {
        let _ = write!(
            s,
            "<text x=\"{LEFT}\" y=\"{}\" fill=\"#999\">暂无数据</text>",
            TOP + 18
        );
    }
    for (i, (name, bp)) in bars.iter().enumerate() {
        let y = TOP + ROW * i as i64 + 4;
        let w = (x_of(*bp) - LEFT).max(1);
        let fill = if *bp >= overall_bp {
            "#2f6fb0"
        } else {
            "#e08a2e"
        };
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{name}</text><rect x=\"{LEFT}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"{fill}\"><title>{name} {p}</title></rect><text x=\"{vx}\" y=\"{ty}\" fill=\"#333\">{p}</text>",
            lx = LEFT - 8,
            ty = y + 14,
            h = ROW - 8,
            vx = LEFT + w + 6,
            name = esc(name),
            p = pct(*bp),
        );
    }
    let x = x_of(overall_bp);
    let _ = write!(
        s,
        "<line x1=\"{x}\" y1=\"{TOP}\" x2=\"{x}\" y2=\"{y2}\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/><text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"#c0392b\" font-size=\"11\">总体 {p}</text></svg>",
        y2 = height - 20,
        ty = height - 6,
        p = pct(overall_bp),
    );
    s
}

/// The ledger funnel: one centred bar per stage, its width relative to
/// the first stage, with the count and the share of the first stage.
pub fn funnel(stages: &[(String, i64)]) -> String {
    const LEFT: i64 = 150;
    const AREA: i64 = 420;
    const ROW: i64 = 40;
    const TOP: i64 = 10;
    let height = TOP * 2 + ROW * stages.len().max(1) as i64;
    let first = stages.first().map(|(_, v)| *v).unwrap_or_default();
    let colors = ["#1f4e79", "#2f6fb0", "#5b9bd5", "#9dc3e6", "#bdd7ee"];
    let mut s = open(height, "民情台账办理情况");
    for (i, (label, value)) in stages.iter().enumerate() {
        let y = TOP + ROW * i as i64;
        let w = if first > 0 {
            (AREA * (*value).clamp(0, first) / first).max(2)
        } else {
            2
        };
        let share = crate::desk::report::figures::rate_bp(*value, first)
            .map(pct)
            .unwrap_or_else(|| "—".into());
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text><rect x=\"{x}\" y=\"{ry}\" width=\"{w}\" height=\"{h}\" rx=\"3\" fill=\"{fill}\"><title>{label} {value}件</title></rect><text x=\"{vx}\" y=\"{ty}\" fill=\"#333\">{value}件（{share}）</text>",
            lx = LEFT - 8,
            ty = y + ROW / 2 + 5,
            x = LEFT + (AREA - w) / 2,
            ry = y + 4,
            h = ROW - 8,
            fill = colors[i % colors.len()],
            vx = LEFT + AREA + 12,
            label = esc(label),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_and_names_escaped() {
        let svg = coverage_bars(&[("黄龙村".into(), 10_000), ("A&B<村>".into(), 5000)], 7500);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(
            svg.contains("width=\"480\" height=\"18\" fill=\"#2f6fb0\""),
            "{svg}"
        );
        assert!(
            svg.contains("width=\"240\" height=\"18\" fill=\"#e08a2e\""),
            "{svg}"
        );
        assert!(svg.contains("A&amp;B&lt;村&gt;"));
        assert!(!svg.contains("A&B"));
        assert!(svg.contains("总体 75.0%"));
    }

    #[test]
    fn the_funnel_is_relative_to_what_was_collected() {
        let svg = funnel(&[
            ("收集诉求".into(), 20),
            ("已办结".into(), 15),
            ("回访核实".into(), 0),
        ]);
        assert!(svg.contains("width=\"420\""));
        assert!(svg.contains("width=\"315\""));
        assert!(svg.contains("15件（75.0%）"));
        assert!(svg.contains("0件（0.0%）"));
        let empty = funnel(&[("收集诉求".into(), 0)]);
        assert!(empty.contains("0件（—）"));
    }

    #[test]
    fn no_rows_still_draw() {
        assert!(coverage_bars(&[], 0).contains("暂无数据"));
    }
}
