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

#[cfg(test)]
mod tests {
    use super::*;

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
