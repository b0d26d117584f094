//! The gRPC layer: a thin mapping from each RPC to its operation.
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

// Each RPC takes the verified claims and runs its operation; the
// delegating ones (`with bearer`) call the registry on the caller's behalf
// and also take the caller's own token, which the token exchange needs.
zoufang_service::rpcs! {
    impl SupervisionService for SupervisionGrpc {
        create_team(CreateTeamRequest) -> CreateTeamResponse => ops::setup::create_team;
        list_teams(ListTeamsRequest) -> ListTeamsResponse => ops::setup::list_teams;
        set_sampling_policy(SetSamplingPolicyRequest) -> SetSamplingPolicyResponse => ops::setup::set_policy;
        list_worklist(ListWorklistRequest) -> ListWorklistResponse => ops::callbacks::worklist;
        list_callbacks(ListCallbacksRequest) -> ListCallbacksResponse => ops::callbacks::list;
        record_attempt(RecordAttemptRequest) -> RecordAttemptResponse => ops::callbacks::record_attempt;
        get_callback_statistics(GetCallbackStatisticsRequest) -> GetCallbackStatisticsResponse => ops::stats::statistics;
        create_inspection(CreateInspectionRequest) -> CreateInspectionResponse => ops::inspections::create;
        close_inspection(CloseInspectionRequest) -> CloseInspectionResponse => ops::inspections::close;
        list_inspections(ListInspectionsRequest) -> ListInspectionsResponse => ops::inspections::list;
        list_visit_signals(ListVisitSignalsRequest) -> ListVisitSignalsResponse => ops::signals::list;
        get_callback(GetCallbackRequest) -> GetCallbackResponse => ops::callbacks::get, with bearer;
        get_cadre_assessment(GetCadreAssessmentRequest) -> GetCadreAssessmentResponse => ops::assessment::assess, with bearer;
    }
}
