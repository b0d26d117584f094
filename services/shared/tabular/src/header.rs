//! Header mapping: the column names people write (身份证号码, 联系电话 …,
//! with their common variants) to the fields of an import, and finding the
//! header row under a title row or two.
use super::read::{Grid, Row};

/// One field of an import and the column names that mean it.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub key: &'static str,
    /// The name shown in errors and templates.
    pub label: &'static str,
    /// Accepted column names, the preferred first (compared [`normalize`]d).
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl FieldSpec {
    pub const fn new(
        key: &'static str,
        label: &'static str,
        aliases: &'static [&'static str],
        required: bool,
    ) -> Self {
        Self {
            key,
            label,
            aliases,
            required,
        }
    }
}

/// A column name compared loosely: no spaces, BOM, required-marks (*) or
/// colons, full-width brackets made half-width, a "(必填)"/"(选填)" note
/// dropped, ASCII lowercased.
pub fn normalize(h: &str) -> String {
    let mut s: String = h
        .chars()
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '／' => '/',
            c => c,
        })
        .filter(|c| !(c.is_whitespace() || matches!(c, '*' | '＊' | ':' | '：' | '\u{feff}')))
        .collect::<String>()
        .to_lowercase();
    for note in ["(必填)", "(选填)", "(可选)", "(可不填)"] {
        s = s.replace(note, "");
    }
    s
}

/// Where each field is: column index and the header text as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    columns: Vec<(&'static str, usize, String)>,
}

impl Mapping {
    /// The column of `key`, if the file has it.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, c, _)| *c)
    }

    /// The header text of `key`'s column as the file writes it (for errors),
    /// or the field's label when the file has no such column.
    pub fn header<'a>(&'a self, specs: &'a [FieldSpec], key: &str) -> &'a str {
        self.columns
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, h)| h.as_str())
            .or_else(|| specs.iter().find(|s| s.key == key).map(|s| s.label))
            .unwrap_or("")
    }

    /// How many fields were found.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

/// Maps a header row to fields: for each field, the column matching its
/// most preferred alias (each column serves one field).
pub fn map_header(specs: &[FieldSpec], headers: &[String]) -> Mapping {
    let normalized: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    let mut taken = vec![false; headers.len()];
    let mut columns = Vec::new();
    for spec in specs {
        let found = spec.aliases.iter().find_map(|alias| {
            let alias = normalize(alias);
            normalized
                .iter()
                .enumerate()
                .position(|(i, h)| !taken[i] && *h == alias)
        });
        if let Some(col) = found {
            taken[col] = true;
            columns.push((spec.key, col, headers[col].trim().to_owned()));
        }
    }
    Mapping { columns }
}

/// The required fields a mapping lacks.
pub fn missing<'a>(specs: &'a [FieldSpec], mapping: &Mapping) -> Vec<&'a FieldSpec> {
    specs
        .iter()
        .filter(|s| s.required && mapping.column(s.key).is_none())
        .collect()
}

/// The error naming missing required columns and how they may be written.
pub fn missing_message(missing: &[&FieldSpec]) -> String {
    let list = missing
        .iter()
        .map(|s| {
            let names: Vec<&str> = s
                .aliases
                .iter()
                .copied()
                .filter(|a| !a.is_ascii())
                .collect();
            format!("“{}”（可写作：{}）", s.label, names.join("、"))
        })
        .collect::<Vec<_>>()
        .join("；");
    format!("表头缺少必需的列：{list}")
}

/// How many rows from the top may hold the header (title rows come first).
const HEADER_SEARCH_ROWS: usize = 10;

/// A sheet's header found: which row, the mapping, and the data rows below it.
#[derive(Debug, Clone)]
pub struct Located {
    pub header_row: u32,
    pub mapping: Mapping,
    /// Index into the grid's rows of the first data row.
    pub first_data: usize,
}

/// Finds the header row in the first rows of a grid: the row where the
/// most fields are recognised; an error names the missing required columns.
pub fn locate(specs: &[FieldSpec], grid: &Grid) -> Result<Located, String> {
    let best = grid
        .rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .enumerate()
        .map(|(i, row): (usize, &Row)| {
            let headers: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
            (i, row.number, map_header(specs, &headers))
        })
        .max_by_key(|(i, _, m)| (m.len(), std::cmp::Reverse(*i)));
    let Some((i, number, mapping)) = best.filter(|(_, _, m)| !m.is_empty()) else {
        let examples: Vec<&str> = specs
            .iter()
            .filter(|s| s.required)
            .map(|s| s.label)
            .collect();
        return Err(format!(
            "找不到表头：前{HEADER_SEARCH_ROWS}行中没有可识别的列名（应有 {} 等列）",
            examples.join("、")
        ));
    };
    let lacking = missing(specs, &mapping);
    if !lacking.is_empty() {
        return Err(format!(
            "第{number}行是表头，但{}",
            missing_message(&lacking)
        ));
    }
    Ok(Located {
        header_row: number,
        mapping,
        first_data: i + 1,
    })
}

