//! The batch door: a CSV or XLSX file of cases, each row taken in like a
//! webhook delivery. Bad rows are reported with their row and column and
//! the good ones are taken in (a row is a case; there is nothing to gain
//! from refusing a whole file for one bad row, and taking a row in twice
//! changes nothing, so a corrected file can simply be sent again).
//!
//! The file is read within `tabular::Limits` (a file over one is refused
//! naming the limit, nothing taken in) on a blocking thread, and an account
//! runs one import at a time.
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use zoufang_core::{ServiceError, ServiceResult, auth::Claims};
use zoufang_proto::petition::v1::{ImportCasesRequest, ImportCasesResponse, RowError};

use super::{
    HANDLERS, State,
    intake::{Applied, Refused, intake},
};
use crate::domain::batch;

/// The largest file accepted. The gRPC server's message limit (tonic's
/// default, 4 MiB) is lower still: this guards callers inside the process.
const MAX_BYTES: usize = 20 * 1024 * 1024;

/// The accounts with an import running.
#[derive(Debug, Default)]
pub struct Running(Mutex<HashSet<String>>);

/// One running import; dropping it lets the account import again.
#[derive(Debug)]
struct Slot {
    running: Arc<Running>,
    account: String,
}

impl Running {
    /// A slot for `account`, or Aborted (409 at the gateway) while it has one.
    fn enter(self: &Arc<Self>, account: &str) -> ServiceResult<Slot> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(account.to_owned()) {
            return Err(ServiceError::Aborted(
                "您已有一个信访件导入正在进行，请等它完成后再导入下一个文件（每个账号同一时间只能进行一个导入）".into(),
            ));
        }
        Ok(Slot {
            running: self.clone(),
            account: account.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut set = self.running.0.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.account);
    }
}

/// Takes in every good row of the file.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn import(
    state: &State,
    claims: &Claims,
    req: ImportCasesRequest,
) -> ServiceResult<ImportCasesResponse> {
    claims.require_any_role(HANDLERS)?;
    if req.content.is_empty() {
        return Err(ServiceError::invalid("content", "the file is empty"));
    }
    if req.content.len() > MAX_BYTES {
        return Err(ServiceError::invalid(
            "content",
            "larger than 20 MB; split the file",
        ));
    }
    let _slot = state.imports.enter(&claims.sub)?;
    let ImportCasesRequest {
        source_system,
        file_name,
        content,
    } = req;
    // What lies in the future is judged on real time.
    let now = state.wall.now();
    let parsed = tokio::task::spawn_blocking(move || {
        batch::parse(&content, file_name.trim(), source_system.trim(), now)
    })
    .await
    .map_err(|e| ServiceError::Internal(anyhow::anyhow!("batch parse panicked: {e}")))?
    .map_err(|why| ServiceError::invalid("content", why))?;
    let mut out = ImportCasesResponse {
        rows: i32::try_from(parsed.rows()).unwrap_or(i32::MAX),
        errors: parsed
            .errors
            .into_iter()
            .map(|e| RowError {
                row: e.row,
                column: e.column,
                reason: e.reason,
            })
            .collect(),
        ..Default::default()
    };
    let actor = format!("import:{}", claims.sub);
    for (row, case) in parsed.cases {
        if !claims.covers(case.region.as_str()) {
            out.errors.push(RowError {
                row,
                column: "区划代码".into(),
                reason: format!("{} 不在您的管辖范围内", case.region.as_str()),
            });
            continue;
        }
        match intake(state, &case, &actor, None, Some(claims)).await {
            Ok((_, Applied::Created)) => out.created += 1,
            Ok((_, Applied::Updated)) => out.updated += 1,
            Ok((_, Applied::Unchanged)) => out.unchanged += 1,
            Err(Refused::Service(ServiceError::InvalidArgument(vs))) => {
                out.errors.extend(vs.into_iter().map(|v| RowError {
                    row,
                    column: column_of(&v.field).to_owned(),
                    reason: v.reason,
                }));
            }
            Err(Refused::Service(ServiceError::Internal(e))) => {
                // The registry or the database failed for this row: report it
                // and go on; the file can be sent again (taken rows stay one).
                tracing::warn!(row, error = %format!("{e:#}"), "batch row failed");
                out.errors.push(RowError {
                    row,
                    column: String::new(),
                    reason: "系统暂时无法处理该行（如户籍比对不可用），请稍后重新导入".into(),
                });
            }
            Err(Refused::Service(e)) => return Err(e),
            Err(Refused::Replay) => unreachable_replay(),
        }
    }
    out.errors.sort_by_key(|e| e.row);
    // Reasons may quote a cell or a service's refusal: no personal number
    // goes back in full.
    for e in &mut out.errors {
        e.reason = zoufang_types::mask_numbers_in_text(&e.reason);
    }
    Ok(out)
}

/// Batches carry no signature, so intake cannot call them replays.
fn unreachable_replay() {
    tracing::error!("intake refused a batch row as a replay, which cannot happen");
}

/// The column a case field is read from, for the checks intake makes
/// beyond the file's own (the source registered, the region in its area).
fn column_of(field: &str) -> &str {
    match field {
        "source_system" => "来源系统",
        "region_code" => "区划代码",
        "external_id" => "外部编号",
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_runs_one_import_at_a_time() {
        let running = Arc::new(Running::default());
        let slot = running.enter("bureau").unwrap();
        let again = running.enter("bureau").unwrap_err();
        assert!(
            matches!(&again, ServiceError::Aborted(m) if m.contains("同一时间只能进行一个导入"))
        );
        let _other = running.enter("other").unwrap();
        drop(slot);
        assert!(running.enter("bureau").is_ok());
    }
}
