use std::time::Duration;

use super::*;
use chrono::TimeZone;
use serde_json::{Value, json};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap()
}

fn message(urgent: bool) -> Message {
    Message {
        delivery_id: uuid::Uuid::parse_str("0190f2a0-0000-7000-8000-000000000001").unwrap(),
        kind: "issue.assigned".into(),
        title: "问题已分派".into(),
        body: "城关镇东街村 王某某 家庭的住房问题已分派给你。".into(),
        sms_text: "【走访】有一条新分派的问题待处理。".into(),
        link: "https://zoufang.example/issues/42".into(),
        subject_type: "issue".into(),
        subject_id: "42".into(),
        region_code: "110101001001".into(),
        urgent,
        created_at: at(1_714_521_000),
    }
}

fn body_json(req: &OutboundRequest) -> Value {
    serde_json::from_slice(&req.body).unwrap()
}

#[test]
fn dingtalk_sign_matches_known_vectors() {
    // Computed independently with python3:
    //   s = f"{ts}\n{secret}"
    //   d = hmac.new(secret.encode(), s.encode(), hashlib.sha256).digest()
    //   urllib.parse.quote_plus(base64.b64encode(d))
    // with ts = 1714521600000.
    assert_eq!(
        dingtalk_sign("SEC9f2e", 1_714_521_600_000),
        "g0XbTWsoTpj9XsQtmYD04yB15Xk%2BRQT%2FhOgos0w%2FH6U%3D"
    );
    assert_eq!(
        dingtalk_sign("SECabc", 1_714_521_600_000),
        "DclNF0FnfHgWVQJZ00rjgE4%2Bg%2BABQ4rFQqOAKWi0Twg%3D"
    );
}

#[test]
fn webhook_signature_matches_known_vector() {
    // python3: hmac.new(b"whsec", b'1714521600.{"a":1}', hashlib.sha256).hexdigest()
    assert_eq!(
        webhook_signature("whsec", 1_714_521_600, br#"{"a":1}"#),
        "sha256=95e79a78acd02ee660a340d6d1c8507843f118ba5fd4ad13dcf4cdb9487eb3ef"
    );
}

#[test]
fn webhook_signature_round_trips_and_rejects_tampering() {
    let now = at(1_714_521_600);
    let target = Target::Webhook {
        url: "https://receiver.example/hook".into(),
        secret: "s3cret".into(),
    };
    let req = build_request(&target, &message(false), now);
    let ts = req.header(HEADER_TIMESTAMP).unwrap().to_owned();
    let sig = req.header(HEADER_SIGNATURE).unwrap().to_owned();
    assert_eq!(ts, "1714521600");
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);

    assert!(verify_webhook("s3cret", &ts, &sig, &req.body, now, 300));
    // Within tolerance either side.
    assert!(verify_webhook(
        "s3cret",
        &ts,
        &sig,
        &req.body,
        at(1_714_521_900),
        300
    ));
    assert!(verify_webhook(
        "s3cret",
        &ts,
        &sig,
        &req.body,
        at(1_714_521_300),
        300
    ));

    let mut changed = req.body.clone();
    changed[10] ^= 1;
    assert!(!verify_webhook("s3cret", &ts, &sig, &changed, now, 300));
    assert!(!verify_webhook("wrong", &ts, &sig, &req.body, now, 300));
    // Stale (and too far in the future).
    assert!(!verify_webhook(
        "s3cret",
        &ts,
        &sig,
        &req.body,
        at(1_714_521_901),
        300
    ));
    assert!(!verify_webhook(
        "s3cret",
        &ts,
        &sig,
        &req.body,
        at(1_714_521_299),
        300
    ));
    // A changed timestamp breaks the signature even when fresh.
    assert!(!verify_webhook(
        "s3cret",
        "1714521601",
        &sig,
        &req.body,
        now,
        300
    ));
    // Malformed headers.
    assert!(!verify_webhook("s3cret", "soon", &sig, &req.body, now, 300));
    assert!(!verify_webhook(
        "s3cret",
        &ts,
        &sig[7..],
        &req.body,
        now,
        300
    ));
    assert!(!verify_webhook(
        "s3cret",
        &ts,
        "sha256=zz",
        &req.body,
        now,
        300
    ));
}

