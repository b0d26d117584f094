//! Masks for personal data shown to people who may not see it in full.
//!
//! They take any stored string — it may predate validation, be a 15-digit
//! first-generation ID number or be garbled — never panic, and never reveal
//! more than ID 6+4 or phone 3+4 characters. A string too short to hide at
//! least as many characters as a well-formed value would is starred
//! entirely: showing the ends of a short string would show most of it.

/// Keeps `head` leading and `tail` trailing characters with stars between,
/// when at least `min_hidden` characters stay hidden; otherwise stars all.
/// Works on chars, not bytes, so multi-byte input cannot split a character.
fn keep_ends(s: &str, head: usize, tail: usize, min_hidden: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n < head + tail + min_hidden {
        return "*".repeat(n);
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Masks an ID number as `110101********123X`: first 6 and last 4 kept,
/// only when at least 8 are hidden (anything shorter than 18 is all stars).
/// An empty string stays empty: there is nothing to hide.
pub fn mask_id_number(s: &str) -> String {
    keep_ends(s.trim(), 6, 4, 8)
}

/// Masks a phone number as `138****5678`: first 3 and last 4 kept, only
/// when at least 4 are hidden (anything shorter than 11 is all stars).
/// An empty string stays empty: there is nothing to hide.
pub fn mask_phone(s: &str) -> String {
    keep_ends(s.trim(), 3, 4, 4)
}

/// Masks the personal numbers inside free text (a reason written for a
/// person, which may quote a cell): a run of 15 or more digits (an ID
/// number, its last character may be X) as [`mask_id_number`], a mobile
/// number (11 digits from 1, or 13 from 861) as [`mask_phone`], and an
/// 8-digit birth date (19xxxxxx, 20xxxxxx) all stars. Region codes (6, 9
/// or 12 digits), row numbers and counts stay as they are.
pub fn mask_numbers_in_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let n = run.len();
        let masked = if n >= 15 {
            mask_id_number(run)
        } else if (n == 11 && run.starts_with('1')) || (n == 13 && run.starts_with("861")) {
            mask_phone(run)
        } else if n == 8 && (run.starts_with("19") || run.starts_with("20")) {
            "*".repeat(8)
        } else {
            std::mem::take(run)
        };
        out.push_str(&masked);
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || (matches!(c, 'X' | 'x') && run.len() == 17) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_inside_text_are_masked_and_codes_kept() {
        assert_eq!(
            mask_numbers_in_text("12807340001不是有效的手机号"),
            "128****0001不是有效的手机号"
        );
        assert_eq!(
            mask_numbers_in_text("身份证号43042619800230001X已登记"),
            "身份证号430426********001X已登记"
        );
        assert_eq!(
            mask_numbers_in_text("birth date 19800230 is not a valid date"),
            "birth date ******** is not a valid date"
        );
        assert_eq!(
            mask_numbers_in_text("+8613807340001；区划代码430426104201不在第12行"),
            "+861******0001；区划代码430426104201不在第12行"
        );
        assert_eq!(
            mask_numbers_in_text("应为18位，实际为4位"),
            "应为18位，实际为4位"
        );
    }

    #[test]
    fn masks_keep_six_four_and_three_four() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(
            mask_id_number(" 11010519491231002X\n"),
            "110105********002X"
        );
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    #[test]
    fn short_inputs_are_starred_entirely() {
        // 15-digit first-generation ID numbers: 6+4 would show 10 of 15.
        assert_eq!(mask_id_number("110105491231002"), "*".repeat(15));
        assert_eq!(mask_id_number("1101051949123100X"), "*".repeat(17));
        assert_eq!(mask_id_number("1"), "*");
        assert_eq!(mask_phone("1381234567"), "**********");
        assert_eq!(mask_phone("5678"), "****");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_id_number("   "), "");
    }

    #[test]
    fn long_inputs_reveal_no_more_than_the_ends() {
        assert_eq!(mask_phone("+8613812345678"), "+86*******5678");
        assert_eq!(
            mask_id_number("110105194912310021234"),
            "110105***********1234"
        );
    }

    #[test]
    fn multibyte_input_never_panics() {
        assert_eq!(mask_phone("电话号码一二三四五六七"), "电话号****四五六七");
        assert_eq!(mask_phone("电话号码"), "****");
        let id = "身份证号码一二三四五六七八九十一二三";
        assert_eq!(mask_id_number(id), "身份证号码一********十一二三");
    }

    #[test]
    fn revealed_characters_are_bounded() {
        for n in 0..40 {
            let s: String = (0..n).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
            let shown = |m: String| m.chars().filter(|&c| c != '*').count();
            assert!(shown(mask_id_number(&s)) <= 10, "{s}");
            assert!(shown(mask_phone(&s)) <= 7, "{s}");
            assert_eq!(mask_phone(&s).chars().count(), n);
        }
    }
}
