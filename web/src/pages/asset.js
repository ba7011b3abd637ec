// Asset: its latest values (live), a chart of a view's columns over a chosen time range
// (GET /api/v1/views/{name}/query, the views that cover the asset's type), its models'
// predictions over that range with their trust and the monitoring windows' twin residuals
// (GET /api/v1/predictions, /api/v1/monitoring), its events, and, for callers whose grants
// allow it, the action of recording a work order against an open alert.

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
// How many monitoring windows the residuals table lists at first (newest first).
const MONITORING_ROWS = 12;
const LEVEL_STATE = { ok: 'ok', warn: 'bad', alert: 'alert' };
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
  const predictionsBox = h('div', { id: 'predictions', 'data-state': 'loading', 'data-points': '0' },
    h('p', { class: 'muted' }, 'Loading…'));
  const residualsBox = h('div', { id: 'residuals' }, h('p', { class: 'muted' }, 'Loading…'));
  let predCharts = [];
  let predSeq = 0;
  let residualsAll = false; // the reader asked for every window
  const actions = h('div', { id: 'actions', class: 'actions' });
  const place = h('p', { class: 'muted', id: 'place' });
  const status = h('span', { id: 'live-status', class: 'badge', 'data-status': 'connecting' }, 'connecting');

  page.append(h('section', { 'data-asset': assetId },
    h('div', { class: 'title-row' }, h('h1', {}, assetId), status), place,
    h('div', { class: 'card' }, h('h2', {}, 'Latest values'), values),
    h('div', { class: 'card' },
      h('div', { class: 'controls' }, h('label', {}, 'View ', viewSel), h('label', {}, ' Range ', rangeSel), custom, refresh),
      chartBox, chartNote),
    h('div', { class: 'card' }, h('h2', {}, 'Predictions'), predictionsBox,
      h('h3', {}, 'Twin residuals'), residualsBox),
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

  function destroyPredCharts() {
    for (const c of predCharts) c.destroy();
    predCharts = [];
  }

  // One model's predictions over [from, to): the value (points joined), its threshold (dashed,
  // across the whole range; a flagged prediction carries threshold 0, which is no threshold) and
  // the flagged ones in red.
  function predictionChart(box, rows, from, to) {
    const asc = [...rows].reverse();
    const xs = asc.map((r) => Date.parse(r.ts) / 1000);
    const values = asc.map((r) => r.value);
    const thresholds = asc.map((r) => (r.flagged ? null : r.threshold));
    const flagged = asc.map((r) => (r.flagged ? r.value : null));
    const known = thresholds.filter((v) => v !== null);
    if (known.length > 0) {
      // The range's ends carry the first and the last threshold, so that its line spans the chart.
      xs.unshift(Math.min(from / 1000, xs[0]));
      xs.push(Math.max(to / 1000, xs[xs.length - 1]));
      thresholds.unshift(known[0]);
      thresholds.push(known[known.length - 1]);
      for (const a of [values, flagged]) {
        a.unshift(null);
        a.push(null);
      }
    }
    const width = Math.max(320, box.clientWidth || 800);
    predCharts.push(new uPlot({
      width,
      height: 180,
      series: [{},
        { label: 'prediction', stroke: COLORS[0], width: 1.5, spanGaps: true, points: { size: 4 } },
        { label: 'threshold', stroke: '#6b7280', width: 1, dash: [6, 4], spanGaps: true, points: { show: false } },
        { label: 'flagged by the physics guard', stroke: '#dc2626', paths: () => null, points: { show: true, size: 9, fill: '#dc2626' } }],
      axes: [{}, { size: 50 }],
      scales: { x: { time: true, range: () => [from / 1000, to / 1000] } },
      legend: { live: true },
    }, [xs, values, thresholds, flagged], box));
  }

  function trustBadge(w) {
    if (!w) return h('span', { class: 'badge state-stale trust', 'data-trust': '' }, 'trust: not monitored');
    const score = typeof w.score === 'number' ? w.score.toFixed(2) : '—';
    return h('span', {
      class: `badge state-${LEVEL_STATE[w.level] || 'stale'} trust`, 'data-trust': score, 'data-level': w.level,
      title: `monitoring window ending ${fmtTime(w.end)} (${ago(w.end)}), model version ${w.model_version}, action ${w.action}`,
    }, `trust: ${score} (${w.level || '?'})`);
  }

  // "feature_drift current psi 0.31" for the checks at warn or alert, besides the residuals.
  function notableChecks(w) {
    return w.checks.filter((c) => (c.level === 'warn' || c.level === 'alert') && c.check !== 'reliability' &&
      !(c.check === 'thermal_degradation' && (c.statistic === 'residual_mean' || c.statistic === 'residual_slope')))
      .map((c) => `${c.check.replace(/_/g, ' ')}${c.subject ? ` ${c.subject}` : ''}: ${c.statistic} ${fmtValue(c.value)} (${c.level})`);
  }

  function residualCell(w, statistic) {
    const c = w.checks.find((x) => x.check === 'thermal_degradation' && x.statistic === statistic);
    if (!c) return h('td', { class: 'muted' }, '—');
    return h('td', { class: `num${c.level === 'alert' ? ' error' : ''}`, 'data-statistic': statistic, title: `${c.subject}: ${c.level}` }, fmtValue(c.value));
  }

  function renderResiduals(windows, truncated) {
    clear(residualsBox);
    if (windows.length === 0) {
      residualsBox.append(h('p', { class: 'muted', id: 'no-monitoring' },
        'No monitoring windows for this asset in the last 30 days (weft model monitor … --append writes them).'));
      return;
    }
    const shown = residualsAll ? windows : windows.slice(0, MONITORING_ROWS);
    residualsBox.append(h('table', { class: 'events', id: 'monitoring', 'data-windows': windows.length, 'data-shown': shown.length },
      h('thead', {}, h('tr', {}, ['Window', 'Model', 'Trust', 'Level', 'Action', 'Residual mean', 'Residual slope', 'Checks at warn or alert']
        .map((t) => h('th', { title: t.startsWith('Residual') ? 'measured − twin-predicted, per window (slope: per window, over the last windows)' : null }, t)))),
      h('tbody', {}, shown.map((w) => h('tr', { class: w.level === 'alert' ? 'alert' : null, 'data-model': w.model, 'data-level': w.level, 'data-end': w.end },
        h('td', { title: w.end }, w.start ? `${fmtTime(w.start)} – ${fmtTime(w.end)}` : `ending ${fmtTime(w.end)}`),
        h('td', {}, `${w.model} v${w.model_version}`),
        h('td', {}, typeof w.score === 'number' ? w.score.toFixed(2) : '—'),
        h('td', {}, h('span', { class: `badge state-${LEVEL_STATE[w.level] || 'stale'}` }, w.level || '?')),
        h('td', {}, w.action.replace(/_/g, ' ')),
        residualCell(w, 'residual_mean'), residualCell(w, 'residual_slope'),
        h('td', {}, notableChecks(w).join('; ') || h('span', { class: 'muted' }, 'none')))))));
    if (windows.length > shown.length || truncated) {
      const more = windows.length > shown.length
        ? h('button', { type: 'button', id: 'monitoring-all', onclick: () => { residualsAll = true; renderResiduals(windows, truncated); } },
          `Show all ${windows.length}`)
        : null;
      residualsBox.append(h('p', { class: 'muted' },
        `The newest ${shown.length} of ${truncated ? 'more than ' : ''}${windows.length} windows in the last 30 days. `, more));
    }
  }

  async function loadPredictions() {
    const seq = ++predSeq;
    const [from, to] = range();
    const a = encodeURIComponent(assetId);
    let preds;
    let mon;
    try {
      [preds, mon] = await Promise.all([
        api(`/api/v1/predictions?asset=${a}&from=${iso(from)}&to=${iso(to)}&limit=5000`),
        api(`/api/v1/monitoring?asset=${a}&limit=500`),
      ]);
    } catch (e) {
      if (gone || seq !== predSeq) return;
      predictionsBox.dataset.state = 'error';
      clear(predictionsBox).append(h('p', { class: 'error' }, `Cannot read predictions: ${e.message}`));
      clear(residualsBox);
      return;
    }
    if (gone || seq !== predSeq) return;
    destroyPredCharts();
    clear(predictionsBox);
    const byModel = new Map();
    for (const p of preds.predictions) {
      if (!byModel.has(p.model)) byModel.set(p.model, []);
      byModel.get(p.model).push(p);
    }
    const newestWindow = new Map();
    for (const w of mon.windows) if (!newestWindow.has(w.model)) newestWindow.set(w.model, w);
    const flaggedTotal = preds.predictions.filter((p) => p.flagged).length;
    Object.assign(predictionsBox.dataset, {
      state: 'ready', points: String(preds.predictions.length), flagged: String(flaggedTotal),
      models: [...byModel.keys()].join(','), from: iso(from), to: iso(to),
    });
    const span = `between ${fmtTime(iso(from))} and ${fmtTime(iso(to))}`;
    if (byModel.size === 0) {
      predictionsBox.append(h('p', { class: 'muted empty', id: 'no-predictions' }, `No predictions for this asset in the range (${span}).`));
    }
    // Models with predictions in the range, then models only monitored.
    const models = [...byModel.keys(), ...[...newestWindow.keys()].filter((m) => !byModel.has(m))];
    for (const model of models) {
      const rows = byModel.get(model) || [];
      const latest = rows[0];
      const flagged = rows.filter((r) => r.flagged).length;
      const block = h('div', { class: 'prediction-model', 'data-model': model, 'data-points': rows.length, 'data-flagged': flagged });
      const head = h('div', { class: 'title-row' },
        h('h3', {}, latest ? `${model} v${latest.model_version}` : model),
        latest
          ? h('span', { class: 'latest', 'data-value': latest.value, title: latest.message },
            `latest ${fmtValue(latest.value)} at ${fmtTime(latest.ts)} (${ago(latest.ts)})`, latest.flagged ? ' · flagged' : '')
          : null,
        trustBadge(newestWindow.get(model)));
      block.append(head);
      if (rows.length === 0) {
        block.append(h('p', { class: 'muted empty' }, `No predictions of ${model} for this asset in the range.`));
      } else {
        const note = `${rows.length} prediction${rows.length > 1 ? 's' : ''}${preds.truncated ? ' (the newest 5000)' : ''}` +
          (flagged ? `, ${flagged} flagged by the physics guard (red)` : ', none flagged by the physics guard') +
          `; threshold ${fmtValue(rows.find((r) => !r.flagged)?.threshold ?? null)}.`;
        const chartEl = h('div', { class: 'prediction-chart' });
        block.append(chartEl, h('p', { class: 'muted' }, note));
        predictionsBox.append(block);
        predictionChart(chartEl, rows, from, to);
        continue;
      }
      predictionsBox.append(block);
    }
    renderResiduals(mon.windows, mon.truncated);
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
    timer = rangeSel.value === 'custom' ? null : setInterval(() => {
      if (document.hidden) return;
      drawChart();
      loadPredictions();
    }, 15000);
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
    loadPredictions();
    loadEvents();
  });
  for (const el of [fromIn, toIn]) el.addEventListener('change', () => { drawChart(); loadPredictions(); loadEvents(); });
  viewSel.addEventListener('change', drawChart);
  refresh.addEventListener('click', () => { drawChart(); loadPredictions(); loadEvents(); });

  loadPredictions();
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
    destroyPredCharts();
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