#[test]
fn webhook_body_and_headers() {
    let now = at(1_714_521_600);
    let msg = message(true);
    let target = Target::Webhook {
        url: "https://receiver.example/hook".into(),
        secret: "s3cret".into(),
    };
    let req = build_request(&target, &msg, now);
    assert_eq!(req.url, "https://receiver.example/hook");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.header(HEADER_DELIVERY),
        Some("0190f2a0-0000-7000-8000-000000000001")
    );
    assert_eq!(
        req.header(HEADER_SIGNATURE).unwrap(),
        webhook_signature("s3cret", 1_714_521_600, &req.body)
    );
    assert_eq!(
        body_json(&req),
        json!({
            "delivery_id": "0190f2a0-0000-7000-8000-000000000001",
            "kind": "issue.assigned",
            "title": "问题已分派",
            "body": "城关镇东街村 王某某 家庭的住房问题已分派给你。",
            "link": "https://zoufang.example/issues/42",
            "subject_type": "issue",
            "subject_id": "42",
            "region_code": "110101001001",
            "urgent": true,
            "created_at": "2024-04-30T23:50:00Z",
        })
    );
    // The SMS text is not part of a webhook.
    assert!(!String::from_utf8(req.body).unwrap().contains("【走访】"));
}

#[test]
fn wecom_markdown_shape() {
    let target = Target::WeCom {
        url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1".into(),
    };
    let req = build_request(&target, &message(false), at(0));
    assert_eq!(
        req.url,
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"
    );
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert_eq!(
        body_json(&req),
        json!({
            "msgtype": "markdown",
            "markdown": {
                "content": "**问题已分派**\n城关镇东街村 王某某 家庭的住房问题已分派给你。\n[查看详情](https://zoufang.example/issues/42)"
            }
        })
    );
    let urgent = build_request(&target, &message(true), at(0));
    let content = body_json(&urgent)["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(content.ends_with("\n<font color=\"warning\">紧急</font>"));
}

#[test]
fn dingtalk_markdown_shape_and_unsigned_url() {
    let target = Target::DingTalk {
        url: "https://oapi.dingtalk.com/robot/send?access_token=t1".into(),
        secret: None,
    };
    let req = build_request(&target, &message(false), at(1_714_521_600));
    assert_eq!(
        req.url,
        "https://oapi.dingtalk.com/robot/send?access_token=t1"
    );
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert_eq!(
        body_json(&req),
        json!({
            "msgtype": "markdown",
            "markdown": {
                "title": "问题已分派",
                "text": "#### 问题已分派\n城关镇东街村 王某某 家庭的住房问题已分派给你。\n\n[查看详情](https://zoufang.example/issues/42)"
            }
        })
    );
    let urgent = build_request(&target, &message(true), at(0));
    assert!(
        body_json(&urgent)["markdown"]["text"]
            .as_str()
            .unwrap()
            .starts_with("#### 【紧急】问题已分派\n")
    );
}

#[test]
fn dingtalk_signed_url_with_and_without_query() {
    let now = at(1_714_521_600);
    let sign = "g0XbTWsoTpj9XsQtmYD04yB15Xk%2BRQT%2FhOgos0w%2FH6U%3D";
    let signed = |url: &str| {
        let target = Target::DingTalk {
            url: url.into(),
            secret: Some("SEC9f2e".into()),
        };
        build_request(&target, &message(false), now).url
    };
    assert_eq!(
        signed("https://oapi.dingtalk.com/robot/send?access_token=t1"),
        format!(
            "https://oapi.dingtalk.com/robot/send?access_token=t1&timestamp=1714521600000&sign={sign}"
        )
    );
    assert_eq!(
        signed("http://127.0.0.1:9/robot/send"),
        format!("http://127.0.0.1:9/robot/send?timestamp=1714521600000&sign={sign}")
    );
    assert_eq!(
        signed("http://127.0.0.1:9/robot/send?"),
        format!("http://127.0.0.1:9/robot/send?timestamp=1714521600000&sign={sign}")
    );
}

