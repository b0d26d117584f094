//! Finding 2 (revocation) and finding 10: sign-out and disable stopped only
//! at the gateway. A token of an ended session went on working against the
//! services directly (a full ID number and phone from `GetHousehold
//! {reveal: true}` after sign-out and after the account was disabled), and
//! the SSE inbox went on delivering. Now the gateway announces every ended
//! session and each service refuses its tokens within seconds; a service
//! that starts later learns it from the stream's recent past.
use std::time::Duration;

use serde_json::json;
use tonic::{Code, transport::Channel};
use uuid::Uuid;
use zoufang_core::auth::{BearerInterceptor, roles};
use zoufang_e2e::{Registry, TestService, eventually, fixtures, gateway::TestGateway};
use zoufang_proto::registry::v1::{
    GetHouseholdRequest, registry_service_client::RegistryServiceClient,
};

/// A registry client that sends `token` as it is.
async fn registry_as(service: &TestService, token: &str) -> Registry {
    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", service.grpc_port))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    RegistryServiceClient::with_interceptor(channel, BearerInterceptor(token.to_owned()))
}

fn reveal(household_id: &str) -> GetHouseholdRequest {
    GetHouseholdRequest {
        household_id: household_id.to_owned(),
        reveal: true,
        purpose: "电话回访核实".into(),
        reveal_fields: vec![],
    }
}

/// The code a reveal with `token` gets once it is refused, polling up to
/// `wait`; OK when it never was.
async fn refusal_within(
    service: &TestService,
    token: &str,
    household: &str,
    wait: Duration,
) -> Code {
    eventually(wait, || async {
        let mut client = registry_as(service, token).await;
        match client.get_household(reveal(household)).await {
            Ok(_) => None,
            Err(status) => Some(status.code()),
        }
    })
    .await
    .unwrap_or(Code::Ok)
}

/// The stack with one registered household: (bootstrap admin's token, household id).
async fn county_with_household(stack: &TestGateway) -> (String, String) {
    let admin = stack.admin_token().await;
    let mut seeder = stack
        .registry
        .client("seed", &[roles::COUNTY_ADMIN], fixtures::COUNTY)
        .await;
    let seed = fixtures::seed(&mut seeder).await;
    (admin, seed.household_ids[0].clone())
}

/// A new county-admin account (able to reveal) and its access token.
async fn leader(stack: &TestGateway, admin: &str) -> (String, String) {
    let username = format!("leader{}", &Uuid::new_v4().simple().to_string()[..6]);
    let token = stack
        .account(
            admin,
            &username,
            &[roles::COUNTY_ADMIN],
            fixtures::COUNTY,
            &username,
        )
        .await;
    (username, token)
}

#[tokio::test]
async fn a_signed_out_token_is_refused_by_the_services_within_seconds() {
    let stack = TestGateway::start().await;
    let (admin, household) = county_with_household(&stack).await;
    let (_, token) = leader(&stack, &admin).await;
    let mut direct = registry_as(&stack.registry, &token).await;
    let full = direct
        .get_household(reveal(&household))
        .await
        .expect("reveal before sign-out");
    assert!(full.into_inner().household.expect("household").revealed);

    let (status, body) = stack
        .post("/v1/auth/sign-out", Some(&token), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let code = refusal_within(&stack.registry, &token, &household, Duration::from_secs(5)).await;
    assert_eq!(
        code,
        Code::Unauthenticated,
        "the registry still revealed after sign-out"
    );

    // A registry replica that starts after the sign-out refuses it too: it
    // reads the last minutes of revocations when it starts.
    let late = TestService::start_on(&stack.database).await;
    let code = refusal_within(&late, &token, &household, Duration::from_secs(5)).await;
    assert_eq!(
        code,
        Code::Unauthenticated,
        "a replica started later revealed"
    );
    late.stop().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_disabled_accounts_tokens_are_refused_by_the_services_within_seconds() {
    let stack = TestGateway::start().await;
    let (admin, household) = county_with_household(&stack).await;
    let (username, token) = leader(&stack, &admin).await;
    let (_, accounts) = stack
        .get(
            &format!("/v1/accounts?scope={}", fixtures::COUNTY),
            Some(&admin),
        )
        .await;
    let account_id = accounts
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["username"] == username.as_str())
        .expect("the new account is listed")["account_id"]
        .as_str()
        .expect("account_id")
        .to_owned();
    let mut direct = registry_as(&stack.registry, &token).await;
    direct
        .get_household(reveal(&household))
        .await
        .expect("reveal before disable");

    let (status, body) = stack
        .post(
            &format!("/v1/accounts/{account_id}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let code = refusal_within(&stack.registry, &token, &household, Duration::from_secs(5)).await;
    assert_eq!(
        code,
        Code::Unauthenticated,
        "the registry still revealed after disable"
    );
    // Other sessions are untouched: the admin's token still works directly.
    let (status, _) = stack.get("/v1/auth/me", Some(&admin)).await;
    assert_eq!(status, 200);
    stack.stop().await;
}

#[tokio::test]
async fn the_sse_inbox_ends_at_sign_out() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    let (_, token) = leader(&stack, &admin).await;
    let response = stack
        .http()
        .get(stack.url("/v1/notify/inbox/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("open the stream");
    assert_eq!(response.status(), 200);
    let mut response = response;
    let (status, _) = stack
        .post("/v1/auth/sign-out", Some(&token), json!({}))
        .await;
    assert_eq!(status, 200);
    // Keep-alives may arrive; the stream must end (None, or an error as the
    // connection closes) within seconds instead of running on.
    let ended = tokio::time::timeout(Duration::from_secs(8), async {
        while let Ok(Some(_)) = response.chunk().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the inbox stream still ran 8 s after sign-out"
    );
    stack.stop().await;
}
