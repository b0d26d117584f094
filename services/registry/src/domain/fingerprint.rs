//! The body fingerprint that makes visit recording idempotent: field phones
//! retry, so the same `visit_id` with the same body is one visit, while the
//! same id with a different body is a conflict to refuse, not to overwrite.
use prost::Message;
use sha2::{Digest, Sha256};
use zoufang_proto::registry::v1::RecordVisitRequest;

use super::items::item_no;

/// SHA-256 over the prost encoding of the request with its items numbered
/// 1..=n: a retry that let the server number items (item_no 0) and one that
/// numbered them itself are the same visit; any other difference — item
/// order included — is a different body. prost encodes fields in tag order,
/// so equal messages encode to equal bytes.
pub fn fingerprint(req: &RecordVisitRequest) -> [u8; 32] {
    let mut normalized = req.clone();
    for (i, item) in normalized.items.iter_mut().enumerate() {
        item.item_no = item_no(i);
    }
    Sha256::digest(normalized.encode_to_vec()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::common::v1::RaisedItem;

    fn request() -> RecordVisitRequest {
        let item = |description: &str| RaisedItem {
            description: description.into(),
            ..Default::default()
        };
        RecordVisitRequest {
            visit_id: "0b6f6c3e-8d4c-4d7e-9d1a-6f1c2b3a4d5e".into(),
            narrative: "户主反映道路难行".into(),
            items: vec![item("宅基地边界"), item("路灯不亮")],
            ..Default::default()
        }
    }

    #[test]
    fn same_body_same_fingerprint() {
        assert_eq!(fingerprint(&request()), fingerprint(&request()));
    }

    #[test]
    fn item_numbering_is_ignored() {
        let mut numbered = request();
        numbered.items[0].item_no = 1;
        numbered.items[1].item_no = 2;
        assert_eq!(fingerprint(&request()), fingerprint(&numbered));
    }

    #[test]
    fn any_other_difference_counts() {
        let base = fingerprint(&request());
        let mut r = request();
        r.narrative.push('。');
        assert_ne!(base, fingerprint(&r));
        let mut r = request();
        r.items.swap(0, 1);
        assert_ne!(base, fingerprint(&r), "item order is content");
        let mut r = request();
        r.items.pop();
        assert_ne!(base, fingerprint(&r));
        let mut r = request();
        r.overnight_stay = true;
        assert_ne!(base, fingerprint(&r));
    }
}
