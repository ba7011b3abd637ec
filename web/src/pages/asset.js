// Asset: its latest values (live), a chart of a view's columns over a chosen time range
// (GET /api/v1/views/{name}/query, the views that cover the asset's type), its events, and, for
// callers whose grants allow it, the action of recording a work order against an open alert.

import uPlot from 'uplot';
import { api, ApiError, iso, may } from '../api.js';
import { alertEpisodes, openEpisodes } from '../alerts.js';
import { ago, clear, fmtTime, fmtValue, h } from '../dom.js';
import { subscribeLive } from '../live.js';

const RANGES = [
  ['15m', '15 min', 15 * 60e3],
  ['1h', '1 hour', 3600e3],
  ['6h', '6 hours', 6 * 3600e3],
  ['24h', '24 hours', 24 * 3600e3],
];
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];

export function renderAsset(page, who, assetId, params) {
  if (!assetId) return renderChooser(page);
  let stopLive = null;
  let timer = null;
  let chart = null;
  let gone = false;

  const rangeSel = h('select', { id: 'range' }, RANGES.map(([k, label]) => h('option', { value: k }, label)), h('option', { value: 'custom' }, 'Custom…'));
  rangeSel.value = params.get('range') || '15m';
  const fromIn = h('input', { id: 'from', type: 'datetime-local', step: 1 });
  const toIn = h('input', { id: 'to', type: 'datetime-local', step: 1 });
  const custom = h('span', { id: 'custom-range', hidden: rangeSel.value !== 'custom' }, ' from ', fromIn, ' to ', toIn);
  const viewSel = h('select', { id: 'view' });
  const refresh = h('button', { type: 'button', id: 'refresh' }, 'Refresh');
  const chartBox = h('div', { id: 'chart', class: 'chart', 'data-points': '0' });
  const chartNote = h('p', { id: 'chart-note', class: 'muted' });
  const values = h('table', { id: 'latest', class: 'signals wide' }, h('tbody', {}));
  const eventsBox = h('div', { id: 'events' }, h('p', { class: 'muted' }, 'Loading…'));
  const actions = h('div', { id: 'actions', class: 'actions' });
  const place = h('p', { class: 'muted', id: 'place' });
  const status = h('span', { id: 'live-status', class: 'badge', 'data-status': 'connecting' }, 'connecting');

  page.append(h('section', { 'data-asset': assetId },
    h('div', { class: 'title-row' }, h('h1', {}, assetId), status), place,
    h('div', { class: 'card' }, h('h2', {}, 'Latest values'), values),
    h('div', { class: 'card' },
      h('div', { class: 'controls' }, h('label', {}, 'View ', viewSel), h('label', {}, ' Range ', rangeSel), custom, refresh),
      chartBox, chartNote),
    h('div', { class: 'card' }, h('h2', {}, 'Events'), eventsBox),
    actions));

  function range() {
    if (rangeSel.value === 'custom' && fromIn.value && toIn.value) {
      return [new Date(fromIn.value).getTime(), new Date(toIn.value).getTime()];
    }
    const r = RANGES.find(([k]) => k === rangeSel.value) || RANGES[0];
    const now = Date.now();
    return [now - r[2], now + 1000];
  }

  function setLatest(sample, fresh) {
    const tbody = values.tBodies[0];
    let row = tbody.querySelector(`tr[data-signal="${CSS.escape(sample.signal)}"]`);
    if (!row) {
      row = h('tr', { 'data-signal': sample.signal }, h('th', { scope: 'row' }, sample.signal),
        h('td', { class: 'value', 'data-asset': assetId, 'data-signal': sample.signal }), h('td', { class: 'unit' }, sample.unit), h('td', { class: 'muted ts' }));
      const rows = [...tbody.rows];
      const after = rows.find((r) => r.dataset.signal > sample.signal);
      tbody.insertBefore(row, after || null);
    }
    const cell = row.cells[1];
    cell.textContent = fmtValue(sample.value);
    cell.dataset.ts = sample.ts;
    cell.classList.toggle('bad', sample.quality !== 0);
    row.cells[3].textContent = fmtTime(sample.ts);
    if (fresh) {
      cell.classList.remove('flash');
      void cell.offsetWidth;
      cell.classList.add('flash');
    }
  }

  async function drawChart() {
    const [from, to] = range();
    const view = viewSel.value;
    if (!view) return;
    chartNote.textContent = 'Loading…';
    let text;
    try {
      const res = await fetch(`/api/v1/views/${encodeURIComponent(view)}/query?from=${iso(from)}&to=${iso(to)}&asset=${encodeURIComponent(assetId)}`,
        { headers: { Authorization: `Bearer ${sessionStorage.getItem('weft.token')}` }, cache: 'no-store' });
      text = await res.text();
      if (!res.ok) throw new Error(JSON.parse(text).error.message);
    } catch (e) {
      chartNote.textContent = `Cannot read the view: ${e.message}`;
      return;
    }
    if (gone) return;
    const rows = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const columns = rows.length ? Object.keys(rows[0]).filter((k) => k !== 'ts' && k !== 'asset') : [];
    const xs = rows.map((r) => Date.parse(r.ts) / 1000);
    const data = [xs, ...columns.map((c) => rows.map((r) => (r[c] === null || r[c] === undefined ? null : r[c])))];
    let points = 0;
    for (let i = 1; i < data.length; i++) points += data[i].filter((v) => v !== null).length;
    chartBox.dataset.points = String(points);
    chartBox.dataset.rows = String(rows.length);
    chartBox.dataset.series = columns.join(',');
    if (chart) {
      chart.destroy();
      chart = null;
    }
    clear(chartBox);
    if (rows.length === 0) {
      chartNote.textContent = `No rows of ${view} for ${assetId} between ${fmtTime(iso(from))} and ${fmtTime(iso(to))}.`;
      return;
    }
    chartNote.textContent = `${rows.length} rows of ${view}, ${fmtTime(rows[0].ts)} – ${fmtTime(rows[rows.length - 1].ts)}; click a legend entry to show or hide its signal.`;
    const width = Math.max(320, chartBox.clientWidth || 800);
    chart = new uPlot({
      width,
      height: 320,
      // Signals differ by orders of magnitude: the first two are shown, the legend toggles the rest.
      series: [{}, ...columns.map((c, i) => ({ label: c, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false, show: i < 2 }))],
      axes: [{}, { size: 60 }],
      scales: { x: { time: true } },
      legend: { live: true },
    }, data, chartBox);
  }

  async function loadViews(assetType) {
    const { views } = await api('/api/v1/views');
    const fitting = views.filter((v) => !v.asset_types || v.asset_types.length === 0 || v.asset_types.includes(assetType));
    clear(viewSel);
    for (const v of fitting) viewSel.append(h('option', { value: v.name, title: v.description }, `${v.name} (${v.period})`));
    if (params.get('view') && fitting.some((v) => v.name === params.get('view'))) viewSel.value = params.get('view');
    if (fitting.length === 0) chartNote.textContent = `No view covers asset type ${assetType}; declare one in the views file.`;
    return fitting.length > 0;
  }

  async function loadEvents() {
    const [from, to] = range();
    const span = Math.max(to - from, 24 * 3600e3);
    let events;
    try {
      events = (await api(`/api/v1/events?asset=${encodeURIComponent(assetId)}&from=${iso(to - span)}&to=${iso(to)}&limit=500`)).events;
    } catch (e) {
      clear(eventsBox).append(h('p', { class: 'error' }, `Cannot read events: ${e.message}`));
      return [];
    }
    clear(eventsBox);
    if (events.length === 0) {
      eventsBox.append(h('p', { class: 'muted', id: 'no-events' }, 'No events in the last 24 hours.'));
      return events;
    }
    eventsBox.append(h('table', { class: 'events' },
      h('thead', {}, h('tr', {}, ['Time', 'Kind', 'Signal', 'Value', 'Threshold', 'Message'].map((t) => h('th', {}, t)))),
      h('tbody', {}, events.map((e) => h('tr', { class: e.alert ? 'alert' : null },
        h('td', { title: e.ts }, `${fmtTime(e.ts)} (${ago(e.ts)})`), h('td', {}, e.kind), h('td', {}, e.signal),
        h('td', {}, fmtValue(e.value)), h('td', {}, fmtValue(e.threshold)), h('td', {}, e.message))))));
    return events;
  }

  async function renderActions(events) {
    clear(actions);
    // Only for callers who may record work orders; the server checks the asset's place anyway.
    if (!may(who, 'record_work_order')) return;
    let orders = [];
    try {
      orders = (await api(`/api/v1/workorders?asset=${encodeURIComponent(assetId)}&from=${iso(Date.now() - 7 * 24 * 3600e3)}`)).work_orders;
    } catch {
      orders = [];
    }
    const open = openEpisodes(alertEpisodes(events), orders);
    const episode = h('select', { id: 'wo-alert' }, h('option', { value: '' }, '(no alert)'),
      open.map((ep) => h('option', { value: ep.id, 'data-start': ep.start }, `${ep.kind} on ${ep.signal}, ${fmtTime(ep.start)}`)));
    const outcome = h('select', { id: 'wo-outcome' }, h('option', { value: 'confirmed_fault' }, 'confirmed fault'), h('option', { value: 'false_alarm' }, 'false alarm'));
    const minutes = h('input', { id: 'wo-minutes', type: 'number', min: 0, step: 1, value: 30, size: 5 });
    const note = h('input', { id: 'wo-note', type: 'text', maxlength: 4000, placeholder: 'note (optional)' });
    const result = h('span', { id: 'wo-result', role: 'status' });
    const button = h('button', { type: 'submit', 'data-action': 'record-work-order' }, 'Record work order');
    const form = h('form', { class: 'card', id: 'work-order' }, h('h2', {}, 'Work order'),
      h('label', {}, 'Alert ', episode), ' ', h('label', {}, 'Outcome ', outcome), ' ',
      h('label', {}, 'Minutes ', minutes), ' ', note, ' ', button, ' ', result);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { asset: assetId, outcome: outcome.value, minutes: Number(minutes.value) };
      if (note.value) body.note = note.value;
      if (episode.value) {
        body.alert_id = episode.value;
        body.event_ts = episode.selectedOptions[0].dataset.start;
      } else {
        body.event_ts = iso(Date.now());
      }
      try {
        const wo = await api('/api/v1/workorders', { method: 'POST', body });
        result.textContent = `Recorded ${wo.id}.`;
        renderActions(await loadEvents());
      } catch (e) {
        result.textContent = e instanceof ApiError && e.status === 403 ? `Refused: ${e.message}` : `Failed: ${e.message}`;
      }
    });
    actions.append(form);
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = rangeSel.value === 'custom' ? null : setInterval(() => { if (!document.hidden) drawChart(); }, 15000);
  }

  rangeSel.addEventListener('change', () => {
    custom.hidden = rangeSel.value !== 'custom';
    if (rangeSel.value === 'custom') {
      const [from, to] = [Date.now() - 3600e3, Date.now()];
      const local = (t) => new Date(t - new Date(t).getTimezoneOffset() * 60e3).toISOString().slice(0, 19);
      fromIn.value = local(from);
      toIn.value = local(to);
    }
    schedule();
    drawChart();
    loadEvents();
  });
  for (const el of [fromIn, toIn]) el.addEventListener('change', () => { drawChart(); loadEvents(); });
  viewSel.addEventListener('change', drawChart);
  refresh.addEventListener('click', () => { drawChart(); loadEvents(); });

  (async () => {
    let latest;
    try {
      latest = await api(`/api/v1/latest?asset=${encodeURIComponent(assetId)}`);
    } catch (e) {
      clear(page).append(h('p', { class: 'error' }, `Cannot read ${assetId}: ${e.message}`));
      return;
    }
    const a = latest.assets[0];
    if (!a) {
      place.textContent = 'No values for this asset that you may read in the last 15 minutes.';
    } else {
      place.textContent = `${a.site} / ${a.area} / ${a.line} · ${a.asset_type}`;
      for (const s of a.signals) setLatest(s, false);
    }
    stopLive = subscribeLive([assetId], (body) => {
      for (const x of body.assets) for (const s of x.signals) setLatest(s, !body.full);
    }, (s) => {
      status.textContent = s;
      status.dataset.status = s;
    });
    if (a && (await loadViews(a.asset_type).catch(() => false))) {
      await drawChart();
      schedule();
    }
    renderActions(await loadEvents());
  })();

  return () => {
    gone = true;
    if (stopLive) stopLive();
    if (timer) clearInterval(timer);
    if (chart) chart.destroy();
  };
}

function renderChooser(page) {
  const list = h('ul', { id: 'asset-list', class: 'columns' }, h('li', { class: 'muted' }, 'Loading…'));
  page.append(h('section', {}, h('h1', {}, 'Asset'), h('p', {}, 'Choose an asset:'), list));
  api('/api/v1/latest').then((latest) => {
    clear(list);
    for (const a of latest.assets) {
      list.append(h('li', {}, h('a', { href: `#/asset/${encodeURIComponent(a.asset)}` }, a.asset), ' ', h('span', { class: 'muted' }, `${a.asset_type} · ${a.line}`)));
    }
    if (latest.assets.length === 0) list.append(h('li', { class: 'muted' }, 'No assets with recent values.'));
  }).catch((e) => clear(list).append(h('li', { class: 'error' }, e.message)));
}
