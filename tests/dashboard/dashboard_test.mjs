// Browser test of the dashboard against a running weft-core (tests/dashboard_process_test.sh
// starts `weft demo` and runs this): headless Debian Chromium driven by playwright-core.
//
//   node dashboard_test.mjs --base https://127.0.0.1:PORT --admin-token-file F --artifacts DIR
//   (NODE_EXTRA_CA_CERTS=<core-state>/tls/cert.pem so that Node trusts the demo's certificate)
//
// Checks: the login page; the admin signs in and the plant overview lists assets with values;
// a live value changes; the asset page's chart renders with data points and its events load;
// every other page of the navigation loads; the admin sees an action button; a viewer (granted
// on one site) sees only that site, no action button, and is refused (403) an admin call made
// from the page. A screenshot of each page goes to the artifacts folder.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import * as assetPredictions from './pages/asset_predictions.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const base = args.base;
const adminToken = fs.readFileSync(args['admin-token-file'], 'utf8').trim();
const artifacts = args.artifacts;
const asset = args.asset || 'l2-pr-01';
const motor = args.motor || 'l1-sp-01'; // runs the demo's model: predictions and monitoring
const liveWithinMs = Number(args['live-within-ms'] || 20000);
fs.mkdirSync(artifacts, { recursive: true });

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
}
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(name, false, e.message.split('\n')[0]);
  }
}
async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function call(method, route, token, body) {
  const res = await fetch(base + route, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// A viewer of the site "lyon" only (idempotent across re-runs on one state directory).
async function viewerToken() {
  const id = 'dashboard-viewer';
  const created = await call('POST', '/api/v1/principals', adminToken, { id, kind: 'user', display_name: 'Dashboard viewer' });
  if (created.status === 201) {
    const g = await call('POST', '/api/v1/grants', adminToken, { principal_id: id, role: 'viewer', scope: 'lyon' });
    if (g.status !== 201) throw new Error(`grant: ${g.status} ${JSON.stringify(g.json)}`);
  } else if (created.status !== 409) {
    throw new Error(`principal: ${created.status} ${JSON.stringify(created.json)}`);
  }
  const t = await call('POST', `/api/v1/principals/${id}/tokens`, adminToken, {});
  if (t.status !== 201) throw new Error(`token: ${t.status} ${JSON.stringify(t.json)}`);
  return t.json.token;
}

// Page checks: pages/<id>.mjs exports admin(page, t) and viewer(page, t) (t: base, check, shot,
// step, call, adminToken); the admin's page is signed in and on the page, the viewer's too.
const PAGE_IDS = ['models', 'fleet', 'governance', 'value', 'data'];
const pageChecks = {};
for (const p of PAGE_IDS) {
  const file = new URL(`./pages/${p}.mjs`, import.meta.url);
  if (fs.existsSync(file)) pageChecks[p] = await import(file);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const pageErrors = [];
async function newPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(30000);
  return page;
}

const t = { base, check, shot, step, call, adminToken };
try {
  // --- the admin ---------------------------------------------------------------------------
  const admin = await newPage();
  await step('the login page loads', async () => {
    await admin.goto(`${base}/#/login`);
    await admin.waitForSelector('form#login');
    await shot(admin, 'login');
    check('the login page loads', true);
  });
  await step('a wrong token is refused', async () => {
    await admin.fill('#token', 'weft_not-a-real-token-at-all-0000000000000000000');
    await admin.click('#login-submit');
    await admin.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
    check('a wrong token is refused', /not valid/.test(await admin.textContent('#login-error')));
  });
  await step('the admin signs in with the API token', async () => {
    await admin.fill('#token', adminToken);
    await admin.click('#login-submit');
    await admin.waitForSelector('.user[data-principal="admin"]');
    check('the admin signs in with the API token', true);
  });
  await step('plant overview lists assets with values', async () => {
    await admin.waitForSelector('.asset-card td.value');
    const cards = await admin.$$eval('.asset-card', (els) => els.length);
    const numeric = await admin.$$eval('.asset-card td.value', (els) => els.filter((e) => /\d/.test(e.textContent)).length);
    const sites = await admin.$$eval('section.site', (els) => els.map((e) => e.dataset.site));
    check(`plant overview lists assets with values (${cards} assets, ${numeric} values, sites ${sites.join(' ')})`,
      cards >= 10 && numeric >= 20 && sites.includes('lyon'));
    await shot(admin, 'overview');
  });
  await step('a live value updates', async () => {
    await admin.waitForSelector('#live-status[data-status="live"]', { timeout: 15000 });
    const before = await admin.$$eval('td.value[data-ts]', (els) => Object.fromEntries(els.map((e) => [`${e.dataset.asset}/${e.dataset.signal}`, e.dataset.ts])));
    const t0 = Date.now();
    const changed = await admin.waitForFunction((b) => {
      for (const e of document.querySelectorAll('td.value[data-ts]')) {
        const k = `${e.dataset.asset}/${e.dataset.signal}`;
        if (b[k] && e.dataset.ts > b[k]) return `${k}: ${b[k]} -> ${e.dataset.ts} = ${e.textContent}`;
      }
      return false;
    }, before, { timeout: liveWithinMs, polling: 200 });
    check(`a live value updates within ${liveWithinMs / 1000} s (${((Date.now() - t0) / 1000).toFixed(1)} s: ${await changed.jsonValue()})`, true);
  });
  await step('the asset page charts a view with data points', async () => {
    await admin.goto(`${base}/#/asset/${asset}`);
    await admin.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.points || 0) > 0, null, { timeout: 30000 });
    const points = Number(await admin.getAttribute('#chart', 'data-points'));
    const series = await admin.getAttribute('#chart', 'data-series');
    const canvas = await admin.$$eval('#chart canvas', (els) => els.map((c) => [c.width, c.height]));
    check(`the asset page charts a view (${points} points of ${series})`, points > 0 && canvas.length > 0 && canvas[0][0] > 100);
    await admin.waitForSelector('#latest td.value');
    await admin.waitForSelector('#events table, #no-events');
    check('the asset page lists its latest values and events', true);
  });
  await step('the admin sees an action button', async () => {
    await admin.waitForSelector('[data-action]', { timeout: 15000 });
    const n = await admin.$$eval('[data-action]', (els) => els.length);
    check(`the admin sees an action button (${n})`, n > 0);
    await shot(admin, 'asset');
  });
  // The other pages: each has its checks in pages/<id>.mjs (admin(page, t), viewer(page, t)).
  await step('a motor\'s asset page shows its predictions', async () => {
    await admin.goto(`${base}/#/asset/${motor}?range=24h`);
    await assetPredictions.admin(admin, t);
  });
  for (const p of PAGE_IDS) {
    await step(`the ${p} page loads`, async () => {
      await admin.click(`nav a[data-page="${p}"]`);
      await admin.waitForSelector(`main[data-page="${p}"] h1`);
      check(`the ${p} page loads`, !(await admin.$(`[data-not-built="${p}"]`)), 'not built');
      if (pageChecks[p]?.admin) await pageChecks[p].admin(admin, t);
      // The screenshot once the page's reads are answered (no "Loading…"/"Reading …" left).
      await admin.waitForFunction(() => !/(Loading|Reading [a-z ]+)…/.test(document.querySelector('main').textContent),
        null, { timeout: 10000 }).catch(() => {});
      await shot(admin, p);
    });
  }

  // --- a viewer of one site ---------------------------------------------------------------
  const token = await viewerToken();
  const viewer = await newPage();
  await step('a viewer signs in through the link with a token', async () => {
    await viewer.goto(`${base}/#token=${encodeURIComponent(token)}`);
    await viewer.waitForSelector('.user[data-principal="dashboard-viewer"]');
    check('a viewer signs in through a #token= link, and the token leaves the address bar', !viewer.url().includes(token));
  });
  await step('the viewer sees only its site', async () => {
    await viewer.waitForSelector('.asset-card td.value');
    const sites = await viewer.$$eval('section.site', (els) => els.map((e) => e.dataset.site));
    check(`the viewer sees only its site (${sites.join(' ')})`, sites.length === 1 && sites[0] === 'lyon');
    check('the viewer sees no action button on the overview', (await viewer.$$('[data-action], button.action')).length === 0);
    await shot(viewer, 'overview-viewer');
  });
  await step('the viewer sees no action button on the asset page', async () => {
    await viewer.goto(`${base}/#/asset/${asset}`);
    await viewer.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.points || 0) > 0, null, { timeout: 30000 });
    await viewer.waitForSelector('#events table, #no-events');
    await viewer.waitForTimeout(1000); // the actions are added after the events
    check('the viewer sees no action button on the asset page', (await viewer.$$('[data-action]')).length === 0);
    await shot(viewer, 'asset-viewer');
  });
  for (const p of PAGE_IDS) {
    if (!pageChecks[p]?.viewer) continue;
    await step(`the viewer's ${p} page`, async () => {
      await viewer.goto(`${base}/#/${p}`);
      await viewer.waitForSelector(`main[data-page="${p}"] h1`);
      await pageChecks[p].viewer(viewer, t);
      check(`the viewer sees no action button on the ${p} page`, (await viewer.$$('[data-action]')).length === 0);
      await shot(viewer, `${p}-viewer`);
    });
  }
  await step('an admin action from the viewer\'s page is refused', async () => {
    const r = await viewer.evaluate(async () => {
      const res = await fetch('/api/v1/principals', {
        method: 'POST',
        headers: { Authorization: `Bearer ${sessionStorage.getItem('weft.token')}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: 'intruder', kind: 'user' }),
      });
      return { status: res.status, body: await res.text() };
    });
    check(`an admin action from the viewer's page is refused (${r.status})`, r.status === 403, r.body);
  });
  check('no script error on any page', pageErrors.length === 0, pageErrors.join(' | '));
} finally {
  await browser.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
