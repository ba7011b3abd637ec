// Browser checks of the models page (#/models), run by ../dashboard_test.mjs with the page signed
// in and on #/models. What the page shows is compared with what the API answers for the same
// caller (t.call with the admin's token).
//   admin:  bearing_risk listed with its versions and their validation counts; a version page
//           with its validation report, metrics and lineage hashes; the production quorum
//           refusal and a refused approval shown as the server words them; staging promoted
//           twice and rolled back through the page (the registry's staging alias ends on v1);
//           monitoring per asset matching GET /api/v1/monitoring.
//   viewer: the same registry content, no action on the model and version pages.

const MODEL = 'bearing_risk';

async function api(t, route) {
  const r = await t.call('GET', route, t.adminToken);
  if (r.status !== 200) throw new Error(`GET ${route}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

function counts(report) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const r of (report && report.results) || []) c[r.status] += 1;
  return c;
}

// Whether the version lacks a production approval role (each role by a different principal;
// the demo's approvals are one role each, so roles without any approval are the missing ones).
function missingRoles(version, roles) {
  const have = new Set((version.approvals || []).map((a) => a.role));
  return roles.filter((r) => !have.has(r));
}

// Clicks an action, then its confirmation; returns the result's text and outcome.
async function act(page, action) {
  await page.evaluate(() => document.querySelector('#last-action')?.setAttribute('hidden', ''));
  await page.click(`[data-action="${action}"]`);
  await page.click(`[data-action="${action}-confirm"]`);
  await page.waitForFunction((a) => {
    const r = document.querySelector(`[data-result="${a}"]`);
    const last = document.querySelector('#last-action');
    return (r && r.dataset.outcome) || (last && !last.hidden);
  }, action);
  return page.evaluate((a) => {
    const r = document.querySelector(`[data-result="${a}"]`);
    const last = document.querySelector('#last-action');
    const done = last && !last.hidden ? last.textContent : '';
    // A success reloads the page's data (the result may be gone): the last-action line stays.
    return { outcome: done ? 'done' : (r && r.dataset.outcome) || '', text: r ? r.textContent : '', last: done };
  }, action);
}

async function checkListing(page, t, who) {
  const model = await api(t, `/api/v1/models/${MODEL}`);
  await page.waitForSelector(`[data-model="${MODEL}"] tr[data-version]`);
  const rows = await page.$$eval(`[data-model="${MODEL}"] tr[data-version]`, (els) =>
    els.map((e) => ({ version: e.dataset.version, validation: e.dataset.validation, text: e.querySelector('.validation-cell').textContent })));
  const full = await Promise.all(rows.map((r) => api(t, `/api/v1/models/${MODEL}/versions/${r.version}`)));
  const agree = rows.every((r, i) => {
    const c = counts(full[i].validation);
    return r.validation === (full[i].validation_passed ? 'passed' : 'failed') &&
      r.text.includes(`${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  });
  t.check(`${who}: models lists ${MODEL} with ${rows.length} version(s) and their validation (${rows.map((r) => `v${r.version} ${r.validation}`).join(', ')})`,
    rows.length >= 1 && rows.length === Math.min(model.versions.length, 10) && agree);
  const prod = model.aliases.production;
  if (prod) {
    const badge = await page.$(`[data-model="${MODEL}"] header [data-alias="production"][data-alias-version="${prod}"]`);
    t.check(`${who}: the production alias is shown on v${prod}`, !!badge);
  }
  return model;
}

async function checkVersionPage(page, t, who, version) {
  const v = await api(t, `/api/v1/models/${MODEL}/versions/${version}`);
  await page.goto(`${t.base}/#/models/${MODEL}/${version}`);
  await page.waitForSelector('#validation tr[data-constraint]');
  const shown = await page.$$eval('#validation tr[data-constraint]', (els) => els.map((e) => [e.dataset.constraint, e.dataset.status]));
  const expected = v.validation.results.map((r) => [r.name, r.status]);
  const same = shown.length === expected.length && expected.every(([n, s]) => shown.some(([n2, s2]) => n2 === n && s2 === s));
  const c = counts(v.validation);
  t.check(`${who}: v${version}'s validation report lists its ${shown.length} constraints (${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped)`, same && shown.length > 0);
  const skippedReason = await page.$eval('#validation tr[data-status="skipped"] td:last-child', (e) => e.textContent).catch(() => '');
  if (c.skipped > 0) t.check(`${who}: a skipped constraint says why ("${skippedReason.slice(0, 60)}")`, skippedReason.length > 10);
  const f1 = await page.$eval('#metrics tr[data-metric="runs.f1"]', (e) => [e.children[1].dataset.model, e.children[2].dataset.baseline]);
  t.check(`${who}: v${version}'s metrics show the model against the baseline (run F1 ${f1[0]} vs ${f1[1]})`,
    Number(f1[0]) === v.metrics.model.runs.f1 && Number(f1[1]) === v.metrics.baseline.runs.f1);
  const hashes = await page.$$eval('#lineage [data-hash]', (els) => els.map((e) => e.dataset.hash));
  t.check(`${who}: v${version}'s lineage names the spec's hash`, hashes.includes(v.lineage.spec.sha256));
  return v;
}

