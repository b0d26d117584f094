//! The petition bridge and outbound webhooks (issue 18): sources and cases
//! changed only by callers covering them as stored, the AMQP door, SSRF in
//! callback and subscription URLs, replayed signatures. See main.rs.
use chrono::Utc;
use tonic::Code;
use zoufang_e2e::{
    FakePetitionSystem, PetitionUnderTest, TestService,
    petition::{self, COUNTY, TOWNSHIP, VILLAGES},
    unique_name,
};
use zoufang_proto::{
    petition::v1::{GetCaseRequest, ImportCasesRequest, RegisterSourceRequest},
    registry::v1::ImportRegionsRequest,
};
use zoufang_runtime::clock::Clock;

/// The scope of an account of [`TOWNSHIP`] (its code's prefix).
const TOWN_SCOPE: &str = "430482100";
/// A region of the test county outside [`TOWNSHIP`] (another town's village).
const OTHER_VILLAGE: &str = "430482200201";

/// A registry and the bridge on one database, the fake system registered
/// county-wide by a county admin.
struct World {
    registry: TestService,
    bridge: PetitionUnderTest,
    fake: FakePetitionSystem,
}

impl World {
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = unique_name("zft");
        let registry = TestService::spawn_on(&database).await;
        let mut admin = registry.client("admin", &["county_admin"], "").await;
        admin
            .import_regions(ImportRegionsRequest {
                csv: petition::region_csv().into_bytes(),
            })
            .await
            .expect("import regions");
        let bridge = PetitionUnderTest::start(&database, Clock::system(), registry.grpc_port).await;
        let fake = FakePetitionSystem::register(&bridge).await;
        Self {
            registry,
            bridge,
            fake,
        }
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
            callback_url: "https://attacker.example/answers".into(),
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
