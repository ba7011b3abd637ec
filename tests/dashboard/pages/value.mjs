// The Value page (issue 11): OEE per line and shift with its loss breakdown, technician time
// saved per alert, the HVAC savings with CV(RMSE) and the G14 verdict, actual vs projected per
// use case as charts, and the roadmap of the next quarter; the figures compared with the
// API's rows (GET /api/v1/kpi, /api/v1/roadmap). A viewer of one site sees that site's lines
// and the use cases it may read, and nothing of the other site.
//
//   import * as value from './pages/value.mjs';
//   await value.admin(page, t);   // page signed in, on #/value; t = {base, check, shot, step, call, adminToken}

async function ready(page, id) {
  await page.waitForSelector(`#${id}:not([data-state="loading"])`, { state: 'attached', timeout: 30000 });
  return page.getAttribute(`#${id}`, 'data-state');
}

function nextQuarter(d) {
  const q = Math.floor(d.getUTCMonth() / 3) + 1;
  return q === 4 ? `${d.getUTCFullYear() + 1}Q1` : `${d.getUTCFullYear()}Q${q + 1}`;
}

// The page's OEE rows compared with the API's rows of the same period (the period select).
async function oeeAgainstApi(page, t, token) {
  const period = await page.$eval('#kpi-period', (s) => s.value);
  const [start, end] = period.split('|');
  const rows = (await t.call('GET', '/api/v1/kpi?kpi=oee&limit=100000', token)).json.kpis
    .filter((r) => r.period_start === start && r.period_end === end && r.line);
  const api = new Map(rows.map((r) => [`${r.line}|${r.shift || ''}`, r.value]));
  const shown = await page.$$eval('#oee-table tr[data-line]', (els) => els.map((e) => [`${e.dataset.line}|${e.dataset.shift}`, e.dataset.oee, e.cells[2].textContent]));
  const mismatched = shown.filter(([k, v]) => !api.has(k) || Math.abs(Number(v) - api.get(k)) > 1e-9).map(([k]) => k);
  return { period, api, shown, mismatched };
}

