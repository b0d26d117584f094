// What a scenario gets: the seed, new signed-in pages per role, screenshots,
// and assertions that say what a person would have seen.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export class ScenarioError extends Error {}

export function harness(browser, seed, scenario) {
  const dir = seed.screenshots;
  mkdirSync(dir, { recursive: true });
  const pages = [];
  const t = {
    seed,
    base: seed.gateway_url,
    shots: [],
    /** A fresh browser context (its own cookies) and page at `viewport`. */
    async page(viewport = { width: 1366, height: 768 }) {
      const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      const page = await context.newPage();
      page.setDefaultTimeout(15000);
      page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') console.error(`[console] ${m.text()}`);
      });
      pages.push(page);
      return page;
    },
    /** Signs `who` (a key of seed.accounts) in through the sign-in page. */
    async signIn(who, viewport) {
      const account = seed.accounts[who];
      if (!account) throw new ScenarioError(`no account ${who} in the seed`);
      const page = await t.page(viewport);
      await page.goto(`${t.base}/login`);
      await page.getByLabel('用户名').fill(account.username);
      await page.getByLabel('密码').fill(account.password);
      await page.getByRole('button', { name: '登录' }).click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
      return page;
    },
    /** A full-page screenshot named `<scenario>-<name>.png`. */
    async shot(page, name) {
      const file = `${scenario}-${name}.png`;
      await page.screenshot({ path: join(dir, file), fullPage: true });
      t.shots.push(file);
    },
    /** Screenshots of every page still open, after a failure. */
    async failureShots() {
      for (const [i, page] of pages.entries()) {
        try {
          await page.screenshot({ path: join(dir, `${scenario}-FAILED-${i}.png`), fullPage: true });
        } catch {
          /* the page is gone */
        }
      }
    },
    /** Throws with `message` unless `condition`. */
    check(condition, message) {
      if (!condition) throw new ScenarioError(message);
    },
  };
  return t;
}
