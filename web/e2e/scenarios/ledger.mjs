// 民情台账 (changes data: runs after the read-only scenarios): a township
// admin filters the ledger to open items of the township, opens one,
// assigns it to a cadre of its township through the picker, starts it and
// resolves it with a note until it shows as resolved; the item's address
// (a notification link) opens the item directly.

/** Clicks an Element Plus select and picks the option with `text` (or the first one). */
async function pick(page, select, text) {
  await select.click();
  const items = page.locator('.el-select-dropdown:visible .el-select-dropdown__item:not(.is-disabled)');
  await items.first().waitFor();
  const item = text ? items.filter({ hasText: text }).first() : items.first();
  const chosen = (await item.innerText()).trim();
  await item.click();
  return chosen;
}

/** Waits (a while) for the names of people, households and villages to arrive. */
async function namesShown(page) {
  await page
    .waitForFunction(() => ![...document.querySelectorAll('.el-table__row td, .el-descriptions__content')].some((c) => c.textContent.trim() === '…'), null, { timeout: 8000 })
    .catch(() => undefined);
}

async function stateIs(page, text) {
  await page.locator('[data-test=detail-state]', { hasText: text }).waitFor();
}

async function act(page, t, action, name, fill) {
  await page.locator(`[data-test=action-${action}]`).click();
  const dialog = page.locator('.el-dialog:visible');
  await dialog.waitFor();
  if (fill) await fill(dialog);
  await page.locator('.el-select-dropdown:visible').waitFor({ state: 'hidden' }).catch(() => undefined);
  await page.waitForTimeout(300);
  await t.shot(page, `${name}-dialog`);
  await dialog.locator('[data-test=action-submit]').click();
  await dialog.waitFor({ state: 'hidden' });
}

/**
 * Makes sure the township has an open item (a fresh stack may have none):
 * registers one at the seed's village as a walk-in reception (开门接访), through
 * the API with the township admin's own session.
 */
async function ensureOpenItem(t) {
  const account = t.seed.accounts.township;
  const signIn = await fetch(`${t.base}/v1/auth/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: account.password }),
  });
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
  const { csrf_token } = await signIn.json();
  const headers = { 'content-type': 'application/json', cookie, 'X-CSRF-Token': csrf_token };
  const list = await fetch(`${t.base}/v1/issues/ListIssues`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ region_code: t.seed.township.code, state: 'ISSUE_STATE_OPEN', page_size: 1 }),
  }).then((r) => r.json());
  if ((list.issues ?? []).length > 0) return;
  const created = await fetch(`${t.base}/v1/issues/CreateIssue`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      issue_id: crypto.randomUUID(),
      source: 'ISSUE_SOURCE_RECEPTION',
      region_code: t.seed.village.code,
      kind: 'ITEM_KIND_PROBLEM',
      category: '其他',
      description: '开门接访：村道路灯损坏，夜间出行不便',
    }),
  });
  t.check(created.ok, `an open item could be registered (${created.status} ${await created.text()})`);
}

export default async function (t) {
  await ensureOpenItem(t);
  const wide = await t.signIn('township', { width: 1920, height: 1080 });
  await wide.goto(`${t.base}/issues`);
  await wide.locator('[data-test=issue-table] .el-table__row').first().waitFor();
  await namesShown(wide);
  await t.shot(wide, 'list-1920');
  await wide.context().close();

  const page = await t.signIn('township');
  await page.goto(`${t.base}/issues`);
  await page.locator('[data-test=issue-table] .el-table__row').first().waitFor();
  await namesShown(page);
  await t.shot(page, 'list');

  // Open items of the township: the region filter starts at the township.
  const township = page.locator('[data-test=region-township]');
  t.check((await township.innerText()).includes(t.seed.township.name) || (await township.locator('input').inputValue()) !== '',
    'the region filter starts at the township');
  await pick(page, page.locator('[data-test=filter-state]'), '待分派');
  await page.waitForURL((u) => u.searchParams.get('state') === 'ISSUE_STATE_OPEN');
  await page.locator('[data-test=issue-table] .el-table__row').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-test=issue-table] .el-loading-mask'));
  const states = await page.locator('[data-test=issue-table] [data-test=issue-state]').allInnerTexts();
  t.check(states.length > 0 && states.every((s) => s.trim() === '待分派'), `only open items are listed: ${states}`);
  await namesShown(page);
  await t.shot(page, 'list-open');

  // Open the first open item.
  const link = page.locator('[data-test=issue-link]').first();
  const description = (await link.innerText()).trim();
  await link.click();
  await page.waitForURL((u) => /^\/issues\/[0-9a-f-]{36}$/.test(u.pathname));
  const itemUrl = page.url();
  await stateIs(page, '待分派');
  await page.locator('[data-test=issue-facts]', { hasText: description }).waitFor();
  await namesShown(page);
  await t.shot(page, 'item-open');

  // Assign to a cadre of the township through the picker.
  let cadre = '';
  await act(page, t, 'assign', 'assign', async (dialog) => {
    cadre = await pick(page, dialog.locator('[data-test=cadre-picker]'));
  });
  await stateIs(page, '已分派');
  const facts = await page.locator('[data-test=issue-facts]').innerText();
  t.check(facts.includes(cadre.split(/\s/)[0]), `the item names the cadre ${cadre}`);
  await t.shot(page, 'item-assigned');

  await act(page, t, 'start', 'start');
  await stateIs(page, '办理中');
  await t.shot(page, 'item-in-progress');

  // Resolving without a note is refused in Chinese, then done with one.
  await page.locator('[data-test=action-resolve]').click();
  const dialog = page.locator('.el-dialog:visible');
  await dialog.locator('[data-test=action-submit]').click();
  await dialog.getByText('请填写办理结果').waitFor();
  const note = '已协调村委会上门处理，群众表示认可';
  await dialog.locator('textarea[data-test=resolution], [data-test=resolution] textarea').fill(note);
  await t.shot(page, 'resolve-dialog');
  await dialog.locator('[data-test=action-submit]').click();
  await dialog.waitFor({ state: 'hidden' });
  await stateIs(page, '已办结');
  await page.locator('[data-test=resolution-shown]', { hasText: note }).waitFor();
  const timeline = await page.locator('[data-test=timeline]').innerText();
  for (const step of ['交办', '开始办理', '办结']) t.check(timeline.includes(step), `the timeline shows ${step}`);
  await t.shot(page, 'item-resolved');

  // A notification link opens the item directly, in a fresh sign-in.
  const other = await t.signIn('township');
  await other.goto(itemUrl);
  await stateIs(other, '已办结');
  await other.locator('[data-test=issue-facts]', { hasText: description }).waitFor();
  await t.shot(other, 'notification-link');

  // A county admin's settings page: categories and deadline rules.
  const county = await t.signIn(t.seed.accounts.leader ? 'leader' : 'admin');
  await county.goto(`${t.base}/ledger/settings`);
  await county.locator('[data-test=categories] .el-tag').first().waitFor();
  await t.shot(county, 'settings');

  // The list shows it resolved.
  await page.goto(`${t.base}/issues?state=ISSUE_STATE_RESOLVED`);
  await page.locator('[data-test=issue-table] .el-table__row').first().waitFor();
  await namesShown(page);
  await t.shot(page, 'list-resolved');
}
