//! The petition bridge and outbound webhooks (issue 18): sources and cases
//! changed only by callers covering them as stored, the AMQP door, SSRF in
//! callback and subscription URLs, replayed signatures. See main.rs.
use std::time::Duration;
use zoufang_service::Service as _;

use chrono::Utc;
use tonic::Code;
use uuid::Uuid;
use zoufang_bus::signing;
use zoufang_core::clock::Clock;
use zoufang_e2e::{
    FakePetitionSystem, TestPetition, TestService, eventually,
    petition::{self, COUNTY, TOWNSHIP, VILLAGES},
    unique_name,
};
use zoufang_proto::catalogue;
use zoufang_proto::{
    petition::v1::{GetCaseRequest, ImportCasesRequest, RegisterSourceRequest},
    registry::v1::{GetHouseholdRequest, ImportRegionsRequest, RegisterHouseholdRequest},
};

/// The scope of an account of [`TOWNSHIP`] (its code's prefix).
const TOWN_SCOPE: &str = "430482100";
/// A region of the test county outside [`TOWNSHIP`] (another town's village).
const OTHER_VILLAGE: &str = "430482200201";

/// A registry and the bridge on one database, the fake system registered
/// county-wide by a county admin.
struct World {
    registry: TestService,
    bridge: TestPetition,
    fake: FakePetitionSystem,
}

impl World {
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = unique_name("zft");
        let registry = TestService::start_on(&database).await;
        let mut admin = registry.client("admin", &["county_admin"], "").await;
        admin
            .import_regions(ImportRegionsRequest {
                csv: petition::region_csv().into_bytes(),
            })
            .await
            .expect("import regions");
        let bridge = TestPetition::start(&database, Clock::system(), registry.grpc_port).await;
        let fake = FakePetitionSystem::register(&bridge).await;
        Self {
            registry,
            bridge,
            fake,
        }
    }

    /// A household in the first village with this ID number.
    async fn household(&self, id_number: &str) -> String {
        let mut admin = self
            .registry
            .client("admin", &["county_admin"], COUNTY)
            .await;
        let id = Uuid::new_v4().to_string();
        admin
            .register_household(RegisterHouseholdRequest {
                household_id: id.clone(),
                village_code: VILLAGES[0].into(),
                group_name: "新屋组".into(),
                address: "12号".into(),
                head_name: "唐怀珠".into(),
                id_number: id_number.into(),
                phone: "13907341234".into(),
                member_count: 3,
                tags: vec![],
            })
            .await
            .expect("register household");
        id
    }

    /// The household's tags.
    async fn tags(&self, household_id: &str) -> Vec<String> {
        let mut admin = self
            .registry
            .client("admin", &["county_admin"], COUNTY)
            .await;
        admin
            .get_household(GetHouseholdRequest {
                household_id: household_id.into(),
                ..Default::default()
            })
            .await
            .expect("household")
            .into_inner()
            .household
            .expect("household")
            .tags
    }

    /// Rows a request could write: cases, their log, remembered MACs.
    async fn written(&self) -> [i64; 3] {
        let pool = &self.bridge.service.pool;
        let mut out = [0; 3];
        for (i, sql) in [
            "SELECT count(*) FROM petition.cases",
            "SELECT count(*) FROM petition.case_log",
            "SELECT count(*) FROM petition.seen_signatures",
        ]
        .into_iter()
        .enumerate()
        {
            out[i] = sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql);
        }
        out
    }

    /// The stored (region, callback URL, secret) of the fake system's source.
    async fn source(&self) -> (String, String, Vec<u8>) {
        sqlx::query_as(
            "SELECT region_code, callback_url, secret_enc FROM petition.sources
             WHERE source_system = $1",
        )
        .bind(&self.fake.name)
        .fetch_one(&self.bridge.service.pool)
        .await
        .expect("the source row")
    }

    async fn stop(self) {
        self.bridge.stop().await;
        self.registry.stop().await;
    }
}

