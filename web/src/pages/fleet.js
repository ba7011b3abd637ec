// Fleet: the devices (GET /api/v1/fleet/devices merged with the OTA inventory
// /api/v1/ota/devices), the firmware compliance SLA (/api/v1/ota/compliance), the OTA campaigns
// with their progress per wave (/api/v1/ota/campaigns, /campaigns/{id}; re-read every few
// seconds while the page is shown), the living registry (/api/v1/ota/hardware, /firmware) and
// the inference-latency benchmarks (/api/v1/ota/bench).
// The OTA routes need read_fleet on the global scope, the device list read_fleet somewhere (it
// lists the sites the caller may read): a 403 becomes a calm notice in its section. Pausing or
// resuming a campaign and revoking a device (with a confirmation: revocation is for good) are
// shown only to callers with manage_fleet on the global scope; the server decides anyway.

import { api, ApiError, may } from '../api.js';
import { ago, clear, fmtTime, fmtValue, h } from '../dom.js';
import './fleet_value_data.css';

const CAMPAIGN_REFRESH_MS = 3000;
const DEVICE_REFRESH_MS = 30000;
const DEVICE_ROWS = 100;
const FINAL_STATES = new Set(['finished', 'cancelled']);
// Campaign device states, grouped for the progress bars.
const FAILED = ['failed', 'rolled_back', 'timed_out'];
const IN_PROGRESS = ['sent', 'downloading', 'installing'];

