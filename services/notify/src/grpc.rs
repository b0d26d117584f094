//! The gRPC layer: a thin mapping from each RPC to its operation.
use tonic::{Request, Response, Status};
use zoufang_core::auth;
use zoufang_proto::notify::v1::{notify_service_server::NotifyService, *};

use crate::ops::{self, State, inbox::InboxStream};

/// Implements `zoufang.notify.v1.NotifyService`.
#[derive(Debug, Clone)]
pub struct NotifyGrpc {
    state: State,
}

impl NotifyGrpc {
    /// Serves operations over `state`.
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

// Each RPC takes the verified claims and runs its operation; errors map
// to gRPC statuses through `ServiceError`.
zoufang_service::rpcs! {
    impl NotifyService for NotifyGrpc {
        list_inbox(ListInboxRequest) -> ListInboxResponse => ops::inbox::list;
        mark_read(MarkReadRequest) -> MarkReadResponse => ops::inbox::mark_read;
        get_unread_count(GetUnreadCountRequest) -> GetUnreadCountResponse => ops::inbox::unread_count;
        upsert_recipient(UpsertRecipientRequest) -> UpsertRecipientResponse => ops::directory::upsert;
        list_recipients(ListRecipientsRequest) -> ListRecipientsResponse => ops::directory::list;
        get_preferences(GetPreferencesRequest) -> GetPreferencesResponse => ops::directory::get_preferences;
        set_preferences(SetPreferencesRequest) -> SetPreferencesResponse => ops::directory::set_preferences;
        list_templates(ListTemplatesRequest) -> ListTemplatesResponse => ops::templates::list;
        update_template(UpdateTemplateRequest) -> UpdateTemplateResponse => ops::templates::update;
        create_subscription(CreateSubscriptionRequest) -> CreateSubscriptionResponse => ops::subscriptions::create;
        list_subscriptions(ListSubscriptionsRequest) -> ListSubscriptionsResponse => ops::subscriptions::list;
        disable_subscription(DisableSubscriptionRequest) -> DisableSubscriptionResponse => ops::subscriptions::disable;
        list_deliveries(ListDeliveriesRequest) -> ListDeliveriesResponse => ops::deliveries::list;
    }
    {
        type StreamInboxStream = InboxStream;

        async fn stream_inbox(
            &self,
            request: Request<StreamInboxRequest>,
        ) -> Result<Response<InboxStream>, Status> {
            let claims = auth::claims(&request)?;
            Ok(Response::new(ops::inbox::stream(&self.state, &claims)))
        }
    }
}
