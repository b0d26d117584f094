//! Account administration (账号管理): who may manage whom, creating,
//! listing, disabling and enabling accounts, and the first county admin.
use axum::extract::{Path, Query};
use zoufang_core::auth::Claims;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub scope: String,
    /// The id the services know the person by (a cadre's id); defaults to a new id.
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    pub scope: Option<String>,
}

/// An account as admins see it.
#[derive(Debug, Serialize)]
pub struct AccountView {
    pub account_id: Uuid,
    pub username: String,
    pub user_id: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub scope: String,
    pub active: bool,
    pub locked: bool,
    pub created_at: DateTime<Utc>,
}

fn view(a: &AccountRow, now: DateTime<Utc>) -> AccountView {
    AccountView {
        account_id: a.account_id,
        username: a.username.clone(),
        user_id: a.user_id.clone(),
        display_name: a.display_name.clone(),
        roles: a.roles.clone(),
        scope: a.scope.clone(),
        active: a.active,
        locked: a.locked_until.is_some_and(|t| t > now),
        created_at: a.created_at,
    }
}

/// How far up the ladder an account stands: county admin 2, township
/// admin 1, everyone else (cadres, supervisors, departments, the petition
/// bureau) 0.
fn rank(roles: &[String]) -> u8 {
    if roles.iter().any(|r| r == roles::COUNTY_ADMIN) {
        2
    } else if roles.iter().any(|r| r == roles::TOWNSHIP_ADMIN) {
        1
    } else {
        0
    }
}

/// Who may manage (create, disable, enable) an account with `roles_granted`
/// over `scope`: a county or township admin whose scope covers it; a
/// township admin only cadres and supervisors (the accounts below them);
/// and an account of the manager's own rank or above only a county admin,
/// and only over a strictly narrower scope. So township admins never touch
/// peers, and no admin touches one at their own level and scope (or
/// themselves). Listing passes no roles: it needs an admin over the scope.
pub(super) fn may_manage(
    claims: &Claims,
    scope: &str,
    roles_granted: &[String],
) -> Result<(), ApiError> {
    let mine = rank(&claims.roles);
    if mine == 0 {
        return Err(ApiError::forbidden("管理账号需要县级或乡镇管理员角色"));
    }
    if !scope.starts_with(&claims.scope) {
        return Err(ApiError::forbidden(format!(
            "范围 {scope} 不在您的管理范围 {} 内",
            claims.scope
        )));
    }
    if mine < 2 {
        let allowed = [roles::CADRE, roles::SUPERVISOR];
        if let Some(r) = roles_granted
            .iter()
            .find(|r| !allowed.contains(&r.as_str()))
        {
            return Err(ApiError::forbidden(format!(
                "乡镇管理员只能管理干部和督导账号，不能管理 {r}"
            )));
        }
    }
    let narrower = scope.len() > claims.scope.len();
    if rank(roles_granted) >= mine && !(mine == 2 && narrower) {
        return Err(ApiError::forbidden(
            "不能管理与您同级或更高级别的账号（县级管理员可管理范围更小的管理员）",
        ));
    }
    Ok(())
}

pub(super) async fn create_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewAccount>,
) -> Result<(http::StatusCode, Json<AccountView>), ApiError> {
    let username = req.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(ApiError::invalid("username", "1–64 characters"));
    }
    if req.display_name.trim().is_empty() || req.display_name.chars().count() > 50 {
        return Err(ApiError::invalid("display_name", "1–50 characters"));
    }
    if req.roles.is_empty() {
        return Err(ApiError::invalid("roles", "give at least one role"));
    }
    for (i, r) in req.roles.iter().enumerate() {
        if !roles::ALL.contains(&r.as_str()) || r == roles::SERVICE {
            return Err(ApiError::invalid(
                format!("roles[{i}]"),
                format!("unknown role {r:?}"),
            ));
        }
    }
    if req.scope.len() > 12 || !req.scope.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "scope",
            "a region-code prefix of at most 12 digits",
        ));
    }
    // A full 12-digit code stands for its region: a township's code gives
    // the township's scope, covering its villages.
    let scope = zoufang_types::region_prefix(&req.scope).to_owned();
    password::check_policy("password", &req.password)?;
    may_manage(&caller.claims, &scope, &req.roles)?;
    let user_id = super::user_id::bind(&state, &caller, req.user_id.as_deref(), &scope).await?;
    let pw = req.password.clone();
    let phc = state
        .hashing
        .permit()
        .await?
        .run(move || password::hash(&pw))
        .await??;
    let row = AccountRow {
        account_id: Uuid::now_v7(),
        username,
        user_id,
        display_name: req.display_name.trim().to_owned(),
        password_hash: phc,
        roles: req.roles.clone(),
        scope,
        active: true,
        failed_attempts: 0,
        locked_until: None,
        created_by: caller.claims.sub.clone(),
        created_at: state.clock.now(),
    };
    if !store::insert(&state.pool, &row).await? {
        return Err(ApiError::new(
            http::StatusCode::CONFLICT,
            "conflict",
            "用户名或用户ID已存在",
        ));
    }
    Ok((
        http::StatusCode::CREATED,
        Json(view(&row, state.clock.now())),
    ))
}