/// The first grid whose header maps every required field; otherwise the
/// reason the first grid does not.
pub fn choose<'g>(specs: &[FieldSpec], grids: &'g [Grid]) -> Result<(&'g Grid, Located), String> {
    let mut first_error = None;
    for g in grids {
        match locate(specs, g) {
            Ok(located) => return Ok((g, located)),
            Err(e) => {
                first_error.get_or_insert_with(|| {
                    if g.name.is_empty() {
                        e
                    } else {
                        format!("工作表“{}”：{e}", g.name)
                    }
                });
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "文件是空的".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cell;

    const SPECS: &[FieldSpec] = &[
        FieldSpec::new("name", "姓名", &["姓名", "户主姓名", "name"], true),
        FieldSpec::new(
            "id_number",
            "身份证号",
            &["身份证号", "身份证号码", "公民身份号码", "id_number"],
            true,
        ),
        FieldSpec::new(
            "phone",
            "联系电话",
            &["联系电话", "电话", "手机号码"],
            false,
        ),
        FieldSpec::new("address", "家庭住址", &["家庭住址", "住址"], false),
    ];

    const REGIONS: &[FieldSpec] = &[
        FieldSpec::new("code", "区划代码", &["区划代码", "代码"], true),
        FieldSpec::new("name", "名称", &["名称", "区划名称"], true),
    ];

    fn row(number: u32, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells.iter().map(|c| Cell::text(c)).collect(),
        }
    }

    #[test]
    fn headers_are_compared_loosely() {
        assert_eq!(normalize(" 手机号码（必填）"), "手机号码");
        assert_eq!(normalize("*公民身份号码："), "公民身份号码");
        assert_eq!(normalize("\u{feff}村（社区）"), "村(社区)");
        assert_eq!(normalize("ID_Number"), "id_number");
    }

    #[test]
    fn variants_map_to_fields_and_keep_the_written_header() {
        let headers: Vec<String> = ["序号", " 姓名 ", "公民身份号码*", "手机号码（必填）"]
            .map(String::from)
            .into();
        let m = map_header(SPECS, &headers);
        assert_eq!(m.column("name"), Some(1));
        assert_eq!(m.column("id_number"), Some(2));
        assert_eq!(m.column("phone"), Some(3));
        assert_eq!(m.column("address"), None);
        assert_eq!(m.len(), 3);
        assert_eq!(m.header(SPECS, "id_number"), "公民身份号码*");
        assert_eq!(m.header(SPECS, "address"), "家庭住址");
        assert!(missing(SPECS, &m).is_empty());
    }

    #[test]
    fn the_preferred_alias_wins_when_two_columns_could_serve() {
        let headers: Vec<String> = ["户主姓名", "姓名", "身份证号"].map(String::from).into();
        let m = map_header(SPECS, &headers);
        assert_eq!(m.column("name"), Some(1));
    }

    #[test]
    fn the_header_is_found_under_a_title_row_and_missing_columns_are_named() {
        let grid = Grid {
            name: "花名册".into(),
            rows: vec![
                row(1, &["白鹤铺镇农户花名册"]),
                row(2, &["姓名", "身份证号码", "电话"]),
                row(3, &["张三", "x", "138"]),
            ],
        };
        let located = locate(SPECS, &grid).unwrap();
        assert_eq!((located.header_row, located.first_data), (2, 2));

        let grid = Grid {
            name: String::new(),
            rows: vec![row(1, &["姓名", "电话", "住址"])],
        };
        let err = locate(SPECS, &grid).unwrap_err();
        assert_eq!(
            err,
            "第1行是表头，但表头缺少必需的列：“身份证号”（可写作：身份证号、身份证号码、公民身份号码）"
        );

        let grid = Grid {
            name: String::new(),
            rows: vec![row(1, &["a", "b"])],
        };
        assert_eq!(
            locate(SPECS, &grid).unwrap_err(),
            "找不到表头：前10行中没有可识别的列名（应有 姓名、身份证号 等列）"
        );
    }

    #[test]
    fn the_first_matching_sheet_is_chosen() {
        let notes = Grid {
            name: "说明".into(),
            rows: vec![row(1, &["填表说明"])],
        };
        let data = Grid {
            name: "数据".into(),
            rows: vec![row(1, &["代码", "名称"])],
        };
        let grids = [notes, data];
        let (g, _) = choose(REGIONS, &grids).unwrap();
        assert_eq!(g.name, "数据");
        assert!(
            choose(REGIONS, &grids[..1])
                .unwrap_err()
                .starts_with("工作表“说明”")
        );
        assert_eq!(choose(REGIONS, &[]).unwrap_err(), "文件是空的");
    }
}
