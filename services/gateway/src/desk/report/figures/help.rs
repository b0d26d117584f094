//! The help and materials sections of a summary (帮扶慰问, 送资料): cash and
//! goods in fen, and the materials handed out by name.
use serde::Serialize;
use zoufang_proto::registry::v1::RegionProgress;

/// Help given (帮扶慰问), in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Help {
    pub households_helped: i64,
    /// Of those, households tagged poor (低保, 特困, 五保, 脱贫户 …).
    pub poor_households_helped: i64,
    pub cash_fen: i64,
    pub goods_value_fen: i64,
    pub total_fen: i64,
}

/// Materials handed out (送资料).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Materials {
    pub total: i64,
    /// Most handed out first.
    pub by_name: Vec<Material>,
}

/// One material and how many were handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    pub name: String,
    pub quantity: i64,
}

/// The help figures of a progress row.
pub fn help_of(p: &RegionProgress) -> Help {
    Help {
        households_helped: p.households_helped,
        poor_households_helped: p.poor_households_helped,
        cash_fen: p.help_cash_fen,
        goods_value_fen: p.help_goods_value_fen,
        total_fen: p.help_cash_fen + p.help_goods_value_fen,
    }
}

/// The materials of a progress row, most handed out first.
pub fn materials_of(p: &RegionProgress) -> Materials {
    let mut by_name: Vec<Material> = Vec::new();
    for m in &p.materials {
        match by_name.iter_mut().find(|x| x.name == m.name) {
            Some(x) => x.quantity += i64::from(m.quantity),
            None => by_name.push(Material {
                name: m.name.clone(),
                quantity: i64::from(m.quantity),
            }),
        }
    }
    by_name.sort_by(|a, b| {
        b.quantity
            .cmp(&a.quantity)
            .then_with(|| a.name.cmp(&b.name))
    });
    Materials {
        total: by_name.iter().map(|m| m.quantity).sum(),
        by_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::common::v1::MaterialHandout;

    #[test]
    fn help_adds_cash_and_goods_and_materials_merge_by_name() {
        let p = RegionProgress {
            households_helped: 3,
            poor_households_helped: 2,
            help_cash_fen: 30_000,
            help_goods_value_fen: 12_345,
            materials: vec![
                MaterialHandout {
                    name: "宣传资料".into(),
                    quantity: 5,
                },
                MaterialHandout {
                    name: "农技手册".into(),
                    quantity: 7,
                },
                MaterialHandout {
                    name: "宣传资料".into(),
                    quantity: 4,
                },
            ],
            ..Default::default()
        };
        let h = help_of(&p);
        assert_eq!(
            (h.households_helped, h.poor_households_helped, h.total_fen),
            (3, 2, 42_345)
        );
        let m = materials_of(&p);
        assert_eq!(m.total, 16);
        assert_eq!(
            m.by_name,
            vec![
                Material {
                    name: "宣传资料".into(),
                    quantity: 9
                },
                Material {
                    name: "农技手册".into(),
                    quantity: 7
                }
            ]
        );
    }
}