export function render(page, who) {
  const manage = may(who, 'manage_fleet', 'global');
  const summary = h('span', { id: 'fleet-summary', class: 'muted' });
  const refreshed = h('span', { id: 'fleet-refreshed', class: 'badge', 'data-status': 'loading' }, 'loading');
  const complianceBox = h('div', { id: 'compliance', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const campaignsBox = h('div', { id: 'campaigns', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const devicesBox = h('div', { id: 'devices', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const registryBox = h('div', { id: 'registry', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const benchBox = h('div', { id: 'bench', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const target = h('input', { id: 'sla-target', type: 'number', min: 1, max: 100, step: 1, value: 95, size: 4 });
  const windowDays = h('input', { id: 'sla-days', type: 'number', min: 1, max: 3650, step: 1, value: 14, size: 4 });
  const deviceFilter = h('input', { id: 'device-filter', type: 'search', placeholder: 'filter: id, site, model, firmware, status', size: 36 });

  page.append(h('section', { class: 'fvd' },
    h('div', { class: 'title-row' }, h('h1', {}, 'Fleet'), summary, refreshed),
    h('div', { class: 'card' },
      h('div', { class: 'title-row' }, h('h2', {}, 'Firmware compliance'),
        h('span', { class: 'controls inline' },
          h('label', {}, 'target ', target, ' %'), h('label', {}, ' within ', windowDays, ' days of the release'))),
      complianceBox),
    h('div', { class: 'card' }, h('h2', {}, 'Campaigns'), campaignsBox),
    h('div', { class: 'card' },
      h('div', { class: 'title-row' }, h('h2', {}, 'Devices'), deviceFilter),
      devicesBox),
    h('div', { class: 'card' }, h('h2', {}, 'Registry: hardware models and firmware'), registryBox),
    h('div', { class: 'card' }, h('h2', {}, 'Inference latency benchmarks'), benchBox)));

  let gone = false;
  let campaignTimer = null;
  let deviceTimer = null;
  let devices = []; // merged rows
  let showAllDevices = false;
  let confirming = null; // the device id whose revocation is being confirmed
  const described = new Map(); // campaign id -> last GET /campaigns/{id} (final ones are not re-read)
  const cardCache = new Map(); // campaign id -> {key: its JSON, el: its card}

  // A refusal is not an error the person can fix here: say calmly what they may not see. The
  // OTA routes need read_fleet on the whole plant, the device list on some site.
  function refusal(box, e, what, global = true) {
    box.dataset.state = e instanceof ApiError && e.status === 403 ? 'forbidden' : 'error';
    clear(box).append(e instanceof ApiError && e.status === 403
      ? h('p', { class: 'notice', 'data-forbidden': what }, `You may not see ${what}: that needs the read_fleet permission${global ? ' on the whole plant' : ''}, which your grants do not give.`)
      : h('p', { class: 'error' }, `Cannot read ${what}: ${e.message}`));
  }

  // --- compliance ----------------------------------------------------------------------------
  async function loadCompliance() {
    const t = Math.min(100, Math.max(1, Number(target.value) || 95)) / 100;
    const d = Math.min(3650, Math.max(1, Number(windowDays.value) || 14));
    let reports;
    try {
      reports = (await api(`/api/v1/ota/compliance?target=${t}&days=${d}`)).reports;
    } catch (e) {
      if (!gone) refusal(complianceBox, e, 'firmware compliance');
      return;
    }
    if (gone) return;
    clear(complianceBox);
    complianceBox.dataset.state = 'ready';
    complianceBox.dataset.reports = String(reports.length);
    if (reports.length === 0) {
      complianceBox.append(h('p', { class: 'muted empty' }, 'No certified firmware release yet: nothing to be compliant with.'));
      return;
    }
    complianceBox.append(h('div', { class: 'compliance-grid' }, reports.map(complianceCard)));
  }

  function complianceCard(r) {
    const state = { met: 'ok', at_risk: 'bad', breached: 'alert' }[r.status] || 'stale';
    const ttc = r.time_to_compliance_s || {};
    const overdue = r.overdue || [];
    return h('article', { class: `compliance state-${state}`, 'data-hardware-model': r.hardware_model, 'data-status': r.status,
      'data-devices': r.devices, 'data-compliant': r.compliant, 'data-percent': r.compliant_percent },
    h('header', {}, h('strong', {}, r.hardware_model), ' ',
      h('span', { class: 'muted' }, `release ${r.release}, ${fmtTime(r.released_at)}`), ' ',
      h('span', { class: `badge state-${state}` }, r.status.replace('_', ' '))),
    h('div', { class: 'big-figure' }, h('span', { class: 'figure' }, `${fmtPercent(r.compliant_percent / 100)}`),
      h('span', { class: 'muted' }, ` compliant: ${r.compliant} of ${r.devices} devices in scope`)),
    meter(r.compliant_percent / 100, r.target),
    h('dl', { class: 'facts' },
      fact('target', `${fmtPercent(r.target)} by ${fmtTime(r.deadline)} (${fmtValue(r.window_days)} days)`),
      fact('target reached', r.target_reached_at ? `${fmtTime(r.target_reached_at)}, ${fmtDuration(r.time_to_target_s)} after the release` : 'not yet'),
      fact('time to compliance', ttc.p50 === null || ttc.p50 === undefined ? '—' : `p50 ${fmtDuration(ttc.p50)}, p95 ${fmtDuration(ttc.p95)}`),
      fact('overdue', overdue.length === 0 ? 'none' : `${overdue.length} device${overdue.length > 1 ? 's' : ''}`)),
    overdue.length ? h('details', { class: 'overdue' },
      h('summary', {}, `Overdue devices (${overdue.length})`),
      h('table', { class: 'grid compact' },
        h('thead', {}, h('tr', {}, ['Device', 'Site', 'Firmware', 'Last seen'].map((t) => h('th', {}, t)))),
        h('tbody', {}, overdue.slice(0, 200).map((d) => h('tr', { 'data-device': d.device },
          h('td', {}, d.device), h('td', {}, d.site), h('td', {}, d.firmware || '—'),
          h('td', {}, d.last_seen ? ago(d.last_seen) : 'never')))))) : null);
  }

  // --- campaigns -----------------------------------------------------------------------------
  async function loadCampaigns() {
    let list;
    try {
      list = await api('/api/v1/ota/campaigns');
    } catch (e) {
      if (!gone) refusal(campaignsBox, e, 'the campaigns');
      return;
    }
    // Progress of every campaign not yet final (and, once, of the final ones).
    await Promise.all(list.map(async (c) => {
      const known = described.get(c.id);
      if (known && FINAL_STATES.has(known.state) && known.state === c.state) return;
      try {
        described.set(c.id, await api(`/api/v1/ota/campaigns/${encodeURIComponent(c.id)}`));
      } catch {
        described.set(c.id, { ...c, wave_progress: null });
      }
    }));
    if (gone) return;
    renderCampaigns(list);
    refreshed.textContent = `campaigns updated ${new Date().toLocaleTimeString()}`;
    refreshed.dataset.status = 'live';
  }

  // A card is rebuilt only when its campaign changed, so that a button under the pointer is not
  // replaced by an identical one every few seconds.
  function renderCampaigns(list) {
    campaignsBox.dataset.state = 'ready';
    campaignsBox.dataset.campaigns = String(list.length);
    if (list.length === 0) {
      clear(campaignsBox).append(h('p', { class: 'muted empty' }, 'No campaigns yet.'));
      return;
    }
    // Running and paused first, then drafts, then the final ones; newest first within each.
    const order = { running: 0, paused: 1, draft: 2, finished: 3, cancelled: 4 };
    const sorted = [...list].sort((a, b) => (order[a.state] ?? 9) - (order[b.state] ?? 9) || b.created_at.localeCompare(a.created_at));
    const cards = sorted.map((c) => {
      const d = described.get(c.id) || c;
      const key = JSON.stringify(d);
      const known = cardCache.get(c.id);
      if (known && known.key === key) return known.el;
      const el = campaignCard(d);
      cardCache.set(c.id, { key, el });
      return el;
    });
    let grid = campaignsBox.querySelector(':scope > .campaigns');
    if (!grid) {
      grid = h('div', { class: 'campaigns' });
      clear(campaignsBox).append(grid);
    }
    if (cards.length !== grid.children.length || cards.some((el, i) => grid.children[i] !== el)) grid.replaceChildren(...cards);
  }

  function campaignCard(c) {
    const state = { running: 'ok', paused: 'bad', draft: 'stale', finished: 'ok', cancelled: 'stale' }[c.state] || 'stale';
    const totals = c.totals || {};
    const n = c.devices || 0;
    const succeeded = totals.succeeded || 0;
    const failed = FAILED.reduce((s, k) => s + (totals[k] || 0), 0);
    const moving = IN_PROGRESS.reduce((s, k) => s + (totals[k] || 0), 0);
    const pending = totals.pending || 0;
    const target = c.target || {};
    const scope = [
      (target.hardware_models || []).length ? `models ${target.hardware_models.join(', ')}` : 'every hardware model',
      (target.sites || []).length ? `sites ${target.sites.join(', ')}` : 'every site',
      (target.firmware || []).length ? `now on ${target.firmware.join(', ')}` : null,
    ].filter(Boolean).join(' · ');
    const actions = [];
    if (manage && c.state === 'running') actions.push(campaignButton(c, 'pause', 'Pause'));
    if (manage && c.state === 'paused') actions.push(campaignButton(c, 'resume', 'Resume'));
    const result = h('span', { class: 'action-result', role: 'status' });
    return h('article', {
      class: `campaign state-${state}`, 'data-campaign': c.id, 'data-state': c.state, 'data-devices': n,
      'data-succeeded': succeeded, 'data-failed': failed, 'data-pending': pending, 'data-in-progress': moving,
    },
    h('header', {},
      h('strong', {}, c.name || c.id), h('span', { class: `badge state-${state}` }, c.state),
      h('span', { class: 'muted' }, `${c.id} · artifact ${String(c.artifact || '').slice(0, 12)}`),
      h('span', { class: 'actions' }, actions, result)),
    c.state === 'paused' && c.state_reason
      ? h('p', { class: 'paused-reason', 'data-paused-reason': '' }, `Paused: ${c.state_reason}`)
      : c.state_reason ? h('p', { class: 'muted' }, c.state_reason) : null,
    h('p', { class: 'muted' }, `${scope}; waves ${(c.waves || []).join(' → ')}; wave ${c.current_wave} of ${(c.waves || []).length}; ` +
      `next wave at ${fmtPercent(c.success_threshold)} succeeded, pause at ${fmtPercent(c.error_threshold)} failed` +
      (c.started_at ? `; started ${fmtTime(c.started_at)}` : '') +
      (c.finished_at ? `; ended ${fmtTime(c.finished_at)}` : '')),
    n ? h('p', { class: 'totals' },
      `${n} devices: `, h('span', { class: 'ok' }, `${succeeded} succeeded`), ', ', h('span', { class: 'failed' }, `${failed} failed`),
      moving ? `, ${moving} in progress` : '', `, ${pending} pending`) : null,
    c.wave_progress ? h('div', { class: 'waves' }, c.wave_progress.map((w) => waveRow(w, c.current_wave))) : null);
  }

  function waveRow(w, current) {
    const n = w.devices || 0;
    const ok = w.succeeded || 0;
    const bad = FAILED.reduce((s, k) => s + (w[k] || 0), 0);
    const moving = IN_PROGRESS.reduce((s, k) => s + (w[k] || 0), 0);
    const pending = w.pending || 0;
    const bar = h('div', { class: 'progress', title: `${ok} succeeded, ${bad} failed, ${moving} in progress, ${pending} pending` });
    for (const [cls, v] of [['ok', ok], ['failed', bad], ['moving', moving], ['pending', pending]]) {
      if (!v || !n) continue;
      const seg = h('span', { class: cls });
      seg.style.width = `${(100 * v) / n}%`;
      bar.append(seg);
    }
    const parts = [`${ok} ok`, bad ? `${bad} failed${w.rolled_back ? ` (${w.rolled_back} rolled back)` : ''}` : null,
      moving ? `${moving} in progress` : null, pending ? `${pending} pending` : null].filter(Boolean);
    return h('div', { class: `wave${w.wave === current ? ' current' : ''}`, 'data-wave': w.wave, 'data-devices': n,
      'data-succeeded': ok, 'data-failed': bad, 'data-pending': pending },
    h('span', { class: 'wave-name' }, `wave ${w.wave} (${w.size})`), bar,
    h('span', { class: 'wave-counts' }, n ? `${parts.join(', ')} of ${n}` : 'no devices'));
  }

  function campaignButton(c, verb, label) {
    const b = h('button', { type: 'button', 'data-action': `${verb}-campaign`, 'data-campaign': c.id }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      const status = b.parentElement.querySelector('.action-result');
      try {
        const r = await api(`/api/v1/ota/campaigns/${encodeURIComponent(c.id)}/${verb}`, { method: 'POST', body: {} });
        described.delete(c.id);
        status.textContent = `${r.state}.`;
      } catch (e) {
        status.textContent = e instanceof ApiError && e.status === 403 ? `Refused: ${e.message}` : `Failed: ${e.message}`;
        b.disabled = false;
        return;
      }
      loadCampaigns();
    });
    return b;
  }

  // --- devices -------------------------------------------------------------------------------
  async function loadDevices() {
    const [fleet, ota] = await Promise.allSettled([api('/api/v1/fleet/devices'), api('/api/v1/ota/devices')]);
    if (gone) return;
    if (fleet.status === 'rejected' && ota.status === 'rejected') {
      refusal(devicesBox, fleet.reason, 'the devices', false);
      summary.textContent = '';
      return;
    }
    const byId = new Map();
    for (const d of fleet.status === 'fulfilled' ? fleet.value.devices : []) {
      byId.set(d.id, { id: d.id, site: d.site, hardware_model: d.hardware_model, revoked: d.revoked, provisioned_at: d.provisioned_at,
        cert_not_after: d.cert_not_after, revoked_at: d.revoked_at, revoke_reason: d.revoke_reason, provisioned: true, versions: {} });
    }
    for (const d of ota.status === 'fulfilled' ? ota.value : []) {
      const known = byId.get(d.device);
      if (known) Object.assign(known, { versions: d.versions || {}, last_seen: d.last_seen, site: known.site || d.site, hardware_model: known.hardware_model || d.hardware_model });
      else byId.set(d.device, { id: d.device, site: d.site, hardware_model: d.hardware_model, revoked: false, provisioned: false, versions: d.versions || {}, last_seen: d.last_seen });
    }
    devices = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
    for (const d of devices) d.status = statusOf(d);
    const counts = {};
    for (const d of devices) counts[d.status] = (counts[d.status] || 0) + 1;
    summary.textContent = `${devices.length} devices: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`;
    devicesBox.dataset.partial = fleet.status === 'rejected' || ota.status === 'rejected' ? 'true' : 'false';
    renderDevices(fleet.status === 'rejected' ? 'the provisioning records (certificates, revocations)' : ota.status === 'rejected' ? 'the OTA inventory (firmware, last seen)' : null);
  }

  // Devices report their state on (re)connect and after each update, not periodically: the last
  // report says what a device runs, not whether it is online now.
  function statusOf(d) {
    if (d.revoked) return 'revoked';
    if (d.cert_not_after && Date.parse(d.cert_not_after) < Date.now()) return 'certificate expired';
    if (!d.provisioned) return 'not provisioned';
    if (!d.last_seen) return 'no report yet';
    return 'active';
  }

  function renderDevices(missing) {
    if (confirming) return; // do not tear down an open confirmation
    const q = deviceFilter.value.trim().toLowerCase();
    const shown = q ? devices.filter((d) => [d.id, d.site, d.hardware_model, d.versions.firmware, d.status].some((v) => String(v || '').toLowerCase().includes(q))) : devices;
    clear(devicesBox);
    devicesBox.dataset.state = 'ready';
    devicesBox.dataset.devices = String(devices.length);
    devicesBox.dataset.revoked = String(devices.filter((d) => d.revoked).length);
    if (missing) devicesBox.append(h('p', { class: 'notice' }, `You may not see ${missing}; the list shows what you may read.`));
    if (devices.length === 0) {
      devicesBox.append(h('p', { class: 'muted empty' }, 'No devices yet: none has been provisioned or reported its state.'));
      return;
    }
    const rows = showAllDevices ? shown : shown.slice(0, DEVICE_ROWS);
    const table = h('table', { class: 'grid', id: 'device-table' },
      h('thead', {}, h('tr', {}, ['Device', 'Site', 'Hardware model', 'Firmware', 'Status', 'Last report', 'Certificate', manage ? '' : null].filter((t) => t !== null).map((t) => h('th', {}, t)))),
      h('tbody', {}, rows.map(deviceRow)));
    devicesBox.append(table);
    if (shown.length > rows.length) {
      devicesBox.append(h('p', { class: 'muted' }, `${rows.length} of ${shown.length} shown. `,
        h('button', { type: 'button', class: 'link', onclick: () => { showAllDevices = true; renderDevices(); } }, 'Show all')));
    } else if (q) {
      devicesBox.append(h('p', { class: 'muted' }, `${shown.length} of ${devices.length} devices match “${deviceFilter.value.trim()}”.`));
    }
  }

  function deviceRow(d) {
    const state = { active: 'ok', revoked: 'alert', 'certificate expired': 'bad', 'not provisioned': 'stale', 'no report yet': 'stale' }[d.status];
    const otherVersions = Object.entries(d.versions).filter(([k]) => k !== 'firmware').map(([k, v]) => `${k} ${v}`).join(', ');
    const cert = d.revoked
      ? `revoked ${d.revoked_at ? fmtTime(d.revoked_at) : ''}${d.revoke_reason ? `: ${d.revoke_reason}` : ''}`
      : d.cert_not_after ? `valid to ${fmtTime(d.cert_not_after)}` : d.provisioned ? '—' : 'not provisioned here';
    const cells = [
      h('td', {}, d.id),
      h('td', {}, d.site || '—'),
      h('td', {}, d.hardware_model || '—'),
      h('td', { title: otherVersions || null }, d.versions.firmware || '—', otherVersions ? h('span', { class: 'muted small' }, ` +${Object.keys(d.versions).length - 1}`) : null),
      h('td', {}, h('span', { class: `badge state-${state}`, 'data-status': d.status }, d.status)),
      h('td', { title: d.last_seen || '' }, d.last_seen ? ago(d.last_seen) : '—'),
      h('td', { class: 'muted' }, cert),
    ];
    if (manage) {
      cells.push(h('td', { class: 'row-actions' }, d.revoked || !d.provisioned ? null
        : h('button', { type: 'button', class: 'danger', 'data-action': 'revoke-device', 'data-device': d.id, onclick: (ev) => askRevoke(d, ev.target.closest('tr')) }, 'Revoke…')));
    }
    return h('tr', { 'data-device': d.id, 'data-status': d.status, class: d.revoked ? 'revoked' : null }, cells);
  }

  // Revocation is for good (the certificate lands in the broker's CRL, the device can never
  // provision again): a confirmation row with the reason the API requires.
  function askRevoke(d, row) {
    if (confirming) return;
    confirming = d.id;
    const reason = h('input', { id: 'revoke-reason', type: 'text', maxlength: 500, size: 40, placeholder: 'reason (required), e.g. stolen, decommissioned' });
    const result = h('span', { class: 'action-result', role: 'status' });
    const yes = h('button', { type: 'button', class: 'danger', id: 'revoke-confirm', 'data-action': 'confirm-revoke', 'data-device': d.id }, `Revoke ${d.id} for good`);
    const no = h('button', { type: 'button', id: 'revoke-cancel' }, 'Cancel');
    const cols = row.cells.length;
    const confirmRow = h('tr', { class: 'confirm', 'data-confirm-device': d.id }, h('td', { colspan: cols },
      h('strong', {}, `Revoke ${d.id}?`), ` Its certificate is revoked and the broker refuses it at once; the device cannot provision again. `,
      reason, ' ', yes, ' ', no, ' ', result));
    row.after(confirmRow);
    reason.focus();
    no.addEventListener('click', () => {
      confirming = null;
      confirmRow.remove();
    });
    yes.addEventListener('click', async () => {
      if (!reason.value.trim()) {
        result.textContent = 'Give a reason.';
        reason.focus();
        return;
      }
      yes.disabled = true;
      try {
        const r = await api(`/api/v1/fleet/devices/${encodeURIComponent(d.id)}/revoke`, { method: 'POST', body: { reason: reason.value.trim() } });
        result.textContent = `Revoked (${(r.revoked_certificates || []).length} certificate(s); broker: ${r.broker && r.broker.note ? r.broker.note : 'updated'}).`;
      } catch (e) {
        result.textContent = e instanceof ApiError && e.status === 403 ? `Refused: ${e.message}` : `Failed: ${e.message}`;
        yes.disabled = false;
        return;
      }
      setTimeout(() => {
        confirming = null;
        if (!gone) loadDevices();
        loadCompliance();
      }, 1200);
    });
  }

  // --- registry and benchmarks ---------------------------------------------------------------
  async function loadRegistry() {
    let hardware;
    let firmware;
    try {
      [hardware, firmware] = await Promise.all([api('/api/v1/ota/hardware'), api('/api/v1/ota/firmware')]);
    } catch (e) {
      if (!gone) refusal(registryBox, e, 'the registry');
      return;
    }
    if (gone) return;
    clear(registryBox);
    registryBox.dataset.state = 'ready';
    registryBox.dataset.hardware = String(hardware.length);
    registryBox.dataset.firmware = String(firmware.length);
    if (hardware.length === 0 && firmware.length === 0) {
      registryBox.append(h('p', { class: 'muted empty' }, 'No hardware model or firmware registered yet.'));
      return;
    }
    const fwStatus = { certified: 'ok', candidate: 'stale', deprecated: 'bad', vulnerable: 'alert' };
    const byModel = new Map(hardware.map((m) => [m.name, []]));
    for (const f of firmware) {
      if (!byModel.has(f.hardware_model)) byModel.set(f.hardware_model, []);
      byModel.get(f.hardware_model).push(f);
    }
    const hwByName = new Map(hardware.map((m) => [m.name, m]));
    registryBox.append(h('table', { class: 'grid', id: 'registry-table' },
      h('thead', {}, h('tr', {}, ['Hardware model', 'Firmware', 'Status', 'Released', 'Notes'].map((t) => h('th', {}, t)))),
      h('tbody', {}, [...byModel].sort(([a], [b]) => a.localeCompare(b)).map(([name, versions]) => {
        const m = hwByName.get(name);
        const head = h('tr', { class: 'group', 'data-hardware-model': name },
          h('th', { scope: 'row' }, name, ' ', m ? h('span', { class: `badge state-${m.certified ? 'ok' : 'stale'}` }, m.certified ? 'certified' : 'not certified') : h('span', { class: 'muted' }, '(not registered)')),
          h('td', { colspan: 4, class: 'muted' }, m && m.notes ? m.notes : ''));
        const rows = versions.sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true })).map((f) =>
          h('tr', { 'data-firmware': `${f.hardware_model}/${f.version}`, 'data-status': f.status },
            h('td', {}), h('td', {}, f.version),
            h('td', {}, h('span', { class: `badge state-${fwStatus[f.status] || 'stale'}` }, f.status)),
            h('td', {}, f.released_at ? fmtTime(f.released_at) : '—'),
            h('td', { class: 'muted' }, f.notes || '')));
        return [head, rows.length ? rows : h('tr', {}, h('td', {}), h('td', { colspan: 4, class: 'muted' }, 'no firmware registered'))];
      }))));
  }

  async function loadBench() {
    let bench;
    try {
      bench = await api('/api/v1/ota/bench');
    } catch (e) {
      if (!gone) refusal(benchBox, e, 'the benchmarks');
      return;
    }
    if (gone) return;
    clear(benchBox);
    benchBox.dataset.state = 'ready';
    benchBox.dataset.rows = String(bench.length);
    if (bench.length === 0) {
      benchBox.append(h('p', { class: 'muted empty' }, 'No latency benchmark reported yet: devices report one after a model campaign reaches them.'));
      return;
    }
    const maxP99 = Math.max(...bench.map((b) => b.p99_us || 0), 1);
    const sorted = [...bench].sort((a, b) => a.model.localeCompare(b.model) || a.hardware_model.localeCompare(b.hardware_model) ||
      String(a.model_version).localeCompare(String(b.model_version), undefined, { numeric: true }));
    benchBox.append(h('table', { class: 'grid', id: 'bench-table' },
      h('thead', {}, h('tr', {}, ['Model', 'Version', 'Hardware model', 'p50', 'p99', '', 'Reports', 'Devices', 'Samples', 'Latest'].map((t) => h('th', {}, t)))),
      h('tbody', {}, sorted.map((b) => {
        const bar = h('div', { class: 'latency-bar', title: `p50 ${fmtMicros(b.p50_us)}, p99 ${fmtMicros(b.p99_us)}` });
        const p50 = h('span', { class: 'p50' });
        const p99 = h('span', { class: 'p99' });
        p50.style.width = `${(100 * (b.p50_us || 0)) / maxP99}%`;
        p99.style.width = `${(100 * ((b.p99_us || 0) - (b.p50_us || 0))) / maxP99}%`;
        bar.append(p50, p99);
        return h('tr', { 'data-bench': `${b.hardware_model}/${b.model}/${b.model_version}` },
          h('td', {}, b.model), h('td', {}, String(b.model_version)), h('td', {}, b.hardware_model),
          h('td', { class: 'num' }, fmtMicros(b.p50_us)), h('td', { class: 'num' }, fmtMicros(b.p99_us)),
          h('td', { class: 'bar-cell' }, bar),
          h('td', { class: 'num' }, b.reports), h('td', { class: 'num' }, b.devices), h('td', { class: 'num' }, b.samples),
          h('td', { title: b.latest }, ago(b.latest)));
      }))),
    h('p', { class: 'muted' }, 'p50: median of the devices\' latest reports\' p50; p99: nearest-rank p99 of their p99s. Bars on one scale (dark: p50, light: up to p99).'));
  }

  target.addEventListener('change', loadCompliance);
  windowDays.addEventListener('change', loadCompliance);
  deviceFilter.addEventListener('input', () => { showAllDevices = false; renderDevices(); });

  const boxes = [complianceBox, campaignsBox, devicesBox, registryBox, benchBox];
  Promise.all([loadCompliance(), loadCampaigns(), loadDevices(), loadRegistry(), loadBench()]).then(() => {
    if (gone || !boxes.every((b) => b.dataset.state === 'forbidden')) return;
    // Nothing here is the caller's to see: one notice instead of five.
    for (const b of boxes) b.closest('.card').hidden = true;
    refreshed.hidden = true;
    clearInterval(campaignTimer);
    clearInterval(deviceTimer);
    page.querySelector('.fvd').append(h('p', { class: 'notice', id: 'fleet-forbidden', 'data-forbidden': 'fleet' },
      'You may not see the fleet: devices, firmware, campaigns and benchmarks need the read_fleet permission ' +
      '(roles ot_engineer, ops_manager, security_lead), which your grants do not give. An administrator can grant it.'));
  });
  campaignTimer = setInterval(() => {
    if (!document.hidden && campaignsBox.dataset.state !== 'forbidden') loadCampaigns();
  }, CAMPAIGN_REFRESH_MS);
  deviceTimer = setInterval(() => {
    if (document.hidden || devicesBox.dataset.state === 'forbidden') return;
    loadDevices();
    if (complianceBox.dataset.state === 'ready') loadCompliance();
  }, DEVICE_REFRESH_MS);

  return () => {
    gone = true;
    clearInterval(campaignTimer);
    clearInterval(deviceTimer);
  };
}

function fact(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

// A bar of `fraction` with a tick at `target` (both 0..1).
function meter(fraction, target) {
  const bar = h('div', { class: 'meter', title: `${fmtPercent(fraction)} (target ${fmtPercent(target)})` });
  const fill = h('span', { class: 'fill' });
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  const tick = h('span', { class: 'tick' });
  tick.style.left = `${Math.max(0, Math.min(1, target)) * 100}%`;
  bar.append(fill, tick);
  return bar;
}

function fmtPercent(f) {
  if (f === null || f === undefined || Number.isNaN(f)) return '—';
  const p = f * 100;
  return `${p >= 99.95 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function fmtDuration(s) {
  if (s === null || s === undefined) return '—';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

function fmtMicros(us) {
  if (us === null || us === undefined) return '—';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 1e5 ? 0 : 2)} ms`;
  return `${Math.round(us)} µs`;
}
