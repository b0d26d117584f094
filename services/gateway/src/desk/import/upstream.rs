//! The registry as an import job reaches it: the caller's own token, and
//! the registry's refusals turned into row reasons in Chinese.
use std::future::Future;

use super::*;

/// The caller's way to the registry, for a job's background task.
#[derive(Clone)]
pub struct Upstream {
    pub(super) state: Backend,
    pub(super) token: String,
    /// Sign-in accounts for the cadre rows that ask for one.
    pub(super) accounts: crate::door::CadreAccounts,
    /// The caller, on whose behalf rows are onboarded.
    pub(super) caller: crate::door::Caller,
}

pub(crate) type RegistryClient =
    zoufang_proto::registry::v1::registry_service_client::RegistryServiceClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            zoufang_core::auth::BearerInterceptor,
        >,
    >;

impl Upstream {
    pub fn registry(&self) -> RegistryClient {
        self.state.upstreams.registry(&self.token)
    }

    /// Calls the registry, retrying while it is unavailable (every call an
    /// import makes is idempotent); a refusal becomes the job's reason.
    pub async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, String>
    where
        F: Fn(RegistryClient) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        self.retrying_status(call)
            .await
            .map_err(|s| status_reason(&s))
    }

    /// [`Upstream::retrying`], keeping the refusal's status.
    pub async fn retrying_status<T, F, Fut>(&self, call: F) -> Result<T, tonic::Status>
    where
        F: Fn(RegistryClient) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match call(self.registry()).await {
                Ok(r) => return Ok(r.into_inner()),
                Err(s)
                    if attempt < 5
                        && matches!(
                            s.code(),
                            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded
                        ) =>
                {
                    tracing::warn!(error = %s, attempt, "registry unavailable during an import; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(s) => return Err(s),
            }
        }
    }
}

/// The field violations of an INVALID_ARGUMENT status (or its message).
pub fn violations(s: &tonic::Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    let found: Vec<(String, String)> = s
        .get_error_details()
        .bad_request()
        .map(|b| {
            b.field_violations
                .iter()
                .map(|v| (v.field.clone(), v.description.clone()))
                .collect()
        })
        .unwrap_or_default();
    if found.is_empty() {
        vec![(String::new(), s.message().to_owned())]
    } else {
        found
    }
}

/// The first violation of a refusal: (field, reason).
pub fn first_violation(s: &tonic::Status) -> (String, String) {
    if s.code() == tonic::Code::InvalidArgument {
        violations(s).swap_remove(0)
    } else {
        (String::new(), s.message().to_owned())
    }
}

/// A registry status as a job's failure reason.
pub fn status_reason(s: &tonic::Status) -> String {
    use tonic::Code;
    match s.code() {
        Code::PermissionDenied => format!("无权导入：{}", s.message()),
        Code::Unauthenticated => format!("登录已失效：{}", s.message()),
        Code::Unavailable | Code::DeadlineExceeded => {
            format!("登记服务暂时不可用，请稍后重试：{}", s.message())
        }
        Code::InvalidArgument => format!("登记服务拒绝：{}", s.message()),
        _ => {
            tracing::error!(code = ?s.code(), message = %s.message(), "registry failed during an import");
            "登记服务出错，已记录；请稍后重试".into()
        }
    }
}
