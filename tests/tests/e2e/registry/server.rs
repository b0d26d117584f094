//! The server's operational surface: health, reflection, admin endpoints,
//! regions import and graceful shutdown.
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zoufang_e2e::{TestRegistry, fixtures};
use zoufang_proto::registry::v1::*;

async fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect admin");
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.unwrap();
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, buf)
}

#[tokio::test]
async fn health_reflection_and_admin_endpoints_answer() {
    let registry = TestRegistry::start().await;
    let channel =
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", registry.grpc_port))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "zoufang.registry.v1.RegistryService".into(),
        })
        .await
        .expect("health needs no token")
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let (code, _) = http_get(registry.admin_port, "/healthz").await;
    assert_eq!(code, 200);
    let (code, body) = http_get(registry.admin_port, "/readyz").await;
    assert_eq!(code, 200, "{body}");
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    admin
        .list_regions(ListRegionsRequest::default())
        .await
        .unwrap();
    let (code, body) = http_get(registry.admin_port, "/metrics").await;
    assert_eq!(code, 200);
    assert!(body.contains("zf_grpc_requests_total"), "{body}");

    // The retention sweep runs once at start (and every ten minutes): its
    // counters appear, at zero on a fresh database.
    let swept = r#"zf_retention_deleted_total{service="registry",table="outbox"} 0"#;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = http_get(registry.admin_port, "/metrics").await;
        if body.contains(swept) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{swept} missing:\n{body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    registry.stop().await;
}

#[tokio::test]
async fn regions_import_with_types_from_the_code_and_lists_by_parent() {
    let registry = TestRegistry::start().await;
    let mut admin = registry
        .client("admin-1", &["county_admin"], fixtures::COUNTY)
        .await;
    let imported = admin
        .import_regions(ImportRegionsRequest {
            csv: fixtures::region_csv().into_bytes(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((imported.imported, imported.updated), (9, 0));
    let again = admin
        .import_regions(ImportRegionsRequest {
            csv: fixtures::region_csv().into_bytes(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.imported, again.updated),
        (0, 9),
        "re-import updates in place"
    );

    let villages = admin
        .list_regions(ListRegionsRequest {
            parent_code: fixtures::TOWNSHIP.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .regions;
    assert_eq!(villages.len(), 3);
    assert!(
        villages
            .iter()
            .all(|v| v.kind == "村委会" && v.level == RegionLevel::Village as i32)
    );
    let townships = admin
        .list_regions(ListRegionsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .regions;
    assert_eq!(
        townships
            .iter()
            .map(|t| (t.name.as_str(), t.kind.as_str()))
            .collect::<Vec<_>>(),
        vec![("白鹤铺镇", "镇"), ("太和堂镇", "镇")]
    );

    // A work zone over two villages; a village cannot sit in two zones.
    let zone = CreateWorkZoneRequest {
        zone_id: uuid::Uuid::new_v4().to_string(),
        township_code: fixtures::TOWNSHIP.into(),
        name: "第一工作片".into(),
        village_codes: fixtures::VILLAGES[..2]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    admin.create_work_zone(zone.clone()).await.unwrap();
    admin
        .create_work_zone(zone.clone())
        .await
        .expect("idempotent");
    let err = admin
        .create_work_zone(CreateWorkZoneRequest {
            zone_id: uuid::Uuid::new_v4().to_string(),
            ..zone
        })
        .await
        .expect_err("village in two zones");
    assert_eq!(err.code(), tonic::Code::AlreadyExists);
    registry.stop().await;
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let registry = TestRegistry::start().await;
    let port = registry.grpc_port;
    // `stop` itself fails the test unless the service returned Ok.
    let stopped = tokio::time::timeout(Duration::from_secs(10), registry.stop()).await;
    assert!(stopped.is_ok(), "stopped within the grace period");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "no longer listening"
    );
}

/// What `stop` checks: a service task that returned an error fails the test.
#[tokio::test]
#[should_panic(expected = "stopped with an error: the relay lost its database")]
async fn an_error_exit_fails_the_stop() {
    let task = tokio::spawn(async { Err(anyhow::anyhow!("the relay lost its database")) });
    zoufang_e2e::expect_clean_exit("a service", task).await;
}
