//! The petition bridge under test, and the reference fake petition system
//! it talks to: a small local HTTP server that receives the bridge's signed
//! answers (and records them), and a client that sends it cases the way a
//! county's petition information system would — signed, timestamped, once
//! or many times, to the webhook or (with [`FakePetitionSystem::signed_properties`])
//! over AMQP.
use std::time::Duration;
use zoufang_service::Service as _;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use zoufang_bus::signing;
use zoufang_core::{auth::BearerInterceptor, clock::Clock};
use zoufang_petition::{app::Application, config::Config, ops::State};
use zoufang_proto::petition::v1::{
    RegisterSourceRequest, petition_service_client::PetitionServiceClient,
};

use crate::{TestService, common_config, fake_http::FakeHttp, token, unique_name, wait_for_queue};

/// An authenticated petition client.
pub type Petition = PetitionServiceClient<InterceptedService<Channel, BearerInterceptor>>;

/// A county of its own (常宁市), so other tests' ledgers, which hear these
/// cases' events too, never count them in the test county.
pub const COUNTY: &str = "430482";
/// A town and two villages of it.
pub const TOWNSHIP: &str = "430482100000";
pub const VILLAGES: [&str; 2] = ["430482100201", "430482100202"];

/// The region table of that county (code,name,level,pcode).
pub fn region_csv() -> String {
    [
        "code,name,level,pcode",
        "430000000000,湖南省,1,",
        "430400000000,衡阳市,2,430000000000",
        "430482000000,常宁市,3,430400000000",
        "430482100000,宜阳街道,4,430482000000",
        "430482100201,新村,5,430482100000",
        "430482100202,石门村,5,430482100000",
    ]
    .join("\n")
}

/// A valid ID number of the county.
pub fn id_number(serial: u32) -> String {
    let base = crate::fixtures::random_id_number();
    // Same birth date and check rules, this county's prefix.
    zoufang_gen::people::id_number(COUNTY, &base[6..14], u64::from(serial))
}

/// A petition configuration on `database`, on port 0, with its own queues
/// and exchange and a quick dispatcher.
/// `token_exchange_url` is a token authority's (see [`crate::start_authority`]).
pub fn petition_config(database: &str, registry_port: u16, token_exchange_url: &str) -> Config {
    Config {
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        webhook_addr: "127.0.0.1:0".parse().expect("addr"),
        registry_url: format!("http://127.0.0.1:{registry_port}"),
        consumer_queue: unique_name("zft"),
        inbound_exchange: unique_name("zft"),
        inbound_queue: unique_name("zft"),
        signature_window_secs: 300,
        settle_interval_secs: 3600,
        dispatch_interval_ms: 100,
        delivery_backoff_ms: 200,
        delivery_max_backoff_secs: 2,
        delivery_max_attempts: 10,
        delivery_timeout_secs: 5,
        // The fake petition system answers on 127.0.0.1 over http.
        outbound_allow: "127.0.0.1".into(),
        common: common_config(database),
        token_exchange_url: token_exchange_url.to_owned(),
        service_secret: crate::service_secret("petition"),
        service_secret_file: None,
    }
}

/// A running petition bridge.
pub struct TestPetition {
    pub service: TestService,
    pub state: State,
    pub config: Config,
    pub webhook_port: u16,
}

impl TestPetition {
    /// Starts it on `database` with `clock`, matching in the registry on
    /// `registry_port`, and waits for its event queue.
    pub async fn start(database: &str, clock: Clock, registry_port: u16) -> Self {
        crate::cleanup_old_runs();
        let (exchange_url, authority) = crate::start_authority(database).await;
        let config = petition_config(database, registry_port, &exchange_url);
        let app = Application::build_with_clock(config.clone(), clock)
            .await
            .expect("petition builds");
        let (state, webhook_port) = (app.state(), app.webhook_port());
        let mut service = launch!("petition", app, database);
        service.queue = Some(config.consumer_queue.clone());
        service.authority = Some(authority);
        wait_for_queue(&config.consumer_queue).await;
        Self {
            service,
            state,
            config,
            webhook_port,
        }
    }

    /// A client acting as `sub`.
    pub async fn client(&self, sub: &str, roles: &[&str], scope: &str) -> Petition {
        PetitionServiceClient::with_interceptor(
            self.service.channel().await,
            BearerInterceptor(token(sub, roles, scope)),
        )
    }

