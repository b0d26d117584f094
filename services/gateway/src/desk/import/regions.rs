//! The region table (行政区划): rows of 区划代码, 名称 and optionally 级别
//! and 上级代码 (both follow from the code when left out), checked as the
//! registry does, then one ImportRegions call with the good rows as its CSV.
use std::collections::HashMap;

use zoufang_core::auth::Claims;
use zoufang_proto::registry::v1::ImportRegionsRequest;
use zoufang_tabular::{Mapping, Row};
use zoufang_types::RegionLevel;

use super::{Cells, Parsed, RowError, Run, check, header::REGION_FIELDS};

/// One region to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionLine {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent: String,
}

/// Checks every row: the code, the name, the level and parent when given
/// (they must agree with the code), the caller's scope (their region and
/// below, and the ancestors above it), and codes given twice.
pub fn parse(rows: &[Row], m: &Mapping, claims: &Claims) -> Parsed<RegionLine> {
    let mut out = Parsed::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in rows {
        let mut c = Cells::new(row, m, REGION_FIELDS);
        let code = c.check("code", |cell| {
            check::region_code(cell.map(|c| c.text.as_str()).unwrap_or(""))
        });
        let name = c.check("name", |cell| check::required_text(cell, 100));
        if let Some(code) = &code {
            let level = code.level();
            let given = c.text("level");
            if !given.is_empty() {
                match check::region_level(&given) {
                    Ok(l) if l == level => {}
                    Ok(l) => c.fail(
                        "level",
                        format!(
                            "级别“{given}”（{}）与区划代码{code}不符：该代码是{}区划",
                            check::level_name(l),
                            check::level_name(level)
                        ),
                    ),
                    Err(e) => c.fail("level", e),
                }
            }
            let parent = code
                .parent()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let given = check::halfwidth(&c.text("parent"));
            if !given.is_empty() && given != "0" && given != parent {
                let expected = if parent.is_empty() {
                    "无".to_owned()
                } else {
                    parent.clone()
                };
                c.fail(
                    "parent",
                    format!("上级代码{given}不是{code}的上级（应为{expected}）"),
                );
            }
            if !claims.covers(code.as_str()) && !claims.scope.starts_with(code.prefix()) {
                c.fail(
                    "code",
                    format!("{code}不在您的管辖范围（{}）内", claims.scope),
                );
            }
            match seen.get(code.as_str()) {
                Some(first) => c.fail("code", format!("与第{first}行的区划代码重复")),
                None => {
                    seen.insert(code.as_str().to_owned(), row.number);
                }
            }
        }
        let errors = c.into_errors();
        match (code, name) {
            (Some(code), Some(name)) if errors.is_empty() => out.good.push((
                row.number,
                RegionLine {
                    level: code.level(),
                    parent: code
                        .parent()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default(),
                    code: code.as_str().to_owned(),
                    name,
                },
            )),
            _ => out.errors.extend(errors),
        }
    }
    out
}

/// The registry's CSV (code,name,level,pcode) of the lines.
pub fn to_csv(lines: &[(u32, RegionLine)]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| format!("内部错误：{e}");
    w.write_record(["code", "name", "level", "pcode"])
        .map_err(fail)?;
    for (_, l) in lines {
        w.write_record([
            l.code.as_str(),
            l.name.as_str(),
            &l.level.as_i32().to_string(),
            l.parent.as_str(),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| format!("内部错误：{e}"))
}

/// One ImportRegions call with every good row (the registry writes all of
/// them or none). Its row-level refusals ("csv[row N].field") are mapped
/// back to the file's rows.
pub async fn write(run: &mut Run, m: &Mapping, good: Vec<(u32, RegionLine)>) -> Result<(), String> {
    let csv = to_csv(&good)?;
    let res = run
        .up
        .retrying_status(|mut c| {
            let csv = csv.clone();
            async move { c.import_regions(ImportRegionsRequest { csv }).await }
        })
        .await;
    match res {
        Ok(_) => run.batch_done(good.len(), good.len(), vec![]).await,
        Err(s) if s.code() == tonic::Code::InvalidArgument => {
            let errors: Vec<RowError> = super::violations(&s)
                .into_iter()
                .map(|(field, reason)| {
                    let (line, col) = parse_field(&field);
                    let row = line
                        .and_then(|n| n.checked_sub(2))
                        .and_then(|i| good.get(i))
                        .map(|(n, _)| *n)
                        .unwrap_or(0);
                    let key = match col.as_str() {
                        "pcode" => "parent",
                        k => k,
                    };
                    RowError {
                        row,
                        column: m.header(REGION_FIELDS, key).to_owned(),
                        reason: format!("登记服务拒绝：{reason}"),
                    }
                })
                .collect();
            run.add_errors(errors).await?;
            Err("登记服务拒绝了区划表，未写入任何区划".into())
        }
        Err(s) => Err(super::status_reason(&s)),
    }
}

/// `csv[row 7].name` → (Some(7), "name").
fn parse_field(field: &str) -> (Option<usize>, String) {
    let line = field
        .strip_prefix("csv[row ")
        .and_then(|rest| rest.split(']').next())
        .and_then(|n| n.parse().ok());
    let col = field.rsplit('.').next().unwrap_or("").to_owned();
    (
        line,
        if field.contains('.') {
            col
        } else {
            String::new()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_tabular::{Cell, map_header};

    fn row(number: u32, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells.iter().map(|c| Cell::text(c)).collect(),
        }
    }

    #[test]
    fn region_rows_agree_with_their_codes_and_the_scope() {
        let headers: Vec<String> = ["统计用区划代码", "名称", "层级", "上级代码"]
            .map(String::from)
            .into();
        let m = map_header(REGION_FIELDS, &headers);
        let claims = Claims {
            sub: "t".into(),
            roles: vec!["township_admin".into()],
            scope: "430426104".into(),
            ..Claims::default()
        };
        let rows = [
            row(2, &["430426104000", "白鹤铺镇", "乡镇", ""]),
            row(3, &["430426104201", "黄龙村", "5", "430426104000"]),
            row(4, &["430426104202", "肖家村", "4", ""]),
            row(5, &["430426104203", "桃源村", "", "430426105000"]),
            row(6, &["430426105201", "新塘村", "", ""]),
            row(7, &["430426104201", "黄龙村", "", ""]),
            row(8, &["43042610420", "", "", ""]),
        ];
        let p = parse(&rows, &m, &claims);
        assert_eq!(
            p.good
                .iter()
                .map(|(n, l)| (*n, l.code.as_str()))
                .collect::<Vec<_>>(),
            vec![(2, "430426104000"), (3, "430426104201")]
        );
        let errors: Vec<(u32, &str, &str)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    4,
                    "层级",
                    "级别“4”（乡级）与区划代码430426104202不符：该代码是村级区划"
                ),
                (
                    5,
                    "上级代码",
                    "上级代码430426105000不是430426104203的上级（应为430426104000）"
                ),
                (
                    6,
                    "统计用区划代码",
                    "430426105201不在您的管辖范围（430426104）内"
                ),
                (7, "统计用区划代码", "与第3行的区划代码重复"),
                (8, "统计用区划代码", "区划代码应为12位，实际为11位"),
                (8, "名称", "不能为空"),
            ]
        );
        let csv = String::from_utf8(to_csv(&p.good).unwrap()).unwrap();
        assert_eq!(
            csv,
            "code,name,level,pcode\n430426104000,白鹤铺镇,4,430426000000\n430426104201,黄龙村,5,430426104000\n"
        );
        assert_eq!(parse_field("csv[row 7].name"), (Some(7), "name".into()));
    }
}
