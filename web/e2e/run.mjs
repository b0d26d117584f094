// Runs one console scenario in Debian's Chromium, driven by playwright-core,
// against a running gateway: `node e2e/run.mjs <scenario> <seed.json>`.
// The end-to-end test `console` (tests/tests/e2e/console) starts the stack,
// writes the seed (gateway URL, accounts, the demo campaign's ids and
// figures) and runs each scenario; a scenario is `scenarios/<name>.mjs`
// exporting `default async function (t)` with `t` from `harness.mjs`.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { harness } from './harness.mjs';

const [name, seedPath] = process.argv.slice(2);
if (!name || !seedPath) {
  console.error('usage: node e2e/run.mjs <scenario> <seed.json>');
  process.exit(2);
}
const seed = JSON.parse(readFileSync(seedPath, 'utf8'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
let browser;
try {
  browser = await chromium.launch({
    executablePath,
    // The flags a closed network needs (no background connections, no
    // component updates), and no sandbox: CI runs as root.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
} catch (e) {
  console.error(
    `Chromium did not start from ${executablePath}: install Debian's chromium and fonts-noto-cjk (scripts/test.sh does). ${e.message}`,
  );
  process.exit(1);
}
const t = harness(browser, seed, name);
const started = Date.now();
try {
  const scenario = await import(`./scenarios/${name}.mjs`);
  await scenario.default(t);
  console.log(`scenario ${name}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s; ${t.shots.length} screenshots: ${t.shots.join(', ')}`);
} catch (e) {
  console.error(`scenario ${name} failed: ${e.stack ?? e}`);
  await t.failureShots();
  process.exitCode = 1;
} finally {
  await browser.close();
}
