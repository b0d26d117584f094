//! The gRPC layer: a thin mapping from each RPC to its operation.
use zoufang_proto::issues::v1::{issue_service_server::IssueService, *};

use crate::ops::{self, State};

/// Implements `zoufang.issues.v1.IssueService`.
#[derive(Debug, Clone)]
pub struct IssueGrpc {
    state: State,
}

impl IssueGrpc {
    /// Serves operations over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

// Each RPC takes the verified claims and runs its operation; errors map
// to gRPC statuses through `ServiceError`.
zoufang_service::rpcs! {
    impl IssueService for IssueGrpc {
        create_issue(CreateIssueRequest) -> CreateIssueResponse => ops::create::create;
        get_issue(GetIssueRequest) -> GetIssueResponse => ops::query::get;
        list_issues(ListIssuesRequest) -> ListIssuesResponse => ops::query::list;
        assign_issue(AssignIssueRequest) -> AssignIssueResponse => ops::transitions::assign;
        start_issue(StartIssueRequest) -> StartIssueResponse => ops::transitions::start;
        resolve_issue(ResolveIssueRequest) -> ResolveIssueResponse => ops::transitions::resolve;
        explain_issue(ExplainIssueRequest) -> ExplainIssueResponse => ops::transitions::explain;
        escalate_issue(EscalateIssueRequest) -> EscalateIssueResponse => ops::transitions::escalate;
        sign_issue(SignIssueRequest) -> SignIssueResponse => ops::transitions::sign;
        return_issue(ReturnIssueRequest) -> ReturnIssueResponse => ops::transitions::return_issue;
        supervise_issue(SuperviseIssueRequest) -> SuperviseIssueResponse => ops::transitions::supervise;
        verify_issue(VerifyIssueRequest) -> VerifyIssueResponse => ops::transitions::verify;
        reopen_issue(ReopenIssueRequest) -> ReopenIssueResponse => ops::transitions::reopen;
        merge_issue(MergeIssueRequest) -> MergeIssueResponse => ops::transitions::merge;
        list_categories(ListCategoriesRequest) -> ListCategoriesResponse => ops::admin::list_categories;
        create_category(CreateCategoryRequest) -> CreateCategoryResponse => ops::admin::create_category;
        set_sla_rules(SetSlaRulesRequest) -> SetSlaRulesResponse => ops::admin::set_sla_rules;
        get_issue_statistics(GetIssueStatisticsRequest) -> GetIssueStatisticsResponse => ops::query::statistics;
        sweep_deadlines(SweepDeadlinesRequest) -> SweepDeadlinesResponse => ops::sweep::sweep_rpc;
    }
}
