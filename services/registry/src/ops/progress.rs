//! Progress against quotas (placeholder until the progress queries land).
use zoufang_proto::registry::v1::{GetCadreProgressRequest, GetCadreProgressResponse, GetRegionProgressRequest, GetRegionProgressResponse};
use zoufang_runtime::{ServiceError, ServiceResult, auth::Claims};

use super::State;

/// A cadre's progress.
pub async fn cadre(_state: &State, _claims: &Claims, _req: GetCadreProgressRequest) -> ServiceResult<GetCadreProgressResponse> {
    Err(ServiceError::FailedPrecondition("progress is not available yet".into()))
}

/// A region's progress.
pub async fn region(_state: &State, _claims: &Claims, _req: GetRegionProgressRequest) -> ServiceResult<GetRegionProgressResponse> {
    Err(ServiceError::FailedPrecondition("progress is not available yet".into()))
}
