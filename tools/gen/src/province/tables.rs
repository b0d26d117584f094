//! The COPY statements of the big tables (the columns [`super::rows`]
//! writes), and the small tables (regions, cadres, campaigns, supervision
//! teams and sampling policies) as COPY text.
use uuid::Uuid;
use zoufang_types::RegionCode;

use super::{CITIES, K_PROVINCE, Province, STAFF, VILLAGE_CADRES, copy::Row};
use crate::{people::person, rng::Rng};

pub const HOUSEHOLDS_COPY: &str =
    "COPY registry.households (county, household_id, village_code, group_name, address,
    head_name, id_number_cipher, id_number_hash, phone_cipher, phone_hash, member_count, open_tags,
    sensitive_tags_cipher, tag_hashes, is_key, body_hash, registered_at) FROM STDIN WITH (FREEZE)";
pub const VISITS_COPY: &str = "COPY registry.visits (county, visit_id, campaign_id, household_id, village_code,
    cadre_ids, started_at, ended_at, mode, overnight_stay, latitude, longitude, situation, narrative,
    policies_explained, materials, help_cash_fen, help_goods_description, help_goods_value_fen,
    photo_refs, complete, missing_fields, disputed, dispute_reason, body_hash, recorded_at)
    FROM STDIN WITH (FREEZE)";
pub const ITEMS_COPY: &str =
    "COPY registry.visit_items (county, visit_id, item_no, kind, category, description,
    households_involved, resolved_on_spot, resolution_note, urgent) FROM STDIN WITH (FREEZE)";
pub const ISSUES_COPY: &str = "COPY issues.issues (county, issue_id, source, visit_id, item_no, campaign_id,
    household_id, region_code, kind, category, description, households_involved, priority,
    disposition, state, responsible_cadre_id, department, deadline, resolution, explanation,
    reopen_count, rectification_round, escalation_level, merged_into, supervised, resolved_in_time,
    ever_escalated, version, body_hash, created_at, updated_at, resolved_at) FROM STDIN WITH (FREEZE)";
pub const CALLBACKS_COPY: &str =
    "COPY supervision.callbacks (county, callback_id, subject, issue_id, visit_id,
    household_id, region_code, campaign_id, supervisor_id, state, due_at, attempts, max_attempts,
    summary, policy_version, cadre_ids, reached, visit_confirmed, fix_confirmed, satisfaction,
    comment, recorded_member_count, recorded_help_fen, recorded_visit_date, answered_member_count,
    answered_help_fen, answered_visit_date, backcheck_mismatches, created_at, completed_at)
    FROM STDIN WITH (FREEZE)";

