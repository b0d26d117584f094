//! Checking one cell, with reasons in Chinese for the people who fix the
//! file. The rules are the registry's (`zoufang_types`), so a row
//! passing here passes there; the registry checks again anyway.
use chrono::NaiveDate;
use zoufang_tabular::{Cell, CellKind};
use zoufang_types::{IdNumber, MobilePhone, RegionCode, RegionLevel, id_number, mask_phone};

/// Full-width ASCII (ＡＢＣ１２３) as half-width, the ideographic space as a space.
pub fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

fn formula_error(cell: &Cell) -> Result<(), String> {
    if cell.kind == CellKind::Error {
        return Err(format!("单元格是公式错误（{}），请填写实际内容", cell.text));
    }
    Ok(())
}

/// Required text of at most `max` characters.
pub fn required_text(cell: Option<&Cell>, max: usize) -> Result<String, String> {
    let Some(cell) = cell.filter(|c| !c.text.trim().is_empty()) else {
        return Err("不能为空".into());
    };
    formula_error(cell)?;
    optional_text(Some(cell), max)
}

/// Optional text of at most `max` characters ("" when empty).
pub fn optional_text(cell: Option<&Cell>, max: usize) -> Result<String, String> {
    let Some(cell) = cell else {
        return Ok(String::new());
    };
    formula_error(cell)?;
    let t = cell.text.trim();
    let n = t.chars().count();
    if n > max {
        return Err(format!("不能超过{max}个字，实际为{n}个字"));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err("含有不可见的控制字符".into());
    }
    Ok(t.to_owned())
}

/// A resident ID number (GB 11643): 18 characters, a real birth date, the check digit.
pub fn id_number(cell: Option<&Cell>, today: NaiveDate) -> Result<String, String> {
    let Some(cell) = cell.filter(|c| !c.text.trim().is_empty()) else {
        return Err("不能为空".into());
    };
    formula_error(cell)?;
    let s: String = halfwidth(&cell.text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let n = s.chars().count();
    if cell.kind == CellKind::Number && n >= 16 {
        return Err(
            "单元格是数字格式，Excel 只保留15位有效数字，身份证号的后几位已丢失；请把该列设为文本格式后重新填写"
                .into(),
        );
    }
    if n != 18 {
        return Err(format!("应为18位，实际为{n}位"));
    }
    // 18 characters, not bytes: split only where the 17th ends (a multi-byte
    // character there made this panic; found by the fuzz target id_number).
    let Some((body, last)) = s
        .split_at_checked(17)
        .filter(|(body, _)| body.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Err("前17位必须是数字".into());
    };
    let last = last.chars().next().unwrap_or(' ');
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(format!("最后一位应为数字或X，实际为“{last}”"));
    }
    let birth = &body[6..14];
    let Ok(date) = NaiveDate::parse_from_str(birth, "%Y%m%d") else {
        return Err("出生日期（第7–14位）不是有效日期".into());
    };
    if date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err("出生日期（第7–14位）早于1900年".into());
    }
    if date > today {
        return Err("出生日期（第7–14位）晚于今天".into());
    }
    if &body[..6] == "000000" {
        return Err("前6位地址码不能为000000".into());
    }
    let expected = id_number::check_char(body).unwrap_or('?');
    if expected != last {
        return Err(format!("校验位错误：最后一位应为{expected}，实际为{last}"));
    }
    // The registry's own rule, as a last guard.
    IdNumber::parse_on("id_number", &s, today)
        .map(|id| id.as_str().to_owned())
        .map_err(|e| format!("不是有效的身份证号（{e}）"))
}

/// An optional mainland mobile number: spaces, dashes and +86 allowed.
pub fn mobile(cell: Option<&Cell>) -> Result<Option<String>, String> {
    let Some(cell) = cell.filter(|c| !c.text.trim().is_empty()) else {
        return Ok(None);
    };
    formula_error(cell)?;
    let compact: String = halfwidth(&cell.text)
        .chars()
        .filter(|c| !(c.is_whitespace() || *c == '-'))
        .collect();
    let digits = match compact.strip_prefix("+86") {
        Some(rest) => rest,
        None if compact.len() == 13 => compact.strip_prefix("86").unwrap_or(&compact),
        None => &compact,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        // The reason is stored and shown: the number masked, as everywhere.
        return Err(format!(
            "“{}”不是手机号：只能包含数字",
            mask_phone(cell.text.trim())
        ));
    }
    if digits.starts_with('0') {
        return Err("只能填手机号（回访和短信需要手机），不能填座机号".into());
    }
    if digits.len() != 11 {
        return Err(format!("手机号应为11位，实际为{}位", digits.len()));
    }
    if !(digits.starts_with('1') && matches!(digits.as_bytes()[1], b'3'..=b'9')) {
        return Err(format!(
            "{}不是有效的手机号：应以13至19开头",
            mask_phone(digits)
        ));
    }
    MobilePhone::parse("phone", digits)
        .map(|p| Some(p.as_str().to_owned()))
        .map_err(|e| format!("不是有效的手机号（{e}）"))
}

