//! What an import may cost the gateway: one running import per account, a
//! few at once in all (each holds its rows in memory while it checks and
//! writes them), and an upload read within its size limit, counted as it
//! arrives, before anything is parsed.
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use axum::body::{Body, Bytes};
use futures::StreamExt;
use http::{HeaderMap, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zoufang_tabular::{Limits, ReadError, file_too_large};

use crate::door::{ApiError, FieldError};

/// Imports running at once in one gateway, all accounts together.
pub const MAX_RUNNING: usize = 4;

/// The accounts with an import running, and the permits of all imports.
#[derive(Debug)]
pub struct Gate {
    running: Mutex<HashSet<String>>,
    permits: Arc<Semaphore>,
    max_running: usize,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new(MAX_RUNNING)
    }
}

impl Gate {
    pub fn new(max_running: usize) -> Self {
        Self {
            running: Mutex::new(HashSet::new()),
            permits: Arc::new(Semaphore::new(max_running)),
            max_running,
        }
    }

    /// A slot for `account`'s import: 409 while it has one running, 429
    /// when the gateway runs its most ([`MAX_RUNNING`]) already. The slot is freed
    /// when dropped.
    pub fn enter(self: &Arc<Self>, account: &str) -> Result<Slot, ApiError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains(account) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "您已有一个导入正在进行，请等它完成后再上传下一个文件（每个账号同一时间只能进行一个导入）",
            ));
        }
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("系统正在处理{}个导入，请稍后再试", self.max_running),
            )
        })?;
        running.insert(account.to_owned());
        Ok(Slot {
            gate: self.clone(),
            account: account.to_owned(),
            _permit: permit,
        })
    }
}

/// One running import; dropping it lets the account import again.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<Gate>,
    account: String,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().unwrap_or_else(|p| p.into_inner());
        running.remove(&self.account);
    }
}

/// 413 naming the limit a file broke.
pub fn too_large(e: &ReadError) -> ApiError {
    let reason = e.message().to_owned();
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "payload_too_large",
        message: format!("file: {reason}"),
        field_errors: vec![FieldError {
            field: "file".into(),
            reason,
        }],
    }
}

/// The upload, refused with 413 once it passes [`Limits::max_file_bytes`]
/// (by its Content-Length before a byte is read, or while it arrives).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limits: &Limits,
) -> Result<Bytes, ApiError> {
    let max = limits.max_file_bytes;
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(&file_too_large(limits)));
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid("file", format!("上传中断：{e}")))?;
        if buf.len() + chunk.len() > max {
            return Err(too_large(&file_too_large(limits)));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_import_per_account_and_a_few_in_all() {
        let gate = Arc::new(Gate::new(2));
        let a = gate.enter("a").unwrap();
        assert_eq!(gate.enter("a").unwrap_err().status, StatusCode::CONFLICT);
        let _b = gate.enter("b").unwrap();
        let busy = gate.enter("c").unwrap_err();
        assert_eq!(busy.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(busy.message.contains("2个导入"), "{}", busy.message);
        drop(a);
        let _a = gate.enter("a").unwrap();
    }

    #[tokio::test]
    async fn an_upload_stops_at_its_limit() {
        let limits = Limits {
            max_file_bytes: 10,
            ..Limits::DEFAULT
        };
        let mut headers = HeaderMap::new();
        let ok = read_body(&headers, Body::from("0123456789"), &limits)
            .await
            .unwrap();
        assert_eq!(ok.len(), 10);
        let e = read_body(&headers, Body::from("0123456789a"), &limits)
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.message.contains("1 KB的上限"), "{}", e.message);
        headers.insert(http::header::CONTENT_LENGTH, "1000000".parse().unwrap());
        let e = read_body(&headers, Body::from("0"), &limits)
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
