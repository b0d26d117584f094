// 户档案: a township admin searches the households of the township, opens
// one, sees its visits and ledger items, edits the address and sees the
// edit in the history.
export default async function (t) {
  const page = await t.signIn('township');
  await page.goto(`${t.base}/households`);
  const first = page.locator('[data-test=open-household]').first();
  await first.waitFor();
  await t.shot(page, 'search');

  // Narrow to the seed village through the picker: the list reloads.
  const wide = await t.signIn('township', { width: 1920, height: 1080 });
  await wide.goto(`${t.base}/households`);
  await wide.locator('[data-test=open-household]').first().waitFor();
  await t.shot(wide, 'search-1920');

  const head = (await first.innerText()).trim();
  await first.click();
  await page.waitForURL(/\/households\/[0-9a-f-]{36}$/);
  const info = page.locator('[data-test=household-info]');
  await info.waitFor();
  t.check((await info.innerText()).includes(head), `the household page names its head (${head})`);
  t.check((await info.innerText()).includes('****'), 'personal data is masked');
  await page.waitForTimeout(500);
  await t.shot(page, 'household');

  // Its ledger items.
  await page.getByRole('tab', { name: '台账事项' }).click();
  await page.waitForTimeout(800);
  await t.shot(page, 'household-issues');

  // Edit the address; the history shows it.
  const address = `安置小区${Math.floor(Math.random() * 9 + 1)}栋${Math.floor(Math.random() * 90 + 10)}号`;
  await page.locator('[data-test=edit-household]').click();
  const dialog = page.locator('[data-test=edit-dialog]');
  await dialog.locator('[data-test=edit-address]').locator('xpath=self::input | .//input').first().fill(address);
  await page.locator('[data-test=save-household]').click();
  await dialog.getByText('请填写修改原因').waitFor();
  await dialog.locator('[data-test=edit-note]').locator('xpath=self::input | .//input').first().fill('搬迁新居');
  await t.shot(page, 'edit');
  await page.locator('[data-test=save-household]').click();
  // Until registry UpdateHousehold is served (branch h-house), the page says so in Chinese.
  const doc = await (await fetch(`${t.base}/openapi.json`)).json();
  if (!doc.paths?.['/v1/registry/UpdateHousehold']) {
    await dialog.getByText('户档案修改功能即将上线').waitFor();
    console.log('households: the stack does not serve UpdateHousehold yet; the edit was refused as not yet available');
    await t.shot(page, 'history');
    return;
  }
  await page.locator('[data-test=history-change]', { hasText: address }).first().waitFor();
  t.check((await page.locator('[data-test=household-address]').innerText()).includes(address), 'the page shows the new address');
  await t.shot(page, 'history');
}
