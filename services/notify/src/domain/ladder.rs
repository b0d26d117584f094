//! The overdue escalation ladder (超期督办): the responsible cadre first,
//! then the township's leaders, then the county's, each step after a delay
//! while the item stays overdue.
use zoufang_core::auth::roles;

/// One rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    /// 0 = responsible cadre, 1 = township, 2 = county.
    pub level: u32,
    /// The template key of its message.
    pub kind: &'static str,
    /// Who it reaches besides the responsible cadre: holders of this role
    /// whose region covers the item (None on the first rung).
    pub role: Option<&'static str>,
}

/// The rungs, bottom up.
pub const RUNGS: [Rung; 3] = [
    Rung {
        level: 0,
        kind: "issue.overdue",
        role: None,
    },
    Rung {
        level: 1,
        kind: "issue.overdue.township",
        role: Some(roles::TOWNSHIP_ADMIN),
    },
    Rung {
        level: 2,
        kind: "issue.overdue.county",
        role: Some(roles::COUNTY_ADMIN),
    },
];

/// The rung above `level`, if any.
pub fn next(level: u32) -> Option<Rung> {
    RUNGS.iter().copied().find(|r| r.level == level + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_climbs_to_the_township_then_the_county_then_stops() {
        let one = next(0);
        assert_eq!(
            one.map(|r| (r.kind, r.role)),
            Some(("issue.overdue.township", Some("township_admin")))
        );
        let two = next(1);
        assert_eq!(
            two.map(|r| (r.kind, r.role)),
            Some(("issue.overdue.county", Some("county_admin")))
        );
        assert_eq!(next(2), None);
    }
}
