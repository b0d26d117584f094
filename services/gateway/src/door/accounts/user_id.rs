//! Which person an account speaks for (its `user_id`, the token's `sub`).
//! The services read a cadre's identity from a `sub` that parses as a UUID
//! (registry: visits, progress), so such an id must be a registered cadre,
//! looked up in the registry with the creator's own token (so the registry
//! shows only cadres inside the creator's scope), whose region overlaps the
//! new account's scope. Any other id is a plain name (an admin's login id,
//! or a department's name as the ledger routes issues to it; only county
//! admins grant the department role) which no service reads as a cadre;
//! notify still checks an inbox's recipient region against the scope.
use uuid::Uuid;
use zoufang_proto::registry::v1::ListCadresRequest;

use crate::door::{caller::Caller, error::ApiError, state::AppState};

/// What kind of id was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// None given: a fresh id no one else has.
    Fresh,
    /// A cadre's id, in the canonical spelling the registry writes.
    Cadre(String),
    /// A plain name.
    Name(String),
}

/// Sorts the requested id; InvalidArgument (field `user_id`) when too long.
pub fn classify(requested: Option<&str>) -> Result<Requested, ApiError> {
    let id = requested.map(str::trim).unwrap_or_default();
    if id.is_empty() {
        return Ok(Requested::Fresh);
    }
    if id.chars().count() > 64 {
        return Err(ApiError::invalid("user_id", "最多64个字符"));
    }
    // Every spelling Uuid::parse_str accepts (braces, urn:, upper case, no
    // hyphens) is the same cadre to the services.
    Ok(match Uuid::parse_str(id) {
        Ok(u) => Requested::Cadre(u.hyphenated().to_string()),
        Err(_) => Requested::Name(id.to_owned()),
    })
}

/// The user id a new account over `scope` gets, created by `caller`.
pub async fn bind(
    state: &AppState,
    caller: &Caller,
    requested: Option<&str>,
    scope: &str,
) -> Result<String, ApiError> {
    match classify(requested)? {
        Requested::Fresh => Ok(Uuid::now_v7().to_string()),
        Requested::Name(name) => Ok(name),
        Requested::Cadre(id) => {
            // Every cadre the registry shows the creator (it narrows an empty
            // region to the token's scope); then the cadre's region and the
            // account's scope must overlap: a township-office cadre may hold
            // an account over one of the township's villages.
            let listed = state
                .upstreams
                .registry(&caller.token)
                .list_cadres(ListCadresRequest {
                    region_code: String::new(),
                })
                .await
                .map_err(ApiError::from)?
                .into_inner();
            match listed.cadres.iter().find(|c| c.cadre_id == id) {
                Some(c) if overlaps(&c.region_code, scope) => Ok(id),
                _ => Err(ApiError::invalid(
                    "user_id",
                    format!("{id} 不是您管辖范围内、与账号范围 {scope} 相符的已登记干部"),
                )),
            }
        }
    }
}

/// Whether one region prefix lies inside the other.
pub fn overlaps(cadre_region: &str, scope: &str) -> bool {
    cadre_region.starts_with(scope) || scope.starts_with(cadre_region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_uuid_is_a_cadre_id() {
        let canonical = "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d";
        for spelling in [
            canonical,
            "0191C6A2-7B7E-7C3A-9D41-2F5E8A9B0C1D",
            "{0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d}",
            "urn:uuid:0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d",
            "0191c6a27b7e7c3a9d412f5e8a9b0c1d",
            " 0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d ",
        ] {
            assert_eq!(
                classify(Some(spelling)).expect(spelling),
                Requested::Cadre(canonical.into()),
                "{spelling}"
            );
        }
        assert_eq!(classify(None).expect("none"), Requested::Fresh);
        assert_eq!(classify(Some("  ")).expect("blank"), Requested::Fresh);
        assert_eq!(
            classify(Some("县民政局")).expect("name"),
            Requested::Name("县民政局".into())
        );
        assert!(overlaps("430426104", "430426104201"));
        assert!(overlaps("430426104201", "430426104"));
        assert!(!overlaps("430426105", "430426104201"));
        let e = classify(Some(&"x".repeat(65))).expect_err("too long");
        assert_eq!(e.field_errors[0].field, "user_id");
    }
}
