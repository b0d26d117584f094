//! Fills the directory from the registry, as the caller, as the records
//! arrive: a county's township names and a township's village names once
//! each, a village's households once (a page of 500 names at a time,
//! masked), the cadres of a county once; a household not found in its
//! village is asked for on its own. What the caller may not see stays
//! unnamed (the services decide); an unreachable registry fails the export.
use std::collections::{BTreeSet, HashSet};

use futures::{StreamExt, stream};
use tonic::Code;
use zoufang_proto::registry::v1::{
    GetHouseholdRequest, ListCadresRequest, ListHouseholdsRequest, ListRegionsRequest,
};
use zoufang_types::RegionCode;

use super::directory::{Directory, HouseholdInfo, county_code, is_village, township_code};
use crate::door::{ApiError, Upstreams};

/// Households asked for one by one, at once.
const CONCURRENCY: usize = 8;

/// What one record needs named.
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    /// Its 12-digit region (village, or township for a walk-in item).
    pub region: &'a str,
    /// Empty when there is none.
    pub household: &'a str,
}

/// The directory and what has been asked already.
#[derive(Debug)]
pub struct Lookup {
    up: Upstreams,
    token: String,
    pub dir: Directory,
    counties: HashSet<String>,
    townships: HashSet<String>,
    villages: HashSet<String>,
    cadre_counties: HashSet<String>,
    asked: HashSet<String>,
}

/// An answer, or nothing when the caller may not see it (or it is not
/// there); other failures are the export's.
fn seen<T: Default>(r: Result<tonic::Response<T>, tonic::Status>) -> Result<T, ApiError> {
    match r {
        Ok(r) => Ok(r.into_inner()),
        Err(s)
            if matches!(
                s.code(),
                Code::NotFound | Code::PermissionDenied | Code::InvalidArgument
            ) =>
        {
            Ok(T::default())
        }
        Err(s) => Err(s.into()),
    }
}

impl Lookup {
    /// An empty directory, to be filled acting with `token`.
    pub fn new(up: Upstreams, token: String) -> Self {
        Self {
            up,
            token,
            dir: Directory::default(),
            counties: HashSet::new(),
            townships: HashSet::new(),
            villages: HashSet::new(),
            cadre_counties: HashSet::new(),
            asked: HashSet::new(),
        }
    }

    /// The name of the region a prefix stands for (a county, township or
    /// village prefix of 6, 9 or 12 digits, or a 12-digit code).
    pub async fn name_of(&mut self, prefix: &str) -> Result<Option<String>, ApiError> {
        let Ok(code) = RegionCode::parse("region_code", &format!("{prefix:0<12}")) else {
            return Ok(None);
        };
        if code.prefix() != prefix && code.as_str() != prefix {
            return Ok(None);
        }
        if self.dir.region_name(code.as_str()).is_none()
            && let Some(parent) = code.parent()
        {
            self.children(parent.as_str()).await?;
        }
        Ok(self.dir.region_name(code.as_str()).map(str::to_owned))
    }

    /// Names everything `needs` refers to that is not named yet.
    pub async fn prepare(&mut self, needs: &[Needs<'_>]) -> Result<(), ApiError> {
        for n in needs {
            if let Some(county) = county_code(n.region)
                && self.counties.insert(county.clone())
            {
                self.children(&county).await?;
            }
            if let Some(township) = township_code(n.region)
                && self.townships.insert(township.clone())
            {
                self.children(&township).await?;
            }
            let county = n.region.get(..6).unwrap_or(n.region).to_owned();
            if self.cadre_counties.insert(county.clone()) {
                self.cadres(&county).await?;
            }
        }
        let villages: BTreeSet<&str> = needs
            .iter()
            .filter(|n| !n.household.is_empty() && !self.dir.has_household(n.household))
            .filter(|n| is_village(n.region) && !self.villages.contains(n.region))
            .map(|n| n.region)
            .collect();
        for v in villages {
            self.villages.insert(v.to_owned());
            self.households_of(v).await?;
        }
        let alone: BTreeSet<String> = needs
            .iter()
            .map(|n| n.household)
            .filter(|h| !h.is_empty() && !self.dir.has_household(h) && !self.asked.contains(*h))
            .map(str::to_owned)
            .collect();
        let (up, token) = (&self.up, self.token.as_str());
        let found: Vec<(String, Option<HouseholdInfo>)> = stream::iter(alone)
            .map(|id| async move {
                let r = up
                    .registry(token)
                    .get_household(GetHouseholdRequest {
                        household_id: id.clone(),
                        ..Default::default()
                    })
                    .await;
                let info = seen(r)?.household.as_ref().map(HouseholdInfo::from);
                Ok::<_, ApiError>((id, info))
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        for (id, info) in found {
            if let Some(info) = info {
                self.dir.add_household(&id, info);
            }
            self.asked.insert(id);
        }
        Ok(())
    }

    /// Names the children of a 12-digit code.
    async fn children(&mut self, parent: &str) -> Result<(), ApiError> {
        let r = self
            .up
            .registry(&self.token)
            .list_regions(ListRegionsRequest {
                parent_code: parent.to_owned(),
            })
            .await;
        for region in seen(r)?.regions {
            self.dir.add_region(&region.code, &region.name);
        }
        Ok(())
    }

    /// Names the cadres of a county (as far as the caller's scope goes).
    async fn cadres(&mut self, county: &str) -> Result<(), ApiError> {
        let r = self
            .up
            .registry(&self.token)
            .list_cadres(ListCadresRequest {
                region_code: county.to_owned(),
            })
            .await;
        for c in seen(r)?.cadres {
            self.dir.add_cadre(&c.cadre_id, &c.name);
        }
        Ok(())
    }

    /// Every household of a village, masked.
    async fn households_of(&mut self, village: &str) -> Result<(), ApiError> {
        let mut page_token = String::new();
        loop {
            let r = self
                .up
                .registry(&self.token)
                .list_households(ListHouseholdsRequest {
                    region_code: village.to_owned(),
                    tag: String::new(),
                    page_size: 500,
                    page_token: page_token.clone(),
                    purpose: String::new(),
                })
                .await;
            let page = seen(r)?;
            for h in &page.households {
                self.dir
                    .add_household(&h.household_id, HouseholdInfo::from(h));
            }
            if page.next_page_token.is_empty() || page.next_page_token == page_token {
                return Ok(());
            }
            page_token = page.next_page_token;
        }
    }
}
