//! The notification service's operations: authorization, validation, and
//! the transactions that write messages and deliveries together.
pub mod deliveries;
pub mod directory;
pub mod fanout;
pub mod followups;
pub mod inbox;
pub mod subscriptions;
pub mod templates;
pub mod view;

use std::{sync::Arc, time::Duration};

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use zoufang_core::pii::PiiCipher;

use zoufang_bus::retry::RetryPolicy;
use zoufang_core::clock::Clock;

use crate::channels::Sender;

/// The SMS provider's endpoint and credentials.
#[derive(Debug, Clone)]
pub struct SmsProvider {
    pub url: String,
    pub token: String,
    pub sign_name: String,
}

/// Settings the operations read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL of the web app for message links.
    pub link_base_url: String,
    /// None: SMS is off.
    pub sms: Option<SmsProvider>,
    pub retry: RetryPolicy,
    /// Time on one rung of the escalation ladder.
    pub escalation_step: Duration,
    /// Beijing hour of the daily digest.
    pub digest_hour: u32,
    /// The dispatcher's polling interval.
    pub dispatch_interval: Duration,
}

/// A new inbox row, announced by the database at commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxSignal {
    pub recipient_id: String,
    pub notification_id: uuid::Uuid,
}

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct State {
    /// The service's database pool (search_path = notify).
    pub pool: sqlx::PgPool,
    /// Encrypts phones and robot secrets at rest.
    pub pii: Arc<PiiCipher>,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    /// Sends deliveries over HTTP.
    pub sender: Sender,
    /// New inbox rows, for the inbox streams.
    pub inbox: broadcast::Sender<InboxSignal>,
    /// Pokes the dispatcher when there may be work.
    pub wake: Arc<Notify>,
    /// Ends inbox streams when the service stops.
    pub shutdown: CancellationToken,
    /// Revoked sign-in sessions: their inbox streams end.
    pub revoked: zoufang_core::auth::RevokedSessions,
}
