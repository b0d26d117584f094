//! A running import job: reading the file, checking and writing the rows
//! in phases, reporting progress and errors as it goes, and its end.
use std::collections::HashSet;

use tokio::time::Instant;

use super::*;

/// A running job: its counters and error report, reported as it goes.
pub struct Run {
    pub job_id: Uuid,
    pub kind: Kind,
    pub mode: Mode,
    pub claims: Claims,
    pub up: Upstream,
    pub counts: Counts,
    /// Initial passwords of accounts made by the job: (row, cadre, username, password).
    pub credentials: Vec<(u32, String, String, String)>,
    /// What the summary adds (teams created …).
    pub notes: Vec<String>,
    pool: sqlx::PgPool,
    failed_rows: HashSet<u32>,
    error_seq: i32,
    phase: &'static str,
    last_report: Instant,
}

impl Run {
    /// A job about to start, in its first phase (checking).
    pub fn new(job_id: Uuid, kind: Kind, mode: Mode, claims: Claims, up: Upstream) -> Self {
        let pool = up.state.pool.clone();
        Self {
            job_id,
            kind,
            mode,
            claims,
            up,
            counts: Counts::default(),
            credentials: Vec::new(),
            notes: Vec::new(),
            pool,
            failed_rows: HashSet::new(),
            error_seq: 0,
            phase: "checking",
            last_report: Instant::now(),
        }
    }

    fn db(e: sqlx::Error) -> String {
        tracing::error!(error = %e, "import job bookkeeping failed");
        "内部错误（导入记录无法保存），已记录".into()
    }

    /// Stores errors and counts their rows as failed. Reasons may quote a
    /// cell or an upstream refusal: personal numbers in them are masked
    /// before they are stored (and so before anyone reads them).
    pub async fn add_errors(&mut self, mut errors: Vec<RowError>) -> Result<(), String> {
        for e in &mut errors {
            e.reason = zoufang_types::mask_numbers_in_text(&e.reason);
        }
        for chunk in errors.chunks(5000) {
            store::add_errors(&self.pool, self.job_id, self.error_seq, chunk)
                .await
                .map_err(Self::db)?;
            self.error_seq += chunk.len() as i32;
        }
        for e in &errors {
            self.failed_rows.insert(e.row);
        }
        self.counts.failed = self.failed_rows.len() as i32;
        Ok(())
    }

    /// Bad rows found while checking: final, so processed.
    pub async fn checked(&mut self, errors: Vec<RowError>) -> Result<(), String> {
        let before = self.failed_rows.len();
        self.add_errors(errors).await?;
        self.counts.processed += (self.failed_rows.len() - before) as i32;
        self.phase = "writing";
        self.report(true).await
    }

    /// A batch came back: `rows` processed, `imported` of them written (or
    /// already there), the rest refused with `errors`.
    pub async fn batch_done(
        &mut self,
        rows: usize,
        imported: usize,
        errors: Vec<RowError>,
    ) -> Result<(), String> {
        self.add_errors(errors).await?;
        self.counts.processed += rows as i32;
        self.counts.imported += imported as i32;
        self.report(false).await
    }

    /// Saves progress, at most every 250 ms unless forced.
    pub async fn report(&mut self, force: bool) -> Result<(), String> {
        if force || self.last_report.elapsed() >= Duration::from_millis(250) {
            store::progress(&self.pool, self.job_id, self.phase, self.counts)
                .await
                .map_err(Self::db)?;
            self.last_report = Instant::now();
        }
        Ok(())
    }

    /// Stores the initial passwords collected so far, for the job's
    /// creator to fetch once.
    pub async fn save_credentials(&mut self) -> Result<(), String> {
        let taken = std::mem::take(&mut self.credentials);
        store::add_credentials(&self.pool, self.job_id, &taken)
            .await
            .map_err(Self::db)
    }

    /// The reason an all-or-nothing job wrote nothing.
    pub fn nothing_written(&self) -> String {
        format!(
            "有{}行有误，按“全部成功才导入”（all_or_nothing）未写入任何数据；请按错误清单修改后重新上传",
            self.counts.failed
        )
    }
}

