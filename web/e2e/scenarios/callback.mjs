// 督查回访: a supervisor works a callback from the blind worklist to done.
// Fixture (through the API, as the people who would do it): the county
// admin puts the seed supervisor in a team over the seed village and asks
// for every visit of the campaign to be called back; the seed cadre records
// a visit there; supervision assigns its callback to the supervisor.
// Then, in the browser: the worklist, the callback, 查看号码 with a purpose,
// one attempt that did not reach anyone, the outcome through the back-check
// form, 已回访; and the notification link /callbacks/<id> opened directly.
import { randomUUID } from 'node:crypto';

// Element Plus puts a data-test on the input itself or on its wrapper.
export function field(scope, name) {
  return scope.locator(`[data-test=${name}]`).locator('xpath=self::input | self::textarea | .//input | .//textarea').first();
}

async function session(t, who) {
  const a = t.seed.accounts[who];
  const r = await fetch(`${t.base}/v1/auth/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: a.username, password: a.password }),
  });
  t.check(r.ok, `${who} signs in through the API (${r.status})`);
  const cookie = (r.headers.getSetCookie?.() ?? [r.headers.get('set-cookie')])
    .filter(Boolean)
    .map((c) => c.split(';')[0])
    .join('; ');
  const body = await r.json();
  return async (path, payload) => {
    const res = await fetch(`${t.base}/v1/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': body.csrf_token ?? '' },
      body: JSON.stringify(payload),
    });
    const text = await res.text();
    t.check(res.ok, `${who} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  };
}

async function fixture(t) {
  const { seed } = t;
  const leader = await session(t, 'leader');
  const cadre = await session(t, 'cadre');
  // A household of the seed village, else of the seed township (a small
  // seed may leave the first village empty); the team covers its village.
  let list = await cadre('registry/ListHouseholds', { region_code: seed.village.code, page_size: 20 });
  if (!(list.households ?? []).length) {
    list = await cadre('registry/ListHouseholds', { region_code: seed.township.code, page_size: 20 });
  }
  const households = list.households ?? [];
  t.check(households.length > 0, `the seed township has households (${seed.township.code})`);
  const household = households[Math.floor(Math.random() * households.length)];
  const village = household.village_code;
  await leader('supervision/CreateTeam', {
    team_id: randomUUID(),
    name: `回访组${village.slice(-3)}`,
    region_code: village,
    member_ids: [seed.accounts.supervisor.user_id],
  });
  await leader('supervision/SetSamplingPolicy', {
    campaign_id: seed.campaign_id,
    region_code: seed.county.code,
    policy: {
      item_share_bp: 3000,
      visit_share_bp: 10000,
      min_visits_per_cadre: 1,
      high_risk_threshold: 60,
      high_risk_visit_share_bp: 10000,
      due_days: 7,
      max_attempts: 3,
    },
  });
  const now = Date.now();
  await cadre('registry/RecordVisit', {
    visit_id: randomUUID(),
    campaign_id: seed.campaign_id,
    household_id: household.household_id,
    cadre_ids: [seed.accounts.cadre.user_id],
    mode: 'VISIT_MODE_DOOR_TO_DOOR',
    started_at: new Date(now - 50 * 60_000).toISOString(),
    ended_at: new Date(now - 20 * 60_000).toISOString(),
    situation: '家中人口情况稳定，主要收入来自种植和务工',
    narrative: '入户了解家庭生产生活情况，宣讲医保和养老保险政策，询问有无困难诉求',
    location: { latitude: 26.79, longitude: 112.11 },
    photo_refs: ['photos/e2e-callback.jpg'],
  });
  return household;
}

export default async function (t) {
  const household = await fixture(t);

  // The worklist, at 1366×768 and 1920×1080.
  const page = await t.signIn('supervisor');
  await page.goto(`${t.base}/callbacks`);
  const table = page.locator('[data-test=worklist-table]');
  const row = table.locator('tr', { hasText: `${household.head_name}户` }).first();
  // The callback is made by a consumer of the visit event: give it a moment.
  for (let i = 0; i < 20 && !(await row.isVisible()); i++) {
    await page.waitForTimeout(1000);
    await page.getByRole('button', { name: '刷新' }).click();
  }
  await row.waitFor();
  const text = await table.innerText();
  t.check(!text.includes(t.seed.accounts.cadre.display_name), 'the worklist is blind: no cadre name');
  t.check(text.includes('走访真实性回访'), 'the worklist says what each callback checks');
  await t.shot(page, 'worklist');
  const wide = await t.signIn('supervisor', { width: 1920, height: 1080 });
  await wide.goto(`${t.base}/callbacks`);
  await wide.locator('[data-test=worklist-table] tr', { hasText: `${household.head_name}户` }).first().waitFor();
  await t.shot(wide, 'worklist-1920');

  // Open it.
  await row.getByRole('button', { name: '办理回访' }).click();
  await page.waitForURL(/\/callbacks\/[0-9a-f-]{36}$/);
  const callbackUrl = page.url();
  await page.locator('[data-test=callback-info]').waitFor();
  t.check((await page.locator('[data-test=callback-state]').innerText()).includes('待回访'), 'the callback is open');
  const masked = await page.locator('[data-test=phone]').innerText();
  t.check(masked.includes('****'), `the phone starts masked (${masked})`);
  await t.shot(page, 'callback-open');

  // 查看号码 with a purpose.
  await page.locator('[data-test=reveal-phone]').click();
  await page.locator('[data-test=reveal-dialog]').getByText('确认查看').waitFor();
  await page.waitForTimeout(500); // the dialog's opening animation
  await t.shot(page, 'reveal-dialog');
  await page.locator('[data-test=reveal-confirm]').click();
  await page.locator('[data-test=reveal-note]').waitFor();
  const full = await page.locator('[data-test=phone]').innerText();
  t.check(/^1\d{10}$/.test(full.trim()), `the number is shown in full after the reveal (${full})`);

  // An attempt that did not reach anyone.
  const form = page.locator('[data-test=outcome-form]');
  await form.getByText('无人接听 / 未接通').click();
  await field(form, 'comment').fill('下午再拨打');
  await form.locator('[data-test=submit-attempt]').click();
  await page.getByText('已记录第 1 次联系').waitFor();
  t.check((await page.locator('[data-test=callback-info]').innerText()).includes('1 次'), 'the attempt is counted');

  // The outcome: reached; the form refuses an empty answer in Chinese first.
  await form.getByText('已联系上，完成回访').click();
  await form.locator('[data-test=submit-attempt]').click();
  await form.getByText('请选择群众是否确认干部上门走访').waitFor();
  await t.shot(page, 'outcome-validation');
  await form.getByText('是，群众确认干部来过').click();
  await field(form, 'member-count').fill('4');
  await field(form, 'help-yuan').fill('0');
  await form.getByText('满意', { exact: true }).click();
  await field(form, 'comment').fill('群众确认干部本周上门，了解了家里的情况');
  await t.shot(page, 'outcome-form');
  await form.locator('[data-test=submit-attempt]').click();
  await page.locator('[data-test=callback-result]').waitFor();
  t.check((await page.locator('[data-test=callback-state]').innerText()).includes('已回访'), 'the callback is done');
  t.check((await page.locator('[data-test=callback-result]').innerText()).includes('群众确认走访'), 'the result says the visit was confirmed');
  await t.shot(page, 'callback-done');

  // The notification link, opened directly in a fresh session.
  const direct = await t.signIn('supervisor');
  await direct.goto(callbackUrl);
  await direct.locator('[data-test=callback-result]').waitFor();
  t.check((await direct.locator('[data-test=callback-state]').innerText()).includes('已回访'), 'the link opens the done callback');
  await t.shot(direct, 'callback-link');

  // It left the worklist.
  await direct.goto(`${t.base}/callbacks`);
  await direct.locator('[data-test=worklist-table]').waitFor();
  await direct.waitForTimeout(500);
  const id = callbackUrl.split('/').pop();
  t.check(!(await direct.locator(`[data-test=worklist-table] [data-callback-id="${id}"]`).count()), 'the done callback left the worklist');

  // The inbox (notifications of assigned callbacks link here), and the header's unread badge.
  await direct.locator('[data-test=inbox-bell]').click();
  await direct.waitForURL(/\/inbox$/);
  await direct.locator('[data-test=inbox-page] .el-table').waitFor();
  await direct.waitForTimeout(800);
  await t.shot(direct, 'inbox');

  // The other supervision pages, as the supervisor and as the county admin.
  const pages = [
    ['/supervision/inspections', 'inspections-page', 'inspections'],
    ['/supervision/assessment', 'assessment-page', 'assessment'],
    ['/supervision/teams', 'supervision-teams', 'teams'],
  ];
  for (const [path, test, name] of pages) {
    await direct.goto(`${t.base}${path}`);
    await direct.locator(`[data-test=${test}]`).waitFor();
    await direct.waitForTimeout(1500);
    await direct.locator('.el-loading-mask').first().waitFor({ state: 'hidden' }).catch(() => {});
    await t.shot(direct, name);
  }
  const leader = await t.signIn('leader');
  await leader.goto(`${t.base}/supervision/teams`);
  await leader.locator('[data-test=policy-form]').waitFor();
  await leader.waitForTimeout(1000);
  await t.shot(leader, 'teams-admin');
  await leader.goto(`${t.base}/supervision/signals`);
  await leader.locator('[data-test=signals-page]').waitFor();
  await leader.waitForTimeout(2000);
  await t.shot(leader, 'signals');
  await leader.goto(`${t.base}/callbacks`);
  await leader.locator('[data-test=callbacks-table]').waitFor();
  await leader.waitForTimeout(1000);
  await t.shot(leader, 'callbacks-admin');
}