#[test]
fn sms_body_and_headers() {
    let target = Target::Sms {
        url: "https://sms.example/v1/send".into(),
        token: "tok-1".into(),
        sign_name: "县走访办".into(),
        phone: "13800138000".into(),
    };
    let req = build_request(&target, &message(false), at(0));
    assert_eq!(req.url, "https://sms.example/v1/send");
    assert_eq!(req.header("authorization"), Some("Bearer tok-1"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        body_json(&req),
        json!({
            "phone": "13800138000",
            "sign_name": "县走访办",
            "text": "【走访】有一条新分派的问题待处理。",
            "request_id": "0190f2a0-0000-7000-8000-000000000001",
        })
    );
    assert_eq!(target.kind(), TargetKind::Sms);
}

#[test]
fn debug_hides_secrets() {
    let targets = [
        Target::Sms {
            url: "https://sms.example/send?appkey=AK".into(),
            token: "tok-1".into(),
            sign_name: "县走访办".into(),
            phone: "13800138000".into(),
        },
        Target::WeCom {
            url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1".into(),
        },
        Target::DingTalk {
            url: "https://oapi.dingtalk.com/robot/send?access_token=t1".into(),
            secret: Some("SEC9f2e".into()),
        },
        Target::Webhook {
            url: "https://receiver.example/hook".into(),
            secret: "s3cret".into(),
        },
    ];
    for target in &targets {
        let req = build_request(target, &message(false), at(1_714_521_600));
        for text in [format!("{target:?}"), format!("{req:?}")] {
            for secret in [
                "AK",
                "tok-1",
                "13800138000",
                "k-1",
                "t1",
                "SEC9f2e",
                "s3cret",
            ] {
                assert!(!text.contains(secret), "{text} shows {secret}");
            }
        }
    }
}

#[test]
fn status_classification() {
    for ok in [200, 201, 204, 299] {
        assert!(classify_response(TargetKind::Webhook, ok, b"").is_ok());
    }
    for retry in [500, 502, 503, 504, 408, 429] {
        let err = classify_response(TargetKind::Webhook, retry, b"").unwrap_err();
        assert!(!err.permanent, "{retry}");
        assert!(err.reason.contains(&retry.to_string()), "{}", err.reason);
    }
    for perm in [400, 401, 403, 404, 410, 413, 301, 302] {
        let err = classify_response(TargetKind::Webhook, perm, b"").unwrap_err();
        assert!(err.permanent, "{perm}");
        assert!(err.reason.contains(&perm.to_string()), "{}", err.reason);
    }
    let err = classify_response(TargetKind::WeCom, 503, b"").unwrap_err();
    assert_eq!(err.reason, "HTTP 503 Service Unavailable");
    // A robot's 4xx is permanent whatever the body.
    let err = classify_response(TargetKind::DingTalk, 404, br#"{"errcode":0}"#).unwrap_err();
    assert!(err.permanent);
}

#[test]
fn wecom_errcode_classification() {
    let answer = |code: i64, msg: &str| {
        classify_response(
            TargetKind::WeCom,
            200,
            json!({"errcode": code, "errmsg": msg})
                .to_string()
                .as_bytes(),
        )
    };
    assert!(answer(0, "ok").is_ok());
    let err = answer(
        93000,
        "invalid webhook url, hint: [1714521600_abc], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000",
    )
    .unwrap_err();
    assert!(err.permanent);
    assert_eq!(err.reason, "errcode 93000");
    assert_eq!(err.detail, "invalid webhook url");
    assert!(answer(40008, "invalid message type").unwrap_err().permanent);
    assert!(answer(40058, "invalid parameter").unwrap_err().permanent);
    let err = answer(45009, "api freq out of limit").unwrap_err();
    assert!(!err.permanent);
    assert_eq!(err.reason, "errcode 45009");
    assert_eq!(err.detail, "api freq out of limit");
    assert!(!answer(-1, "system busy").unwrap_err().permanent);
    // 2xx without an errcode is not a success for a robot.
    let err = classify_response(TargetKind::WeCom, 200, b"<html>").unwrap_err();
    assert!(!err.permanent);
}

#[test]
fn dingtalk_errcode_classification() {
    let answer = |code: i64, msg: &str| {
        classify_response(
            TargetKind::DingTalk,
            200,
            json!({"errcode": code, "errmsg": msg})
                .to_string()
                .as_bytes(),
        )
    };
    assert!(answer(0, "ok").is_ok());
    let err = answer(310000, "sign not match").unwrap_err();
    assert!(err.permanent);
    assert_eq!(err.reason, "errcode 310000");
    assert_eq!(err.detail, "sign not match");
    assert!(answer(300001, "token is not exist").unwrap_err().permanent);
    let err = answer(130101, "send too fast").unwrap_err();
    assert!(!err.permanent);
    assert_eq!(err.reason, "errcode 130101");
    assert_eq!(err.detail, "send too fast");
    // errcode as a string is understood too.
    assert!(classify_response(TargetKind::DingTalk, 200, br#"{"errcode":"0"}"#).is_ok());
}

#[test]
fn sms_answer_classification() {
    let sms = |body: &[u8]| classify_response(TargetKind::Sms, 200, body);
    assert!(sms(b"").is_ok());
    assert!(sms(b"accepted").is_ok());
    assert!(sms(br#"{"request_id":"x"}"#).is_ok());
    assert!(sms(br#"{"code":"OK"}"#).is_ok());
    assert!(sms(br#"{"code":0}"#).is_ok());
    let err =
        sms(br#"{"code":"isv.MOBILE_NUMBER_ILLEGAL","message":"invalid mobile 13800138000"}"#)
            .unwrap_err();
    assert!(err.permanent);
    assert_eq!(
        err.reason,
        "code isv.MOBILE_NUMBER_ILLEGAL: invalid mobile ***"
    );
    let err = sms(br#"{"code":"isv.BUSINESS_LIMIT_CONTROL","msg":"too many"}"#).unwrap_err();
    assert!(!err.permanent);
    assert_eq!(err.reason, "code isv.BUSINESS_LIMIT_CONTROL: too many");
    let err = sms(br#"{"code":1001}"#).unwrap_err();
    assert_eq!(err.reason, "code 1001: no message");
    assert!(
        !classify_response(TargetKind::Sms, 429, b"")
            .unwrap_err()
            .permanent
    );
}

#[test]
fn vendor_messages_are_short_and_masked() {
    let long = "x".repeat(300);
    let cut = vendor_message(&long);
    assert_eq!(cut.chars().count(), MAX_VENDOR_MESSAGE_CHARS + 1);
    assert_eq!(vendor_message("phone 13800138000 bad"), "phone *** bad");
    assert_eq!(vendor_message("errcode 45009"), "errcode 45009");
}

#[test]
fn target_kinds() {
    assert_eq!(
        Target::WeCom { url: String::new() }.kind(),
        TargetKind::WeCom
    );
    assert_eq!(
        Target::DingTalk {
            url: String::new(),
            secret: None
        }
        .kind(),
        TargetKind::DingTalk
    );
    assert_eq!(
        Target::Webhook {
            url: String::new(),
            secret: String::new()
        }
        .kind(),
        TargetKind::Webhook
    );
}

#[tokio::test]
async fn sender_reports_connection_failures_as_retryable_without_the_url() {
    // Port 9 (discard) on localhost is closed in test environments.
    let policy = zoufang_core::outbound::OutboundPolicy::new("127.0.0.1").unwrap();
    let sender = Sender::new(Duration::from_secs(2), policy).unwrap();
    let req = OutboundRequest {
        url: "http://127.0.0.1:9/cgi-bin/webhook/send?key=SECRETKEY".into(),
        headers: vec![json_header()],
        body: b"{}".to_vec(),
    };
    let err = sender.send(TargetKind::WeCom, &req).await.unwrap_err();
    assert!(!err.permanent);
    assert!(!err.reason.contains("SECRETKEY"), "{}", err.reason);
    assert!(
        err.reason.starts_with("connection failed"),
        "{}",
        err.reason
    );
}