/// High 3 (petition part). Caught: a township-scoped `petition_bureau`
/// re-registered the county-wide source under its own township, and its
/// callback URL and secret replaced the county's (the upsert checked only
/// the new region). Now the stored row must be covered too; a county
/// caller, covering both, still moves it.
#[tokio::test]
async fn a_township_bureau_cannot_take_over_the_county_source() {
    let w = World::start().await;
    let before = w.source().await;
    assert_eq!(before.0, COUNTY);

    let mut township = w
        .bridge
        .client("township-bureau", &["petition_bureau"], TOWN_SCOPE)
        .await;
    let err = township
        .register_source(RegisterSourceRequest {
            source_system: w.fake.name.clone(),
            display_name: "冒名来源".into(),
            region_code: TOWNSHIP.into(),
            callback_url: "https://1.2.3.4/answers".into(),
            secret: "attacker-chosen-secret-0123456789".into(),
        })
        .await
        .expect_err("a township bureau re-registered the county's source");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(w.source().await, before, "the stored source is unchanged");

    // Covering both the stored and the new region, a county bureau may
    // narrow it.
    let mut county = w
        .bridge
        .client("county-bureau", &["petition_bureau"], COUNTY)
        .await;
    county
        .register_source(RegisterSourceRequest {
            source_system: w.fake.name.clone(),
            display_name: "常宁市信访信息系统".into(),
            region_code: TOWNSHIP.into(),
            callback_url: before.1.clone(),
            secret: w.fake.secret.clone(),
        })
        .await
        .expect("a county bureau narrows its source");
    assert_eq!(w.source().await.0, TOWNSHIP);
    w.stop().await;
}

