// A township admin onboards a cadre in one step (the cadre, its sign-in
// account and its notification recipient) and sees the one-time initial
// password; the roster, the cadre's page and the accounts list show them.
export default async function (t) {
  const page = await t.signIn('township');
  await page.goto(`${t.base}/cadres`);
  await page.locator('.el-table__row').first().waitFor();
  await t.shot(page, 'cadres');

  await page.locator('[data-test=new-cadre]').click();
  await page.waitForURL(/\/cadres\/new$/);
  const stamp = String(Date.now()).slice(-8);
  const name = `测试干部${stamp.slice(-4)}`;
  const phone = `139${stamp}`;
  await page.locator('input[data-test=cadre-name], [data-test=cadre-name] input').first().fill(name);
  await page.locator('input[data-test=cadre-phone], [data-test=cadre-phone] input').first().fill(phone);
  // 职务: pick one offered (the region defaults to the admin's own township, the role to 走访干部).
  await page.locator('.el-form-item', { hasText: '职务' }).locator('.el-select').click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '工作队员' }).first().click();
  await t.shot(page, 'cadre-new');
  await page.locator('[data-test=onboard]').click();

  const password = page.locator('[data-test=initial-password]');
  await password.waitFor();
  const shown = (await password.innerText()).trim();
  t.check(shown.length >= 8, `the initial password is shown once (saw "${shown}")`);
  t.check((await page.locator('[data-test=username]').innerText()).trim() === phone, 'the phone number is the username');
  await page.getByText('首次登录时系统会要求其修改密码').waitFor();
  await t.shot(page, 'cadre-onboarded');

  // The cadre's page, then the roster shows the new cadre.
  await page.getByRole('button', { name: '查看该干部' }).click();
  await page.getByRole('heading', { name }).waitFor();
  await page.getByText(`${phone.slice(0, 3)}****${phone.slice(7)}`).waitFor();
  await page.waitForLoadState('networkidle');
  await t.shot(page, 'cadre-detail');

  // Accounts: the new account is there, bound to the cadre.
  await page.goto(`${t.base}/accounts`);
  await page.locator('.el-table__row').first().waitFor();
  await page.getByPlaceholder('账号或姓名').fill(phone);
  await page.locator('.el-table__row', { hasText: phone }).waitFor();
  t.check(await page.locator('.el-table__row', { hasText: phone }).getByText('走访干部').count() === 1, 'the account carries the role 走访干部');
  await page.getByPlaceholder('账号或姓名').fill('');
  await t.shot(page, 'accounts');
  await page.locator('[data-test=new-account]').click();
  await page.getByRole('dialog', { name: '新建账号' }).waitFor();
  await t.shot(page, 'account-new');
}
