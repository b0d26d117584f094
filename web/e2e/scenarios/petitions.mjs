// 信访 (reads only): the case list with each case's statutory clock, a case
// page with its clock, log and the steps legal for its stage (a dialog
// opened and cancelled), and the source systems page for a county admin.
export default async function (t) {
  // A county admin sees every case of the county (the demo's cases are not
  // all in the seed's township).
  const who = t.seed.accounts.leader ? 'leader' : 'admin';
  const wide = await t.signIn(who, { width: 1920, height: 1080 });
  await wide.goto(`${t.base}/petitions`);
  await wide.locator('[data-test=case-table] .el-table__row').first().waitFor();
  await t.shot(wide, 'list-1920');
  await wide.context().close();

  const page = await t.signIn(who);
  await page.goto(`${t.base}/petitions`);
  await page.locator('[data-test=case-table] .el-table__row').first().waitFor();
  const clocks = await page.locator('[data-test=case-table] [data-test=case-clock]').allInnerTexts();
  t.check(clocks.length > 0 && clocks.every((c) => /剩 \d+ 天|今日到期|超期 \d+ 天|已过期|已结束/.test(c)), `each open case shows its clock: ${clocks}`);
  await t.shot(page, 'list');

  await page.locator('[data-test=case-link]').first().click();
  await page.waitForURL((u) => /^\/petitions\/[0-9a-f-]{36}$/.test(u.pathname));
  await page.locator('[data-test=case-stage]').waitFor();
  await page.locator('[data-test=replies]').waitFor();
  await page.waitForTimeout(500);
  const stage = (await page.locator('[data-test=case-stage]').innerText()).trim();
  if (['待受理', '办理中', '复查中', '复核中'].includes(stage)) {
    const clock = await page.locator('[data-test=case-clock]').innerText();
    t.check(/期限/.test(clock), `the case page shows its clock: ${clock}`);
  }
  await t.shot(page, 'case');

  // The stage's first step opens as a dialog; cancelled, nothing changes.
  const step = page.locator('[data-test^=case-action-]').first();
  if (await step.count()) {
    await step.click();
    const dialog = page.locator('.el-dialog:visible');
    await dialog.waitFor();
    await page.waitForTimeout(500);
    await t.shot(page, 'case-step-dialog');
    await dialog.getByRole('button', { name: '取消' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  const admin = await t.signIn(who);
  await admin.goto(`${t.base}/petitions/sources`);
  await admin.locator('[data-test=sources] .el-table__row').first().waitFor().catch(() => undefined);
  await admin.waitForTimeout(500);
  await t.shot(admin, 'sources');
  await admin.locator('[data-test=source-new]').click();
  await admin.locator('.el-dialog:visible').waitFor();
  await admin.locator('.el-dialog:visible').getByRole('button', { name: '保存' }).click();
  await admin.locator('.el-dialog:visible').getByText('请填写系统标识').waitFor();
  await t.shot(admin, 'source-dialog');
}
