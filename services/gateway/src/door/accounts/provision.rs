//! Sign-in accounts for cadres (干部账号), as the desk's onboarding (one
//! step, or one import row) makes them. An account bound to a cadre has
//! `user_id` = the cadre's id (the registry's `cadre_id`, canonical
//! lower-case hyphenated UUID), so the token's `sub` is the cadre the
//! services know. One account per cadre: provisioning again for the same
//! cadre finds the account instead of making a second one.
//!
//! The account starts with a one-time initial password that the cadre must
//! change at the first sign-in (`must_change_password`). While it has not
//! been changed, provisioning again issues a fresh one (the previous one
//! stops working): an admin whose first call failed after the account was
//! made, and so never saw the password, gets one by retrying. Once the
//! cadre has chosen their own password, no password is shown again.
use axum::extract::FromRef;
use rand::Rng;
use std::sync::Arc;
use uuid::Uuid;
use zoufang_core::{auth::roles, clock::Clock};

use super::{admin::may_manage, hashing::Hashing, password, store};
use crate::door::{caller::Caller, error::ApiError, state::AppState};

/// What the desk needs to make cadre accounts: the gateway's accounts
/// table, the bounded password hashing and the clock. Extracted by a
/// handler as `State<CadreAccounts>`.
#[derive(Debug, Clone)]
pub struct CadreAccounts {
    pool: sqlx::PgPool,
    hashing: Arc<Hashing>,
    clock: Clock,
}

impl FromRef<AppState> for CadreAccounts {
    fn from_ref(state: &AppState) -> Self {
        Self {
            pool: state.pool.clone(),
            hashing: state.hashing.clone(),
            clock: state.clock.clone(),
        }
    }
}

/// The account a cadre is to have.
#[derive(Debug, Clone)]
pub struct CadreAccount {
    /// The registered cadre's id: becomes the account's `user_id`.
    pub cadre_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    /// The cadre's region (a region-code prefix): the account's scope.
    pub scope: String,
}

/// What provisioning did.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub account_id: Uuid,
    pub username: String,
    pub user_id: String,
    /// The one-time initial password, when this call set one.
    pub initial_password: Option<String>,
    /// True when this call made the account.
    pub created: bool,
}

/// Characters of initial passwords: no 0/O, 1/l/I, which people misread
/// from a printed slip.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random initial password of 12 characters that passes the policy.
pub fn initial_password() -> String {
    let mut rng = rand::thread_rng();
    loop {
        let p: String = (0..12)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        if password::check_policy("password", &p).is_ok() {
            return p;
        }
    }
}

/// A username: 1 to 64 characters, none of them a space or a control.
pub fn check_username(field: &str, raw: &str) -> Result<String, ApiError> {
    let u = raw.trim();
    let n = u.chars().count();
    if n == 0 || n > 64 {
        return Err(ApiError::invalid(field, "登录账号须为1至64个字符"));
    }
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid(field, "登录账号不能含空格或控制字符"));
    }
    Ok(u.to_owned())
}

impl CadreAccounts {
    /// Checks, writing nothing, that `caller` may give `a` its account and
    /// that its username is free or already this cadre's: the part of
    /// provisioning that can fail for the request's sake, so the desk runs
    /// it before it writes anything anywhere.
    pub async fn check(&self, caller: &Caller, a: &CadreAccount) -> Result<(), ApiError> {
        for (i, r) in a.roles.iter().enumerate() {
            if !roles::ALL.contains(&r.as_str()) || r == roles::SERVICE {
                return Err(ApiError::invalid(
                    format!("roles[{i}]"),
                    format!("未知角色“{r}”"),
                ));
            }
        }
        may_manage(&caller.claims, &a.scope, &a.roles)?;
        if let Some(other) = store::by_username(&self.pool, &a.username).await?
            && other.user_id != a.cadre_id.to_string()
        {
            return Err(ApiError {
                status: http::StatusCode::CONFLICT,
                code: "conflict",
                message: format!("username: 登录账号“{}”已被其他账号使用", a.username),
                field_errors: vec![crate::door::FieldError {
                    field: "username".into(),
                    reason: format!("登录账号“{}”已被其他账号使用", a.username),
                }],
            });
        }
        if let Some(existing) = store::by_user_id(&self.pool, &a.cadre_id.to_string()).await?
            && existing.username != a.username
        {
            return Err(ApiError {
                status: http::StatusCode::CONFLICT,
                code: "conflict",
                message: format!(
                    "username: 该干部已有登录账号“{}”，不能再建“{}”",
                    existing.username, a.username
                ),
                field_errors: vec![crate::door::FieldError {
                    field: "username".into(),
                    reason: format!("该干部已有登录账号“{}”", existing.username),
                }],
            });
        }
        Ok(())
    }

    /// Makes the cadre's account, or finds it (see the module's note on
    /// retries). Run [`CadreAccounts::check`] first.
    pub async fn provision(
        &self,
        caller: &Caller,
        a: &CadreAccount,
    ) -> Result<Provisioned, ApiError> {
        self.check(caller, a).await?;
        let user_id = a.cadre_id.to_string();
        if let Some(existing) = store::by_user_id(&self.pool, &user_id).await? {
            // Whoever retries must be allowed to manage the account as it is.
            may_manage(&caller.claims, &existing.scope, &existing.roles)?;
            let initial_password =
                if store::must_change_password(&self.pool, existing.account_id).await? {
                    let p = initial_password();
                    let phc = self.hash(&p).await?;
                    store::reset_initial_password(&self.pool, existing.account_id, &phc)
                        .await?
                        .then_some(p)
                } else {
                    None
                };
            return Ok(Provisioned {
                account_id: existing.account_id,
                username: existing.username,
                user_id,
                initial_password,
                created: false,
            });
        }
        let p = initial_password();
        let phc = self.hash(&p).await?;
        let row = store::AccountRow {
            account_id: Uuid::now_v7(),
            username: a.username.clone(),
            user_id: user_id.clone(),
            display_name: a.display_name.clone(),
            password_hash: phc,
            roles: a.roles.clone(),
            scope: a.scope.clone(),
            active: true,
            failed_attempts: 0,
            locked_until: None,
            created_by: caller.claims.sub.clone(),
            created_at: self.clock.now(),
        };
        if !store::insert_requiring_change(&self.pool, &row).await? {
            // Taken meanwhile (a concurrent onboarding of the same cadre or username).
            return Err(ApiError::new(
                http::StatusCode::CONFLICT,
                "conflict",
                "登录账号或该干部的账号刚被另一个请求创建，请重试",
            ));
        }
        Ok(Provisioned {
            account_id: row.account_id,
            username: row.username,
            user_id,
            initial_password: Some(p),
            created: true,
        })
    }

    async fn hash(&self, p: &str) -> Result<String, ApiError> {
        let p = p.to_owned();
        self.hashing
            .permit()
            .await?
            .run(move || password::hash(&p))
            .await?
            .map_err(ApiError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_passwords_pass_the_policy_and_differ() {
        let a = initial_password();
        let b = initial_password();
        assert_eq!(a.chars().count(), 12);
        assert!(password::check_policy("p", &a).is_ok());
        assert_ne!(a, b);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']), "{a}");
    }

    #[test]
    fn usernames() {
        assert_eq!(check_username("username", " zhoufh ").unwrap(), "zhoufh");
        assert_eq!(
            check_username("username", "").unwrap_err().field_errors[0].field,
            "username"
        );
        assert!(check_username("username", "a b").is_err());
        assert!(check_username("username", &"x".repeat(65)).is_err());
    }
}
