// 驾驶舱 (a county leader): the dashboard of the demo campaign at the
// county shows exactly the summary report's figures — the ones the demo
// generator says it made (seed.figures) and the ones GET /v1/reports/summary
// answers now; townships are ranked by outcomes only; a drill-down shows a
// township's villages; the 活动总结 page of the same campaign shows them too.

/** A figure of a summary by its dotted key (visits.coverage_bp). */
function pick(obj, key) {
  return key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/** 8830 → "88.30%" (the report's own writing). */
function pct(bp) {
  if (bp === null || bp === undefined) return '—';
  return `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`;
}

export default async function (t) {
  const { seed } = t;
  const page = await t.signIn('leader');
  // The seed campaign by its link (another scenario may have activated a newer one).
  await page.goto(`${t.base}/dashboard?campaign_id=${seed.campaign_id}`);
  await page.locator('[data-test=dashboard] [data-test=figure]').first().waitFor();

  // The region defaults to the session's county.
  const meta = await page.locator('[data-test=summary-meta]').innerText();

  // The summary report of the same campaign and region, as the gateway answers it.
  const summary = await page.evaluate(async ({ county, campaign }) => {
    const r = await fetch(`/v1/reports/summary?region_code=${county}&campaign_id=${campaign}`, { credentials: 'same-origin' });
    return { status: r.status, body: await r.json() };
  }, { county: seed.county.code, campaign: seed.campaign_id });
  t.check(summary.status === 200, `GET /v1/reports/summary answers 200 (got ${summary.status})`);
  t.check(meta.includes(summary.body.campaign.name) && meta.includes(summary.body.region_name), `the dashboard shows the seed campaign at the county (${meta})`);

  const figures = await page.locator('[data-test=dashboard] [data-test=figure]').evaluateAll((els) =>
    els.map((e) => ({ key: e.dataset.key, value: e.dataset.value, text: e.textContent.trim() })),
  );
  t.check(figures.length >= 12, `the dashboard shows its figures (${figures.length})`);
  const haveSeed = seed.figures && Object.keys(seed.figures).length > 0;
  for (const f of figures) {
    const fromReport = pick(summary.body, f.key);
    t.check(
      String(fromReport ?? '') === f.value,
      `${f.key}: the dashboard shows ${f.value}, the summary report says ${fromReport}`,
    );
    if (haveSeed) {
      const fromDemo = pick(seed.figures, f.key);
      t.check(String(fromDemo ?? '') === f.value, `${f.key}: the dashboard shows ${f.value}, the demo made ${fromDemo}`);
    }
    // What a person reads is the same number, written as the report writes it.
    if (f.key.endsWith('_bp')) t.check(f.text === pct(fromReport), `${f.key} reads ${f.text}, expected ${pct(fromReport)}`);
    else if (f.text) t.check(f.text === String(fromReport), `${f.key} reads ${f.text}, expected ${fromReport}`);
  }
  for (const key of ['visits.households_visited', 'visits.households_total', 'visits.coverage_bp', 'visits.visits', 'ledger.collected', 'ledger.resolved_on_spot', 'ledger.resolved_in_time', 'ledger.resolved_late', 'ledger.overdue', 'ledger.resolution_rate_bp', 'callbacks.satisfaction_rate_bp']) {
    t.check(figures.some((f) => f.key === key), `the dashboard shows ${key}`);
  }

  // Townships ranked by outcomes: 办结率 never increases down the table.
  const ranking = page.locator('[data-test=ranking] tbody tr');
  const n = await ranking.count();
  t.check(n === summary.body.rows.length, `a ranking row per township (${n} of ${summary.body.rows.length})`);
  const headers = await page.locator('[data-test=ranking] thead').innerText();
  t.check(headers.includes('办结率') && headers.includes('满意度'), `ranked by outcomes (${headers})`);
  t.check(!/打卡|积分|在线时长|走访次数/.test(headers), `not ranked by activity (${headers})`);
  await page.locator('[data-test=per-day-chart][data-loaded=yes]').waitFor({ timeout: 60000 });
  await page.waitForTimeout(1000);
  await t.shot(page, 'county');
  await page.locator('[data-test=due-items]').scrollIntoViewIfNeeded();
  await t.shot(page, 'county-ledger');
  await page.locator('[data-test=ranking]').scrollIntoViewIfNeeded();
  await t.shot(page, 'county-ranking');
  await page.locator('[data-test=coverage-chart]').scrollIntoViewIfNeeded();

  // Drill down: a township's villages.
  await page.locator('[data-test=drill-select]').click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item').filter({ hasText: seed.township.name }).click();
  await page.getByText(`${seed.township.name}各村`).waitFor();
  await page.waitForTimeout(800);
  await t.shot(page, 'drill-down');

  // The 活动总结 of the same campaign and region shows the same figures.
  await page.getByRole('button', { name: '查看活动总结' }).click();
  await page.waitForURL((url) => url.pathname === '/data/summary');
  await page.locator('[data-test=sum-coverage]').waitFor();
  await page.locator('[data-test=summary][data-loading=no]').waitFor();
  const sumCoverage = await page.locator('[data-test=sum-coverage]').innerText();
  t.check(sumCoverage === pct(summary.body.visits.coverage_bp), `the 活动总结 shows coverage ${sumCoverage}`);
  const sumResolution = await page.locator('[data-test=sum-resolution]').innerText();
  t.check(sumResolution === pct(summary.body.ledger.resolution_rate_bp), `the 活动总结 shows 办结率 ${sumResolution}`);
  const sumVisited = await page.locator('[data-test=sum-visited]').innerText();
  t.check(sumVisited === String(summary.body.visits.households_visited), `the 活动总结 shows ${sumVisited} households visited`);
  await t.shot(page, 'summary');
  await page.locator('[data-test=summary-text-tab]').click();
  const frame = page.frameLocator('[data-test=summary-html]');
  await frame.locator('body').waitFor();
  const doc = await frame.locator('body').innerText();
  t.check(doc.includes(summary.body.region_name), 'the summary text names the county');
  await page.waitForTimeout(500);
  await t.shot(page, 'summary-text');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=summary-xlsx]').click()]);
  t.check(xlsx.suggestedFilename().endsWith('.xlsx'), `the summary downloads as XLSX (${xlsx.suggestedFilename()})`);

  // 数据导出: the ledger of the campaign as CSV.
  await page.goto(`${t.base}/data/exports`);
  await page.locator('[data-test=export-form]').waitFor();
  await page.locator('[data-test=export-what]').getByText('民情台账').click();
  await page.getByText('CSV（不限行数').click();
  await page.waitForTimeout(800);
  await t.shot(page, 'exports');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-submit]').click()]);
  t.check(/\.csv$/.test(csv.suggestedFilename()), `the ledger downloads as CSV (${csv.suggestedFilename()})`);

  // The big screen.
  const wide = await t.signIn('leader', { width: 1920, height: 1080 });
  await wide.goto(`${t.base}/dashboard?campaign_id=${seed.campaign_id}`);
  await wide.locator('[data-test=dashboard] [data-test=figure]').first().waitFor();
  await wide.locator('[data-test=per-day-chart][data-loaded=yes]').waitFor({ timeout: 60000 });
  await wide.waitForTimeout(1000);
  await t.shot(wide, 'county-1920');

  // A township admin's dashboard: their township, villages in the rows.
  const township = await t.signIn('township');
  await township.goto(`${t.base}/dashboard?campaign_id=${seed.campaign_id}`);
  await township.locator('[data-test=dashboard] [data-test=figure]').first().waitFor();
  const tmeta = await township.locator('[data-test=summary-meta]').innerText();
  t.check(tmeta.includes(seed.township.name), `the township admin sees their township (${tmeta})`);
  await township.waitForTimeout(1500);
  await t.shot(township, 'township');
}
