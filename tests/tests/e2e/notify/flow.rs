//! The notification service on real PostgreSQL and RabbitMQ, with local
//! fake HTTP servers standing in for the SMS provider and the webhook
//! receiver: assignments reach the inbox and the webhook exactly once with
//! a valid signature, failing webhooks are retried, redeliveries page
//! nobody, night SMS waits for the morning, overdue items climb the ladder.
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use prost::Message as _;
use uuid::Uuid;
use zoufang_core::clock::Clock;
use zoufang_core::{auth::roles, fields::to_timestamp};
use zoufang_e2e::{
    Notify, TestNotify, eventually, fake_http::FakeHttp, fixtures, ledger::TestLedger, quiet::Lane,
};
use zoufang_notify::{channels::verify_webhook, domain::beijing};
use zoufang_proto::catalogue;
use zoufang_proto::{
    common::v1::ItemKind,
    events::v1::{CaseChange, IssueChange, IssueChanged},
    issues::v1::{AssignIssueRequest, CreateIssueRequest, IssueSource},
    notify::v1::*,
};

const SECRET: &str = "webhook-secret-0123456789";

/// Beijing wall-clock time as UTC.
fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    beijing()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a Beijing time")
        .with_timezone(&Utc)
}

async fn admin(n: &TestNotify) -> Notify {
    n.client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await
}

/// Puts a person in the directory.
async fn person(c: &mut Notify, id: &str, role: &str, region: &str, phone: &str) {
    c.upsert_recipient(UpsertRecipientRequest {
        recipient: Some(Recipient {
            recipient_id: id.into(),
            name: format!("测试{id}"),
            roles: vec![role.into()],
            region_code: region.into(),
            phone: phone.into(),
            active: true,
        }),
        deactivate: false,
    })
    .await
    .expect("upsert recipient");
}

async fn no_quiet_hours(c: &mut Notify, id: &str) {
    c.set_preferences(SetPreferencesRequest {
        preferences: Some(Preferences {
            recipient_id: id.into(),
            sms_enabled: true,
            digest_enabled: true,
            quiet_start_minute: 0,
            quiet_end_minute: 0,
            muted_kinds: vec![],
        }),
    })
    .await
    .expect("set preferences");
}

async fn inbox(c: &mut Notify) -> Vec<Notification> {
    c.list_inbox(ListInboxRequest::default())
        .await
        .expect("list inbox")
        .into_inner()
        .notifications
}

async fn inbox_of(n: &TestNotify, who: &str) -> Vec<Notification> {
    let mut c = n.client(who, &[roles::CADRE], fixtures::COUNTY).await;
    inbox(&mut c).await
}

/// An issue event as the ledger would publish it.
fn issue_event(issue_id: &str, change: IssueChange, cadre: &str, priority: &str) -> IssueChanged {
    IssueChanged {
        issue_id: issue_id.into(),
        change: change.into(),
        region_code: fixtures::VILLAGES[0].into(),
        state: catalogue::issues::verb_of(change)
            .unwrap_or_default()
            .into(),
        kind: ItemKind::Problem as i32,
        category: "道路交通".into(),
        priority: priority.into(),
        responsible_cadre_id: cadre.into(),
        deadline: Some(to_timestamp(Utc::now() + chrono::Duration::days(3))),
        description: "村道路灯损坏".into(),
        ..IssueChanged::default()
    }
}

