//! A fact becomes messages: its template rendered, its audience resolved to
//! people (named, or by role over the region), one inbox row per person, an
//! SMS per person where the template, the provider and their preferences
//! allow (held in their quiet hours unless urgent), and one delivery per
//! group robot or webhook subscribed to the region. Every row's id derives
//! from the fact key, and every insert skips what exists, so replaying a
//! fact adds nothing.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;
use zoufang_core::fields::county_of;

use super::State;
use crate::{
    domain::{
        quiet::QuietHours,
        rules::{Audience, Fact},
        template,
    },
    store::{
        self, deliveries::DeliveryRow, notifications::NotificationRow, preferences::PreferencesRow,
        recipients::RecipientRow,
    },
};

/// Names inbox rows and deliveries after their facts.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x7f3a_21c4_9d0e_4b8a_b6f1_02c9_e4d3_a815);

fn derived_id(parts: &[&str]) -> Uuid {
    Uuid::new_v5(&ID_NAMESPACE, parts.join("\u{1f}").as_bytes())
}

/// The web-app path of a subject.
fn link(base: &str, subject_type: &str, subject_id: &str) -> String {
    let section = match subject_type {
        "issue" => "issues",
        "callback" => "callbacks",
        "visit" => "visits",
        "petition" => "petitions",
        _ => "inbox",
    };
    format!("{}/{section}/{subject_id}", base.trim_end_matches('/'))
}

/// A recipient's preferences, or the defaults.
pub fn preferences_or_default(
    county: &str,
    recipient_id: &str,
    stored: Option<PreferencesRow>,
) -> PreferencesRow {
    stored.unwrap_or_else(|| {
        let q = QuietHours::default();
        PreferencesRow {
            county: county.to_owned(),
            recipient_id: recipient_id.to_owned(),
            sms_enabled: true,
            digest_enabled: true,
            quiet_start_minute: i32::try_from(q.start_minute).unwrap_or(0),
            quiet_end_minute: i32::try_from(q.end_minute).unwrap_or(0),
            muted_kinds: vec![],
        }
    })
}

async fn audience(
    conn: &mut PgConnection,
    county: &str,
    fact: &Fact,
) -> sqlx::Result<BTreeMap<String, Option<RecipientRow>>> {
    let mut people = BTreeMap::new();
    for who in &fact.audience {
        match who {
            Audience::Person(id) => {
                if !people.contains_key(id) {
                    let row = store::recipients::get(&mut *conn, county, id).await?;
                    // A deactivated person gets nothing; one not in the
                    // directory still gets the inbox row (their id is known).
                    if row.as_ref().is_none_or(|r| r.active) {
                        people.insert(id.clone(), row);
                    }
                }
            }
            Audience::Role(role) => {
                for r in
                    store::recipients::holders(&mut *conn, county, role, &fact.region_code).await?
                {
                    people.insert(r.recipient_id.clone(), Some(r));
                }
            }
        }
    }
    Ok(people)
}

/// Writes a fact's messages and deliveries in `conn`'s transaction; returns
/// how many inbox rows were new.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn publish(
    conn: &mut PgConnection,
    state: &State,
    fact: &Fact,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let county = county_of(&fact.region_code);
    let Some(tpl) = store::templates::get(&mut *conn, fact.kind).await? else {
        anyhow::bail!("no template for {}", fact.kind);
    };
    let mut vars = fact.vars.clone();
    let link = link(
        &state.settings.link_base_url,
        fact.subject_type,
        &fact.subject_id,
    );
    vars.insert("link".into(), link.clone());
    let title = template::render(&tpl.title, &vars);
    let body = template::render(&tpl.body, &vars);
    let sms_text = template::render(&tpl.sms_body, &vars);
    let row = |recipient_id: &str| NotificationRow {
        county: county.clone(),
        notification_id: derived_id(&[&county, recipient_id, &fact.fact_key]),
        recipient_id: recipient_id.to_owned(),
        fact_key: fact.fact_key.clone(),
        kind: fact.kind.to_owned(),
        title: title.clone(),
        body: body.clone(),
        link: link.clone(),
        subject_type: fact.subject_type.to_owned(),
        subject_id: fact.subject_id.clone(),
        region_code: fact.region_code.clone(),
        urgent: fact.urgent,
        created_at: now,
        read_at: None,
    };
    let delivery =
        |channel: &str, target: &str, notification_id: Option<Uuid>, next_at| DeliveryRow {
            county: county.clone(),
            delivery_id: derived_id(&[&county, channel, target, &fact.fact_key]),
            notification_id,
            channel: channel.to_owned(),
            target: target.to_owned(),
            fact_key: fact.fact_key.clone(),
            kind: fact.kind.to_owned(),
            title: title.clone(),
            body: body.clone(),
            sms_text: sms_text.clone(),
            link: link.clone(),
            subject_type: fact.subject_type.to_owned(),
            subject_id: fact.subject_id.clone(),
            region_code: fact.region_code.clone(),
            urgent: fact.urgent,
            state: "pending".into(),
            attempts: 0,
            next_at,
            last_error: String::new(),
            created_at: now,
            sent_at: None,
        };

    let mut created = 0;
    for (recipient_id, person) in audience(conn, &county, fact).await? {
        let n = row(&recipient_id);
        if !store::notifications::insert(&mut *conn, &n).await? {
            continue;
        }
        created += 1;
        let has_phone = person.as_ref().is_some_and(|p| p.phone_enc.is_some());
        if state.settings.sms.is_none() || sms_text.is_empty() || !has_phone {
            continue;
        }
        let prefs = preferences_or_default(
            &county,
            &recipient_id,
            store::preferences::get(&mut *conn, &county, &recipient_id).await?,
        );
        if !prefs.sms_enabled || prefs.muted_kinds.iter().any(|k| k == fact.kind) {
            continue;
        }
        let quiet = QuietHours {
            start_minute: u32::try_from(prefs.quiet_start_minute).unwrap_or(0),
            end_minute: u32::try_from(prefs.quiet_end_minute).unwrap_or(0),
        };
        let at = quiet.release_at(now, fact.urgent);
        store::deliveries::insert(
            &mut *conn,
            &delivery("sms", &recipient_id, Some(n.notification_id), at),
        )
        .await?;
    }
    // Group robots and webhooks hear of the fact once, whoever it reaches;
    // a person's digest is theirs alone.
    if fact.kind != "digest" {
        for sub in store::subscriptions::matching(&mut *conn, &county, &fact.region_code, fact.kind)
            .await?
        {
            let target = sub.subscription_id.to_string();
            store::deliveries::insert(&mut *conn, &delivery(&sub.channel, &target, None, now))
                .await?;
        }
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_the_subjects_page() {
        assert_eq!(
            link("http://h:8080/", "issue", "abc"),
            "http://h:8080/issues/abc"
        );
        assert_eq!(
            link("http://h", "digest", "2026-11-29"),
            "http://h/inbox/2026-11-29"
        );
    }

    #[test]
    fn ids_derive_from_the_fact_and_the_target() {
        assert_eq!(derived_id(&["a", "b"]), derived_id(&["a", "b"]));
        assert_ne!(derived_id(&["a", "b"]), derived_id(&["ab", ""]));
    }
}