/// The rows read from the file (or why they could not be) and the
/// options of a job.
pub(super) struct Input {
    pub(super) read: Result<ReadRows, String>,
    pub(super) format: zoufang_tabular::Format,
    /// Where village names are looked up (a county or township prefix).
    pub(super) area: String,
    /// The campaign of a 包保 import.
    pub(super) campaign_id: Option<String>,
    /// The account's import slot, held until the job ends.
    pub(super) slot: Option<super::gate::Slot>,
}

/// A file read: its sheet's name, the header row, the mapping of columns
/// to fields and the non-blank data rows.
pub type ReadRows = (String, u32, Mapping, Vec<Row>);

/// Reads the file within `limits` and finds the header. Public for the
/// fuzz targets (`fuzz/`).
pub fn read_rows(
    kind: Kind,
    format: zoufang_tabular::Format,
    body: &[u8],
    sheet: Option<&str>,
    limits: &Limits,
) -> Result<ReadRows, zoufang_tabular::ReadError> {
    let mut grids = match format {
        zoufang_tabular::Format::Workbook => zoufang_tabular::workbook_with(body, sheet, limits)?,
        zoufang_tabular::Format::Csv => vec![zoufang_tabular::csv_with(body, limits)?],
    };
    let (grid, located) = zoufang_tabular::choose(kind.specs(), &grids)?;
    // The chosen sheet's rows are moved out, not copied: a file at the
    // limits would otherwise be held twice.
    let chosen = grids
        .iter()
        .position(|g| std::ptr::eq(g, grid))
        .unwrap_or_default();
    let grid = grids.swap_remove(chosen);
    let rows: Vec<Row> = grid
        .rows
        .into_iter()
        .skip(located.first_data)
        .filter(|r| !r.is_blank())
        .collect();
    Ok((grid.name, located.header_row, located.mapping, rows))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "import task panicked");
        "内部错误，已记录".to_owned()
    })
}

/// The registry's villages and townships for the codes in `column` of
/// `rows` (within `area` and the caller's scope), to check rows against.
async fn load_directory(
    run: &Run,
    area: &str,
    mapping: &Mapping,
    rows: &[Row],
    column: &str,
) -> Result<directory::Directory, String> {
    let col = mapping.column(column);
    let codes = rows
        .iter()
        .filter_map(|r| col.and_then(|c| r.cell(c)).map(|c| c.text.as_str()));
    let areas = directory::areas_to_load(area, codes, &run.claims.scope);
    directory::load(&run.up.state, &run.up.token, areas)
        .await
        .map_err(|s| status_reason(&s))
}

