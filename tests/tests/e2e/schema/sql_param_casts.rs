//! Region columns are `char(n)` (`county char(6)`, `village_code char(12)`,
//! …) and sqlx sends a Rust string as a `text` parameter. `county = $1`
//! then compares as text — `(county)::text = $1` — and no index on the
//! column can be used: a lookup by `(county, id)` read the whole primary
//! key index, and the fabrication check's neighbour search scanned its
//! tables, 5 ms a visit and growing (found with pg_stat_statements under
//! bench-pipeline). `county = $1::char(6)` compares as `char` and seeks.
//!
//! This test reads every service's source and fails on a comparison of a
//! region column with a parameter that is not cast to the column's type.
use std::path::{Path, PathBuf};

/// The `char(n)` columns compared with parameters, and their types.
const CHAR_COLUMNS: &[(&str, &str)] = &[
    ("county", "char(6)"),
    ("village_code", "char(12)"),
    ("township_code", "char(12)"),
    ("parent_code", "char(12)"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each uncast comparison in `line`: `col = $N`, `col <> $N` or
/// `col = ANY($N)` where `$N` is not followed by `::`.
fn uncast(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (column, ty) in CHAR_COLUMNS {
        for op in [" = $", " <> $", " = ANY($"] {
            let needle = format!("{column}{op}");
            let mut from = 0;
            while let Some(at) = line[from..].find(&needle) {
                let start = from + at;
                from = start + needle.len();
                // A whole column name: not the tail of another identifier.
                let before = line[..start].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &line[from..];
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 && !rest[digits..].starts_with("::") {
                    found.push(format!("{column}{op}{} (cast it: ::{ty})", &rest[..digits]));
                }
            }
        }
    }
    found
}

#[test]
fn the_scanner_sees_what_it_should() {
    assert_eq!(uncast("WHERE county = $1 AND x = $2").len(), 1);
    assert_eq!(uncast("WHERE f.county = $1::char(6)").len(), 0);
    assert_eq!(uncast("WHERE c.village_code = ANY($3)").len(), 1);
    assert_eq!(uncast("WHERE village_code = ANY($3::char(12)[])").len(), 0);
    assert_eq!(uncast("WHERE my_county = $1").len(), 0, "another column");
    assert_eq!(uncast("WHERE v.county = h.county").len(), 0, "two columns");
}

#[test]
fn every_region_column_compared_with_a_parameter_is_cast_to_its_type() {
    let services = Path::new(env!("CARGO_MANIFEST_DIR")).join("../services");
    let mut files = Vec::new();
    rust_files(&services, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            for what in uncast(line) {
                offences.push(format!("{}:{}: {what}", file.display(), n + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "compared as text, so no index on the column is used:\n{}",
        offences.join("\n")
    );
}
