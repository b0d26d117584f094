// Who may open what: a cadre cannot open admin pages (the menu does not
// offer them and the address bar gets 无权访问); after sign-out the old
// session cookie is refused by the gateway.
export default async function (t) {
  const page = await t.signIn('cadre');
  await t.shot(page, 'cadre-home');
  for (const path of ['/accounts', '/campaigns/new', '/org/assignments', '/dashboard']) {
    await page.goto(`${t.base}${path}`);
    await page.getByText('无权访问此页面').waitFor();
  }
  await t.shot(page, 'cadre-forbidden');

  // Sign out through the page; the cookie it held is refused afterwards.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'zf_session');
  t.check(session, 'the console holds a zf_session cookie');
  t.check(session.httpOnly && session.sameSite === 'Strict', `the cookie is HttpOnly and Strict: ${JSON.stringify(session)}`);
  await page.locator('[data-test=user-menu]').click();
  await page.getByText('退出登录').click();
  await page.waitForURL((url) => url.pathname.startsWith('/login'));
  await t.shot(page, 'signed-out');
  const replay = await fetch(`${t.base}/v1/auth/session`, {
    headers: { cookie: `zf_session=${session.value}` },
  });
  t.check(replay.status === 401, `the old cookie is refused after sign-out (got ${replay.status})`);
}