pub(super) async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    // A full 12-digit code stands for its region, as everywhere.
    let prefix = q.scope.map_or_else(
        || caller.claims.scope.clone(),
        |given| zoufang_types::region_prefix(given.trim()).to_owned(),
    );
    may_manage(&caller.claims, &prefix, &[])?;
    let rows = store::under(&state.pool, &prefix, 1000).await?;
    let now = state.clock.now();
    Ok(Json(rows.iter().map(|a| view(a, now)).collect()))
}

async fn managed(state: &AppState, caller: &Caller, id: &str) -> Result<AccountRow, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::invalid("account_id", "not a UUID"))?;
    let account = store::by_id(&state.pool, id)
        .await?
        .filter(|a| a.scope.starts_with(&caller.claims.scope))
        .ok_or_else(|| ApiError::not_found(format!("account {id}")))?;
    may_manage(&caller.claims, &account.scope, &account.roles)?;
    Ok(account)
}

pub(super) async fn disable_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let mut account = managed(&state, &caller, &id).await?;
    store::set_active(&state.pool, account.account_id, false).await?;
    super::revocation::end_sessions(
        &state.pool,
        super::revocation::Sessions::AllOf {
            account_id: account.account_id,
            keep: None,
        },
        &account.user_id,
        &account.scope,
        zoufang_proto::events::v1::RevocationReason::AccountDisabled,
        state.clock.now(),
    )
    .await?;
    account.active = false;
    Ok(Json(view(&account, state.clock.now())))
}

pub(super) async fn enable_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let mut account = managed(&state, &caller, &id).await?;
    store::set_active(&state.pool, account.account_id, true).await?;
    account.active = true;
    account.locked_until = None;
    Ok(Json(view(&account, state.clock.now())))
}

/// Creates the first county admin when no account exists. Its password
/// (from the deployment's environment) must pass the policy, and the
/// account must change it at its first sign-in.
pub async fn bootstrap(
    pool: &sqlx::PgPool,
    password: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    password::check_policy("BOOTSTRAP_ADMIN_PASSWORD", password)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if store::any(pool).await? {
        return Ok(false);
    }
    let pw = password.to_owned();
    let phc = tokio::task::spawn_blocking(move || password::hash(&pw)).await??;
    let row = AccountRow {
        account_id: Uuid::now_v7(),
        username: "admin".into(),
        user_id: "admin".into(),
        display_name: "系统管理员".into(),
        password_hash: phc,
        roles: vec![roles::COUNTY_ADMIN.into()],
        scope: String::new(),
        active: true,
        failed_attempts: 0,
        locked_until: None,
        created_by: "bootstrap".into(),
        created_at: now,
    };
    if !store::insert(pool, &row).await? {
        return Ok(false);
    }
    store::require_password_change(pool, row.account_id).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(roles: &[&str], scope: &str) -> Claims {
        Claims {
            sub: "t".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scope: scope.into(),
            ..Claims::default()
        }
    }

    fn granted(r: &str) -> Vec<String> {
        vec![r.to_owned()]
    }

    #[test]
    fn township_admins_manage_only_their_township_and_lesser_roles() {
        let town = claims(&[roles::TOWNSHIP_ADMIN], "430426104");
        assert!(may_manage(&town, "430426104201", &granted(roles::CADRE)).is_ok());
        assert!(may_manage(&town, "430426104", &granted(roles::CADRE)).is_ok());
        assert!(may_manage(&town, "430426104", &granted(roles::SUPERVISOR)).is_ok());
        assert!(may_manage(&town, "430426105", &granted(roles::CADRE)).is_err());
        assert!(may_manage(&town, "430426104", &granted(roles::COUNTY_ADMIN)).is_err());
        // Peers, even over a village of their own township.
        assert!(may_manage(&town, "430426104", &granted(roles::TOWNSHIP_ADMIN)).is_err());
        assert!(may_manage(&town, "430426104201", &granted(roles::TOWNSHIP_ADMIN)).is_err());
        assert!(may_manage(&town, "430426104", &granted(roles::DEPARTMENT)).is_err());
        let cadre = claims(&[roles::CADRE], "430426104");
        assert!(may_manage(&cadre, "430426104", &[]).is_err());
    }

    #[test]
    fn county_admins_manage_admins_only_over_narrower_scopes() {
        let county = claims(&[roles::COUNTY_ADMIN], "430426");
        assert!(may_manage(&county, "430426104", &granted(roles::TOWNSHIP_ADMIN)).is_ok());
        assert!(may_manage(&county, "430426", &granted(roles::TOWNSHIP_ADMIN)).is_ok());
        assert!(may_manage(&county, "430426", &granted(roles::DEPARTMENT)).is_ok());
        assert!(may_manage(&county, "430426104", &granted(roles::COUNTY_ADMIN)).is_ok());
        assert!(may_manage(&county, "430426", &granted(roles::COUNTY_ADMIN)).is_err());
        assert!(may_manage(&county, "430427", &granted(roles::CADRE)).is_err());
        let root = claims(&[roles::COUNTY_ADMIN], "");
        assert!(may_manage(&root, "430426", &granted(roles::COUNTY_ADMIN)).is_ok());
        assert!(may_manage(&root, "", &granted(roles::COUNTY_ADMIN)).is_err());
        // Listing names no roles.
        assert!(may_manage(&county, "430426", &[]).is_ok());
    }
}