/// The whole job; Ok is the summary, Err the reason it failed.
async fn execute(run: &mut Run, input: Input) -> Result<String, String> {
    let kind = run.kind;
    let (format, area, campaign_id) = (input.format, input.area, input.campaign_id);
    let (sheet, header_row, mapping, rows) = input.read?;
    run.counts.total = rows.len() as i32;
    store::set_source(
        &run.pool,
        run.job_id,
        format.as_str(),
        &sheet,
        header_row,
        run.counts.total,
    )
    .await
    .map_err(Run::db)?;
    if rows.is_empty() {
        return Err(format!("第{header_row}行是表头，但表头下没有数据行"));
    }
    match kind {
        Kind::Households => {
            let dir = load_directory(run, &area, &mapping, &rows, "village").await?;
            let (scope, m) = (run.claims.scope.clone(), mapping.clone());
            let today = zoufang_types::beijing::date_of(run.up.state.clock.now());
            let parsed =
                blocking(move || households::parse(&rows, &m, &dir, &scope, today)).await?;
            if gate(run, parsed.errors).await? {
                households::write(run, &mapping, parsed.good).await?;
            }
        }
        Kind::Cadres => {
            let dir = load_directory(run, &area, &mapping, &rows, "region").await?;
            let existing = cadres::existing(&run.up, &area, &run.claims.scope).await?;
            let (scope, m) = (run.claims.scope.clone(), mapping.clone());
            let county_admin = run.claims.has_role(roles::COUNTY_ADMIN);
            let parsed =
                blocking(move || cadres::parse(&rows, &m, &dir, &scope, county_admin, &existing))
                    .await?;
            if gate(run, parsed.errors).await? {
                let registered = cadres::write(run, &mapping, parsed.good).await?;
                teams::join(run, &mapping, &area, registered).await?;
            }
        }
        Kind::Assignments => {
            let campaign_id = campaign_id.unwrap_or_default();
            if let Some(problem) = assignments::header_problem(&mapping) {
                return Err(format!("第{header_row}行是表头，但{problem}"));
            }
            let campaign = run
                .up
                .retrying_status(|mut c| {
                    let campaign_id = campaign_id.clone();
                    async move {
                        c.get_campaign(zoufang_proto::registry::v1::GetCampaignRequest {
                            campaign_id,
                        })
                        .await
                    }
                })
                .await
                .map_err(|s| match s.code() {
                    tonic::Code::NotFound | tonic::Code::InvalidArgument => {
                        format!("找不到走访活动{campaign_id}，或它不在您的管辖范围内")
                    }
                    _ => status_reason(&s),
                })?
                .campaign
                .unwrap_or_default();
            // Names are looked up within the campaign's region and the area.
            let campaign_prefix = significant(&campaign.region_code);
            let area = if campaign_prefix.starts_with(&area) {
                campaign_prefix.clone()
            } else {
                area
            };
            let dir = load_directory(run, &area, &mapping, &rows, "village").await?;
            let (cadres, zones) = assignments::load(&run.up, &area, &dir).await?;
            let households = assignments::household_villages(
                &run.up,
                assignments::household_ids(&rows, &mapping),
            )
            .await?;
            let (scope, m) = (run.claims.scope.clone(), mapping.clone());
            let parsed = blocking(move || {
                let cx = assignments::Context {
                    dir: &dir,
                    scope: &scope,
                    campaign_region: &campaign_prefix,
                    cadres: &cadres,
                    zones: &zones,
                    households: &households,
                };
                assignments::parse(&rows, &m, &campaign_id, &cx)
            })
            .await?;
            if gate(run, parsed.errors).await? {
                assignments::write(run, &mapping, parsed.good).await?;
            }
        }
        Kind::Regions => {
            let (claims, m) = (run.claims.clone(), mapping.clone());
            let parsed = blocking(move || regions::parse(&rows, &m, &claims)).await?;
            if gate(run, parsed.errors).await? {
                regions::write(run, &mapping, parsed.good).await?;
            }
        }
    }
    let c = run.counts;
    let mut summary = if c.failed == 0 {
        format!("共{}行，全部导入", c.total)
    } else {
        format!(
            "共{}行：导入{}行，{}行有误未导入",
            c.total, c.imported, c.failed
        )
    };
    if !run.notes.is_empty() {
        summary.push('；');
        summary.push_str(&run.notes.join("；"));
    }
    Ok(summary)
}

/// A region code's significant prefix (430426104000 → 430426104).
fn significant(code: &str) -> String {
    let mut p = code.trim();
    while p.len() > 6 && p.ends_with("000") {
        p = &p[..p.len() - 3];
    }
    p.to_owned()
}

/// After checking: stores the bad rows; false (nothing to write) when
/// there are none good, Err when all-or-nothing and some are bad.
async fn gate(run: &mut Run, errors: Vec<RowError>) -> Result<bool, String> {
    let bad = !errors.is_empty();
    run.checked(errors).await?;
    if bad && run.mode.all_or_nothing() {
        return Err(run.nothing_written());
    }
    Ok(run.counts.failed < run.counts.total)
}

/// Runs a job to its end and records the outcome.
pub(super) async fn run_job(mut run: Run, mut input: Input) {
    let slot = input.slot.take();
    let outcome = execute(&mut run, input).await;
    // The account may import again once the work is done, before the end
    // is recorded: a caller who sees the job finished can start the next.
    drop(slot);
    let (state, message) = match &outcome {
        Ok(summary) => ("done", summary.as_str()),
        Err(reason) => ("failed", reason.as_str()),
    };
    if outcome.is_err() && run.mode.all_or_nothing() {
        // Nothing of an all-or-nothing job counts as imported when it fails
        // before writing; what a failed write already wrote stays counted.
        run.counts.processed = run.counts.total;
    }
    if let Err(e) = store::finish(&run.pool, run.job_id, state, message, run.counts).await {
        tracing::error!(error = %e, job_id = %run.job_id, "could not record the end of an import");
    }
}
