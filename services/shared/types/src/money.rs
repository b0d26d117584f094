//! Money in fen (分), the unit every amount is stored and summed in: help
//! handed out on visits, the value of goods, project funding. Integer fen
//! add up exactly; 元 with two decimals is only how a person reads them.
use std::fmt;

/// An amount in fen. Negative amounts are allowed (a correction), and shown
/// with a leading minus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(pub i64);

impl Fen {
    /// The amount in 元 as a number (for a spreadsheet cell with a 元 format).
    pub fn as_yuan_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// `350.50` for 35050 fen: 元 with two decimals, no separator.
    pub fn yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let f = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", f / 100, f % 100)
    }

    /// Fen from a 元 amount as people write it: `350`, `350.5`, `350.50`,
    /// `1,200` (thousands separators, full-width digits and a trailing 元
    /// are accepted). More than two decimals, a sign or anything else is
    /// refused rather than rounded.
    pub fn parse_yuan(written: &str) -> Option<Fen> {
        let halfwidth: String = written
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '．' => '.',
                '，' => ',',
                c => c,
            })
            .collect();
        let t = halfwidth.trim_end_matches('元').trim().replace(',', "");
        let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || frac.len() > 2 || (!frac.is_empty() && !digits(frac)) {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let cents: i64 = format!("{frac:0<2}").parse().ok()?;
        whole.checked_mul(100)?.checked_add(cents).map(Fen)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.yuan())
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, other: Fen) -> Fen {
        Fen(self.0 + other.0)
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        Fen(iter.map(|f| f.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_yuan_with_two_decimals() {
        assert_eq!(Fen(35050).yuan(), "350.50");
        assert_eq!(Fen(5).to_string(), "0.05");
        assert_eq!(Fen(-120).yuan(), "-1.20");
        assert_eq!(Fen(0).yuan(), "0.00");
        assert_eq!(Fen(6_000_000).yuan(), "60000.00");
    }

    #[test]
    fn parses_what_people_write() {
        assert_eq!(Fen::parse_yuan("350"), Some(Fen(35000)));
        assert_eq!(Fen::parse_yuan("350.5"), Some(Fen(35050)));
        assert_eq!(Fen::parse_yuan(" 1,200.05元 "), Some(Fen(120005)));
        assert_eq!(Fen::parse_yuan("３５０．５０"), Some(Fen(35050)));
        assert_eq!(Fen::parse_yuan("3."), Some(Fen(300)));
        for bad in [
            "",
            ".5",
            "1.234",
            "-3",
            "+3",
            "abc",
            "1e3",
            "9999999999999999999",
        ] {
            assert_eq!(Fen::parse_yuan(bad), None, "{bad}");
        }
    }

    #[test]
    fn sums_exactly() {
        let total: Fen = [Fen(10), Fen(20), Fen(30)].into_iter().sum();
        assert_eq!(total, Fen(60));
        assert_eq!(Fen(1) + Fen(2), Fen(3));
    }
}
