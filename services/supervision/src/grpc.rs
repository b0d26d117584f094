//! The gRPC layer: a thin mapping from each RPC to its operation.
use tonic::{Request, Response, Status};
use zoufang_core::auth;
use zoufang_proto::supervision::v1::{supervision_service_server::SupervisionService, *};

use crate::ops::{self, State};

/// Implements `zoufang.supervision.v1.SupervisionService`.
#[derive(Debug, Clone)]
pub struct SupervisionGrpc {
    state: State,
}

impl SupervisionGrpc {
    /// Serves operations over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

/// Each RPC takes the claims, runs its operation and maps the error; the
/// delegating ones call the registry on the caller's behalf and also take
/// the caller's own token, which the token exchange needs.
macro_rules! rpcs {
    (
        { $($name:ident($req:ty) -> $resp:ty => $op:path;)* }
        delegating { $($dname:ident($dreq:ty) -> $dresp:ty => $dop:path;)* }
    ) => {
        #[tonic::async_trait]
        impl SupervisionService for SupervisionGrpc {
            $(
                async fn $name(&self, request: Request<$req>) -> Result<Response<$resp>, Status> {
                    let claims = auth::claims(&request)?;
                    Ok(Response::new($op(&self.state, &claims, request.into_inner()).await?))
                }
            )*
            $(
                async fn $dname(&self, request: Request<$dreq>) -> Result<Response<$dresp>, Status> {
                    let claims = auth::claims(&request)?;
                    let bearer = auth::bearer_token(&request)?.to_owned();
                    Ok(Response::new(
                        $dop(&self.state, &claims, &bearer, request.into_inner()).await?,
                    ))
                }
            )*
        }
    };
}

rpcs! {
    {
    create_team(CreateTeamRequest) -> CreateTeamResponse => ops::setup::create_team;
    list_teams(ListTeamsRequest) -> ListTeamsResponse => ops::setup::list_teams;
    set_sampling_policy(SetSamplingPolicyRequest) -> SetSamplingPolicyResponse => ops::setup::set_policy;
    list_worklist(ListWorklistRequest) -> ListWorklistResponse => ops::callbacks::worklist;
    record_attempt(RecordAttemptRequest) -> RecordAttemptResponse => ops::callbacks::record_attempt;
    get_callback_statistics(GetCallbackStatisticsRequest) -> GetCallbackStatisticsResponse => ops::stats::statistics;
    create_inspection(CreateInspectionRequest) -> CreateInspectionResponse => ops::inspections::create;
    close_inspection(CloseInspectionRequest) -> CloseInspectionResponse => ops::inspections::close;
    list_inspections(ListInspectionsRequest) -> ListInspectionsResponse => ops::inspections::list;
    list_visit_signals(ListVisitSignalsRequest) -> ListVisitSignalsResponse => ops::signals::list;
    }
    delegating {
    get_callback(GetCallbackRequest) -> GetCallbackResponse => ops::callbacks::get;
    get_cadre_assessment(GetCadreAssessmentRequest) -> GetCadreAssessmentResponse => ops::assessment::assess;
    }
}
