// The Fleet page (issue 11): devices with their status (a revoked one among them), the firmware
// compliance SLA, campaigns with their progress per wave (re-read every few seconds), the
// registry and the latency benchmarks; compared with what the API returns. The admin may pause
// and resume a running campaign (done through the page, then undone) and sees the revocation's
// confirmation (opened and cancelled: a revocation is for good). A viewer has no read_fleet: each
// section says so calmly and no device id appears.
//
//   import * as fleet from './pages/fleet.mjs';
//   await fleet.admin(page, t);   // page signed in, on #/fleet; t = {base, check, shot, step, call, adminToken}

async function ready(page, id) {
  await page.waitForSelector(`#${id}:not([data-state="loading"])`, { state: 'attached', timeout: 30000 });
  return page.getAttribute(`#${id}`, 'data-state');
}

export async function admin(page, t) {
  await t.step('the fleet page lists the devices', async () => {
    const state = await ready(page, 'devices');
    const fleet = await t.call('GET', '/api/v1/fleet/devices', t.adminToken);
    const ota = await t.call('GET', '/api/v1/ota/devices', t.adminToken);
    const ids = new Set([...fleet.json.devices.map((d) => d.id), ...ota.json.map((d) => d.device)]);
    const revoked = fleet.json.devices.filter((d) => d.revoked).map((d) => d.id).sort();
    const rows = await page.$$eval('#device-table tbody tr[data-device]', (els) => els.map((e) => [e.dataset.device, e.dataset.status]));
    const total = Number(await page.getAttribute('#devices', 'data-devices'));
    const totalRevoked = Number(await page.getAttribute('#devices', 'data-revoked'));
    const pageRevoked = rows.filter(([, s]) => s === 'revoked').map(([d]) => d).sort();
    // The table shows the first 100 rows; the counts cover every device.
    t.check(`the fleet page lists the devices (${total} on the page, ${ids.size} from the API; revoked ${totalRevoked}: ${pageRevoked.join(' ')})`,
      state === 'ready' && total === ids.size && total >= 10 && rows.length === Math.min(total, 100) &&
      revoked.length >= 1 && totalRevoked === revoked.length &&
      JSON.stringify(pageRevoked) === JSON.stringify(revoked.filter((id) => rows.some(([d]) => d === id))));
    const firmware = await page.$$eval('#device-table tbody tr[data-device] td:nth-child(4)', (els) => els.filter((e) => /\d/.test(e.textContent)).length);
    t.check(`the devices show their firmware (${firmware} of ${rows.length})`, firmware >= Math.min(rows.length, 10) - revoked.length);
  });

  await t.step('the fleet page shows the firmware compliance', async () => {
    const state = await ready(page, 'compliance');
    const api = (await t.call('GET', '/api/v1/ota/compliance', t.adminToken)).json.reports;
    const cards = await page.$$eval('#compliance article.compliance', (els) => els.map((e) => ({ ...e.dataset })));
    const consistent = cards.every((c) => Math.abs(Number(c.percent) - (100 * Number(c.compliant)) / Math.max(1, Number(c.devices))) < 1e-6);
    const sameModels = JSON.stringify(cards.map((c) => c.hardwareModel).sort()) === JSON.stringify(api.map((r) => r.hardware_model).sort());
    t.check(`the compliance figures per hardware model (${cards.map((c) => `${c.hardwareModel}: ${c.compliant}/${c.devices} ${Number(c.percent).toFixed(1)}% ${c.status}`).join('; ')})`,
      state === 'ready' && cards.length >= 1 && consistent && sameModels && cards.every((c) => Number(c.devices) > 0 && ['met', 'at_risk', 'breached'].includes(c.status)));
  });

  await t.step('the fleet page shows campaigns with their progress', async () => {
    const state = await ready(page, 'campaigns');
    const api = (await t.call('GET', '/api/v1/ota/campaigns', t.adminToken)).json;
    const cards = await page.$$eval('#campaigns article.campaign', (els) => els.map((e) => ({
      id: e.dataset.campaign, state: e.dataset.state, devices: Number(e.dataset.devices), done: Number(e.dataset.succeeded) + Number(e.dataset.failed),
      waves: e.querySelectorAll('.wave').length, segments: [...e.querySelectorAll('.progress span')].filter((s) => s.getBoundingClientRect().width > 0).length,
    })));
    const withProgress = cards.filter((c) => c.done > 0 && c.waves > 0 && c.segments > 0);
    t.check(`the campaigns with progress per wave (${cards.map((c) => `${c.id} ${c.state} ${c.done}/${c.devices} in ${c.waves} waves`).join('; ')})`,
      state === 'ready' && cards.length === api.length && withProgress.length >= 1);
    const before = await page.textContent('#fleet-refreshed');
    await page.waitForFunction((b) => document.querySelector('#fleet-refreshed').textContent !== b, before, { timeout: 10000 });
    t.check('the campaigns are re-read every few seconds', true);
  });

  await t.step('the admin pauses and resumes a running campaign from the page', async () => {
    const running = await page.$('#campaigns article.campaign[data-state="running"] [data-action="pause-campaign"]');
    if (!running) {
      t.check('no running campaign to pause (each is paused or over): the resume button shows for a paused one',
        (await page.$$('#campaigns article.campaign[data-state="paused"]')).length === (await page.$$('[data-action="resume-campaign"]')).length);
      return;
    }
    const id = await running.getAttribute('data-campaign');
    await running.click();
    await page.waitForSelector(`#campaigns article.campaign[data-campaign="${id}"][data-state="paused"] [data-action="resume-campaign"]`, { timeout: 10000 });
    const reason = await page.textContent(`#campaigns article.campaign[data-campaign="${id}"] [data-paused-reason]`);
    const api = (await t.call('GET', `/api/v1/ota/campaigns/${id}`, t.adminToken)).json;
    t.check(`campaign ${id} paused from the page (${reason.trim()})`, api.state === 'paused' && /admin/.test(reason));
    await page.click(`#campaigns article.campaign[data-campaign="${id}"] [data-action="resume-campaign"]`);
    await page.waitForSelector(`#campaigns article.campaign[data-campaign="${id}"]:not([data-state="paused"])`, { timeout: 10000 });
    const after = (await t.call('GET', `/api/v1/ota/campaigns/${id}`, t.adminToken)).json;
    t.check(`campaign ${id} resumed from the page (${after.state})`, after.state === 'running' || after.state === 'finished');
  });

  await t.step('revoking a device asks for a confirmation', async () => {
    const button = await page.$('#device-table [data-action="revoke-device"]');
    const revokedButtons = await page.$$('#device-table tr[data-status="revoked"] [data-action="revoke-device"]');
    if (!button) {
      t.check('a revoke button for the admin', false, 'none shown');
      return;
    }
    const id = await button.getAttribute('data-device');
    await button.click();
    await page.waitForSelector(`tr[data-confirm-device="${id}"] #revoke-confirm`);
    await page.click('#revoke-confirm'); // without a reason: refused on the page
    const msg = await page.textContent(`tr[data-confirm-device="${id}"] .action-result`);
    await page.click('#revoke-cancel');
    const still = (await t.call('GET', `/api/v1/fleet/devices/${id}`, t.adminToken)).json;
    t.check(`revoking ${id} asks for a confirmation with a reason; cancelled, it is not revoked ("${msg}")`,
      /reason/i.test(msg) && !(await page.$('tr.confirm')) && still.revoked === false && revokedButtons.length === 0);
  });

  await t.step('the fleet page shows the registry and the latency benchmarks', async () => {
    await ready(page, 'registry');
    await ready(page, 'bench');
    const firmware = await page.$$eval('#registry-table tr[data-firmware]', (els) => els.map((e) => `${e.dataset.firmware} ${e.dataset.status}`));
    const apiFw = (await t.call('GET', '/api/v1/ota/firmware', t.adminToken)).json;
    const bench = await page.$$eval('#bench-table tr[data-bench]', (els) => els.map((e) => e.dataset.bench));
    const apiBench = (await t.call('GET', '/api/v1/ota/bench', t.adminToken)).json;
    t.check(`the registry lists every firmware version with its status (${firmware.join(', ')})`,
      firmware.length === apiFw.length && firmware.length >= 1 && firmware.some((f) => f.endsWith(' certified')));
    t.check(`the benchmarks per hardware model and model version (${bench.length} of ${apiBench.length}: ${bench.slice(0, 4).join(', ')})`,
      bench.length === apiBench.length);
  });
}

export async function viewer(page, t) {
  await t.step('the viewer\'s fleet page says calmly what it may not see', async () => {
    const states = {};
    for (const id of ['devices', 'compliance', 'campaigns', 'registry', 'bench']) states[id] = await ready(page, id);
    await page.waitForSelector('#fleet-forbidden', { timeout: 10000 });
    const notices = await page.$$eval('.notice[data-forbidden]', (els) => els.filter((e) => e.offsetParent !== null).map((e) => e.textContent));
    const fleet = await t.call('GET', '/api/v1/fleet/devices', t.adminToken);
    const text = await page.textContent('main');
    const leaked = fleet.json.devices.filter((d) => new RegExp(`\\b${d.id}\\b`).test(text)).map((d) => d.id);
    t.check(`the viewer's fleet is refused calmly, in one notice (${Object.entries(states).map(([k, v]) => `${k} ${v}`).join(', ')}: "${notices[0]}")`,
      Object.values(states).every((s) => s === 'forbidden') && notices.length === 1 && /^You may not see the fleet/.test(notices[0]));
    t.check(`the viewer sees no device (${leaked.length} device ids on the page)`, leaked.length === 0 && !(await page.$('#device-table')));
  });
}
