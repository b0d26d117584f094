//! People: names (Hunan surnames and given names), valid 18-digit ID
//! numbers (GB 11643 check character) and mobile phone numbers.
use zoufang_types::id_number::check_char;

use crate::rng::Rng;

/// Surnames; the compound 欧阳 comes last (see [`person_name`]).
#[rustfmt::skip]
pub const SURNAMES: &[&str] = &[
    "唐", "周", "李", "王", "刘", "陈", "张", "谢", "蒋", "邓", "曾", "彭", "肖", "罗", "黄", "何",
    "邹", "廖", "谭", "管", "雷", "龙", "石", "伍", "段", "欧阳",
];

/// Men's given names.
#[rustfmt::skip]
pub const MALE: &[&str] = &[
    "建国", "国华", "志强", "卫东", "德明", "春生", "长顺", "永福", "双喜", "海清", "立新", "怀珠",
    "文喜", "书全", "和平", "红军", "跃进", "金生", "满堂", "水生", "桂生", "志刚", "利民", "伟",
    "军", "华",
];

/// Women's given names.
#[rustfmt::skip]
pub const FEMALE: &[&str] = &[
    "素贞", "桂英", "秀英", "春梅", "玉兰", "冬梅", "月娥", "翠花", "淑芬", "桂香", "美华", "秋菊",
    "凤英", "小红", "丽华", "芳",
];

/// Given names of the cadres.
#[rustfmt::skip]
pub const CADRE_GIVEN: &[&str] = &[
    "飞好", "彦青", "山中", "志勇", "晓东", "海波", "建华", "丽娟", "红梅", "文斌", "国庆", "卫平",
    "小军", "春燕", "德华", "振宇", "俊杰", "明辉", "雪莲", "晓燕", "立军", "新民", "亚平", "宏伟",
    "向阳", "桂林", "湘军", "衡松", "正清", "爱民",
];

/// Single characters of given names.
#[rustfmt::skip]
pub const GIVEN_CHARS: &[&str] = &[
    "建", "国", "华", "明", "军", "平", "强", "伟", "红", "英", "秀", "兰", "春", "桂", "芳", "玉",
    "德", "志", "文", "海", "云", "林", "生", "福", "友", "长", "开", "立", "新", "满",
];

/// A surname (欧阳 for 3 in 100) and a given name of `given`.
pub fn person_name(rng: &mut Rng, given: &[&str]) -> String {
    let surname = if rng.pct(3) {
        "欧阳"
    } else {
        SURNAMES[rng.below(SURNAMES.len() as u64 - 1) as usize]
    };
    format!("{surname}{}", rng.pick(given))
}

/// A surname and a given name of one or two characters.
pub fn person(rng: &mut Rng) -> String {
    let mut s = String::from(rng.word(SURNAMES));
    s.push_str(rng.word(GIVEN_CHARS));
    if rng.chance(0.7) {
        s.push_str(rng.word(GIVEN_CHARS));
    }
    s
}

/// A valid 18-digit ID number issued in `area` (6 digits) for a birth date
/// (`YYYYMMDD`) and serial (its last three digits; odd for men), with the
/// GB 11643 check character.
pub fn id_number(area: &str, birth: &str, serial: u64) -> String {
    let first17 = format!("{area}{birth}{:03}", serial % 1000);
    let check = check_char(&first17).expect("6 + 8 + 3 digits");
    format!("{first17}{check}")
}

/// Mobile prefixes of the three carriers.
#[rustfmt::skip]
pub const PHONE_PREFIXES: &[&str] = &[
    "133", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "173", "177",
    "180", "186", "187", "189", "199",
];

/// An 11-digit mobile phone number.
pub fn mobile(rng: &mut Rng) -> String {
    format!("{}{:08}", rng.pick(PHONE_PREFIXES), rng.below(100_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_types::{IdNumber, MobilePhone};

    #[test]
    fn id_numbers_and_phones_are_valid() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut r = Rng::new(1, "people", 0);
        for serial in 0..300 {
            let n = id_number("430426", "19650312", serial);
            IdNumber::parse_on("id", &n, today).unwrap_or_else(|e| panic!("{n}: {e:?}"));
            let p = mobile(&mut r);
            MobilePhone::parse("phone", &p).unwrap_or_else(|e| panic!("{p}: {e:?}"));
            assert!(person(&mut r).chars().count() >= 2);
        }
        // A check character computed by hand (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2).
        assert_eq!(id_number("110105", "19491231", 2), "11010519491231002X");
    }
}
