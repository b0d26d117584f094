//! Checking an onboarding request, writing nothing: every field named in
//! its error, the same rules as the cadre import's (`import::check`,
//! `import::cadres`) and the account and recipient rules it must pass.
use serde::Deserialize;
use uuid::Uuid;
use zoufang_core::auth::{Claims, roles};
use zoufang_proto::registry::v1::{CadreUnit, RegisterCadreRequest};
use zoufang_tabular::Cell;

use crate::desk::import::{cadres, check as cell};
use crate::door::{ApiError, CadreAccount, check_username};

/// The body of `POST /v1/people/cadres`; every field optional here so a
/// missing one is a 400 naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default)]
    pub cadre_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub region_code: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub username: Option<String>,
}

/// A checked onboarding: the cadre to register and the account's username.
#[derive(Debug, Clone, PartialEq)]
pub struct Onboarding {
    /// With its canonical cadre_id and the region as a significant prefix.
    pub cadre: RegisterCadreRequest,
    pub username: String,
}

impl Onboarding {
    /// The account the cadre gets: scope = the cadre's region.
    pub fn account(&self) -> CadreAccount {
        CadreAccount {
            cadre_id: Uuid::parse_str(&self.cadre.cadre_id).unwrap_or_default(),
            username: self.username.clone(),
            display_name: self.cadre.name.clone(),
            roles: self.cadre.roles.clone(),
            scope: self.cadre.region_code.clone(),
        }
    }

    /// The cadre's region as a 12-digit code (notify names regions so).
    pub fn region_code_12(&self) -> String {
        format!("{:0<12}", self.cadre.region_code)
    }
}

/// The unit's API name.
pub fn unit_name(unit: i32) -> &'static str {
    match CadreUnit::try_from(unit) {
        Ok(CadreUnit::TownshipOffice) => "township_office",
        Ok(CadreUnit::VillageCommittee) => "village_committee",
        Ok(CadreUnit::CountyDepartment) => "county_department",
        _ => "",
    }
}

