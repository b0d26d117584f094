//! Masks for personal data shown to people who may not see it in full.
//! They never panic and never reveal more than ID 6+4 or phone 3+4 digits,
//! whatever the stored string looks like.

/// Keeps `head` leading and `tail` trailing characters, stars in between;
/// inputs too short to keep both are starred entirely.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        return "*".repeat(n.max(1));
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// `110101********123X`: first 6 and last 4 kept.
pub fn mask_id_number(s: &str) -> String {
    keep_ends(s.trim(), 6, 4)
}

/// `138****5678`: first 3 and last 4 kept.
pub fn mask_phone(s: &str) -> String {
    keep_ends(s.trim(), 3, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_six_four_and_three_four() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    #[test]
    fn odd_inputs_never_leak() {
        assert_eq!(mask_id_number("1234567890"), "**********");
        assert_eq!(mask_phone("1234567"), "*******");
        assert_eq!(mask_phone(""), "*");
        assert_eq!(mask_phone("电话号码一二三四五六七"), "电话号****四五六七");
    }
}
