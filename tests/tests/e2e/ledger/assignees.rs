//! Whom the ledger hands an item to (交办): only a cadre its directory knows
//! — kept from the registry's cadre events, never read from the registry's
//! tables — whose region covers the item. A cadre registered a moment ago
//! that has not reached the directory yet is answered "retry shortly", not
//! accepted; the directory of an existing deployment is filled by the
//! registry's AnnounceCadres. Cadre events carry no personal data.
use std::time::Duration;

use prost::Message as _;
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{
    fixtures,
    ledger::{TestLedger, assigned, await_cadre, issue, reception_issue, state_of},
    tap::Tap,
};
use zoufang_proto::{
    catalogue,
    common::v1::ItemKind,
    events::v1::{CadreChange, CadreChanged},
    issues::v1::*,
    registry::v1::{AnnounceCadresRequest, CadreUnit, RegisterCadreRequest},
};

const ADMIN: &[&str] = &["county_admin"];

fn assign(i: &Issue, cadre: &str) -> AssignIssueRequest {
    AssignIssueRequest {
        issue_id: i.issue_id.clone(),
        expected_version: i.version,
        cadre_id: cadre.into(),
        deadline_days: 7,
        note: String::new(),
    }
}

#[tokio::test]
async fn assign_refuses_unknown_cadres_and_cadres_outside_the_items_region() {
    let stack = TestLedger::start(3600).await;
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    // An item of 黄龙村, 白鹤铺镇.
    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    assert_eq!(i.region_code, fixtures::VILLAGES[0]);

    // Not a cadre id at all: INVALID_ARGUMENT naming the field.
    for nobody in ["nobody", ""] {
        let e = admin.assign_issue(assign(&i, nobody)).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{nobody:?}: {e:?}");
        assert!(e.message().contains("cadre_id"), "{}", e.message());
    }
    // A well-formed id no registered cadre has: refused, with "retry shortly"
    // (it may be a cadre registered a moment ago), never silently accepted.
    let e = admin
        .assign_issue(assign(&i, &Uuid::new_v4().to_string()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(
        e.message().contains("cadre_id") && e.message().contains("稍后重试"),
        "{}",
        e.message()
    );
    // A cadre of the other township, and a village cadre of another village
    // of the same township: INVALID_ARGUMENT naming the field and the cadre.
    let neighbour_town = stack.cadre("太和堂镇干部", "430426105").await;
    let other_village = stack.cadre("肖家村干部", fixtures::VILLAGES[1]).await;
    for (cadre, name) in [
        (&neighbour_town, "太和堂镇干部"),
        (&other_village, "肖家村干部"),
    ] {
        let e = admin.assign_issue(assign(&i, cadre)).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{name}: {e:?}");
        assert!(
            e.message().contains("cadre_id") && e.message().contains(name),
            "{}",
            e.message()
        );
    }
    // None of that wrote anything.
    let (now, timeline) = issue(&mut admin, &i.issue_id).await;
    assert_eq!(now.version, i.version);
    assert_eq!(state_of(&now), IssueState::Open);
    assert!(now.responsible_cadre_id.is_empty());
    assert_eq!(timeline.len(), 1, "only the creation: {timeline:?}");

    // The township's cadre, then (a hand-over) a county cadre, then the
    // village's own cadre registered under its 12-digit code: all accepted.
    let town = stack.cadre("周飞好", "430426104").await;
    let county = stack.cadre("县委干部", fixtures::COUNTY).await;
    let own = stack.cadre("黄龙村干部", fixtures::VILLAGES[0]).await;
    let township_code = stack.cadre("镇机关干部", fixtures::TOWNSHIP).await;
    let mut i = now;
    for cadre in [&town, &county, &own, &township_code] {
        i = assigned(&mut admin, i, cadre).await;
        assert_eq!(state_of(&i), IssueState::Assigned);
        assert_eq!(&i.responsible_cadre_id, cadre);
    }
    stack.stop().await;
}

#[tokio::test]
async fn cadre_events_carry_no_phone_and_announcing_fills_a_directory_that_missed_them() {
    let stack = TestLedger::start(3600).await;
    let mut tap = Tap::bind(catalogue::registry::CADRE_ANY).await;
    let mut registry = stack
        .registry
        .client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let id = Uuid::new_v4().to_string();
    let phone = "13807349876";
    registry
        .register_cadre(RegisterCadreRequest {
            cadre_id: id.clone(),
            name: "周飞好".into(),
            phone: phone.into(),
            unit: CadreUnit::TownshipOffice as i32,
            position: "工作队员".into(),
            region_code: "430426104".into(),
            roles: vec!["cadre".into()],
        })
        .await
        .expect("register cadre");
    await_cadre(&stack.issues.pool, &id).await;
    let subject = format!("cadres/{id}");
    let seen = tap
        .collect(1, Duration::from_secs(30), |s| {
            s.envelope.subject == subject
        })
        .await;
    assert_eq!(seen.len(), 1, "one registry.cadre.registered");
    assert_eq!(
        seen[0].envelope.routing_key,
        catalogue::registry::CADRE_REGISTERED
    );
    let event = CadreChanged::decode(seen[0].payload.as_slice()).expect("a CadreChanged");
    assert_eq!(event.change(), CadreChange::Registered);
    assert_eq!(
        (
            event.name.as_str(),
            event.region_code.as_str(),
            event.county.as_str()
        ),
        ("周飞好", "430426104", fixtures::COUNTY)
    );
    let raw = String::from_utf8_lossy(&seen[0].payload);
    assert!(
        !raw.contains(phone) && !raw.contains("****"),
        "no phone in the event"
    );

    // A deployment upgraded from before the directory: the ledger has never
    // heard of the cadre. Assigning says to retry; announcing fills it.
    let mut admin = stack
        .issues
        .issues_client("admin-1", ADMIN, fixtures::COUNTY)
        .await;
    let i = reception_issue(&mut admin, ItemKind::Problem, vec![]).await;
    sqlx::query("DELETE FROM issues.cadres")
        .execute(&stack.issues.pool)
        .await
        .expect("forget the cadres");
    let e = admin.assign_issue(assign(&i, &id)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");

    // Only a county admin announces, within a county or below.
    let mut township = stack
        .registry
        .client("admin-2", &["township_admin"], "430426104")
        .await;
    let e = township
        .announce_cadres(AnnounceCadresRequest {
            region_code: "430426104".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = registry
        .announce_cadres(AnnounceCadresRequest {
            region_code: "4304".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("region_code"), "{}", e.message());

    let announced = registry
        .announce_cadres(AnnounceCadresRequest {
            region_code: fixtures::TOWNSHIP.into(),
        })
        .await
        .expect("announce")
        .into_inner()
        .announced;
    assert_eq!(announced, 1, "the township's one cadre");
    await_cadre(&stack.issues.pool, &id).await;
    let i = assigned(&mut admin, i, &id).await;
    assert_eq!(i.responsible_cadre_id, id);
    stack.stop().await;
}
