//! An edit of a household (一户一档): which of the editable fields change,
//! checked, with their old and new values for the history. The ID number and
//! the head's name are not editable (another person is another
//! registration); tags have their own operation. No I/O: the `ops` layer
//! decrypts the stored phone, passes it here, and encrypts what comes back.
use serde::{Deserialize, Serialize};
use zoufang_core::{ServiceError, ServiceResult};
use zoufang_proto::registry::v1::{HouseholdFieldChange, UpdateHouseholdRequest};
use zoufang_types::{MobilePhone, mask_phone};

use super::Violations;

/// The longest address, group name and note, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;
pub const MAX_GROUP_CHARS: usize = 50;
pub const MAX_NOTE_CHARS: usize = 200;

/// The editable fields of a household, plain (the phone decrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editable {
    pub address: String,
    pub group_name: String,
    /// Empty when the household has none.
    pub phone: String,
    pub member_count: i32,
}

/// One changed field: its name and the values before and after, plain.
/// Stored encrypted (it may hold phone numbers), shown through [`shown`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// An edit checked against the stored values: what the household becomes
/// and what changed (empty when every value set equals the stored one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub after: Editable,
    pub changes: Vec<Change>,
    pub note: String,
}

/// The Chinese label of an editable field.
pub fn label(field: &str) -> &'static str {
    match field {
        "address" => "住址",
        "group_name" => "村民小组",
        "phone" => "联系电话",
        "member_count" => "家庭人口",
        _ => "其他",
    }
}

/// Whether a value of `field` is personal data to mask when shown.
fn is_personal(field: &str) -> bool {
    field == "phone"
}

/// A change as the history shows it: phone numbers masked 3+4.
pub fn shown(change: &Change) -> HouseholdFieldChange {
    let value = |v: &str| {
        if is_personal(&change.field) {
            mask_phone(v)
        } else {
            v.to_owned()
        }
    };
    HouseholdFieldChange {
        field: change.field.clone(),
        label: label(&change.field).to_owned(),
        old_value: value(&change.old),
        new_value: value(&change.new),
    }
}

/// Text that may be empty, trimmed, at most `max` characters, without
/// control characters.
fn free_text(v: &mut Violations, field: &str, label: &str, value: &str, max: usize) -> String {
    let t = value.trim();
    if t.chars().count() > max {
        v.add(field, format!("{label}最多 {max} 个字"));
    } else if t.chars().any(char::is_control) {
        v.add(field, format!("{label}不能含有控制字符（如换行）"));
    }
    t.to_owned()
}

/// Checks the request's form (everything that does not need the stored
/// household): the version, each field set, the note. Every problem is
/// named, in Chinese, by its field.
pub fn check_request(req: &UpdateHouseholdRequest) -> ServiceResult<()> {
    let mut v = Violations::default();
    if req.expected_version < 1 {
        v.add(
            "expected_version",
            "请提供开始编辑时读到的户档版本号（version，从 1 开始）",
        );
    }
    if req.address.is_none()
        && req.group_name.is_none()
        && req.phone.is_none()
        && req.member_count.is_none()
    {
        v.add(
            "address",
            "没有要修改的内容：请至少填写住址（address）、村民小组（group_name）、联系电话（phone）、家庭人口（member_count）之一",
        );
    }
    if let Some(a) = &req.address {
        free_text(&mut v, "address", "住址", a, MAX_ADDRESS_CHARS);
    }
    if let Some(g) = &req.group_name {
        free_text(&mut v, "group_name", "村民小组", g, MAX_GROUP_CHARS);
    }
    if let Some(p) = &req.phone
        && !p.trim().is_empty()
        && MobilePhone::parse("phone", p).is_err()
    {
        v.add(
            "phone",
            "联系电话须为 11 位大陆手机号（以 13–19 开头，可带 +86、空格或短横线）；留空表示删除号码",
        );
    }
    if let Some(n) = req.member_count
        && !(1..=50).contains(&n)
    {
        v.add(
            "member_count",
            format!("家庭人口须在 1 到 50 之间，收到 {n}"),
        );
    }
    free_text(&mut v, "note", "修改说明", &req.note, MAX_NOTE_CHARS);
    v.finish()
}

/// Applies a checked request to the stored values: the household after the
/// edit and the fields whose values differ.
pub fn apply(before: &Editable, req: &UpdateHouseholdRequest) -> ServiceResult<Edit> {
    check_request(req)?;
    let mut after = before.clone();
    if let Some(a) = &req.address {
        after.address = a.trim().to_owned();
    }
    if let Some(g) = &req.group_name {
        after.group_name = g.trim().to_owned();
    }
    if let Some(p) = &req.phone {
        after.phone = match p.trim() {
            "" => String::new(),
            p => MobilePhone::parse("phone", p)?.as_str().to_owned(),
        };
    }
    if let Some(n) = req.member_count {
        after.member_count = n;
    }
    let mut changes = Vec::new();
    let mut diff = |field: &str, old: String, new: String| {
        if old != new {
            changes.push(Change {
                field: field.to_owned(),
                old,
                new,
            });
        }
    };
    diff("address", before.address.clone(), after.address.clone());
    diff(
        "group_name",
        before.group_name.clone(),
        after.group_name.clone(),
    );
    diff("phone", before.phone.clone(), after.phone.clone());
    diff(
        "member_count",
        before.member_count.to_string(),
        after.member_count.to_string(),
    );
    Ok(Edit {
        after,
        changes,
        note: req.note.trim().to_owned(),
    })
}

