// The Data page (issue 11): the catalog's signals with their tags (and the ?tag= filter), the
// views, and a view downloaded over a range as CSV and as Parquet (through Playwright's download
// event: the CSV has the view's header and rows, the Parquet file starts and ends with PAR1).
// A viewer (no export_data) reads the catalog of its site and the views, and is told calmly
// that it may not download.
//
//   import * as data from './pages/data.mjs';
//   await data.admin(page, t);   // page signed in, on #/data; t = {base, check, shot, step, call, adminToken}

import fs from 'node:fs';

async function ready(page, id) {
  await page.waitForSelector(`#${id}:not([data-state="loading"])`, { state: 'attached', timeout: 30000 });
  return page.getAttribute(`#${id}`, 'data-state');
}

// Chooses the view, the asset (if offered) and the format, downloads, and returns the file.
async function download(page, view, asset, format) {
  await page.selectOption('#download-view', view);
  if (asset && (await page.$(`#download-asset option[value="${asset}"]`))) await page.selectOption('#download-asset', asset);
  await page.selectOption('#download-range', '15m');
  await page.check(`#format-${format}`);
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('#download-go')]);
  const bytes = fs.readFileSync(await dl.path());
  await page.waitForSelector('#download-result[data-state="done"]');
  return { name: dl.suggestedFilename(), bytes, shown: Number(await page.getAttribute('#download-result', 'data-bytes')) };
}

export async function admin(page, t) {
  await t.step('the data page lists the catalog\'s signals with their tags', async () => {
    const state = await ready(page, 'catalog');
    const api = (await t.call('GET', '/api/v1/catalog/signals', t.adminToken)).json.signals;
    const n = Number(await page.getAttribute('#catalog', 'data-signals'));
    const rows = await page.$$eval('#catalog-table tr.signal-row', (els) => els.map((e) => [e.dataset.asset, e.dataset.signal, e.dataset.tags.split(';').length, e.cells[1].textContent]));
    const assets = await page.$$eval('#catalog-table tr.asset-row', (els) => els.map((e) => e.querySelectorAll('button.tag').length));
    const apiKeys = new Set(api.map((s) => `${s.asset}/${s.signal}`));
    t.check(`the catalog lists the signals with tags (${n} signals as the API's ${api.length}, ${rows.length} shown under ${assets.length} assets; ${rows[0] && rows[0].slice(0, 2).join('/')} with ${rows[0] && rows[0][2]} tags)`,
      state === 'ready' && n === api.length && n >= 10 && rows.length === Math.min(n, 300) && rows.every(([a, s]) => apiKeys.has(`${a}/${s}`)) &&
      rows.every(([, , tags]) => tags >= 5) && assets.every((chips) => chips >= 2) && rows.filter(([, , , unit]) => unit !== '—').length >= 10);
  });

  await t.step('the catalog filters by a tag', async () => {
    const tag = await page.$eval('#catalog-table button.tag[data-tag^="asset_type="]', (b) => b.dataset.tag);
    await page.click(`#catalog-table button.tag[data-tag="${tag}"]`);
    await page.waitForSelector(`#catalog[data-state="ready"][data-filter="${tag}"]`);
    const api = (await t.call('GET', `/api/v1/catalog/signals?tag=${encodeURIComponent(tag)}`, t.adminToken)).json.signals;
    const rows = await page.$$eval('#catalog-table tr.signal-row', (els) => els.map((e) => e.dataset.tags.split(';')));
    t.check(`the catalog filtered on ${tag}: ${rows.length} signals as the API's ${api.length}, each with that tag`,
      rows.length === Math.min(api.length, 300) && api.length > 0 && rows.every((tags) => tags.includes(tag)));
    await page.click('#tag-clear');
    await page.waitForSelector('#catalog[data-state="ready"][data-filter=""]');
  });

  await t.step('the data page lists the views', async () => {
    await ready(page, 'views');
    const api = (await t.call('GET', '/api/v1/views', t.adminToken)).json.views;
    const names = await page.$$eval('#views-table tr[data-view]', (els) => els.map((e) => e.dataset.view));
    t.check(`the views (${names.join(', ')})`, names.length >= 1 && JSON.stringify(names) === JSON.stringify(api.map((v) => v.name)));
  });

  await t.step('a view downloads as CSV and as Parquet', async () => {
    await ready(page, 'download');
    const views = (await t.call('GET', '/api/v1/views', t.adminToken)).json.views;
    const view = views.find((v) => v.name === 'motor_health') || views[0];
    const csv = await download(page, view.name, 'l2-pr-01', 'csv');
    const lines = csv.bytes.toString('utf8').split('\n').filter(Boolean);
    const header = lines[0] || '';
    const columns = ['ts', 'asset', ...view.signals.map((s) => s.column)];
    t.check(`the CSV download ${csv.name} (${csv.bytes.length} bytes, ${lines.length - 1} rows; header ${header.slice(0, 60)})`,
      new RegExp(`^${view.name}(_[A-Za-z0-9_.-]+)?_\\d{4}-\\d{2}-\\d{2}(_\\d{4}-\\d{2}-\\d{2})?\\.csv$`).test(csv.name) &&
      header.split(',').join(',') === columns.join(',') && lines.length >= 2 && csv.shown === csv.bytes.length);
    const pq = await download(page, view.name, 'l2-pr-01', 'parquet');
    const magic = (b) => b.subarray(0, 4).toString('latin1');
    t.check(`the Parquet download ${pq.name} (${pq.bytes.length} bytes) starts and ends with PAR1`,
      pq.name.endsWith('.parquet') && magic(pq.bytes) === 'PAR1' && pq.bytes.subarray(pq.bytes.length - 4).toString('latin1') === 'PAR1' && pq.shown === pq.bytes.length);
  });
}

export async function viewer(page, t) {
  await t.step('the viewer\'s data page: its site\'s catalog, the views, no download', async () => {
    await ready(page, 'catalog');
    await ready(page, 'views');
    const state = await ready(page, 'download');
    const token = await page.evaluate(() => sessionStorage.getItem('weft.token'));
    const mine = (await t.call('GET', '/api/v1/catalog/signals', token)).json.signals;
    const all = (await t.call('GET', '/api/v1/catalog/signals', t.adminToken)).json.signals;
    const n = Number(await page.getAttribute('#catalog', 'data-signals'));
    const shownSites = await page.$$eval('#catalog-table tr.signal-row', (els) => [...new Set(els.map((e) => e.dataset.tags.split(';').find((x) => x.startsWith('site=')).slice(5)))]);
    t.check(`the viewer's catalog lists its site's signals only (${n} of ${all.length}; sites ${shownSites.join(' ')})`,
      n === mine.length && n > 0 && n < all.length && shownSites.length === 1 && shownSites[0] === 'lyon');
    const notice = await page.textContent('#download');
    t.check(`the viewer may not download and is told so (${state})`,
      state === 'forbidden' && /may not download/.test(notice) && !(await page.$('#download-go')));
  });
}
