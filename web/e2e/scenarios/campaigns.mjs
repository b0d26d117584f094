// A township admin creates a campaign, activates it, then assigns 包保
// through the page until no village of the township is uncovered (the new
// campaign starts with none covered); screenshots of every page of the
// campaign and organisation areas on the way.
export default async function (t) {
  // The list at the large-screen size too.
  const wide = await t.signIn('township', { width: 1920, height: 1080 });
  await wide.goto(`${t.base}/campaigns`);
  await wide.locator('.el-table__row').first().waitFor();
  await t.shot(wide, 'list-1920');
  await wide.context().close();

  const page = await t.signIn('township');
  await page.goto(`${t.base}/campaigns`);
  await page.locator('.el-table__row').first().waitFor();
  await t.shot(page, 'list');

  // Create: only the name is typed; region, period, themes and a quota are defaults.
  await page.locator('[data-test=new-campaign]').click();
  await page.waitForURL(/\/campaigns\/new$/);
  const name = `端到端测试走访活动 ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`;
  const nameInput = page.locator('input[data-test=campaign-name], [data-test=campaign-name] input').first();
  await nameInput.fill(name);
  await t.shot(page, 'new');
  await page.locator('[data-test=save-campaign]').click();
  await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
  const campaignId = page.url().split('/').pop();
  await page.getByRole('heading', { name }).waitFor();
  t.check((await page.locator('[data-test=campaign-status]').innerText()).includes('未开始'), 'a new campaign starts 未开始');
  await t.shot(page, 'detail-planned');

  // Edit page (planned campaign), then back.
  await page.goto(`${t.base}/campaigns/${campaignId}/edit`);
  // The form holds the campaign's own name once it has loaded.
  await page.waitForFunction((n) => document.querySelector('input[data-test=campaign-name]')?.value === n, name);
  await page.waitForLoadState('networkidle');
  await t.shot(page, 'edit');

  // Activate, with its confirmation.
  await page.goto(`${t.base}/campaigns/${campaignId}`);
  await page.locator('[data-test=activate]').click();
  await page.getByRole('button', { name: '确定启动' }).click();
  await page.locator('[data-test=campaign-status]', { hasText: '进行中' }).waitFor();
  await t.shot(page, 'detail-active');

  // 包保 until no village is uncovered.
  await page.goto(`${t.base}/org/assignments?campaign_id=${campaignId}`);
  const count = page.locator('[data-test=uncovered-count]');
  await page.locator('[data-test=uncovered-village]').first().waitFor();
  let left = Number(await count.innerText());
  t.check(left > 0, `a new campaign starts with its villages uncovered (saw ${left})`);
  await t.shot(page, 'assignments-uncovered');
  const dialog = page.getByRole('dialog', { name: '新增包保' });
  for (let i = 0; left > 0; i++) {
    t.check(i < 300, 'the uncovered count keeps falling');
    await page.locator('[data-test=uncovered-village]').first().click();
    await dialog.waitFor();
    // The village is preselected; pick a cadre (the i-th, round robin).
    await dialog.locator('.el-select').first().click();
    const options = page.locator('.el-select-dropdown:visible .el-select-dropdown__item');
    await options.first().waitFor();
    const n = await options.count();
    await options.nth(i % n).click();
    if (i === 0) await t.shot(page, 'assignment-dialog');
    await dialog.locator('[data-test=save-assignment]').click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(
      ([sel, before]) => Number(document.querySelector(sel)?.textContent) < before,
      ['[data-test=uncovered-count]', left],
    );
    left = Number(await count.innerText());
  }
  await page.getByText('全部村均已落实包保').waitFor();
  t.check((await count.innerText()).trim() === '0', 'the uncovered count reached 0');
  await t.shot(page, 'assignments-covered');

  // Attainment of the new campaign, and a cadre's visits.
  await page.goto(`${t.base}/attainment?campaign_id=${t.seed.campaign_id}`);
  await page.locator('.el-table__row').first().waitFor();
  await t.shot(page, 'attainment');
  await page.locator('[data-test=visits]').first().click();
  await page.locator('.el-drawer').waitFor();
  await t.shot(page, 'attainment-visits');
  await page.keyboard.press('Escape');

  // Organisation pages.
  await page.goto(`${t.base}/org/regions`);
  await page.locator('[data-test=region-tree] .el-tree-node').nth(1).waitFor();
  await t.shot(page, 'regions');
  await page.goto(`${t.base}/org/zones`);
  await page.locator('.el-table').waitFor();
  await page.waitForLoadState('networkidle');
  await t.shot(page, 'zones');
  await page.goto(`${t.base}/org/teams`);
  await page.locator('.el-table').waitFor();
  await page.waitForLoadState('networkidle');
  await t.shot(page, 'teams');
}