export async function admin(page, t) {
  const { check, step } = t;
  let model;
  await step('models: the registry listing', async () => {
    model = await checkListing(page, t, 'admin');
  });
  if (!model) return;
  const versions = model.versions.map((v) => v.version).sort((a, b) => Number(a) - Number(b));
  const newest = versions[versions.length - 1];
  const policies = await api(t, '/api/v1/governance/policies');
  const quorum = policies.policies.find((p) => p.decision === 'model_promotion').roles;

  await step('models: a version page', async () => {
    const v = await checkVersionPage(page, t, 'admin', newest);
    await t.shot(page, 'models-version');
    check('admin: the version page offers approve and promote', !!(await page.$('[data-action="approve-model"]')) && !!(await page.$('[data-action="promote-model"]')));
    // The admin holds no approving role: the registry refuses, and the page says what it said.
    await page.selectOption('#approve-role', quorum[0]);
    const approved = await act(page, 'approve-model');
    check(`admin: approving as ${quorum[0]} without holding the role is refused as the server says (${approved.text})`,
      approved.outcome === 'refused-403' && approved.text.startsWith('Refused:'));
    const missing = missingRoles(v, quorum);
    if (!(v.aliases || []).includes('production') && missing.length > 0) {
      await page.selectOption('#promote-alias', 'production');
      const promoted = await act(page, 'promote-model');
      check(`admin: promoting v${newest} to production without its quorum is refused (${promoted.text})`,
        promoted.outcome.startsWith('refused-4') && missing.every((r) => promoted.text.includes(r)));
    }
  });

  await step('models: promote to staging and roll back', async () => {
    if (versions.length < 2) {
      check('admin: promote and roll back need two versions', false, `only ${versions.length}`);
      return;
    }
    const older = versions[versions.length - 2];
    for (const v of [older, newest]) {
      await page.goto(`${t.base}/#/models/${MODEL}/${v}`);
      await page.waitForSelector('#promote-alias');
      await page.selectOption('#promote-alias', 'staging');
      const r = await act(page, 'promote-model');
      check(`admin: staging promoted to v${v} through the page (${r.last || r.text})`, r.outcome === 'done' && /staging (now points|already pointed) at v/.test(r.last) && r.last.includes(`at v${v}`));
    }
    await page.goto(`${t.base}/#/models/${MODEL}`);
    await page.waitForSelector('#aliases tr[data-alias="staging"] [data-action="rollback-alias"]');
    const r = await act(page, 'rollback-alias');
    const after = await api(t, `/api/v1/models/${MODEL}`);
    // The page reloads the aliases: the staging row shows the version the registry has now.
    const shown = await page.waitForFunction((v) => {
      const link = document.querySelector('#aliases tr[data-alias="staging"] td a');
      return link && link.textContent === `v${v}` && link.textContent;
    }, after.aliases.staging).then((x) => x.jsonValue()).catch(() => 'not shown');
    check(`admin: staging rolled back through the page (${r.last || r.text}; the registry says v${after.aliases.staging}, the page ${shown})`,
      r.outcome === 'done' && after.aliases.staging === older && shown === `v${older}`);
  });

  await step('models: monitoring per asset', async () => {
    await page.goto(`${t.base}/#/models/${MODEL}`);
    await page.waitForSelector('#monitoring, #no-monitoring, #monitoring-unavailable, [data-error="monitoring"]');
    const res = await t.call('GET', `/api/v1/monitoring?model=${MODEL}&limit=2000`, t.adminToken);
    if (res.status === 404) {
      check('admin: monitoring not served yet (404): the page says so', !!(await page.$('#monitoring-unavailable')));
      return;
    }
    const assets = [...new Set(res.json.windows.map((w) => w.asset))];
    const shown = await page.$$eval('#monitoring tr[data-asset]', (els) => els.map((e) => ({
      asset: e.dataset.asset, trust: e.querySelector('[data-trust]').dataset.trust, link: e.querySelector('a.asset-link')?.getAttribute('href'),
      checks: e.querySelectorAll('[data-check]').length,
    })));
    const newest = new Map();
    for (const w of res.json.windows) if (!newest.has(w.asset)) newest.set(w.asset, w);
    const agree = shown.length === assets.length && shown.every((s) => newest.has(s.asset) &&
      String(newest.get(s.asset).score ?? '') === s.trust && s.link === `#/asset/${encodeURIComponent(s.asset)}` && s.checks === 4);
    check(`admin: monitoring shows the newest window of each of ${assets.length} asset(s) with its trust and checks`, agree,
      JSON.stringify(shown.slice(0, 3)));
    await t.shot(page, 'models-model');
  });
  await page.goto(`${t.base}/#/models`);
  await page.waitForSelector(`[data-model="${MODEL}"] tr[data-version]`);
}

export async function viewer(page, t) {
  const { check, step } = t;
  let model;
  await step('models: the viewer\'s listing', async () => {
    model = await checkListing(page, t, 'viewer');
  });
  if (!model) return;
  const newest = model.versions.map((v) => v.version).sort((a, b) => Number(a) - Number(b)).pop();
  await step('models: the viewer\'s version page', async () => {
    await checkVersionPage(page, t, 'viewer', newest);
    check('viewer: no action on the version page', (await page.$$('[data-action]')).length === 0);
    await t.shot(page, 'models-version-viewer');
  });
  await step('models: the viewer\'s model page', async () => {
    await page.goto(`${t.base}/#/models/${MODEL}`);
    await page.waitForSelector('#aliases table, #no-aliases');
    await page.waitForSelector('#monitoring, #no-monitoring, #monitoring-unavailable, [data-error="monitoring"]');
    check('viewer: no action on the model page', (await page.$$('[data-action]')).length === 0);
  });
  await page.goto(`${t.base}/#/models`);
  await page.waitForSelector(`[data-model="${MODEL}"] tr[data-version]`);
}
