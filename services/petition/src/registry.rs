//! Matching petitioners to registry households. The bridge asks the
//! registry by ID number (the registry compares keyed hashes) and tags the
//! household 重点信访; it calls as itself (no person is behind a matched
//! case), with a short-lived token the sign-in authority issues for this
//! purpose in the case's county (the bridge signs nothing itself).
use std::sync::Arc;

use tonic::{Code, Request, transport::Channel};
use uuid::Uuid;
use zoufang_core::auth::exchange::{TokenExchange, purposes};
use zoufang_proto::registry::v1::{
    FindHouseholdRequest, UpdateHouseholdTagsRequest,
    registry_service_client::RegistryServiceClient,
};

use crate::PETITION_TAG;

/// A lazily connected registry client.
#[derive(Clone)]
pub struct Registry {
    client: RegistryServiceClient<Channel>,
    exchange: Arc<TokenExchange>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

/// What matching found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The household, now tagged.
    Household(Uuid),
    /// No household has this ID number in the case's county.
    None,
    /// The registry could not answer; matching is left for later.
    Unavailable(String),
}

impl Registry {
    /// A client of `url` that connects on first use.
    pub fn new(url: &str, exchange: Arc<TokenExchange>) -> anyhow::Result<Self> {
        let channel = Channel::from_shared(url.to_owned())?
            .connect_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(10))
            .connect_lazy();
        Ok(Self {
            client: RegistryServiceClient::new(channel),
            exchange,
        })
    }

    async fn request<T>(&self, msg: T, county: &str) -> anyhow::Result<Request<T>> {
        // Scoped to the case's county: the bridge never looks past it.
        let token = self
            .exchange
            .for_service(purposes::PETITION_MATCH, county)
            .await
            .map_err(|e| anyhow::anyhow!("token exchange: {e}"))?;
        let mut req = Request::new(msg);
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        Ok(req)
    }

    /// Finds the petitioner's household in `county` and tags it 重点信访.
    pub async fn match_and_tag(&self, id_number: &str, county: &str) -> Match {
        match self.try_match(id_number, county).await {
            Ok(m) => m,
            Err(e) => Match::Unavailable(format!("{e:#}")),
        }
    }

    async fn try_match(&self, id_number: &str, county: &str) -> anyhow::Result<Match> {
        let mut client = self.client.clone();
        let found = client
            .find_household(
                self.request(
                    FindHouseholdRequest {
                        id_number: id_number.to_owned(),
                    },
                    county,
                )
                .await?,
            )
            .await;
        let household = match found {
            Ok(r) => r.into_inner().household.unwrap_or_default(),
            Err(s) if s.code() == Code::NotFound => return Ok(Match::None),
            Err(s) => anyhow::bail!("registry FindHousehold: {}", s.message()),
        };
        if !household.tags.iter().any(|t| t == PETITION_TAG) {
            client
                .update_household_tags(
                    self.request(
                        UpdateHouseholdTagsRequest {
                            household_id: household.household_id.clone(),
                            add: vec![PETITION_TAG.to_owned()],
                            remove: vec![],
                        },
                        county,
                    )
                    .await?,
                )
                .await
                .map_err(|s| anyhow::anyhow!("registry UpdateHouseholdTags: {}", s.message()))?;
        }
        Ok(Match::Household(Uuid::parse_str(&household.household_id)?))
    }
}
