//! People (人员): onboarding a cadre in one step. `POST /v1/people/cadres`
//! fills the three directories a cadre needs, in this order, each step
//! idempotent, all keyed by the caller's `cadre_id`:
//! 1. the registry's cadre (`RegisterCadre`: the same id and details again
//!    is the same cadre; other details under the same id are a conflict);
//! 2. notify's recipient (`UpsertRecipient`, recipient_id = cadre_id, the
//!    region as its 12-digit code);
//! 3. the gateway's sign-in account, bound to the cadre (`user_id` =
//!    `cadre_id`), with a one-time initial password the cadre must change
//!    at the first sign-in (see the door's `CadreAccounts`).
//!
//! So a retry after a partial failure (notify away, say) completes the rest
//! and doubles nothing. Everything the request can be wrong about (fields,
//! role and scope, a username taken) is checked before the first write:
//! bad input answers 400 naming the field and writes nothing. The calls go
//! upstream with the caller's own token, so the services enforce scope too.
pub mod check;

use axum::{Json, body::Bytes, extract::State, routing::post};
use http::StatusCode;
use serde::Serialize;
use serde_json::json;
use zoufang_core::auth::roles;
use zoufang_proto::{
    notify::v1::{Recipient, UpsertRecipientRequest},
    registry::v1::RegisterCadreRequest,
};

use crate::door::{
    ApiError, Backend, CadreAccounts, Caller, Endpoint, Module, Provisioned, op, schema_ref,
};
use check::{Onboarding, Request};

/// The registered cadre, as the answer shows it (phone masked).
#[derive(Debug, Serialize)]
pub struct CadreView {
    pub cadre_id: String,
    pub name: String,
    pub phone: String,
    pub unit: String,
    pub position: String,
    pub region_code: String,
    pub roles: Vec<String>,
}

/// The account, as the answer shows it.
#[derive(Debug, Serialize)]
pub struct AccountView {
    pub account_id: String,
    pub username: String,
    pub user_id: String,
}

/// What onboarding answers.
#[derive(Debug, Serialize)]
pub struct Onboarded {
    pub cadre: CadreView,
    pub account: AccountView,
    /// The one-time initial password, when this call set one (the account
    /// was made now, or had not yet replaced its initial password); null
    /// once the cadre has chosen their own.
    pub initial_password: Option<String>,
    /// Whether the cadre must change the password at the first sign-in.
    pub must_change_password: bool,
    /// True when this call made the account.
    pub account_created: bool,
}

/// Onboards one checked cadre: the registry, notify, then the account.
/// Shared by the endpoint and the cadre import's rows with a 登录账号.
pub async fn onboard(
    backend: &Backend,
    accounts: &CadreAccounts,
    caller: &Caller,
    o: &Onboarding,
) -> Result<(CadreView, Provisioned), ApiError> {
    let account = o.account();
    accounts.check(caller, &account).await?;
    let cadre = register(backend, caller, &o.cadre).await?;
    upsert_recipient(backend, caller, o).await?;
    let provisioned = accounts.provision(caller, &account).await?;
    Ok((cadre, provisioned))
}

/// RegisterCadre with the caller's token.
pub async fn register(
    backend: &Backend,
    caller: &Caller,
    req: &RegisterCadreRequest,
) -> Result<CadreView, ApiError> {
    let c = backend
        .upstreams
        .registry(&caller.token)
        .register_cadre(req.clone())
        .await?
        .into_inner()
        .cadre
        .ok_or_else(|| ApiError::internal("RegisterCadre answered no cadre"))?;
    Ok(CadreView {
        cadre_id: c.cadre_id,
        name: c.name,
        phone: c.phone,
        unit: check::unit_name(c.unit).to_owned(),
        position: c.position,
        region_code: c.region_code,
        roles: c.roles,
    })
}

/// UpsertRecipient with the caller's token: the cadre as notify's recipient.
pub async fn upsert_recipient(
    backend: &Backend,
    caller: &Caller,
    o: &Onboarding,
) -> Result<(), ApiError> {
    backend
        .upstreams
        .notify(&caller.token)
        .upsert_recipient(UpsertRecipientRequest {
            recipient: Some(Recipient {
                recipient_id: o.cadre.cadre_id.clone(),
                name: o.cadre.name.clone(),
                roles: o.cadre.roles.clone(),
                region_code: o.region_code_12(),
                phone: o.cadre.phone.clone(),
                active: true,
            }),
            deactivate: false,
        })
        .await?;
    Ok(())
}

