//! The gRPC layer: a thin mapping from each RPC to its operation, with the
//! caller's claims (set by the auth interceptor) passed along.
use zoufang_proto::registry::v1::{registry_service_server::RegistryService, *};

use crate::ops::{self, State};

/// Implements `zoufang.registry.v1.RegistryService`.
#[derive(Debug, Clone)]
pub struct RegistryGrpc {
    state: State,
}

impl RegistryGrpc {
    /// Serves operations over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

// Each RPC takes the verified claims and runs its operation; errors map
// to gRPC statuses through `ServiceError`.
zoufang_service::rpcs! {
    impl RegistryService for RegistryGrpc {
        import_regions(ImportRegionsRequest) -> ImportRegionsResponse => ops::regions::import;
        list_regions(ListRegionsRequest) -> ListRegionsResponse => ops::regions::list;
        create_work_zone(CreateWorkZoneRequest) -> CreateWorkZoneResponse => ops::regions::create_zone;
        list_work_zones(ListWorkZonesRequest) -> ListWorkZonesResponse => ops::regions::list_zones;
        create_work_team(CreateWorkTeamRequest) -> CreateWorkTeamResponse => ops::teams::create;
        list_work_teams(ListWorkTeamsRequest) -> ListWorkTeamsResponse => ops::teams::list;
        set_work_team_members(SetWorkTeamMembersRequest) -> SetWorkTeamMembersResponse => ops::teams::set_members;
        add_work_team_members(AddWorkTeamMembersRequest) -> AddWorkTeamMembersResponse => ops::teams::add_members;
        register_household(RegisterHouseholdRequest) -> RegisterHouseholdResponse => ops::households::register;
        get_household(GetHouseholdRequest) -> GetHouseholdResponse => ops::households::get;
        find_household(FindHouseholdRequest) -> FindHouseholdResponse => ops::households::find;
        list_households(ListHouseholdsRequest) -> ListHouseholdsResponse => ops::households::list;
        update_household_tags(UpdateHouseholdTagsRequest) -> UpdateHouseholdTagsResponse => ops::households::update_tags;
        update_household(UpdateHouseholdRequest) -> UpdateHouseholdResponse => ops::households::edit::update;
        list_household_history(ListHouseholdHistoryRequest) -> ListHouseholdHistoryResponse => ops::households::edit::history;
        register_cadre(RegisterCadreRequest) -> RegisterCadreResponse => ops::cadres::register;
        list_cadres(ListCadresRequest) -> ListCadresResponse => ops::cadres::list;
        announce_cadres(AnnounceCadresRequest) -> AnnounceCadresResponse => ops::cadres::announce_all;
        create_campaign(CreateCampaignRequest) -> CreateCampaignResponse => ops::campaigns::create;
        get_campaign(GetCampaignRequest) -> GetCampaignResponse => ops::campaigns::get;
        update_campaign(UpdateCampaignRequest) -> UpdateCampaignResponse => ops::campaigns::update;
        list_campaigns(ListCampaignsRequest) -> ListCampaignsResponse => ops::campaigns::list;
        set_campaign_status(SetCampaignStatusRequest) -> SetCampaignStatusResponse => ops::campaigns::set_status;
        create_assignment(CreateAssignmentRequest) -> CreateAssignmentResponse => ops::campaigns::assign;
        list_assignments(ListAssignmentsRequest) -> ListAssignmentsResponse => ops::campaigns::list_assignments;
        list_uncovered_villages(ListUncoveredVillagesRequest) -> ListUncoveredVillagesResponse => ops::campaigns::uncovered_villages;
        record_visit(RecordVisitRequest) -> RecordVisitResponse => ops::visits::record;
        get_visit(GetVisitRequest) -> GetVisitResponse => ops::visits::get;
        list_visits(ListVisitsRequest) -> ListVisitsResponse => ops::visits::list;
        flag_visit_disputed(FlagVisitDisputedRequest) -> FlagVisitDisputedResponse => ops::visits::flag_disputed;
        get_cadre_progress(GetCadreProgressRequest) -> GetCadreProgressResponse => ops::progress::cadre;
        get_region_progress(GetRegionProgressRequest) -> GetRegionProgressResponse => ops::progress::region;
        register_households(RegisterHouseholdsRequest) -> RegisterHouseholdsResponse => ops::households::register_many;
    }
}