/// The refusal of an edit that started from a stale version, naming the
/// conflict: the version it started from, the version stored, and the
/// fields the edits in between changed.
pub fn stale(expected: i64, stored: i64, changed: &[String]) -> ServiceError {
    let what = if changed.is_empty() {
        String::new()
    } else {
        let labels: Vec<&str> = changed.iter().map(|f| label(f)).collect();
        format!("，其间他人修改了{}", labels.join("、"))
    };
    ServiceError::Aborted(format!(
        "编辑冲突：你基于第 {expected} 版编辑，该户档已是第 {stored} 版{what}；\
         请重新读取户档后再修改（本次未保存任何内容）"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Editable {
        Editable {
            address: "白鹤村 3 组 12 号".into(),
            group_name: "3 组".into(),
            phone: "13800138000".into(),
            member_count: 4,
        }
    }

    fn req() -> UpdateHouseholdRequest {
        UpdateHouseholdRequest {
            household_id: "x".into(),
            expected_version: 1,
            ..Default::default()
        }
    }

    fn fields_of(e: &ServiceError) -> Vec<String> {
        match e {
            ServiceError::InvalidArgument(vs) => vs.iter().map(|v| v.field.clone()).collect(),
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn only_the_fields_set_change_and_equal_values_are_no_change() {
        let edit = apply(
            &stored(),
            &UpdateHouseholdRequest {
                phone: Some("+86 139-0013-9000".into()),
                address: Some("白鹤村 3 组 12 号".into()),
                note: " 换号 ".into(),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(
            edit.changes,
            vec![Change {
                field: "phone".into(),
                old: "13800138000".into(),
                new: "13900139000".into(),
            }]
        );
        assert_eq!(edit.after.phone, "13900139000");
        assert_eq!(edit.after.member_count, 4);
        assert_eq!(edit.note, "换号");
        let same = apply(
            &stored(),
            &UpdateHouseholdRequest {
                member_count: Some(4),
                ..req()
            },
        )
        .unwrap();
        assert!(same.changes.is_empty());
        assert_eq!(same.after, stored());
    }

    #[test]
    fn an_empty_phone_removes_it_and_an_empty_address_clears_it() {
        let edit = apply(
            &stored(),
            &UpdateHouseholdRequest {
                phone: Some(" ".into()),
                address: Some(String::new()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(edit.after.phone, "");
        assert_eq!(edit.after.address, "");
        let fields: Vec<&str> = edit.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["address", "phone"]);
    }

    #[test]
    fn every_bad_field_is_named_in_chinese() {
        let err = apply(
            &stored(),
            &UpdateHouseholdRequest {
                expected_version: 0,
                phone: Some("12345".into()),
                member_count: Some(0),
                address: Some("甲".repeat(201)),
                group_name: Some("一组\n二组".into()),
                note: "说".repeat(201),
                ..req()
            },
        )
        .unwrap_err();
        assert_eq!(
            fields_of(&err),
            [
                "expected_version",
                "address",
                "group_name",
                "phone",
                "member_count",
                "note"
            ]
        );
        let text = err.to_string();
        assert!(text.contains("家庭人口须在 1 到 50 之间"), "{text}");
        assert!(text.contains("联系电话须为 11 位"), "{text}");
        let nothing = apply(&stored(), &req()).unwrap_err();
        assert_eq!(fields_of(&nothing), ["address"]);
        assert!(nothing.to_string().contains("没有要修改的内容"));
    }

    #[test]
    fn the_history_masks_phone_numbers_only() {
        let phone = shown(&Change {
            field: "phone".into(),
            old: "13800138000".into(),
            new: String::new(),
        });
        assert_eq!(
            (
                phone.label.as_str(),
                phone.old_value.as_str(),
                phone.new_value.as_str()
            ),
            ("联系电话", "138****8000", "")
        );
        let count = shown(&Change {
            field: "member_count".into(),
            old: "4".into(),
            new: "5".into(),
        });
        assert_eq!(
            (count.label.as_str(), count.old_value.as_str()),
            ("家庭人口", "4")
        );
    }

    #[test]
    fn a_stale_edit_names_the_versions_and_what_changed() {
        let e = stale(2, 4, &["phone".into(), "address".into()]);
        let ServiceError::Aborted(m) = e else {
            panic!("not aborted")
        };
        assert!(m.contains("第 2 版") && m.contains("第 4 版"), "{m}");
        assert!(m.contains("联系电话、住址"), "{m}");
    }
}