/// The small tables: regions, cadres, campaigns, supervision teams and
/// sampling policies, as COPY text per table.
pub fn small_tables(p: &Province, now: i64) -> Vec<(&'static str, Vec<u8>)> {
    let mut r = Rng::at(p.seed, K_PROVINCE, 1);
    let mut regions = Vec::new();
    let region = |buf: &mut Vec<u8>, code: &str, name: &str, level: i64| {
        let rc = RegionCode::parse("code", code).expect("generated codes are valid");
        let kind = rc
            .township_kind()
            .map(|k| k.label_zh())
            .or_else(|| rc.village_kind().map(|k| k.label_zh()))
            .unwrap_or("");
        let mut row = Row::new(buf);
        row.raw(rc.county()).raw(code).text(name).int(level);
        match rc.parent() {
            Some(parent) => row.raw(parent.as_str()),
            None => row.null(),
        };
        row.text(kind).end();
    };
    region(&mut regions, "430000000000", "湖南省", 1);
    for (city, name, _) in CITIES
        .iter()
        .filter(|(code, _, _)| p.counties.iter().any(|c| &c.code[2..4] == *code))
    {
        region(&mut regions, &format!("43{city}00000000"), name, 2);
    }
    for c in &p.counties {
        region(&mut regions, &format!("{}000000", c.code), &c.name, 3);
    }
    for t in &p.townships {
        region(&mut regions, &t.code, &t.name, 4);
    }
    for v in &p.villages {
        region(&mut regions, &v.code, &v.name, 5);
    }

    // The registry's cadres, and the ledger's directory of them as the
    // registry's cadre events leave it (issues.cadres).
    let (mut cadres, mut directory) = (Vec::new(), Vec::new());
    let mut cadre =
        |buf: &mut Vec<u8>, r: &mut Rng, id: Uuid, unit: i64, position: &str, region: &str| {
            let name = person(r);
            Row::new(&mut directory)
                .raw(&region[..6])
                .uuid(id)
                .text(&name)
                .raw(region)
                .ts(now)
                .end();
            Row::new(buf)
                .raw(&region[..6])
                .uuid(id)
                .text(&name)
                .random_bytes(r, 1 + 12 + 11 + 16)
                .random_bytes(r, 32)
                .int(unit)
                .text(position)
                .raw(region)
                .array(&["cadre"])
                .random_bytes(r, 32)
                .end();
        };
    for (ti, t) in p.townships.iter().enumerate() {
        for s in 0..STAFF {
            let position = if s < 2 {
                "乡镇领导"
            } else {
                "乡镇干部"
            };
            cadre(
                &mut cadres,
                &mut r,
                p.staff(ti, s),
                1,
                position,
                &t.code[..9],
            );
        }
    }
    for (vi, v) in p.villages.iter().enumerate() {
        for c in 0..VILLAGE_CADRES {
            let position = ["村支部书记", "村委会主任", "村委委员"][c as usize];
            cadre(
                &mut cadres,
                &mut r,
                p.village_cadre(vi, c),
                2,
                position,
                &v.code,
            );
        }
    }

    let (mut campaigns, mut teams, mut members, mut policies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for c in &p.counties {
        Row::new(&mut campaigns)
            .raw(&c.code)
            .uuid(c.campaign_id)
            .raw(&c.code)
            .text(&format!("{}2026年秋季“大走访”活动", c.name))
            .ts(now - 90 * 86_400)
            .ts(now + 30 * 86_400)
            .array(&["信访维稳", "民生工程", "政策宣传"])
            .int(2)
            .int(2)
            .random_bytes(&mut r, 32)
            .end();
        Row::new(&mut teams)
            .raw(&c.code)
            .uuid(c.team_id)
            .text(&format!("{}督查组", c.name))
            .raw(&c.code)
            .end();
        for s in &c.supervisors {
            Row::new(&mut members)
                .raw(&c.code)
                .uuid(c.team_id)
                .raw(s)
                .end();
        }
        Row::new(&mut policies)
            .raw(&c.code)
            .uuid(c.campaign_id)
            .int(1)
            .int(3000)
            .int(300)
            .int(2)
            .int(60)
            .int(1000)
            .int(7)
            .int(3)
            .end();
    }
    vec![
        ("COPY registry.regions (county, code, name, level, parent_code, kind) FROM STDIN", regions),
        (
            "COPY registry.cadres (county, cadre_id, name, phone_cipher, phone_hash, unit, position,
                region_code, roles, body_hash) FROM STDIN",
            cadres,
        ),
        (
            "COPY issues.cadres (county, cadre_id, name, region_code, as_of) FROM STDIN",
            directory,
        ),
        (
            "COPY registry.campaigns (county, campaign_id, region_code, name, starts_at, ends_at,
                themes, status, completeness_policy, body_hash) FROM STDIN",
            campaigns,
        ),
        ("COPY supervision.teams (county, team_id, name, region_code) FROM STDIN", teams),
        ("COPY supervision.team_members (county, team_id, supervisor_id) FROM STDIN", members),
        (
            "COPY supervision.sampling_policies (county, campaign_id, version, item_share_bp,
                visit_share_bp, min_visits_per_cadre, high_risk_threshold,
                high_risk_visit_share_bp, due_days, max_attempts) FROM STDIN",
            policies,
        ),
    ]
}
