//! Work teams (工作队) from the cadre import's 所属工作队 and 是否队长
//! columns, after the rows are registered. A row joins the team of that
//! name in the cadre's township; a name the township has no team of yet
//! creates the team there (listed in the job's summary, so a typo shows),
//! with the row marked 队长 as its leader. A county-level cadre (sent by a
//! county department, whose work area names no township) joins the team
//! of that name when exactly one township in the area has one; otherwise
//! the row is refused, naming the column.
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;
use zoufang_proto::registry::v1::{
    AddWorkTeamMembersRequest, CreateWorkTeamRequest, ListWorkTeamsRequest, WorkTeam,
};
use zoufang_tabular::Mapping;

use super::{RowError, Run, cadres::Registered, header::CADRE_FIELDS};

/// The id a team created by an import gets: the same township and name
/// always give the same id, so two imports racing make one team.
pub fn team_id(township: &str, name: &str) -> Uuid {
    let digest = Sha256::digest(format!("zoufang.work_team\n{township}\n{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The township (12 digits) of a cadre's work area, when it names one.
pub fn township_of(region: &str) -> Option<String> {
    (region.len() >= 9).then(|| format!("{:0<12}", &region[..9]))
}

/// Rows by (township, team name).
pub type Groups = BTreeMap<(String, String), Vec<Registered>>;

/// Where each row goes: (township, team name) → rows, or the row's error.
pub fn plan(rows: &[Registered], existing: &[WorkTeam]) -> (Groups, Vec<(u32, String)>) {
    let mut groups: Groups = BTreeMap::new();
    let mut errors = Vec::new();
    for r in rows {
        let Some(name) = &r.team else { continue };
        let township = match township_of(&r.region) {
            Some(t) => t,
            None => {
                let named: Vec<&WorkTeam> = existing.iter().filter(|t| &t.name == name).collect();
                match named[..] {
                    [one] => one.township_code.clone(),
                    [] => {
                        errors.push((
                            r.row,
                            format!("县级干部只能加入已有的工作队：找不到名为“{name}”的工作队（新建工作队请用乡镇干部的行）"),
                        ));
                        continue;
                    }
                    _ => {
                        errors.push((
                            r.row,
                            format!(
                                "有{}个乡镇都有名为“{name}”的工作队：请把该干部的工作区域写到乡镇",
                                named.len()
                            ),
                        ));
                        continue;
                    }
                }
            }
        };
        groups
            .entry((township, name.clone()))
            .or_default()
            .push(r.clone());
    }
    (groups, errors)
}

/// The row a field error of a team call names (`member_cadre_ids[2]` …).
fn row_named(field: &str, ids: &[String], group: &[Registered]) -> Option<u32> {
    let i: usize = field
        .split('[')
        .nth(1)?
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let id = ids.get(i)?;
    group.iter().find(|r| &r.cadre_id == id).map(|r| r.row)
}

/// Joins the registered rows to their teams (creating those missing).
pub async fn join(
    run: &mut Run,
    m: &Mapping,
    area: &str,
    rows: Vec<Registered>,
) -> Result<(), String> {
    if rows.iter().all(|r| r.team.is_none()) {
        return Ok(());
    }
    let column = m.header(CADRE_FIELDS, "team").to_owned();
    let fail = |row: u32, reason: String| RowError {
        row,
        column: column.clone(),
        reason,
    };
    let region_code = area.to_owned();
    let existing = run
        .up
        .retrying(|mut c| {
            let region_code = region_code.clone();
            async move {
                c.list_work_teams(ListWorkTeamsRequest { region_code })
                    .await
            }
        })
        .await?
        .teams;
    let (groups, planned_errors) = plan(&rows, &existing);
    let mut errors: Vec<RowError> = planned_errors
        .into_iter()
        .map(|(r, e)| fail(r, e))
        .collect();
    for ((township, name), mut group) in groups {
        let found = existing
            .iter()
            .find(|t| t.township_code == township && t.name == name)
            .cloned();
        // A refusal naming one member drops that row and tries the rest again.
        while !group.is_empty() {
            let ids: Vec<String> = group.iter().map(|r| r.cadre_id.clone()).collect();
            let leader = group
                .iter()
                .find(|r| r.leader)
                .map(|r| r.cadre_id.clone())
                .unwrap_or_default();
            let res = match &found {
                Some(team) => {
                    let req = AddWorkTeamMembersRequest {
                        team_id: team.team_id.clone(),
                        cadre_ids: ids.clone(),
                        leader_cadre_id: leader.clone(),
                    };
                    run.up
                        .retrying_status(|mut c| {
                            let req = req.clone();
                            async move { c.add_work_team_members(req).await }
                        })
                        .await
                        .map(|_| false)
                }
                None => {
                    let req = CreateWorkTeamRequest {
                        team_id: team_id(&township, &name).to_string(),
                        township_code: township.clone(),
                        name: name.clone(),
                        leader_cadre_id: leader.clone(),
                        zone_id: String::new(),
                        member_cadre_ids: ids.clone(),
                    };
                    run.up
                        .retrying_status(|mut c| {
                            let req = req.clone();
                            async move { c.create_work_team(req).await }
                        })
                        .await
                        .map(|r| r.created)
                }
            };
            match res {
                Ok(created) => {
                    if created {
                        run.notes.push(format!("新建工作队“{name}”（{township}）"));
                    }
                    break;
                }
                Err(s)
                    if matches!(
                        s.code(),
                        tonic::Code::Unavailable
                            | tonic::Code::Internal
                            | tonic::Code::Unknown
                            | tonic::Code::DeadlineExceeded
                            | tonic::Code::Unauthenticated
                    ) =>
                {
                    run.add_errors(errors).await?;
                    return Err(super::status_reason(&s));
                }
                Err(s) => {
                    let (field, reason) = super::first_violation(&s);
                    let named = if field == "leader_cadre_id" {
                        group.iter().find(|r| r.cadre_id == leader).map(|r| r.row)
                    } else {
                        row_named(&field, &ids, &group)
                    };
                    match named {
                        Some(row) => {
                            errors.push(fail(
                                row,
                                format!("干部已登记，但未能加入工作队“{name}”：{reason}"),
                            ));
                            group.retain(|r| r.row != row);
                        }
                        None => {
                            for r in &group {
                                errors.push(fail(
                                    r.row,
                                    format!("干部已登记，但未能加入工作队“{name}”：{reason}"),
                                ));
                            }
                            group.clear();
                        }
                    }
                }
            }
        }
    }
    run.add_errors(errors).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(row: u32, region: &str, team: Option<&str>) -> Registered {
        Registered {
            row,
            cadre_id: format!("id{row}"),
            region: region.into(),
            team: team.map(String::from),
            leader: false,
        }
    }

    #[test]
    fn rows_group_by_township_and_name_and_county_cadres_join_existing_teams() {
        let existing = vec![WorkTeam {
            team_id: "t1".into(),
            township_code: "430426105000".into(),
            name: "第二工作队".into(),
            ..WorkTeam::default()
        }];
        let rows = [
            reg(2, "430426104", Some("第一工作队")),
            reg(3, "430426104201", Some("第一工作队")),
            reg(4, "430426105", Some("第一工作队")),
            reg(5, "430426", Some("第二工作队")),
            reg(6, "430426", Some("第三工作队")),
            reg(7, "430426104", None),
        ];
        let (groups, errors) = plan(&rows, &existing);
        let keys: Vec<(&str, &str, Vec<u32>)> = groups
            .iter()
            .map(|((t, n), rs)| (t.as_str(), n.as_str(), rs.iter().map(|r| r.row).collect()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("430426104000", "第一工作队", vec![2, 3]),
                ("430426105000", "第一工作队", vec![4]),
                ("430426105000", "第二工作队", vec![5]),
            ]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 6);
        assert!(
            errors[0].1.contains("只能加入已有的工作队"),
            "{}",
            errors[0].1
        );
        assert_eq!(
            team_id("430426104000", "第一工作队"),
            team_id("430426104000", "第一工作队")
        );
        assert_ne!(
            team_id("430426104000", "第一工作队"),
            team_id("430426105000", "第一工作队")
        );
        let group = vec![reg(2, "430426104", None), reg(3, "430426104", None)];
        let ids = vec!["id2".to_owned(), "id3".to_owned()];
        assert_eq!(row_named("member_cadre_ids[1]", &ids, &group), Some(3));
        assert_eq!(row_named("name", &ids, &group), None);
    }
}
