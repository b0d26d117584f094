//! Where the rows come from: the registry's visits or the ledger's items,
//! page by page (500 at a time) as the caller, kept when they fall in the
//! period, with the directory filled for each page before it is written.
//!
//! Neither `ListVisits` nor `ListIssues` filters by time, so the period is
//! applied here while paging: on a visit's `started_at` and on an item's
//! `created_at` (the day it entered the ledger), as Beijing calendar days.
//! A campaign id narrows the scan on the services' side.
use std::future::Future;

use chrono::{DateTime, Utc};
use zoufang_proto::{
    issues::v1::{Issue, ListIssuesRequest},
    registry::v1::{ListVisitsRequest, Visit},
};

use super::{
    directory::Directory,
    layout::{Cell, LEDGER_COLUMNS, VISIT_COLUMNS, ledger_row, visit_row},
    lookup::{Lookup, Needs},
    period::{Period, instant},
};
use crate::door::{ApiError, Upstreams};

/// Records asked for per upstream call (the services' maximum).
const PAGE_SIZE: i32 = 500;

/// What the services are asked for.
#[derive(Debug, Clone)]
pub struct Filter {
    /// A region code prefix inside the caller's scope.
    pub prefix: String,
    /// Empty for every campaign.
    pub campaign_id: String,
    pub period: Period,
}

/// One of the two sheets: where its records come from and how a record
/// becomes a row.
pub trait Sheet: Send + Sync + 'static {
    type Record: Send + Sync + 'static;
    /// The form's name, e.g. 大走访活动记录表; also the sheet's.
    const NAME: &'static str;
    /// For the ASCII file name, e.g. `visits`.
    const SLUG: &'static str;
    /// Columns and their widths.
    const COLUMNS: &'static [(&'static str, f64)];

    /// One page and the next page's token (empty at the end).
    fn fetch(
        up: &Upstreams,
        token: &str,
        filter: &Filter,
        page_token: String,
    ) -> impl Future<Output = Result<(Vec<Self::Record>, String), ApiError>> + Send;
    /// The instant the period filter and the order go by.
    fn at(r: &Self::Record) -> Option<DateTime<Utc>>;
    /// A stable tie-breaker.
    fn id(r: &Self::Record) -> &str;
    /// What the row names.
    fn needs(r: &Self::Record) -> Needs<'_>;
    /// The row, numbered `seq`.
    fn row(seq: usize, r: &Self::Record, d: &Directory) -> Vec<Cell>;
}

/// The 大走访活动记录表: one row per visit.
#[derive(Debug)]
pub struct Visits;

impl Sheet for Visits {
    type Record = Visit;
    const NAME: &'static str = "大走访活动记录表";
    const SLUG: &'static str = "visits";
    const COLUMNS: &'static [(&'static str, f64)] = &VISIT_COLUMNS;

    async fn fetch(
        up: &Upstreams,
        token: &str,
        filter: &Filter,
        page_token: String,
    ) -> Result<(Vec<Visit>, String), ApiError> {
        let page = up
            .registry(token)
            .list_visits(ListVisitsRequest {
                region_code: filter.prefix.clone(),
                household_id: String::new(),
                cadre_id: String::new(),
                campaign_id: filter.campaign_id.clone(),
                page_size: PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        Ok((page.visits, page.next_page_token))
    }

    fn at(v: &Visit) -> Option<DateTime<Utc>> {
        instant(v.started_at.as_ref())
    }

    fn id(v: &Visit) -> &str {
        &v.visit_id
    }

    fn needs(v: &Visit) -> Needs<'_> {
        Needs {
            region: &v.village_code,
            household: &v.household_id,
        }
    }

    fn row(seq: usize, v: &Visit, d: &Directory) -> Vec<Cell> {
        visit_row(seq, v, d)
    }
}

/// The 民情台账: one row per ledger item.
#[derive(Debug)]
pub struct Ledger;

impl Sheet for Ledger {
    type Record = Issue;
    const NAME: &'static str = "民情台账";
    const SLUG: &'static str = "ledger";
    const COLUMNS: &'static [(&'static str, f64)] = &LEDGER_COLUMNS;

    async fn fetch(
        up: &Upstreams,
        token: &str,
        filter: &Filter,
        page_token: String,
    ) -> Result<(Vec<Issue>, String), ApiError> {
        let page = up
            .issues(token)
            .list_issues(ListIssuesRequest {
                region_code: filter.prefix.clone(),
                campaign_id: filter.campaign_id.clone(),
                page_size: PAGE_SIZE,
                page_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok((page.issues, page.next_page_token))
    }

    fn at(i: &Issue) -> Option<DateTime<Utc>> {
        instant(i.created_at.as_ref())
    }

    fn id(i: &Issue) -> &str {
        &i.issue_id
    }

    fn needs(i: &Issue) -> Needs<'_> {
        Needs {
            region: &i.region_code,
            household: &i.household_id,
        }
    }

    fn row(seq: usize, i: &Issue, d: &Directory) -> Vec<Cell> {
        ledger_row(seq, i, d)
    }
}

/// Pages of one sheet's records, in the services' order.
#[derive(Debug)]
pub struct Pager<S: Sheet> {
    up: Upstreams,
    token: String,
    filter: Filter,
    /// None once the last page is read.
    next: Option<String>,
    pub lookup: Lookup,
    _sheet: std::marker::PhantomData<S>,
}

impl<S: Sheet> Pager<S> {
    /// Starts before the first page.
    pub fn new(up: Upstreams, token: String, filter: Filter) -> Self {
        Self {
            lookup: Lookup::new(up.clone(), token.clone()),
            up,
            token,
            filter,
            next: Some(String::new()),
            _sheet: std::marker::PhantomData,
        }
    }

    /// The next records in the period (pages with none are skipped), their
    /// names looked up; None at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<S::Record>>, ApiError> {
        loop {
            let Some(page_token) = self.next.take() else {
                return Ok(None);
            };
            let (records, next) =
                S::fetch(&self.up, &self.token, &self.filter, page_token.clone()).await?;
            // An empty or repeated token ends the scan (a repeat would loop).
            if !next.is_empty() && next != page_token {
                self.next = Some(next);
            }
            let kept: Vec<S::Record> = records
                .into_iter()
                .filter(|r| self.filter.period.contains(S::at(r)))
                .collect();
            if kept.is_empty() {
                continue;
            }
            let needs: Vec<Needs<'_>> = kept.iter().map(S::needs).collect();
            self.lookup.prepare(&needs).await?;
            return Ok(Some(kept));
        }
    }
}
