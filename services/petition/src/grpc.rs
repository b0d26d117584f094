//! The gRPC layer: a thin mapping from each RPC to its operation.
use zoufang_proto::petition::v1::{petition_service_server::PetitionService, *};

use crate::ops::{self, State, steps::rpc};

/// Implements `zoufang.petition.v1.PetitionService`.
#[derive(Debug, Clone)]
pub struct PetitionGrpc {
    state: State,
}

impl PetitionGrpc {
    /// Serves operations over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

// Each RPC takes the verified claims and runs its operation; errors map
// to gRPC statuses through `ServiceError`.
zoufang_service::rpcs! {
    impl PetitionService for PetitionGrpc {
        register_source(RegisterSourceRequest) -> RegisterSourceResponse => ops::sources::register;
        list_sources(ListSourcesRequest) -> ListSourcesResponse => ops::sources::list;
        get_case(GetCaseRequest) -> GetCaseResponse => ops::query::get;
        list_cases(ListCasesRequest) -> ListCasesResponse => ops::query::list;
        accept_case(AcceptCaseRequest) -> AcceptCaseResponse => rpc::accept;
        refuse_case(RefuseCaseRequest) -> RefuseCaseResponse => rpc::refuse;
        extend_case(ExtendCaseRequest) -> ExtendCaseResponse => rpc::extend;
        reply_case(ReplyCaseRequest) -> ReplyCaseResponse => rpc::reply;
        request_review(RequestReviewRequest) -> RequestReviewResponse => rpc::request_review;
        decide_review(DecideReviewRequest) -> DecideReviewResponse => rpc::decide_review;
        return_order(ReturnOrderRequest) -> ReturnOrderResponse => rpc::return_order;
        reassign_order(ReassignOrderRequest) -> ReassignOrderResponse => rpc::reassign;
        merge_orders(MergeOrdersRequest) -> MergeOrdersResponse => rpc::merge;
        import_cases(ImportCasesRequest) -> ImportCasesResponse => ops::import::import;
        list_replies(ListRepliesRequest) -> ListRepliesResponse => ops::query::replies;
    }
}