    /// The webhook's URL.
    pub fn webhook_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/cases", self.webhook_port)
    }

    /// Stops it and deletes its queues.
    pub async fn stop(self) {
        let inbound = [
            self.config.inbound_queue.clone(),
            format!("{}.parking", self.config.inbound_queue),
        ];
        self.service.stop().await;
        if let Ok(conn) = zoufang_bus::connect(&crate::amqp_url(), "test-cleanup").await
            && let Ok(ch) = conn.create_channel().await
        {
            for q in inbound {
                let _ = ch.queue_delete(q.into(), Default::default()).await;
            }
            let _ = ch
                .exchange_delete(
                    self.config.inbound_exchange.clone().into(),
                    Default::default(),
                )
                .await;
            let _ = conn.close(200, "cleanup".into()).await;
        }
    }
}

/// The reference fake petition system: sends cases to the bridge's webhook
/// and receives its answers on a recording HTTP server.
pub struct FakePetitionSystem {
    pub name: String,
    pub secret: String,
    /// Receives the bridge's answers.
    pub answers: FakeHttp,
    webhook_url: String,
    http: reqwest::Client,
}

/// What the webhook answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl FakePetitionSystem {
    /// Starts the answer receiver and registers the system with the bridge
    /// (as a county admin) for the whole test county.
    pub async fn register(bridge: &TestPetition) -> Self {
        let answers = FakeHttp::start().await;
        let name = unique_name("xinfang-");
        let secret = format!("secret-{}", uuid::Uuid::new_v4().simple());
        let mut admin = bridge
            .client("county-admin", &["county_admin"], COUNTY)
            .await;
        admin
            .register_source(RegisterSourceRequest {
                source_system: name.clone(),
                display_name: "常宁市信访信息系统".into(),
                region_code: COUNTY.into(),
                callback_url: answers.url("/answers"),
                secret: secret.clone(),
            })
            .await
            .expect("register the fake petition system");
        Self {
            name,
            secret,
            answers,
            webhook_url: bridge.webhook_url(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
        }
    }

    /// A case of this system, as its documented JSON.
    pub fn case(
        &self,
        external_id: &str,
        sequence: u64,
        id_number: &str,
        received_at: DateTime<Utc>,
    ) -> Value {
        json!({
            "external_id": external_id,
            "source_system": self.name,
            "kind": "petition",
            "channel": "网上",
            "sequence": sequence,
            "petitioner": {"name": "唐某某", "id_number": id_number, "phone": "13912345678"},
            "region_code": VILLAGES[0],
            "content": format!("反映宅基地纠纷（{external_id}，第{sequence}版）"),
            "received_at": received_at.to_rfc3339(),
            "attachments": [{"name": "现场照片.jpg", "ref": "https://xf.example/att/1.jpg"}]
        })
    }

    /// The headers of a signed request of `body` at `ts`.
    pub fn signed_headers(&self, body: &[u8], ts: i64) -> Vec<(String, String)> {
        vec![
            ("x-zoufang-source".into(), self.name.clone()),
            ("x-zoufang-timestamp".into(), ts.to_string()),
            (
                "x-zoufang-signature".into(),
                signing::sign(self.secret.as_bytes(), ts, body),
            ),
        ]
    }

    /// The properties of an AMQP message of `body` signed at `ts`: the
    /// webhook's three headers, as the AMQP door reads them.
    pub fn signed_properties(&self, body: &[u8], ts: i64) -> lapin::BasicProperties {
        let mut headers = lapin::types::FieldTable::default();
        for (name, value) in self.signed_headers(body, ts) {
            headers.insert(
                name.into(),
                lapin::types::AMQPValue::LongString(value.as_str().into()),
            );
        }
        lapin::BasicProperties::default()
            .with_delivery_mode(2)
            .with_headers(headers)
    }

    /// Posts `body` with exactly `headers`.
    pub async fn post_raw(&self, body: &[u8], headers: &[(String, String)]) -> Answer {
        let mut req = self
            .http
            .post(&self.webhook_url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send().await.expect("post to the webhook");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        Answer { status, body }
    }

    /// Sends a case, freshly signed.
    pub async fn send(&self, case: &Value) -> Answer {
        let body = serde_json::to_vec(case).expect("json");
        let headers = self.signed_headers(&body, Utc::now().timestamp());
        self.post_raw(&body, &headers).await
    }

    /// The answers received for `external_id` whose change is `change`.
    pub fn answers_for(&self, external_id: &str, change: &str) -> Vec<crate::fake_http::Recorded> {
        self.answers
            .requests_matching(external_id)
            .into_iter()
            .filter(|r| r.json()["change"] == change)
            .collect()
    }

    /// Checks an answer's signature with the shared secret.
    pub fn verify(&self, r: &crate::fake_http::Recorded) -> bool {
        let ts = r.header("x-zoufang-timestamp").unwrap_or_default();
        let sig = r.header("x-zoufang-signature").unwrap_or_default();
        signing::verify(self.secret.as_bytes(), ts, sig, &r.body, Utc::now(), 300).is_ok()
    }
}