/// High 3, the same rule on the batch door. Caught: a township bureau's file
/// with a later version of another town's case (same source and external
/// id, the row's region inside the township) rewrote that case and moved it
/// into the township; only the row's region was checked. Now the row is
/// reported and the case stays as it was.
#[tokio::test]
async fn a_batch_row_cannot_rewrite_a_case_outside_the_callers_scope() {
    let w = World::start().await;
    let external = unique_name("XF-");
    let mut case = w
        .fake
        .case(&external, 1, &petition::id_number(11), Utc::now());
    case["region_code"] = OTHER_VILLAGE.into();
    // No ID number: nothing to match in the registry.
    if let Some(p) = case["petitioner"].as_object_mut() {
        p.remove("id_number");
    }
    let answer = w.fake.send(&case).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let case_id = answer.body["case_id"].as_str().expect("case id").to_owned();

    let csv = format!(
        "外部编号,版本,渠道,信访人,身份证号码,联系电话,区划代码,反映内容,收到时间\n\
         {external},2,来信,冒某,,,{v},改写的内容,{t}\n",
        v = VILLAGES[1],
        t = Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("tz"))
            .format("%Y-%m-%d %H:%M"),
    );
    let mut township = w
        .bridge
        .client("township-bureau", &["petition_bureau"], TOWN_SCOPE)
        .await;
    let report = township
        .import_cases(ImportCasesRequest {
            source_system: w.fake.name.clone(),
            file_name: "信访件.csv".into(),
            content: csv.into_bytes(),
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!(report.updated, 0, "{report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(report.errors[0].column, "区划代码");
    assert!(
        report.errors[0].reason.contains("管辖范围以外"),
        "{report:?}"
    );

    let mut county = w
        .bridge
        .client("county-bureau", &["petition_bureau"], COUNTY)
        .await;
    let stored = county
        .get_case(GetCaseRequest { case_id })
        .await
        .expect("case")
        .into_inner()
        .case
        .expect("case");
    assert_eq!(stored.region_code, OTHER_VILLAGE);
    assert!(!stored.content.contains("改写"), "{}", stored.content);
    w.stop().await;
}

/// Low (replayed signatures). Caught: the replay store kept the signature
/// header's text, so the same request with its MAC's hex upper-cased was
/// taken as new (a second `unchanged`, or a replayed update applied again).
/// Now the MAC's bytes are remembered: 409 and nothing written.
#[tokio::test]
async fn an_upper_cased_signature_is_refused_as_a_replay() {
    let w = World::start().await;
    let case = w
        .fake
        .case(&unique_name("XF-"), 1, &petition::id_number(12), Utc::now());
    let body = serde_json::to_vec(&case).expect("json");
    let ts = Utc::now().timestamp();
    let headers = w.fake.signed_headers(&body, ts);
    let first = w.fake.post_raw(&body, &headers).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let before = w.written().await;

    let mut shouted = headers.clone();
    for (name, value) in &mut shouted {
        if name == "x-zoufang-signature" {
            *value = format!("sha256={}", value["sha256=".len()..].to_uppercase());
        }
    }
    assert_ne!(shouted, headers);
    let again = w.fake.post_raw(&body, &shouted).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_eq!(w.written().await, before, "a replay writes nothing");
    w.stop().await;
}

/// Low (existence oracle). Caught: the webhook's answer said
/// `household_matched: true/false`, telling any source whether an ID number
/// belongs to a registered household. Now the answer has the same fields
/// whatever the match.
#[tokio::test]
async fn the_webhook_answers_alike_whether_or_not_a_household_matched() {
    let w = World::start().await;
    let known = petition::id_number(13);
    w.household(&known).await;
    let matched = w
        .fake
        .send(&w.fake.case(&unique_name("XF-"), 1, &known, Utc::now()))
        .await;
    let unmatched = w
        .fake
        .send(
            &w.fake
                .case(&unique_name("XF-"), 1, &petition::id_number(14), Utc::now()),
        )
        .await;
    assert_eq!(matched.status, unmatched.status);
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(keys(&matched.body), keys(&unmatched.body));
    for field in ["result", "stage"] {
        assert_eq!(matched.body[field], unmatched.body[field], "{field}");
    }
    assert!(
        matched.body.get("household_matched").is_none(),
        "{:?}",
        matched.body
    );
    w.stop().await;
}

/// Low (replay store retention). Caught: nothing tied the freshness window
/// to how long MACs are remembered (7 days); a window of 8 days made a
/// captured request fresh again after the store forgot it. Now the bridge
/// refuses to start.
#[tokio::test]
async fn the_bridge_refuses_a_freshness_window_past_the_replay_retention() {
    let mut config = petition::petition_config(&unique_name("zft"), 1, "http://127.0.0.1:9");
    config.signature_window_secs = 8 * 86_400;
    let err = zoufang_petition::app::Application::build(config)
        .await
        .expect_err("the bridge started with an 8-day freshness window");
    assert!(
        format!("{err:#}").contains("SIGNATURE_WINDOW_SECS"),
        "{err:#}"
    );
}

/// Publishes to the bridge's AMQP door (waiting for its exchange first).
struct Door {
    conn: lapin::Connection,
    ch: lapin::Channel,
    exchange: String,
    parking: String,
}

impl Door {
    async fn open(w: &World) -> Self {
        let conn = zoufang_bus::connect(&zoufang_e2e::amqp_url(), "test-source")
            .await
            .expect("amqp");
        let ch = zoufang_bus::confirm_channel(&conn).await.expect("channel");
        let exchange = w.bridge.config.inbound_exchange.clone();
        eventually(Duration::from_secs(15), || async {
            let probe = conn.create_channel().await.ok()?;
            probe
                .exchange_declare(
                    exchange.clone().into(),
                    lapin::ExchangeKind::Topic,
                    lapin::options::ExchangeDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    Default::default(),
                )
                .await
                .ok()
        })
        .await
        .expect("the inbound exchange is declared");
        Self {
            conn,
            ch,
            exchange,
            parking: format!("{}.parking", w.bridge.config.inbound_queue),
        }
    }

    async fn publish(&self, body: &[u8], props: lapin::BasicProperties) {
        self.ch
            .basic_publish(
                self.exchange.clone().into(),
                "county.xinfang".into(),
                lapin::options::BasicPublishOptions::default(),
                body,
                props,
            )
            .await
            .expect("publish")
            .await
            .expect("confirm");
    }

    /// Takes every parked message's `zf-last-error`.
    async fn parked_reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(msg) = self
            .ch
            .basic_get(
                self.parking.clone().into(),
                lapin::options::BasicGetOptions { no_ack: true },
            )
            .await
            .expect("basic.get")
        {
            let headers = msg
                .delivery
                .properties
                .headers()
                .as_ref()
                .map(zoufang_bus::headers_to_map)
                .unwrap_or_default();
            out.push(headers.get("zf-last-error").cloned().unwrap_or_default());
        }
        out
    }

    async fn close(self) {
        let _ = self.conn.close(200, "done".into()).await;
    }
}

/// Medium 6. Caught: the AMQP door took any broker user's message as a
/// case: an unsigned one was created, matched by ID number and its household
/// tagged 重点信访. Now each message carries the webhook's signature in AMQP
/// headers; unsigned, forged (another secret) and stale ones are parked with
/// the reason and write nothing, and a signed one is taken in.
#[tokio::test]
async fn the_amqp_door_takes_only_signed_fresh_messages() {
    let w = World::start().await;
    let victim_id = petition::id_number(21);
    let victim = w.household(&victim_id).await;
    let real_id = petition::id_number(22);
    let real = w.household(&real_id).await;
    let door = Door::open(&w).await;
    let before = w.written().await;

    let forged_case = w
        .fake
        .case(&unique_name("FORGED-"), 1, &victim_id, Utc::now());
    let body = serde_json::to_vec(&forged_case).expect("json");
    let now = Utc::now().timestamp();
    // Unsigned, as any broker user could publish it.
    door.publish(&body, lapin::BasicProperties::default()).await;
    // Forged: the right headers, signed with a guessed secret.
    let mut forger = w.fake.signed_properties(&body, now);
    let mut headers = forger.headers().clone().unwrap_or_default();
    headers.insert(
        "x-zoufang-signature".into(),
        lapin::types::AMQPValue::LongString(
            signing::sign(b"guessed-secret-0123456789", now, &body)
                .as_str()
                .into(),
        ),
    );
    forger = forger.with_headers(headers);
    door.publish(&body, forger).await;
    // Stale: correctly signed an hour ago (a captured message).
    door.publish(&body, w.fake.signed_properties(&body, now - 3600))
        .await;
    // Signed and fresh.
    let external = unique_name("XF-");
    let good = serde_json::to_vec(&w.fake.case(&external, 1, &real_id, Utc::now())).expect("json");
    door.publish(&good, w.fake.signed_properties(&good, now))
        .await;

    // The door handles messages in order: once the signed one is in, the
    // three before it were refused.
    let tagged = eventually(Duration::from_secs(30), || async {
        w.tags(&real)
            .await
            .iter()
            .any(|t| t == "重点信访")
            .then_some(())
    })
    .await;
    assert!(tagged.is_some(), "the signed case tagged its household");
    assert!(
        !w.tags(&victim).await.iter().any(|t| t == "重点信访"),
        "a refused message tagged a household"
    );
    let forged_cases: i64 =
        sqlx::query_scalar("SELECT count(*) FROM petition.cases WHERE external_id LIKE 'FORGED-%'")
            .fetch_one(&w.bridge.service.pool)
            .await
            .expect("count");
    assert_eq!(forged_cases, 0, "a refused message created a case");
    let after = w.written().await;
    assert_eq!(after[0], before[0] + 1, "only the signed case was created");

    let reasons = eventually(Duration::from_secs(15), || async {
        let r = door.parked_reasons().await;
        (!r.is_empty()).then_some(r)
    })
    .await
    .unwrap_or_default();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().all(|r| r.starts_with("unauthenticated")),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("does not match"), "{reasons:?}");
    assert!(reasons[2].contains("older or newer"), "{reasons:?}");
    door.close().await;
    w.stop().await;
}

