// 数据导入 (a township admin): the template downloads as a workbook with
// the Chinese headers; households of seed.village are imported from an
// XLSX written here (fresh valid ID numbers each run, one deliberately bad
// row), only the good rows kept; the job page's progress bar reaches 100%,
// the good rows are counted and the bad row's error is shown with its row
// number, column and Chinese reason. Screenshots of the import pages.
import { householdWorkbook } from '../lib/households.mjs';

export default async function (t) {
  const { seed } = t;
  const page = await t.signIn('township');
  await page.goto(`${t.base}/data/imports`);
  await page.locator('[data-test=import-form]').waitFor();

  // The template: an XLSX (a ZIP) named for households.
  const [template] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=template]').click()]);
  t.check(template.suggestedFilename().endsWith('.xlsx'), `the template is an XLSX (${template.suggestedFilename()})`);
  const stream = await template.createReadStream();
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  t.check(bytes.subarray(0, 2).toString() === 'PK' && bytes.includes(Buffer.from('身份证号')), 'the template holds the Chinese headers');
  await t.shot(page, 'form');

  const good = 5;
  const book = householdWorkbook({
    township: seed.township,
    village: seed.village,
    good,
    area: seed.county.prefix.slice(0, 6),
  });
  await page.locator('[data-test=import-file] input[type=file]').setInputFiles({
    name: '农户花名册.xlsx',
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: Buffer.from(book.bytes),
  });
  await page.locator('[data-test=import-mode]').getByText('只导入正确的行').click();
  await t.shot(page, 'form-filled');
  await page.locator('[data-test=import-submit]').click();
  await page.waitForURL((url) => /\/data\/imports\/[0-9a-f-]{36}$/.test(url.pathname));

  // The progress bar reaches 100% and the job is done.
  const bar = page.locator('[data-test=import-progress]');
  await bar.waitFor();
  await page.locator('[data-test=import-progress][data-percent="100"]').waitFor({ timeout: 60000 });
  const state = await bar.getAttribute('data-state');
  t.check(state === 'done', `the import is done (state ${state}, message ${await page.locator('[data-test=import-message]').innerText().catch(() => '')})`);
  const imported = await page.locator('[data-test=rows-imported]').innerText();
  const failed = await page.locator('[data-test=rows-failed]').innerText();
  t.check(imported.trim() === String(good), `${good} households imported (the page says ${imported})`);
  t.check(failed.trim() === '1', `one row failed (the page says ${failed})`);

  // The bad row: its number as Excel shows it, its column, the reason in Chinese.
  const row = page.locator('[data-test=import-errors] tbody tr').first();
  const text = await row.innerText();
  t.check(text.includes(String(book.badRow)), `the error names row ${book.badRow}: ${text}`);
  t.check(text.includes('身份证号'), `the error names the column: ${text}`);
  t.check(text.includes(book.expected), `the error says why (${book.expected}): ${text}`);
  await t.shot(page, 'job');

  // The household is now in the registry, in seed.village.
  const found = await page.evaluate(async (village) => {
    const csrf = await fetch('/v1/auth/session', { credentials: 'same-origin' }).then((r) => r.json()).then((b) => b.csrf_token);
    const r = await fetch('/v1/registry/ListHouseholds', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ region_code: village, page_size: 500 }),
    });
    return { status: r.status, body: await r.json() };
  }, seed.village.code);
  t.check(found.status === 200, `ListHouseholds answers (${found.status})`);

  // The import page lists the job among this browser's recent imports.
  await page.goto(`${t.base}/data/imports`);
  await page.getByText('农户花名册.xlsx').waitFor();
  await t.shot(page, 'recent');
}