#[tokio::test]
async fn an_assignment_reaches_the_inbox_and_the_webhook_exactly_once_despite_failures() {
    let stack = TestLedger::start(3600).await;
    let webhook = FakeHttp::start().await;
    let sms = FakeHttp::start().await;
    let notify = TestNotify::start(&stack.registry.database, Clock::system(), |c| {
        c.sms_provider_url = Some(sms.url("/sms/send"));
        c.sms_provider_token = "sms-token".into();
        c.delivery_backoff_ms = 200;
    })
    .await;
    let mut admin_client = admin(&notify).await;
    let cadre = stack.cadre("周飞好", "430426104").await;
    person(
        &mut admin_client,
        &cadre,
        roles::CADRE,
        fixtures::VILLAGES[0],
        "13812345678",
    )
    .await;
    no_quiet_hours(&mut admin_client, &cadre).await;
    let sub = admin_client
        .create_subscription(CreateSubscriptionRequest {
            subscription: Some(Subscription {
                name: "乡镇工作群".into(),
                channel: Channel::Webhook as i32,
                region_code: fixtures::TOWNSHIP.into(),
                url: webhook.url("/hook"),
                secret: SECRET.into(),
                kinds: vec!["issue.assigned".into()],
                request_id: Uuid::new_v4().to_string(),
                ..Subscription::default()
            }),
        })
        .await
        .expect("subscribe")
        .into_inner()
        .subscription
        .expect("subscription");
    assert!(sub.secret.is_empty(), "the secret is never shown again");
    let mut tap = zoufang_e2e::tap::Tap::bind(catalogue::issues::ASSIGNED).await;

    // A township admin records a reception item and assigns it to the cadre.
    let mut ledger = stack
        .issues
        .issues_client("admin-1", &[roles::TOWNSHIP_ADMIN], "430426104")
        .await;
    let created = ledger
        .create_issue(CreateIssueRequest {
            issue_id: Uuid::new_v4().to_string(),
            source: IssueSource::Reception as i32,
            region_code: fixtures::VILLAGES[0].into(),
            kind: ItemKind::Problem as i32,
            category: "民生工程".into(),
            description: "村道路灯损坏".into(),
            ..Default::default()
        })
        .await
        .expect("create issue")
        .into_inner()
        .issue
        .expect("issue");
    // The receiver is down for this item's first two attempts. (Other
    // tests' items may reach this webhook too: the ledger publishes to the
    // shared exchange, so everything below counts this item's requests.)
    let needle = created.issue_id.clone();
    webhook.fail_next_matching(2, 503, &needle);
    ledger
        .assign_issue(AssignIssueRequest {
            issue_id: created.issue_id.clone(),
            expected_version: created.version,
            cadre_id: cadre.clone(),
            deadline_days: 7,
            note: String::new(),
        })
        .await
        .expect("assign");

    // The inbox has it, with a link to the item.
    let mine = eventually(Duration::from_secs(15), || async {
        let got = inbox_of(&notify, &cadre).await;
        (!got.is_empty()).then_some(got)
    })
    .await
    .expect("the assignment reaches the cadre's inbox");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].kind, "issue.assigned");
    assert!(mine[0].title.contains("民生工程"), "{}", mine[0].title);
    assert!(
        mine[0]
            .link
            .ends_with(&format!("/issues/{}", created.issue_id))
    );

    // The webhook failed twice, then took it: three requests, one delivery.
    let hooks = webhook
        .wait_for_matching(3, Duration::from_secs(20), &needle)
        .await;
    let ok = &hooks[2];
    let verified = verify_webhook(
        SECRET,
        ok.header("x-zoufang-timestamp").unwrap_or_default(),
        ok.header("x-zoufang-signature").unwrap_or_default(),
        &ok.body,
        Utc::now(),
        300,
    );
    assert!(verified, "the webhook carries a valid signature");
    assert!(!verify_webhook(
        "another-secret-0123456789",
        ok.header("x-zoufang-timestamp").unwrap_or_default(),
        ok.header("x-zoufang-signature").unwrap_or_default(),
        &ok.body,
        Utc::now(),
        300,
    ));
    assert_eq!(ok.json()["kind"], "issue.assigned");
    assert_eq!(ok.json()["subject_id"], created.issue_id.as_str());
    let ids: Vec<_> = hooks
        .iter()
        .map(|h| h.header("x-zoufang-delivery").map(str::to_owned))
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "retries carry one delivery id"
    );
    let sent = sms
        .wait_for_matching(1, Duration::from_secs(10), &needle)
        .await;
    assert_eq!(sent[0].json()["phone"], "13812345678");
    assert_eq!(sent[0].header("authorization"), Some("Bearer sms-token"));
    assert!(
        sent[0].json()["text"]
            .as_str()
            .unwrap_or_default()
            .contains("民生工程")
    );

    // The receiver has answered; the delivery's state follows a moment later.
    let hook = eventually(Duration::from_secs(10), || {
        let mut c = admin_client.clone();
        let (sub_id, issue_id) = (sub.subscription_id.clone(), created.issue_id.clone());
        async move {
            c.list_deliveries(ListDeliveriesRequest {
                region_code: fixtures::COUNTY.into(),
                channel: Channel::Webhook as i32,
                ..Default::default()
            })
            .await
            .expect("list deliveries")
            .into_inner()
            .deliveries
            .into_iter()
            .find(|d| {
                d.target == sub_id
                    && d.fact_key.contains(&issue_id)
                    && d.state == DeliveryState::Sent as i32
            })
        }
    })
    .await
    .expect("the webhook delivery is sent");
    assert_eq!(hook.attempts, 3);

    // Redeliver the same event, and replay it under a new event id: the
    // same fact pages nobody again.
    let seen = tap
        .collect(1, Duration::from_secs(5), |s| {
            IssueChanged::decode(s.payload.as_slice()).is_ok_and(|i| i.issue_id == created.issue_id)
        })
        .await;
    notify
        .redeliver(&seen[0].payload, seen[0].envelope.clone())
        .await;
    let mut replay = seen[0].envelope.clone();
    replay.id = Uuid::now_v7();
    notify.redeliver(&seen[0].payload, replay).await;
    // Both applied (or dropped) and whatever they queued dispatched.
    notify.settle(&Lane::of(&seen[0].envelope)).await;
    assert_eq!(inbox_of(&notify, &cadre).await.len(), 1, "one inbox row");
    assert_eq!(
        webhook.requests_matching(&needle).len(),
        3,
        "no further webhook call"
    );
    assert_eq!(sms.requests_matching(&needle).len(), 1, "no second SMS");

    notify.stop().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_night_sms_waits_for_the_morning_unless_urgent() {
    let database = zoufang_e2e::unique_name("zft");
    let sms = FakeHttp::start().await;
    let clock = Clock::manual(bj(2026, 11, 29, 23, 0));
    let notify = TestNotify::start(&database, clock.clone(), |c| {
        c.sms_provider_url = Some(sms.url("/sms/send"));
    })
    .await;
    let mut admin_client = admin(&notify).await;
    let cadre = format!("cadre-{}", Uuid::new_v4());
    person(
        &mut admin_client,
        &cadre,
        roles::CADRE,
        fixtures::VILLAGES[0],
        "13912345678",
    )
    .await;
    let mut cadre_client = notify
        .client(&cadre, &[roles::CADRE], fixtures::VILLAGES[0])
        .await;
    let mut stream = cadre_client
        .stream_inbox(StreamInboxRequest {})
        .await
        .expect("open the inbox stream")
        .into_inner();

    let routine = Uuid::new_v4().to_string();
    let routine_event = notify
        .publish(
            catalogue::issues::ASSIGNED,
            &issue_event(&routine, IssueChange::Assigned, &cadre, "normal"),
        )
        .await;
    // The inbox has it at once, and the stream pushes it.
    let pushed = tokio::time::timeout(Duration::from_secs(15), stream.next())
        .await
        .expect("the stream pushes the new notification")
        .expect("stream open")
        .expect("a notification")
        .notification
        .expect("with its notification");
    assert_eq!(
        (pushed.kind.as_str(), pushed.subject_id.as_str()),
        ("issue.assigned", routine.as_str())
    );
    // The SMS waits until 07:00: the event applied and a dispatch round
    // after it, nothing due is left, and nothing was sent.
    notify.settle(&Lane::of(&routine_event)).await;
    assert!(
        sms.requests().is_empty(),
        "no SMS at 23:00 for a routine item"
    );
    let held = sqlx::query_scalar::<_, DateTime<Utc>>(
        "SELECT next_at FROM notify.deliveries WHERE channel = 'sms' AND subject_id = $1",
    )
    .bind(&routine)
    .fetch_one(&notify.service.pool)
    .await
    .expect("the held SMS");
    assert_eq!(held, bj(2026, 11, 30, 7, 0));

    // An urgent item goes out at night.
    clock.advance(chrono::Duration::minutes(5));
    let urgent = Uuid::new_v4().to_string();
    notify
        .publish(
            catalogue::issues::ASSIGNED,
            &issue_event(&urgent, IssueChange::Assigned, &cadre, "urgent"),
        )
        .await;
    let first = sms.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(first.len(), 1, "only the urgent SMS at night");
    assert_eq!(first[0].json()["phone"], "13912345678");

    // Morning: the held one goes.
    clock.set(bj(2026, 11, 30, 7, 0) + chrono::Duration::seconds(1));
    let both = sms.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(both.len(), 2);

    // The inbox: unread first, newest first, pages, mark read, counts.
    let page = cadre_client
        .list_inbox(ListInboxRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(page.unread_count, 2);
    assert_eq!(page.notifications.len(), 1);
    assert!(!page.next_page_token.is_empty());
    let newest = page.notifications[0].notification_id.clone();
    assert_eq!(page.notifications[0].subject_id, urgent);
    let marked = cadre_client
        .mark_read(MarkReadRequest {
            notification_ids: vec![newest.clone()],
            all: false,
        })
        .await
        .expect("mark read")
        .into_inner();
    assert_eq!((marked.marked, marked.unread_count), (1, 1));
    let all = inbox(&mut cadre_client).await;
    assert_eq!(all[0].subject_id, routine, "unread before read");
    assert!(all[1].read_at.is_some());
    let bad = cadre_client
        .mark_read(MarkReadRequest {
            notification_ids: vec!["nope".into()],
            all: false,
        })
        .await
        .expect_err("a bad id is refused");
    assert!(
        bad.message().contains("notification_ids[0]"),
        "{}",
        bad.message()
    );

    notify.stop().await;
}

#[tokio::test]
async fn an_overdue_item_climbs_the_ladder_and_the_digest_lists_it() {
    let database = zoufang_e2e::unique_name("zft");
    let clock = Clock::manual(bj(2026, 11, 29, 7, 0));
    let notify = TestNotify::start(&database, clock.clone(), |c| {
        c.escalation_step_secs = 3600;
    })
    .await;
    let mut admin_client = admin(&notify).await;
    let cadre = format!("cadre-{}", Uuid::new_v4());
    let township = format!("town-{}", Uuid::new_v4());
    let other_township = format!("town-{}", Uuid::new_v4());
    let county = format!("county-{}", Uuid::new_v4());
    person(
        &mut admin_client,
        &cadre,
        roles::CADRE,
        fixtures::VILLAGES[0],
        "",
    )
    .await;
    person(
        &mut admin_client,
        &township,
        roles::TOWNSHIP_ADMIN,
        fixtures::TOWNSHIP,
        "",
    )
    .await;
    person(
        &mut admin_client,
        &other_township,
        roles::TOWNSHIP_ADMIN,
        fixtures::OTHER_TOWNSHIP,
        "",
    )
    .await;
    person(
        &mut admin_client,
        &county,
        roles::COUNTY_ADMIN,
        "430426000000",
        "",
    )
    .await;

    let issue_id = Uuid::new_v4().to_string();
    notify
        .publish(
            catalogue::issues::OVERDUE,
            &issue_event(&issue_id, IssueChange::Overdue, &cadre, "normal"),
        )
        .await;
    let kinds_of = |who: String| {
        let n = &notify;
        let issue_id = issue_id.clone();
        async move {
            // Other tests' events reach this service too; count ours.
            inbox_of(n, &who)
                .await
                .into_iter()
                .filter(|x| x.subject_type == "digest" || x.subject_id == issue_id)
                .map(|x| x.kind)
                .collect::<Vec<_>>()
        }
    };
    let got = eventually(Duration::from_secs(15), || async {
        let k = kinds_of(cadre.clone()).await;
        (!k.is_empty()).then_some(k)
    })
    .await;
    assert_eq!(got, Some(vec!["issue.overdue".to_owned()]));
    assert!(
        kinds_of(township.clone()).await.is_empty(),
        "not yet the township"
    );

    // An hour later the township hears; not the other township.
    clock.advance(chrono::Duration::seconds(3601));
    let got = eventually(Duration::from_secs(15), || async {
        let k = kinds_of(township.clone()).await;
        (!k.is_empty()).then_some(k)
    })
    .await;
    assert_eq!(got, Some(vec!["issue.overdue.township".to_owned()]));
    assert!(kinds_of(other_township.clone()).await.is_empty());
    assert!(
        kinds_of(county.clone()).await.is_empty(),
        "not yet the county"
    );

    // After 08:00 the cadre's digest lists it, once.
    let digest = eventually(Duration::from_secs(15), || async {
        inbox_of(&notify, &cadre)
            .await
            .into_iter()
            .find(|x| x.kind == "digest")
    })
    .await
    .expect("the daily digest");
    assert!(digest.body.contains("[超期]"), "{}", digest.body);
    assert!(digest.title.contains("1项"), "{}", digest.title);

    // Resolved: the ladder stops before the county. Applied first; then an
    // hour later a dispatch round has run and nothing is due: an item left
    // on the ladder would have climbed to the county by then.
    let resolved = notify
        .publish(
            catalogue::issues::RESOLVED,
            &issue_event(&issue_id, IssueChange::Resolved, &cadre, "normal"),
        )
        .await;
    notify.settle(&Lane::of(&resolved)).await;
    clock.advance(chrono::Duration::seconds(3601));
    notify.settle(&Lane::of(&resolved)).await;
    assert!(
        kinds_of(county.clone()).await.is_empty(),
        "a resolved item does not reach the county"
    );
    let digests = kinds_of(cadre.clone())
        .await
        .iter()
        .filter(|k| *k == "digest")
        .count();
    assert_eq!(digests, 1, "one digest a day");

    notify.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_templates_are_data() {
    let database = zoufang_e2e::unique_name("zft");
    let notify = TestNotify::start(&database, Clock::system(), |_| {}).await;
    let mut admin_client = admin(&notify).await;

    let err = admin_client
        .upsert_recipient(UpsertRecipientRequest {
            recipient: Some(Recipient {
                recipient_id: "c-1".into(),
                name: "张三".into(),
                roles: vec![roles::CADRE.into()],
                region_code: fixtures::VILLAGES[0].into(),
                phone: "12345".into(),
                active: true,
            }),
            deactivate: false,
        })
        .await
        .expect_err("a bad phone is refused");
    assert!(
        err.message().contains("recipient.phone"),
        "{}",
        err.message()
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM notify.recipients")
        .fetch_one(&notify.service.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0, "nothing written");

    // A township admin cannot add people in another township.
    let mut town = notify
        .client("town-1", &[roles::TOWNSHIP_ADMIN], "430426104")
        .await;
    let err = town
        .upsert_recipient(UpsertRecipientRequest {
            recipient: Some(Recipient {
                recipient_id: "c-2".into(),
                name: "李四".into(),
                roles: vec![roles::CADRE.into()],
                region_code: fixtures::OTHER_VILLAGE.into(),
                ..Recipient::default()
            }),
            deactivate: false,
        })
        .await
        .expect_err("outside the scope");
    assert_eq!(err.code(), tonic::Code::PermissionDenied);

    // The phone is stored encrypted and shown masked.
    let saved = admin_client
        .upsert_recipient(UpsertRecipientRequest {
            recipient: Some(Recipient {
                recipient_id: "c-3".into(),
                name: "王五".into(),
                roles: vec![roles::CADRE.into()],
                region_code: fixtures::VILLAGES[0].into(),
                phone: "13812345678".into(),
                active: true,
            }),
            deactivate: false,
        })
        .await
        .expect("upsert")
        .into_inner()
        .recipient
        .expect("recipient");
    assert_eq!(saved.phone, "138****5678");
    let raw: Vec<u8> =
        sqlx::query_scalar("SELECT phone_enc FROM notify.recipients WHERE recipient_id = 'c-3'")
            .fetch_one(&notify.service.pool)
            .await
            .expect("row");
    assert!(!String::from_utf8_lossy(&raw).contains("13812345678"));

    // A template with a misspelt placeholder is refused; a good edit is used
    // by the next message. Templates are shared by every county: only the
    // administrator of everything edits them.
    let mut system_admin = notify.client("root", &[roles::COUNTY_ADMIN], "").await;
    let err = system_admin
        .update_template(UpdateTemplateRequest {
            template: Some(Template {
                kind: "issue.assigned".into(),
                title: "新任务：{{categroy}}".into(),
                body: "{{description}}".into(),
                ..Template::default()
            }),
            expected_version: 0,
        })
        .await
        .expect_err("unknown placeholder");
    assert!(
        err.message().contains("template.title"),
        "{}",
        err.message()
    );
    let updated = system_admin
        .update_template(UpdateTemplateRequest {
            template: Some(Template {
                kind: "issue.assigned".into(),
                title: "请办理：{{category}}".into(),
                body: "{{description}}，时限{{deadline}}".into(),
                sms_body: String::new(),
                ..Template::default()
            }),
            expected_version: 1,
        })
        .await
        .expect("update")
        .into_inner()
        .template
        .expect("template");
    assert_eq!(updated.version, 2);
    let stale = system_admin
        .update_template(UpdateTemplateRequest {
            template: Some(updated.clone()),
            expected_version: 1,
        })
        .await
        .expect_err("a stale version is refused");
    assert_eq!(stale.code(), tonic::Code::Aborted);
    let issue_id = Uuid::new_v4().to_string();
    notify
        .publish(
            catalogue::issues::ASSIGNED,
            &issue_event(&issue_id, IssueChange::Assigned, "c-3", "normal"),
        )
        .await;
    let got = eventually(Duration::from_secs(15), || async {
        inbox_of(&notify, "c-3").await.into_iter().next()
    })
    .await
    .expect("the notification");
    assert_eq!(got.title, "请办理：道路交通");

    // Someone else's inbox stays theirs.
    let mut stranger = notify
        .client("c-4", &[roles::CADRE], fixtures::COUNTY)
        .await;
    assert!(inbox(&mut stranger).await.is_empty());
    notify.stop().await;
}

#[tokio::test]
async fn group_robots_get_their_vendors_formats_and_a_refusal_fails_with_its_reason() {
    let database = zoufang_e2e::unique_name("zft");
    let wecom = FakeHttp::start().await;
    let dingtalk = FakeHttp::start().await;
    let notify = TestNotify::start(&database, Clock::system(), |_| {}).await;
    let mut admin_client = admin(&notify).await;
    let bureau = format!("bureau-{}", Uuid::new_v4());
    person(
        &mut admin_client,
        &bureau,
        roles::PETITION_BUREAU,
        "430426000000",
        "",
    )
    .await;
    let subscribe = |channel: Channel, url: String, secret: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            name: "信访工作群".into(),
            channel: channel as i32,
            region_code: fixtures::TOWNSHIP.into(),
            url,
            secret: secret.into(),
            kinds: vec!["petition.received".into()],
            request_id: Uuid::new_v4().to_string(),
            ..Subscription::default()
        }),
    };
    let ding_secret = "SEC0123456789abcdef";
    admin_client
        .create_subscription(subscribe(
            Channel::Dingtalk,
            dingtalk.url("/robot/send?access_token=tok"),
            ding_secret,
        ))
        .await
        .expect("dingtalk");
    admin_client
        .create_subscription(subscribe(
            Channel::Wecom,
            wecom.url("/cgi-bin/webhook/send?key=k"),
            "",
        ))
        .await
        .expect("wecom");
    // The WeCom robot refuses the key: a permanent failure.
    wecom.respond_with(
        200,
        serde_json::json!({"errcode": 93000, "errmsg": "invalid webhook url"}),
    );

    let case_id = Uuid::new_v4().to_string();
    let received = notify
        .publish(
            catalogue::petition::RECEIVED,
            &zoufang_proto::events::v1::PetitionCaseChanged {
                case_id: case_id.clone(),
                change: CaseChange::Received.into(),
                external_id: "XF-2026-001".into(),
                source_system: "县信访信息系统".into(),
                channel: "网上".into(),
                region_code: fixtures::VILLAGES[1].into(),
                kind: "petition".into(),
                summary: "宅基地纠纷".into(),
                due_at: Some(to_timestamp(Utc::now() + chrono::Duration::days(15))),
                ..Default::default()
            },
        )
        .await;

    // DingTalk: signed query, markdown message.
    let ding = dingtalk
        .wait_for_matching(1, Duration::from_secs(15), &case_id)
        .await;
    let query: std::collections::HashMap<_, _> = ding[0]
        .query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let ts: i64 = query["timestamp"].parse().expect("a millisecond timestamp");
    assert_eq!(query["access_token"], "tok");
    assert_eq!(
        query["sign"],
        zoufang_notify::channels::dingtalk_sign(ding_secret, ts)
    );
    let msg = ding[0].json();
    assert_eq!(msg["msgtype"], "markdown");
    assert!(
        msg["markdown"]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("宅基地纠纷")
    );

    // WeCom: tried once, failed with the robot's reason, not retried.
    let sent = wecom
        .wait_for_matching(1, Duration::from_secs(15), "宅基地纠纷")
        .await;
    assert_eq!(sent[0].json()["msgtype"], "markdown");
    let failed = eventually(Duration::from_secs(10), || async {
        let mut c = admin(&notify).await;
        c.list_deliveries(ListDeliveriesRequest {
            region_code: fixtures::COUNTY.into(),
            state: DeliveryState::Failed as i32,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .deliveries
        .into_iter()
        .find(|d| d.channel == Channel::Wecom as i32)
    })
    .await
    .expect("the WeCom delivery failed");
    assert_eq!(failed.attempts, 1);
    assert!(failed.last_error.contains("93000"), "{}", failed.last_error);
    notify.settle(&Lane::of(&received)).await;
    assert_eq!(wecom.requests_matching("宅基地纠纷").len(), 1);

    // The county petition bureau got it in the inbox (by role over the region).
    let got = inbox_of(&notify, &bureau).await;
    assert!(
        got.iter()
            .any(|n| n.kind == "petition.received" && n.subject_id == case_id)
    );
    notify.stop().await;
}

/// The problem item a visit to `household` raised, once the ledger has it.
async fn problem_of_visit(
    ledger: &mut zoufang_e2e::Issues,
    campaign_id: &str,
    visit_id: &str,
) -> zoufang_proto::issues::v1::Issue {
    eventually(Duration::from_secs(30), || {
        let mut l = ledger.clone();
        async move {
            l.list_issues(zoufang_proto::issues::v1::ListIssuesRequest {
                campaign_id: campaign_id.into(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .ok()?
            .into_inner()
            .issues
            .into_iter()
            .find(|i| i.visit_id == visit_id && i.kind == ItemKind::Problem as i32)
        }
    })
    .await
    .expect("the visit's problem reached the ledger")
}

#[tokio::test]
async fn notices_name_the_village_and_the_cadre_and_edited_templates_take_the_new_placeholders() {
    let stack = TestLedger::start(3600).await;
    let notify = TestNotify::start(&stack.registry.database, Clock::system(), |_| {}).await;
    let mut registry = stack
        .registry
        .client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    // Regions with their names, and 周飞好 of 白鹤铺镇.
    let seed = fixtures::seed(&mut registry).await;
    let mut ledger = stack
        .issues
        .issues_client("admin-1", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let mut tap = zoufang_e2e::tap::Tap::bind(catalogue::issues::ASSIGNED).await;
    zoufang_e2e::ledger::await_cadre(&stack.issues.pool, &seed.cadre_id).await;

    // A visit to 黄龙村 raises a problem; the item keeps the place's name.
    let visit = fixtures::visit_request(&seed, &seed.household_ids[0]);
    registry.record_visit(visit.clone()).await.expect("visit");
    let item = problem_of_visit(&mut ledger, &seed.campaign_id, &visit.visit_id).await;
    assert_eq!(item.region_name, "白鹤铺镇黄龙村");
    // A walk-in item of that village is named from what the visit taught
    // the ledger; one of a village never visited keeps only its code.
    let walk_in = |village: &str| CreateIssueRequest {
        issue_id: Uuid::new_v4().to_string(),
        source: IssueSource::Reception as i32,
        region_code: village.into(),
        kind: ItemKind::Problem as i32,
        category: "民生工程".into(),
        description: "村道路灯损坏".into(),
        ..Default::default()
    };
    for (village, name) in [
        (fixtures::VILLAGES[0], "白鹤铺镇黄龙村"),
        (fixtures::VILLAGES[2], "白鹤铺镇"),
    ] {
        let got = ledger
            .create_issue(walk_in(village))
            .await
            .expect("a walk-in item")
            .into_inner()
            .issue
            .expect("issue");
        assert_eq!(got.region_name, name, "{village}");
    }

    // Assigned: the shipped template names the village, not its code, and
    // the event names the cadre.
    let item = ledger
        .assign_issue(AssignIssueRequest {
            issue_id: item.issue_id.clone(),
            expected_version: item.version,
            cadre_id: seed.cadre_id.clone(),
            deadline_days: 7,
            note: String::new(),
        })
        .await
        .expect("assign")
        .into_inner()
        .issue
        .expect("issue");
    assert_eq!(item.responsible_cadre_name, "周飞好");
    let seen = tap
        .collect(1, Duration::from_secs(30), |s| {
            s.envelope.subject == format!("issues/{}", item.issue_id)
        })
        .await;
    let event = IssueChanged::decode(seen[0].payload.as_slice()).expect("IssueChanged");
    assert_eq!(
        (
            event.region_name.as_str(),
            event.responsible_cadre_name.as_str()
        ),
        ("白鹤铺镇黄龙村", "周飞好")
    );
    let first = eventually(Duration::from_secs(30), || async {
        inbox_of(&notify, &seed.cadre_id)
            .await
            .into_iter()
            .find(|n| n.subject_id == item.issue_id)
    })
    .await
    .expect("the assignment notice");
    assert!(
        first.body.starts_with("白鹤铺镇黄龙村 的问题事项"),
        "{}",
        first.body
    );
    assert!(
        !first.body.contains(fixtures::VILLAGES[0]),
        "{}",
        first.body
    );

    // An edited template may name the responsible cadre and the place; the
    // next notice (an item of 肖家村) uses them.
    let mut root = notify.client("root", &[roles::COUNTY_ADMIN], "").await;
    root.update_template(UpdateTemplateRequest {
        template: Some(Template {
            kind: "issue.assigned".into(),
            title: "{{region_name}}：{{category}}".into(),
            body: "{{responsible}}同志，{{region_name}}的事项请办理：{{description}}".into(),
            sms_body: String::new(),
            ..Template::default()
        }),
        expected_version: 0,
    })
    .await
    .expect("a template with the new placeholders");
    let visit = fixtures::visit_request(&seed, &seed.household_ids[1]);
    registry.record_visit(visit.clone()).await.expect("visit");
    let item = problem_of_visit(&mut ledger, &seed.campaign_id, &visit.visit_id).await;
    ledger
        .assign_issue(AssignIssueRequest {
            issue_id: item.issue_id.clone(),
            expected_version: item.version,
            cadre_id: seed.cadre_id.clone(),
            deadline_days: 7,
            note: String::new(),
        })
        .await
        .expect("assign");
    let second = eventually(Duration::from_secs(30), || async {
        inbox_of(&notify, &seed.cadre_id)
            .await
            .into_iter()
            .find(|n| n.subject_id == item.issue_id)
    })
    .await
    .expect("the second notice");
    assert_eq!(second.title, "白鹤铺镇肖家村：城镇建设");
    assert!(
        second
            .body
            .starts_with("周飞好同志，白鹤铺镇肖家村的事项请办理"),
        "{}",
        second.body
    );
    notify.stop().await;
    stack.stop().await;
}