/// Medium 11 (petition callbacks). Caught: RegisterSource took any http(s)
/// callback URL, so the bridge would post answers to the cloud metadata
/// service or inside the private network. Now a callback must be https to a
/// public address unless the operator allows it (tests allow 127.0.0.1), and
/// the error names `callback_url`.
#[tokio::test]
async fn petition_callbacks_to_inside_addresses_are_refused() {
    let w = World::start().await;
    let before = w.source().await;
    let mut admin = w
        .bridge
        .client("county-admin", &["county_admin"], COUNTY)
        .await;
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/answers",
        "https://127.0.0.2:15672/api/overview",
        "https://[::ffff:192.168.1.1]/answers",
        "https://[fd00::1]/answers",
        "http://example.com/answers",
    ] {
        let err = admin
            .register_source(RegisterSourceRequest {
                source_system: w.fake.name.clone(),
                display_name: "常宁市信访信息系统".into(),
                region_code: COUNTY.into(),
                callback_url: url.into(),
                secret: w.fake.secret.clone(),
            })
            .await
            .expect_err(url);
        assert_eq!(err.code(), Code::InvalidArgument, "{url}: {err:?}");
        assert!(err.message().contains("callback_url"), "{url}: {err:?}");
    }
    assert_eq!(w.source().await, before, "nothing was written");

    // Stored before the rule (or allowed then): refused at send time, and
    // the handlers see a generic reason, not the address or the error.
    sqlx::query("UPDATE petition.sources SET callback_url = $2 WHERE source_system = $1")
        .bind(&w.fake.name)
        .bind(
            w.fake
                .answers
                .url("/answers")
                .replace("127.0.0.1", "localhost"),
        )
        .execute(&w.bridge.service.pool)
        .await
        .expect("point the callback inside");
    let external = unique_name("XF-");
    let case = w
        .fake
        .case(&external, 1, &petition::id_number(31), Utc::now());
    let answer = w.fake.send(&case).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let case_id = answer.body["case_id"].as_str().expect("case id").to_owned();
    let mut bureau = w
        .bridge
        .client("county-bureau", &["petition_bureau"], COUNTY)
        .await;
    bureau
        .accept_case(zoufang_proto::petition::v1::AcceptCaseRequest {
            case_id: case_id.clone(),
            ..Default::default()
        })
        .await
        .expect("accept");
    let failed = eventually(Duration::from_secs(20), || {
        let mut bureau = bureau.clone();
        let case_id = case_id.clone();
        async move {
            bureau
                .list_replies(zoufang_proto::petition::v1::ListRepliesRequest { case_id })
                .await
                .ok()?
                .into_inner()
                .replies
                .into_iter()
                .find(|r| !r.last_error.is_empty())
        }
    })
    .await
    .expect("the answer push failed");
    assert_eq!(
        failed.last_error,
        zoufang_core::outbound::GENERIC_REFUSAL,
        "{failed:?}"
    );
    assert!(
        w.fake.answers.requests_matching(&external).is_empty(),
        "an answer reached the inside address"
    );
    w.stop().await;
}