/// A region code as a cadre's area: 6 to 12 digits, a 12-digit code
/// taken as its significant prefix (430426104000 → 430426104).
pub fn area(field: &str, raw: &str) -> Result<String, ApiError> {
    let s = cell::halfwidth(raw.trim());
    if s.is_empty() {
        return Err(ApiError::invalid(field, "不能为空"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) || !(6..=12).contains(&s.len()) {
        return Err(ApiError::invalid(
            field,
            "应为县、乡镇或村的区划代码（6至12位数字）",
        ));
    }
    let mut p = s.as_str();
    if p.len() == 12 {
        p = p.trim_end_matches("000").trim_end_matches("000");
        if p.len() < 6 {
            p = &s[..6];
        }
    }
    if !matches!(p.len(), 6 | 9 | 12) {
        return Err(ApiError::invalid(
            field,
            "应为县（6位）、乡镇（9位或12位）或村（12位）的区划代码",
        ));
    }
    Ok(p.to_owned())
}

/// Roles that act for a whole county: notify gives them the county's
/// escalations, so the cadre must work at county level.
const COUNTY_WIDE: &[&str] = &[
    roles::COUNTY_ADMIN,
    roles::DEPARTMENT,
    roles::PETITION_BUREAU,
];

/// Checks a request from a caller with `claims`.
pub fn check(req: &Request, claims: &Claims) -> Result<Onboarding, ApiError> {
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    let cadre_id = match text(&req.cadre_id).as_str() {
        "" => {
            return Err(ApiError::invalid(
                "cadre_id",
                "不能为空：请给出干部编号（UUID）",
            ));
        }
        s => Uuid::parse_str(s)
            .map_err(|_| ApiError::invalid("cadre_id", format!("“{s}”不是有效的UUID")))?,
    };
    let name = cell::required_text(Some(&Cell::text(&text(&req.name))), 50)
        .map_err(|e| ApiError::invalid("name", e))?;
    let phone = cell::mobile(Some(&Cell::text(&text(&req.phone))))
        .map_err(|e| ApiError::invalid("phone", e))?;
    let unit = cadres::unit(&text(&req.unit)).map_err(|e| ApiError::invalid("unit", e))?;
    let position = cell::required_text(Some(&Cell::text(&text(&req.position))), 50)
        .map_err(|e| ApiError::invalid("position", e))?;
    let region = area("region_code", &text(&req.region_code))?;
    if !region.starts_with(&claims.scope) {
        return Err(ApiError::forbidden(format!(
            "工作区域{region}不在您的管辖范围（{}）内",
            claims.scope
        )));
    }
    let mut granted: Vec<String> = Vec::new();
    for (i, r) in req.roles.iter().flatten().enumerate() {
        let field = format!("roles[{i}]");
        let one = cadres::roles_of(r, claims.has_role(roles::COUNTY_ADMIN))
            .map_err(|e| ApiError::invalid(&field, e))?;
        for role in one {
            if COUNTY_WIDE.contains(&role.as_str()) && region.len() > 6 {
                return Err(ApiError::invalid(
                    field,
                    format!("“{r}”是县级角色：工作区域须为县（6位代码）"),
                ));
            }
            if !granted.contains(&role) {
                granted.push(role);
            }
        }
    }
    if granted.is_empty() {
        granted.push(roles::CADRE.to_owned());
    }
    let username = match (text(&req.username), &phone) {
        (u, _) if !u.is_empty() => check_username("username", &u)?,
        (_, Some(p)) => p.clone(),
        (_, None) => {
            return Err(ApiError::invalid("username", "没有手机号时请填写登录账号"));
        }
    };
    Ok(Onboarding {
        cadre: RegisterCadreRequest {
            cadre_id: cadre_id.hyphenated().to_string(),
            name,
            phone: phone.unwrap_or_default(),
            unit: unit as i32,
            position,
            region_code: region,
            roles: granted,
        },
        username,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str], scope: &str) -> Claims {
        Claims {
            sub: "t".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scope: scope.into(),
            ..Claims::default()
        }
    }

    fn good() -> Request {
        Request {
            cadre_id: Some("0191C6A2-7B7E-7C3A-9D41-2F5E8A9B0C1D".into()),
            name: Some(" 周飞好 ".into()),
            phone: Some("138 0734 0001".into()),
            unit: Some("乡镇机关".into()),
            position: Some("工作队员".into()),
            region_code: Some("430426104000".into()),
            roles: None,
            username: None,
        }
    }

    fn field(e: ApiError) -> String {
        e.field_errors
            .first()
            .map(|f| f.field.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_good_request_is_normalised() {
        let o = check(&good(), &claims(&[roles::TOWNSHIP_ADMIN], "430426104")).unwrap();
        assert_eq!(o.cadre.cadre_id, "0191c6a2-7b7e-7c3a-9d41-2f5e8a9b0c1d");
        assert_eq!(o.cadre.name, "周飞好");
        assert_eq!(o.cadre.phone, "13807340001");
        assert_eq!(o.cadre.region_code, "430426104");
        assert_eq!(o.cadre.roles, vec!["cadre"]);
        assert_eq!(o.cadre.unit, CadreUnit::TownshipOffice as i32);
        assert_eq!(o.username, "13807340001");
        assert_eq!(o.region_code_12(), "430426104000");
        let a = o.account();
        assert_eq!(a.cadre_id.to_string(), o.cadre.cadre_id);
        assert_eq!(a.scope, "430426104");
    }

    #[test]
    fn each_bad_field_is_named() {
        let town = claims(&[roles::TOWNSHIP_ADMIN], "430426104");
        let cases: Vec<(Request, &str)> = vec![
            (
                Request {
                    cadre_id: None,
                    ..good()
                },
                "cadre_id",
            ),
            (
                Request {
                    cadre_id: Some("x".into()),
                    ..good()
                },
                "cadre_id",
            ),
            (
                Request {
                    name: Some(" ".into()),
                    ..good()
                },
                "name",
            ),
            (
                Request {
                    phone: Some("0734-1234567".into()),
                    ..good()
                },
                "phone",
            ),
            (
                Request {
                    unit: Some("合作社".into()),
                    ..good()
                },
                "unit",
            ),
            (
                Request {
                    position: None,
                    ..good()
                },
                "position",
            ),
            (
                Request {
                    region_code: Some("4304".into()),
                    ..good()
                },
                "region_code",
            ),
            (
                Request {
                    region_code: Some("4304261x".into()),
                    ..good()
                },
                "region_code",
            ),
            (
                Request {
                    roles: Some(vec!["boss".into()]),
                    ..good()
                },
                "roles[0]",
            ),
            (
                Request {
                    phone: None,
                    username: None,
                    ..good()
                },
                "username",
            ),
            (
                Request {
                    username: Some("a b".into()),
                    ..good()
                },
                "username",
            ),
        ];
        for (req, want) in cases {
            assert_eq!(field(check(&req, &town).unwrap_err()), want, "{req:?}");
        }
        // Outside the scope: 403.
        let other = Request {
            region_code: Some("430426105".into()),
            ..good()
        };
        assert_eq!(
            check(&other, &town).unwrap_err().status,
            http::StatusCode::FORBIDDEN
        );
        // A county-wide role needs a county-level region.
        let county = claims(&[roles::COUNTY_ADMIN], "430426");
        let wide = Request {
            roles: Some(vec!["department".into()]),
            ..good()
        };
        assert_eq!(field(check(&wide, &county).unwrap_err()), "roles[0]");
        let wide = Request {
            region_code: Some("430426000000".into()),
            ..wide
        };
        let o = check(&wide, &county).unwrap();
        assert_eq!(o.cadre.region_code, "430426");
        assert_eq!(o.cadre.roles, vec!["department"]);
    }
}
