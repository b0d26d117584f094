//! What a task notification may say. The summary of a callback is the item's
//! category and description (or the visit's date and mode); it names no
//! resident by design, but it is free text a cadre typed. Before it leaves
//! the service in a notification, any run of digits long enough to be a
//! phone number (7+ digits, landline or mobile) or an ID number (with its
//! trailing check letter X) is masked.

/// Digits in a row from which a number is treated as personal.
pub const MASK_FROM_DIGITS: usize = 7;

fn digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn check_letter(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// `text` with every run of [`MASK_FROM_DIGITS`] or more digits (and an ID
/// number's trailing X) replaced by the same number of `*`. Shorter numbers —
/// dates, amounts, counts — stay.
pub fn masked_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && digit(chars[i]) {
            i += 1;
        }
        let digits = i - start;
        if digits >= MASK_FROM_DIGITS {
            if i < chars.len() && check_letter(chars[i]) {
                i += 1;
            }
            out.extend(std::iter::repeat_n('*', i - start));
        } else {
            out.extend(&chars[start..i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_and_id_numbers_are_masked() {
        assert_eq!(
            masked_numbers("道路：村口路坏了，联系13812345678"),
            "道路：村口路坏了，联系***********"
        );
        assert_eq!(
            masked_numbers("身份证43042619800101123X核实"),
            "身份证******************核实"
        );
        assert_eq!(masked_numbers("座机0734-5551234"), "座机0734-*******");
        assert_eq!(masked_numbers("１３８１２３４５６７８"), "***********");
    }

    #[test]
    fn dates_amounts_and_text_stay() {
        let s = "2026-11-29 入户走访，核实是否走访";
        assert_eq!(masked_numbers(s), s);
        assert_eq!(masked_numbers("补助350元，4口人"), "补助350元，4口人");
        assert_eq!(masked_numbers("123456"), "123456");
        assert_eq!(masked_numbers(""), "");
        // A letter after a short number is not a check letter.
        assert_eq!(masked_numbers("12X"), "12X");
    }
}