/// Medium 11 (notify subscriptions). Caught: a township admin could
/// subscribe a webhook or robot to any http(s) URL — the broker's
/// management API on loopback, the metadata service — and read the answer
/// in the delivery's failure reason. Now: https to public addresses only
/// unless allowed (tests allow 127.0.0.1), refused at registration naming
/// `subscription.url`, checked again at send time, and the failure reason
/// never quotes the receiver (the errcode stays, the text goes to the log).
#[tokio::test]
async fn webhook_subscriptions_reach_only_public_addresses_and_fail_generically() {
    use zoufang_proto::notify::v1::{
        Channel, CreateSubscriptionRequest, DeliveryState, ListDeliveriesRequest, Subscription,
    };
    let database = unique_name("zft");
    let robot = zoufang_e2e::fake_http::FakeHttp::start().await;
    let notify = zoufang_e2e::TestNotify::start(&database, Clock::system(), |_| {}).await;
    let mut admin = notify
        .client(
            "township-admin",
            &["township_admin"],
            zoufang_e2e::fixtures::TOWNSHIP,
        )
        .await;
    let subscribe = |channel: Channel, url: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            name: "信访工作群".into(),
            channel: channel as i32,
            region_code: zoufang_e2e::fixtures::TOWNSHIP.into(),
            url: url.into(),
            secret: "webhook-secret-0123456789".into(),
            kinds: vec!["petition.received".into()],
            request_id: Uuid::new_v4().to_string(),
            ..Subscription::default()
        }),
    };
    for url in [
        "https://127.0.0.2:15672/api/overview",
        "http://localhost:15672/api/overview",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://0.0.0.0/hook",
    ] {
        let err = admin
            .create_subscription(subscribe(Channel::Webhook, url))
            .await
            .expect_err(url);
        assert_eq!(err.code(), Code::InvalidArgument, "{url}: {err:?}");
        assert!(err.message().contains("subscription.url"), "{url}: {err:?}");
    }

    // A robot (allowed here) answering with text of its own: the reason
    // keeps the errcode, not the text.
    robot.respond_with(
        200,
        serde_json::json!({"errcode": 93000, "errmsg": "INSIDE-ANSWER {\"management_version\":\"4.0\"}"}),
    );
    admin
        .create_subscription(subscribe(
            Channel::Wecom,
            &robot.url("/cgi-bin/webhook/send?key=k"),
        ))
        .await
        .expect("an allowed robot");
    // A webhook registered while allowed, its URL since pointing inside by
    // name: refused at send time.
    let hook = zoufang_e2e::fake_http::FakeHttp::start().await;
    let sub = admin
        .create_subscription(subscribe(Channel::Webhook, &hook.url("/hook")))
        .await
        .expect("an allowed webhook")
        .into_inner()
        .subscription
        .expect("subscription");
    sqlx::query("UPDATE notify.subscriptions SET url = $2 WHERE subscription_id = $1::uuid")
        .bind(&sub.subscription_id)
        .bind(hook.url("/hook").replace("127.0.0.1", "localhost"))
        .execute(&notify.state.pool)
        .await
        .expect("point the webhook inside");

    let case_id = Uuid::new_v4().to_string();
    notify
        .publish(
            catalogue::petition::RECEIVED,
            &zoufang_proto::events::v1::PetitionCaseChanged {
                case_id: case_id.clone(),
                change: zoufang_proto::events::v1::CaseChange::Received.into(),
                external_id: "XF-2026-001".into(),
                source_system: "县信访信息系统".into(),
                channel: "网上".into(),
                region_code: zoufang_e2e::fixtures::VILLAGES[1].into(),
                kind: "petition".into(),
                summary: "宅基地纠纷".into(),
                due_at: Some(zoufang_core::fields::to_timestamp(
                    Utc::now() + chrono::Duration::days(15),
                )),
                ..Default::default()
            },
        )
        .await;
    let county_admin = notify
        .client(
            "county-admin",
            &["county_admin"],
            zoufang_e2e::fixtures::COUNTY,
        )
        .await;
    let failed = eventually(Duration::from_secs(20), || {
        let mut admin = county_admin.clone();
        async move {
            let d = admin
                .list_deliveries(ListDeliveriesRequest {
                    region_code: zoufang_e2e::fixtures::COUNTY.into(),
                    state: DeliveryState::Failed as i32,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .deliveries;
            (d.len() == 2).then_some(d)
        }
    })
    .await;
    let failed = failed.expect("both deliveries failed");
    for d in &failed {
        assert!(!d.last_error.contains("INSIDE"), "{d:?}");
        assert!(!d.last_error.contains("localhost"), "{d:?}");
    }
    let reasons: Vec<_> = failed.iter().map(|d| d.last_error.as_str()).collect();
    assert!(reasons.contains(&"errcode 93000"), "{reasons:?}");
    assert!(
        reasons.contains(&zoufang_core::outbound::GENERIC_REFUSAL),
        "{reasons:?}"
    );
    assert!(hook.requests().is_empty(), "the webhook reached inside");
    notify.stop().await;
}
