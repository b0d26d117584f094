//! Rules for the items raised on a visit (民情诉求: 问题, 意见建议, 矛盾纠纷,
//! 信访): what is always an error, and the numbering that names an item —
//! (visit_id, item_no) is the item's key in the issue ledger downstream.
use zoufang_proto::common::v1::{ItemKind, RaisedItem};

use super::violations::Violations;

/// The 1-based number of the item at `index`: what validation assigns and
/// what the fingerprint normalizes to.
pub fn item_no(index: usize) -> i32 {
    i32::try_from(index + 1).unwrap_or(i32::MAX)
}

/// Checks each item, recording violations as `items[i].<field>`, and
/// returns the items numbered 1..=n. A client may number the items itself
/// (then `item_no` must be the position) or leave every `item_no` 0.
pub fn validate_items(items: &[RaisedItem], v: &mut Violations) -> Vec<RaisedItem> {
    let mut numbered = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = |name: &str| format!("items[{i}].{name}");
        let kind = ItemKind::try_from(item.kind).unwrap_or(ItemKind::Unspecified);
        if kind == ItemKind::Unspecified {
            v.add(f("kind"), "choose problem, suggestion, dispute or petition");
        }
        if item.description.trim().is_empty() {
            v.add(f("description"), "is required");
        }
        if item.households_involved < 0 {
            v.add(f("households_involved"), "cannot be negative");
        } else if kind == ItemKind::Dispute && item.households_involved < 1 {
            // Usually two or more; one is allowed (a household against the
            // village committee, say), none is not a dispute.
            let reason = "a dispute involves at least one household (涉及户数)";
            v.add(f("households_involved"), reason);
        }
        let n = item_no(i);
        if item.item_no != 0 && item.item_no != n {
            let reason = format!("must be {n} (or 0 to let the server number items)");
            v.add(f("item_no"), reason);
        }
        numbered.push(RaisedItem {
            item_no: n,
            ..item.clone()
        });
    }
    numbered
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_core::ServiceError;

    fn item(kind: ItemKind, households_involved: i32) -> RaisedItem {
        RaisedItem {
            kind: kind as i32,
            description: "宅基地边界".into(),
            households_involved,
            ..Default::default()
        }
    }

    fn check(items: &[RaisedItem]) -> (Vec<RaisedItem>, Vec<String>) {
        let mut v = Violations::new();
        let numbered = validate_items(items, &mut v);
        let fields = match v.finish() {
            Ok(()) => vec![],
            Err(ServiceError::InvalidArgument(vs)) => vs.into_iter().map(|v| v.field).collect(),
            Err(other) => panic!("expected invalid, got {other:?}"),
        };
        (numbered, fields)
    }

    #[test]
    fn items_are_numbered_from_one() {
        let items = [item(ItemKind::Problem, 0), item(ItemKind::Petition, 0)];
        let (numbered, fields) = check(&items);
        assert!(fields.is_empty());
        assert_eq!(
            numbered.iter().map(|i| i.item_no).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(numbered[1].kind, ItemKind::Petition as i32);
        let mut own = items.clone();
        own[0].item_no = 1;
        own[1].item_no = 2;
        assert_eq!(check(&own), (numbered, vec![]));
        assert_eq!(item_no(0), 1);
        assert_eq!(item_no(usize::MAX - 1), i32::MAX);
    }

    #[test]
    fn numbering_must_match_the_position() {
        let mut items = [item(ItemKind::Problem, 0), item(ItemKind::Problem, 0)];
        items[0].item_no = 2;
        items[1].item_no = 2;
        assert_eq!(check(&items).1, ["items[0].item_no"]);
    }

    #[test]
    fn disputes_involve_households() {
        assert!(check(&[item(ItemKind::Dispute, 1)]).1.is_empty());
        assert!(check(&[item(ItemKind::Dispute, 3)]).1.is_empty());
        let none = check(&[item(ItemKind::Dispute, 0)]).1;
        assert_eq!(none, ["items[0].households_involved"]);
        assert!(check(&[item(ItemKind::Suggestion, 0)]).1.is_empty());
        let negative = check(&[item(ItemKind::Problem, -1)]).1;
        assert_eq!(negative, ["items[0].households_involved"]);
    }

    #[test]
    fn kind_and_description_are_required() {
        let mut bad = item(ItemKind::Unspecified, 0);
        bad.description = " ".into();
        let mut unknown = item(ItemKind::Problem, 0);
        unknown.kind = 42;
        let fields = check(&[bad, unknown]).1;
        assert_eq!(
            fields,
            ["items[0].kind", "items[0].description", "items[1].kind"]
        );
    }
}