/// A household's member count: a whole number from 1 to 50.
pub fn member_count(cell: Option<&Cell>) -> Result<i32, String> {
    let Some(cell) = cell.filter(|c| !c.text.trim().is_empty()) else {
        return Err("不能为空".into());
    };
    formula_error(cell)?;
    let t = halfwidth(cell.text.trim());
    let t = t.trim_end_matches('人');
    let n: i32 = t
        .parse::<i32>()
        .ok()
        .or_else(|| {
            t.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e6)
                .map(|f| f as i32)
        })
        .ok_or_else(|| format!("“{}”不是整数", cell.text.trim()))?;
    if !(1..=50).contains(&n) {
        return Err(format!("应为1到50之间的整数，实际为{n}"));
    }
    Ok(n)
}

/// Tags separated by 、 , ， ; ； / or spaces; each at most 32 characters.
pub fn tags(cell: Option<&Cell>) -> Result<Vec<String>, String> {
    let Some(cell) = cell else {
        return Ok(vec![]);
    };
    formula_error(cell)?;
    let mut out: Vec<String> = Vec::new();
    for t in cell
        .text
        .split(|c: char| {
            matches!(c, '、' | ',' | '，' | ';' | '；' | '/' | '|') || c.is_whitespace()
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if t.chars().count() > 32 {
            return Err(format!("标签“{t}”超过32个字"));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// A 12-digit region code.
pub fn region_code(value: &str) -> Result<RegionCode, String> {
    let s = halfwidth(value.trim());
    if s.is_empty() {
        return Err("不能为空".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("“{s}”不是区划代码：只能包含数字"));
    }
    if s.len() != 12 {
        return Err(format!("区划代码应为12位，实际为{}位", s.len()));
    }
    RegionCode::parse("code", &s).map_err(|_| {
        if &s[..2] == "00" {
            format!("区划代码{s}无效：前两位（省级）不能为00")
        } else {
            format!("区划代码{s}无效：有村级部分但乡级部分（第7–9位）为000")
        }
    })
}

/// The level names people write: 1–5, or 省/市/县/乡/村 and their variants.
pub fn region_level(value: &str) -> Result<RegionLevel, String> {
    let v = halfwidth(value.trim());
    let n = match v.as_str() {
        "1" | "省" | "省级" | "省份" => 1,
        "2" | "市" | "市级" | "地级" | "地市" => 2,
        "3" | "县" | "县级" | "区县" | "县区" | "县(区)" | "县(市、区)" => 3,
        "4" | "乡" | "镇" | "乡镇" | "乡级" | "街道" | "乡镇街道" | "乡(镇、街道)" => {
            4
        }
        "5" | "村" | "村级" | "社区" | "村(社区)" | "村居" => 5,
        _ => {
            return Err(format!(
                "“{v}”不是级别：应为1（省）、2（市）、3（县）、4（乡镇）或5（村）"
            ));
        }
    };
    RegionLevel::from_csv_level(n).ok_or_else(|| "级别应为1到5".into())
}

/// The Chinese name of a level.
pub fn level_name(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Province => "省级",
        RegionLevel::City => "市级",
        RegionLevel::County => "县级",
        RegionLevel::Township => "乡级",
        RegionLevel::Village => "村级",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::text(s)
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    /// A valid ID number for a birth date and serial.
    fn valid_id(birth: &str, serial: u32) -> String {
        let body = format!("430426{birth}{serial:03}");
        format!("{body}{}", id_number::check_char(&body).unwrap())
    }

    #[test]
    fn id_numbers_with_reasons_in_chinese() {
        let good = valid_id("19800101", 7);
        assert_eq!(id_number(Some(&t(&good)), today()), Ok(good.clone()));
        let lower = good.to_lowercase();
        assert!(id_number(Some(&t(&lower)), today()).is_ok());
        let fw: String = good
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        assert_eq!(id_number(Some(&t(&fw)), today()), Ok(good.clone()));
        let mut bad = good.clone();
        let last = bad.pop().unwrap();
        let wrong = if last == '0' { '1' } else { '0' };
        bad.push(wrong);
        assert_eq!(
            id_number(Some(&t(&bad)), today()),
            Err(format!("校验位错误：最后一位应为{last}，实际为{wrong}"))
        );
        assert_eq!(id_number(None, today()), Err("不能为空".into()));
        // Multi-byte characters where the 17th ends: refused, not a panic.
        for odd in [
            "1234567890123456一X",
            "12345678901234567一",
            "一二三四五六七八九十一二三四五六七八",
        ] {
            let reason = id_number(Some(&t(odd)), today()).unwrap_err();
            assert!(reason.contains("数字"), "{odd}: {reason}");
        }
        assert_eq!(
            id_number(Some(&t("1234")), today()),
            Err("应为18位，实际为4位".into())
        );
        assert_eq!(
            id_number(Some(&t(&valid_id("19800230", 1))), today()),
            Err("出生日期（第7–14位）不是有效日期".into())
        );
        assert_eq!(
            id_number(Some(&t(&valid_id("20300101", 1))), today()),
            Err("出生日期（第7–14位）晚于今天".into())
        );
        let number = Cell {
            text: "430426198001010000".into(),
            kind: CellKind::Number,
        };
        assert!(
            id_number(Some(&number), today())
                .unwrap_err()
                .contains("数字格式")
        );
    }

    #[test]
    fn mobiles_as_people_type_them() {
        assert_eq!(
            mobile(Some(&t("138 0734 0001"))),
            Ok(Some("13807340001".into()))
        );
        assert_eq!(
            mobile(Some(&t("+86-13807340001"))),
            Ok(Some("13807340001".into()))
        );
        assert_eq!(mobile(Some(&t(""))), Ok(None));
        assert_eq!(mobile(None), Ok(None));
        assert_eq!(
            mobile(Some(&t("1380734000"))),
            Err("手机号应为11位，实际为10位".into())
        );
        assert_eq!(
            mobile(Some(&t("0734-1234567"))),
            Err("只能填手机号（回访和短信需要手机），不能填座机号".into())
        );
        assert_eq!(
            mobile(Some(&t("12807340001"))),
            Err("128****0001不是有效的手机号：应以13至19开头".into())
        );
        assert!(
            mobile(Some(&t("138abc")))
                .unwrap_err()
                .contains("只能包含数字")
        );
    }

    #[test]
    fn member_counts_and_tags() {
        assert_eq!(member_count(Some(&t("4"))), Ok(4));
        assert_eq!(member_count(Some(&t("4人"))), Ok(4));
        assert_eq!(member_count(Some(&t("4.0"))), Ok(4));
        assert_eq!(
            member_count(Some(&t("0"))),
            Err("应为1到50之间的整数，实际为0".into())
        );
        assert_eq!(member_count(Some(&t("四"))), Err("“四”不是整数".into()));
        assert_eq!(member_count(None), Err("不能为空".into()));
        assert_eq!(
            tags(Some(&t("低保、留守，低保 空巢老人"))),
            Ok(vec!["低保".into(), "留守".into(), "空巢老人".into()])
        );
        assert!(tags(Some(&t(&"长".repeat(33)))).is_err());
    }

    #[test]
    fn texts_codes_and_levels() {
        assert_eq!(required_text(Some(&t(" 张三 ")), 50), Ok("张三".into()));
        assert_eq!(required_text(Some(&t("  ")), 50), Err("不能为空".into()));
        assert!(required_text(Some(&t(&"长".repeat(51))), 50).is_err());
        let err = Cell {
            text: "#N/A".into(),
            kind: CellKind::Error,
        };
        assert!(
            required_text(Some(&err), 50)
                .unwrap_err()
                .contains("公式错误")
        );
        assert_eq!(
            region_code("430426104201").unwrap().as_str(),
            "430426104201"
        );
        assert_eq!(
            region_code("4304261042"),
            Err("区划代码应为12位，实际为10位".into())
        );
        assert!(region_code("430426000201").is_err());
        assert_eq!(region_level("乡镇"), Ok(RegionLevel::Township));
        assert_eq!(region_level("5"), Ok(RegionLevel::Village));
        assert!(region_level("组").is_err());
    }
}