async fn onboard_route(
    State(backend): State<Backend>,
    State(accounts): State<CadreAccounts>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<Onboarded>), ApiError> {
    caller
        .claims
        .require_any_role(&[roles::TOWNSHIP_ADMIN, roles::COUNTY_ADMIN])
        .map_err(|_| {
            ApiError::forbidden(
                "录入干部需要乡镇管理员（township_admin）或县级管理员（county_admin）角色",
            )
        })?;
    let req: Request = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid("body", format!("请求体不是有效的JSON对象：{e}")))?;
    let o = check::check(&req, &caller.claims)?;
    let (cadre, p) = onboard(&backend, &accounts, &caller, &o).await?;
    let status = if p.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Onboarded {
            cadre,
            must_change_password: p.initial_password.is_some(),
            initial_password: p.initial_password,
            account_created: p.created,
            account: AccountView {
                account_id: p.account_id.to_string(),
                username: p.username,
                user_id: p.user_id,
            },
        }),
    ))
}

/// The people endpoints and the schemas they use.
pub fn endpoints() -> Module {
    let string = json!({"type": "string"});
    let strings = json!({"type": "array", "items": string});
    let request = json!({"type": "object", "additionalProperties": false,
        "required": ["cadre_id", "name", "unit", "position", "region_code"],
        "properties": {
            "cadre_id": {"type": "string", "format": "uuid", "description": "Client-chosen id of the cadre: the key that makes a retry complete the rest and double nothing; becomes the account's user_id"},
            "name": {"type": "string", "maxLength": 50, "description": "姓名"},
            "phone": {"type": "string", "description": "手机号 (11 digits); optional"},
            "unit": {"type": "string", "description": "单位类型: township_office | village_committee | county_department (or 乡镇机关 / 村两委 / 县直部门)"},
            "position": {"type": "string", "maxLength": 50, "description": "职务, the key of campaign quotas"},
            "region_code": {"type": "string", "pattern": "^[0-9]{6,12}$", "description": "工作区域: a county, township or village code (12 digits, or its significant prefix)"},
            "roles": {"type": "array", "items": string, "description": "Defaults to [\"cadre\"]"},
            "username": {"type": "string", "description": "登录账号; defaults to the phone number"}}});
    let cadre = json!({"type": "object", "required": ["cadre_id", "name", "phone", "unit", "position", "region_code", "roles"],
        "properties": {"cadre_id": string, "name": string,
            "phone": {"type": "string", "description": "Masked (138****5678)"},
            "unit": {"type": "string", "enum": ["township_office", "village_committee", "county_department"]},
            "position": string, "region_code": string, "roles": strings}});
    let answer = json!({"type": "object",
        "required": ["cadre", "account", "initial_password", "must_change_password", "account_created"],
        "properties": {
            "cadre": schema_ref("OnboardedCadre"),
            "account": {"type": "object", "required": ["account_id", "username", "user_id"], "properties": {
                "account_id": {"type": "string", "format": "uuid"}, "username": string,
                "user_id": {"type": "string", "description": "= cadre_id: an account bound to a cadre speaks for it"}}},
            "initial_password": {"type": "string", "nullable": true, "description": "One-time initial password, shown only by the call that set it; the cadre must change it at the first sign-in"},
            "must_change_password": {"type": "boolean"},
            "account_created": {"type": "boolean"}}});
    let mut operation = op(
        "people",
        (
            "录入干部（一步完成）",
            "Onboards a cadre in one step: registers the cadre, the notification recipient and a sign-in account bound to the cadre (user_id = cadre_id) with a one-time initial password; idempotent by cadre_id.",
        ),
        true,
        Some(schema_ref("OnboardCadreRequest")),
        schema_ref("OnboardedCadreResponse"),
        vec![],
    );
    operation["responses"]["201"] = json!({"description": "Onboarded; the account was made by this call",
        "content": {"application/json": {"schema": schema_ref("OnboardedCadreResponse")}}});
    (
        vec![Endpoint::new(
            http::Method::POST,
            "/v1/people/cadres",
            post(onboard_route),
            operation,
        )],
        vec![
            ("OnboardCadreRequest", request),
            ("OnboardedCadre", cadre),
            ("OnboardedCadreResponse", answer),
        ],
    )
}