export async function admin(page, t) {
  await t.step('the value page shows OEE per line and shift', async () => {
    const state = await ready(page, 'oee');
    const { api, shown, mismatched } = await oeeAgainstApi(page, t, t.adminToken);
    const lines = shown.filter(([k]) => k.endsWith('|'));
    const inRange = shown.every(([, v, text]) => Number(v) >= 0 && Number(v) <= 1 && /^\d{1,3}(\.\d)?%$/.test(text.trim()) && parseFloat(text) <= 100);
    const losses = await page.$$eval('#oee-table .loss-bar span', (els) => els.filter((e) => e.getBoundingClientRect().width > 0).length);
    t.check(`OEE of ${lines.length} lines between 0 and 100% (${lines.map(([k, , text]) => `${k.slice(0, -1)} ${text.trim()}`).join(', ')}), ${shown.length - lines.length} shift rows, as the API's`,
      state === 'ready' && lines.length >= 3 && inRange && mismatched.length === 0 && api.size >= shown.length, mismatched.join(' '));
    t.check(`the loss breakdown is drawn (${losses} segments)`, losses >= lines.length * 2);
    const canvas = await page.$$eval('#oee-chart canvas', (els) => els.map((c) => c.width));
    t.check(`OEE per shift instance is charted (${canvas.length} canvas, ${await page.getAttribute('#oee-chart', 'data-points')} instants)`, canvas.length > 0 && canvas[0] > 100);
  });

  await t.step('the value page shows technician time and HVAC savings', async () => {
    await ready(page, 'technician');
    await ready(page, 'hvac');
    const period = (await page.$eval('#kpi-period', (s) => s.value)).split('|');
    const kpi = async (name) => (await t.call('GET', `/api/v1/kpi?kpi=${name}&limit=100000`, t.adminToken)).json.kpis
      .filter((r) => r.period_start === period[0] && r.period_end === period[1]);
    const perAlert = (await kpi('technician_minutes_saved_per_alert')).find((r) => !r.use_case && !r.asset);
    const shown = await page.getAttribute('#minutes-per-alert', 'data-value');
    t.check(`technician minutes saved per alert (${shown} on the page, ${perAlert ? perAlert.value : 'none'} in the API)`,
      perAlert !== undefined && Math.abs(Number(shown) - perAlert.value) < 1e-9);
    const cv = await kpi('hvac_baseline_cv_rmse');
    const rows = await page.$$eval('#hvac-table tr[data-scope]', (els) => els.map((e) => [e.dataset.scope, e.dataset.g14, e.dataset.cvRmse]));
    const verdicts = cv.filter((r) => r.value !== null).map((r) => [r.value, r.detail && r.detail.fit ? (r.detail.fit.meets_criteria ? 'meets' : 'misses') : 'no fit']);
    const matched = verdicts.every(([v, g]) => rows.some(([, g14, c]) => Math.abs(Number(c) - v) < 1e-9 && g14 === g));
    const saved = await page.getAttribute('#hvac-saved', 'data-kwh');
    t.check(`HVAC energy and carbon saved with CV(RMSE) and the G14 verdict (${rows.length} scopes, ${saved} kWh saved; ${rows.slice(0, 3).map(([s, g, c]) => `${s} ${Number(c).toFixed(1)}% ${g}`).join(', ')})`,
      rows.length >= 1 && rows.length === new Set(cv.map((r) => `${r.use_case || r.asset || r.site}`)).size && matched && Number(saved) > 0);
  });

  await t.step('the value page charts actual vs projected per use case', async () => {
    await ready(page, 'projection');
    const cards = await page.$$eval('#projection article.projection', (els) => els.map((e) => [e.dataset.useCase, Number(e.dataset.days), e.querySelectorAll('canvas').length, e.dataset.measured === 'true']));
    const widths = await page.$$eval('#projection canvas', (els) => els.map((c) => c.width));
    const measured = cards.filter(([, , , m]) => m);
    // A use case whose KPI has no measurement gets its reason, not an empty chart.
    t.check(`actual vs projected per use case as charts (${cards.map(([u, d, c, m]) => `${u}: ${d} days, ${m ? `${c} canvas` : 'not measured'}`).join('; ')})`,
      measured.length >= 3 && cards.every(([, d, c, m]) => d > 0 && (m ? c >= 2 : c === 0)) && widths.length >= 6 && widths.every((w) => w > 100));
  });

  await t.step('the value page shows the next quarter\'s roadmap', async () => {
    const state = await ready(page, 'roadmap');
    const quarter = await page.getAttribute('#roadmap', 'data-quarter');
    const rows = await page.$$eval('#roadmap-table tbody tr', (els) => els.map((e) => [e.dataset.rank, e.dataset.useCase, e.dataset.decision, e.dataset.confidence]));
    const api = (await t.call('GET', `/api/v1/roadmap?quarter=${quarter}`, t.adminToken)).json.use_cases;
    const same = JSON.stringify(rows.map(([r, u, d]) => [Number(r), u, d])) === JSON.stringify(api.map((u) => [u.rank, u.id, u.decision]));
    const reasons = await page.$$eval('#roadmap-table details.reasons li', (els) => els.length);
    t.check(`the roadmap of ${quarter} (the next quarter: ${nextQuarter(new Date())}) with ${rows.length} decisions as the API's (${rows.map(([r, u, d]) => `${r}. ${u} ${d}`).join(', ')})`,
      state === 'ready' && quarter === nextQuarter(new Date()) && rows.length >= 3 && same &&
      rows.every(([, , d, c]) => ['scale', 'fix', 'stop', 'measure'].includes(d) && ['high', 'medium', 'low'].includes(c)) && reasons >= rows.length);
    // Another quarter: the table follows the select.
    const other = await page.$eval('#quarter', (s) => [...s.options].map((o) => o.value).find((v) => v !== s.value));
    await page.selectOption('#quarter', other);
    await page.waitForSelector(`#roadmap[data-quarter="${other}"]`, { timeout: 15000 });
    t.check(`choosing quarter ${other} shows its roadmap`, (await page.getAttribute('#roadmap', 'data-state')) === 'ready');
    await page.selectOption('#quarter', quarter);
    await page.waitForSelector(`#roadmap[data-quarter="${quarter}"]`, { timeout: 15000 });
  });
}

export async function viewer(page, t) {
  await t.step('the viewer\'s value page shows only what its grants allow', async () => {
    await ready(page, 'oee');
    await ready(page, 'roadmap');
    const token = await page.evaluate(() => sessionStorage.getItem('weft.token'));
    const { shown, mismatched } = await oeeAgainstApi(page, t, token);
    const all = (await t.call('GET', '/api/v1/kpi?kpi=oee&limit=100000', t.adminToken)).json.kpis;
    const sitesOf = new Map(all.map((r) => [r.line, r.site]));
    const sites = [...new Set(shown.map(([k]) => sitesOf.get(k.split('|')[0])))];
    t.check(`the viewer's OEE rows are its own site's and the API's for it (${sites.join(' ')}: ${shown.filter(([k]) => k.endsWith('|')).map(([k]) => k.slice(0, -1)).join(', ')})`,
      shown.length > 0 && sites.length === 1 && sites[0] === 'lyon' && mismatched.length === 0, mismatched.join(' '));
    const rows = await page.$$eval('#roadmap-table tbody tr', (els) => els.map((e) => e.dataset.useCase));
    const quarter = await page.getAttribute('#roadmap', 'data-quarter');
    const mine = (await t.call('GET', `/api/v1/roadmap?quarter=${quarter}`, token)).json.use_cases.map((u) => u.id);
    const everyone = (await t.call('GET', `/api/v1/roadmap?quarter=${quarter}`, t.adminToken)).json.use_cases.map((u) => u.id);
    t.check(`the viewer's roadmap lists the use cases it may read (${rows.length} of ${everyone.length}: ${rows.join(', ')})`,
      JSON.stringify(rows) === JSON.stringify(mine) && rows.length < everyone.length);
  });
}
