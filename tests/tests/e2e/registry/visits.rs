//! Recording visits: idempotent by the client's id, completeness per
//! campaign policy, disputed flags, and the responsibility check.
use tonic::Code;
use uuid::Uuid;
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::catalogue;
use zoufang_proto::registry::v1::*;

const ADMIN: &[&str] = &["county_admin"];

async fn count(pool: &sqlx::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn the_same_visit_twice_is_one_visit() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let req = fixtures::visit_request(&seed, &seed.household_ids[0]);

    let first = admin
        .record_visit(req.clone())
        .await
        .expect("first")
        .into_inner();
    let again = admin
        .record_visit(req.clone())
        .await
        .expect("retry")
        .into_inner();
    assert!(first.created);
    assert!(!again.created, "a retry does not create");
    assert_eq!(
        first.visit, again.visit,
        "the retry answers with the stored visit"
    );
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM visits").await,
        1
    );
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM visit_items").await,
        2
    );
    assert_eq!(
        count(
            &registry.pool,
            "SELECT count(*) FROM outbox WHERE routing_key = 'registry.visit.recorded'"
        )
        .await,
        1
    );

    // The same id with another body is refused and changes nothing.
    let mut other = req.clone();
    other.narrative = "另一条不同的走访记录内容，已经超过二十个字的长度。".into();
    let err = admin.record_visit(other).await.expect_err("different body");
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("visit_id"), "{}", err.message());
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM visits").await,
        1
    );

    let stored = admin
        .get_visit(GetVisitRequest {
            visit_id: req.visit_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .visit
        .unwrap();
    assert_eq!(stored.items.len(), 2);
    assert_eq!(stored.help.unwrap().cash_fen, 20000);
    assert!(stored.completeness.unwrap().complete);
    registry.stop().await;
}

#[tokio::test]
async fn concurrent_retries_of_one_visit_store_it_once() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let req = fixtures::visit_request(&seed, &seed.household_ids[1]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut c = admin.clone();
        let r = req.clone();
        tasks.push(tokio::spawn(async move {
            c.record_visit(r).await.map(|r| r.into_inner().created)
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.unwrap().expect("every retry succeeds") {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one call created the visit");
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM visits").await,
        1
    );
    assert_eq!(
        count(
            &registry.pool,
            "SELECT count(*) FROM outbox WHERE routing_key = 'registry.visit.recorded'"
        )
        .await,
        1
    );
    registry.stop().await;
}

#[tokio::test]
async fn incomplete_records_are_refused_or_flagged_by_campaign_policy() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await; // policy: refuse
    let mut req = fixtures::visit_request(&seed, &seed.household_ids[0]);
    req.situation.clear();
    req.photo_refs.clear();
    req.items[0].category.clear();
    let err = admin.record_visit(req.clone()).await.expect_err("refused");
    assert_eq!(err.code(), Code::InvalidArgument);
    for field in ["situation", "photo_refs", "items[0].category"] {
        assert!(
            err.message().contains(field),
            "names {field}: {}",
            err.message()
        );
    }
    assert_eq!(
        count(&registry.pool, "SELECT count(*) FROM visits").await,
        0
    );

    // A campaign that flags instead accepts the record and lists what is missing.
    let flag_campaign = Uuid::new_v4().to_string();
    admin
        .create_campaign(CreateCampaignRequest {
            campaign_id: flag_campaign.clone(),
            region_code: fixtures::TOWNSHIP.into(),
            name: "宽松登记".into(),
            starts_at: fixtures::ago(86400),
            ends_at: fixtures::ago(-86400),
            completeness_policy: CompletenessPolicy::Flag as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    req.campaign_id = flag_campaign;
    let visit = admin
        .record_visit(req)
        .await
        .expect("flagged")
        .into_inner()
        .visit
        .unwrap();
    let completeness = visit.completeness.unwrap();
    assert!(!completeness.complete);
    assert_eq!(
        completeness.missing_fields,
        vec!["situation", "photo_refs", "items[0].category"]
    );
    registry.stop().await;
}

#[tokio::test]
async fn a_cadre_records_only_their_own_visits_and_disputes_are_flagged_once() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let mut cadre = registry
        .client(&seed.cadre_id, &["cadre"], "430426104")
        .await;
    let req = fixtures::visit_request(&seed, &seed.household_ids[0]);
    cadre.record_visit(req.clone()).await.expect("own visit");

    let mut someone_else = registry
        .client(&Uuid::new_v4().to_string(), &["cadre"], "430426104")
        .await;
    let err = someone_else
        .record_visit(fixtures::visit_request(&seed, &seed.household_ids[0]))
        .await
        .expect_err("not theirs");
    assert_eq!(err.code(), Code::PermissionDenied);

    let mut supervisor = registry.client("sup-1", &["supervisor"], "430426").await;
    let flag = FlagVisitDisputedRequest {
        visit_id: req.visit_id.clone(),
        reason: "回访户主称未见走访干部".into(),
    };
    let v = supervisor
        .flag_visit_disputed(flag.clone())
        .await
        .unwrap()
        .into_inner()
        .visit
        .unwrap();
    assert!(v.disputed);
    supervisor.flag_visit_disputed(flag).await.unwrap();
    assert_eq!(
        count(
            &registry.pool,
            "SELECT count(*) FROM outbox WHERE routing_key = 'registry.visit.disputed'"
        )
        .await,
        1
    );
    registry.stop().await;
}

#[tokio::test]
async fn villages_without_township_staff_are_listed() {
    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let uncovered = |mut c: zoufang_e2e::Registry, campaign: String| async move {
        c.list_uncovered_villages(ListUncoveredVillagesRequest {
            campaign_id: campaign,
        })
        .await
        .unwrap()
        .into_inner()
        .villages
        .into_iter()
        .map(|v| v.code)
        .collect::<Vec<_>>()
    };
    assert_eq!(
        uncovered(admin.clone(), seed.campaign_id.clone()).await,
        fixtures::VILLAGES.to_vec()
    );

    admin
        .create_assignment(CreateAssignmentRequest {
            assignment_id: Uuid::new_v4().to_string(),
            campaign_id: seed.campaign_id.clone(),
            cadre_id: seed.cadre_id.clone(),
            target: AssignmentTarget::Village as i32,
            target_id: fixtures::VILLAGES[0].into(),
        })
        .await
        .unwrap();
    // A village committee member does not count as township staff.
    let village_cadre = Uuid::new_v4().to_string();
    admin
        .register_cadre(RegisterCadreRequest {
            cadre_id: village_cadre.clone(),
            name: "李书全".into(),
            unit: CadreUnit::VillageCommittee as i32,
            position: "村干部".into(),
            region_code: fixtures::VILLAGES[1].into(),
            ..Default::default()
        })
        .await
        .unwrap();
    admin
        .create_assignment(CreateAssignmentRequest {
            assignment_id: Uuid::new_v4().to_string(),
            campaign_id: seed.campaign_id.clone(),
            cadre_id: village_cadre,
            target: AssignmentTarget::Village as i32,
            target_id: fixtures::VILLAGES[1].into(),
        })
        .await
        .unwrap();
    assert_eq!(
        uncovered(admin.clone(), seed.campaign_id.clone()).await,
        fixtures::VILLAGES[1..].to_vec()
    );
    registry.stop().await;
}

#[tokio::test]
async fn a_callback_that_cannot_confirm_a_visit_flags_it_disputed_once() {
    use lapin::options::BasicPublishOptions;
    use prost::Message;
    use zoufang_proto::events::v1::{CallbackCompleted, Satisfaction};

    let registry = TestRegistry::start().await;
    let mut admin = registry.client("admin-1", ADMIN, fixtures::COUNTY).await;
    let seed = fixtures::seed(&mut admin).await;
    let confirmed = fixtures::visit_request(&seed, &seed.household_ids[0]);
    let denied = fixtures::visit_request(&seed, &seed.household_ids[1]);
    let unreachable = fixtures::visit_request(&seed, &seed.household_ids[2]);
    for v in [&confirmed, &denied, &unreachable] {
        admin.record_visit(v.clone()).await.unwrap();
    }

    let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "test-supervision")
        .await
        .unwrap();
    let queue = format!("{}.events", registry.queue.clone().unwrap());
    // The registry declares its queue when it connects.
    zoufang_e2e::wait_for_queue(&registry.queue.clone().unwrap()).await;
    let ch = zoufang_bus::confirm_channel(&conn).await.unwrap();
    let mut envelopes = Vec::new();
    for (visit, reached, ok) in [
        (&confirmed, true, true),
        (&denied, true, false),
        (&unreachable, false, false),
    ] {
        let payload = CallbackCompleted {
            callback_id: Uuid::new_v4().to_string(),
            visit_id: visit.visit_id.clone(),
            reached,
            visit_confirmed: ok,
            satisfaction: Satisfaction::Unspecified as i32,
            comment: "户主称没见过走访干部".into(),
            supervisor_id: "sup-1".into(),
            ..Default::default()
        };
        let env = zoufang_bus::Envelope {
            id: Uuid::now_v7(),
            source: "/zoufang/supervision".into(),
            routing_key: catalogue::supervision::CALLBACK_COMPLETED.into(),
            subject: format!("callbacks/{}", payload.callback_id),
            time: chrono::Utc::now(),
            county: fixtures::COUNTY.into(),
            trace: Default::default(),
            attempt: 0,
        };
        envelopes.push((env.clone(), payload.encode_to_vec()));
        ch.basic_publish(
            "".into(),
            queue.clone().into(),
            BasicPublishOptions::default(),
            &payload.encode_to_vec(),
            env.to_properties(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let disputed = zoufang_e2e::eventually(std::time::Duration::from_secs(10), || {
        let mut c = admin.clone();
        let id = denied.visit_id.clone();
        async move {
            let v = c
                .get_visit(GetVisitRequest { visit_id: id })
                .await
                .ok()?
                .into_inner()
                .visit?;
            v.disputed.then_some(v)
        }
    })
    .await
    .expect("the denied visit is disputed");
    assert!(disputed.dispute_reason.contains("回访未能确认"));
    // Redeliver the same event: nothing more happens.
    let (env, payload) = &envelopes[1];
    ch.basic_publish(
        "".into(),
        queue.clone().into(),
        BasicPublishOptions::default(),
        payload,
        env.to_properties(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    // The three and the copy applied (or dropped), their events published.
    zoufang_e2e::quiet::settled(
        &zoufang_e2e::quiet::Consumer::registry(&registry.queue.clone().unwrap(), &registry.pool),
        &zoufang_e2e::quiet::Lane::of(env),
    )
    .await;
    for (v, want) in [(&confirmed, false), (&unreachable, false)] {
        let got = admin
            .get_visit(GetVisitRequest {
                visit_id: v.visit_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .visit
            .unwrap();
        assert_eq!(got.disputed, want);
    }
    assert_eq!(
        count(
            &registry.pool,
            "SELECT count(*) FROM outbox WHERE routing_key = 'registry.visit.disputed'"
        )
        .await,
        1
    );
    let progress = admin
        .get_cadre_progress(GetCadreProgressRequest {
            campaign_id: seed.campaign_id.clone(),
            cadre_id: seed.cadre_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(progress.disputed_visits, 1, "it counts against the cadre");
    registry.stop().await;
}
