//! Work teams (工作队): who may be in one, and the member set a change
//! leaves. A team works in one township; its members are cadres of that
//! township (its office or one of its villages) or of the county (sent by a
//! county department), never of another township; the leader (队长) is
//! one of the members.
use uuid::Uuid;

/// The members a team will have: `members` without repeats, the leader
/// added when missing, in id order.
pub fn members_with_leader(members: &[Uuid], leader: Option<Uuid>) -> Vec<Uuid> {
    let mut all: Vec<Uuid> = members.iter().copied().chain(leader).collect();
    all.sort();
    all.dedup();
    all
}

/// Whether a cadre whose region is `cadre_region` (a prefix of at least 6
/// digits) may join a team of `township_code` (12 digits): a cadre of the
/// township or one of its villages, or of the whole county.
pub fn cadre_fits(cadre_region: &str, township_code: &str) -> bool {
    let Some(township) = township_code.get(..9) else {
        return false;
    };
    cadre_region.starts_with(township)
        || (cadre_region.len() == 6 && township.starts_with(cadre_region))
}

/// A team's name: trimmed, 1 to 50 characters, no control characters.
pub fn team_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 {
        return Err("请填写工作队名称".into());
    }
    if n > 50 {
        return Err(format!("工作队名称不能超过50个字，实际为{n}个字"));
    }
    if name.chars().any(char::is_control) {
        return Err("工作队名称含有不可见的控制字符".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn the_leader_is_a_member_and_members_are_unique() {
        assert_eq!(
            members_with_leader(&[id(3), id(1), id(3)], Some(id(2))),
            vec![id(1), id(2), id(3)]
        );
        assert_eq!(members_with_leader(&[id(1)], Some(id(1))), vec![id(1)]);
        assert_eq!(members_with_leader(&[], None), Vec::<Uuid>::new());
    }

    #[test]
    fn cadres_of_the_township_its_villages_or_the_county_fit() {
        let town = "430426104000";
        assert!(cadre_fits("430426104", town));
        assert!(cadre_fits("430426104201", town));
        assert!(cadre_fits("430426", town));
        assert!(!cadre_fits("430426105", town));
        assert!(!cadre_fits("430426105201", town));
        assert!(!cadre_fits("430427", town));
        assert!(!cadre_fits("4304", town));
        assert!(!cadre_fits("430426104", "4304"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(team_name(" 第一工作队 "), Ok("第一工作队".into()));
        assert!(team_name("  ").is_err());
        assert!(team_name(&"队".repeat(51)).unwrap_err().contains("51"));
        assert!(team_name("a\u{7}").is_err());
    }
}
