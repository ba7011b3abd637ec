// Value: what the plant's use cases bring, from the `kpi` table (GET /api/v1/kpi; names, units
// and scopes in src/core/kpi/README.md) and the roadmap (GET /api/v1/roadmap?quarter=):
//   - OEE per line and shift with availability, performance, quality and the loss breakdown,
//     and OEE per shift instance over time;
//   - technician time saved per alert (confirmed faults, false alarms);
//   - energy and carbon saved by the HVAC optimisation against its ASHRAE G14 baseline, with
//     CV(RMSE) and the verdict, and the optimised days' baseline vs actual energy;
//   - actual vs projected per use case (the KPI, and the value realised vs projected, cumulated);
//   - the roadmap of a quarter (default: the next one): rank, decision, confidence and its
//     reasons, measured vs promised.
// Rows come filtered by the caller's grants (a viewer of one site sees that site's rows); the
// page only reads.

import uPlot from 'uplot';
import { api, ApiError } from '../api.js';
import { clear, fmtTime, fmtValue, h } from '../dom.js';
import './fleet_value_data.css';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
// KPIs that exist only over a whole computation period (never per day or shift instance): the
// periods the page offers are theirs (and OEE's rows without a shift).
const PERIOD_KPIS = new Set(['technician_alerts', 'hvac_optimised_days']);
const LOSSES = [
  ['loss_jam_s', 'jams', '#dc2626'],
  ['loss_electrical_s', 'electrical', '#ea580c'],
  ['loss_material_s', 'material shortage', '#ca8a04'],
  ['loss_other_down_s', 'other down', '#9ca3af'],
  ['loss_performance_s', 'speed', '#9333ea'],
  ['loss_quality_s', 'rejects', '#0891b2'],
];
const DECISION_STATE = { scale: 'ok', fix: 'bad', measure: 'stale', stop: 'alert' };
const DAY_US = 86400e3;
// The x axis of daily charts: one label per day, week or fortnight, as the width allows.
const DAY_AXIS = {
  space: 45,
  incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400],
  values: (u, splits) => splits.map((t) => new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })),
};

export function render(page, who, args, params) {
  const asked = params.get('quarter');
  const quarter = asked && /^\d{4}Q[1-4]$/.test(asked) ? asked : nextQuarter(new Date());
  const quarters = quarterOptions();
  if (!quarters.includes(quarter)) quarters.push(quarter);
  const quarterSel = h('select', { id: 'quarter' }, quarters.sort().map((q) => h('option', { value: q }, q)));
  quarterSel.value = quarter;
  const periodSel = h('select', { id: 'kpi-period' });
  const periodNote = h('span', { class: 'muted', id: 'kpi-period-note' });
  const oeeBox = h('div', { id: 'oee', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const techBox = h('div', { id: 'technician', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const hvacBox = h('div', { id: 'hvac', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const projBox = h('div', { id: 'projection', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const roadmapBox = h('div', { id: 'roadmap', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));

  page.append(h('section', { class: 'fvd' },
    h('div', { class: 'title-row' }, h('h1', {}, 'Value'),
      h('label', { class: 'muted' }, 'KPI period ', periodSel), periodNote),
    h('div', { class: 'card' }, h('h2', {}, 'OEE per line and shift'), oeeBox),
    h('div', { class: 'card' }, h('h2', {}, 'Technician time saved'), techBox),
    h('div', { class: 'card' }, h('h2', {}, 'HVAC optimisation: energy and carbon saved'), hvacBox),
    h('div', { class: 'card' }, h('h2', {}, 'Actual vs projected per use case'), projBox),
    h('div', { class: 'card' },
      h('div', { class: 'title-row' }, h('h2', {}, 'Roadmap'), h('label', {}, 'Quarter ', quarterSel)),
      roadmapBox)));

  let gone = false;
  let charts = [];
  let rows = [];
  let currency = '';

  function destroyCharts() {
    for (const c of charts) c.destroy();
    charts = [];
  }

  function refusal(box, e, what) {
    box.dataset.state = e instanceof ApiError && e.status === 403 ? 'forbidden' : 'error';
    clear(box).append(e instanceof ApiError && e.status === 403
      ? h('p', { class: 'notice', 'data-forbidden': what }, `You may not see ${what}: your grants do not include read_telemetry.`)
      : h('p', { class: 'error' }, `Cannot read ${what}: ${e.message}`));
  }

  // --- periods -------------------------------------------------------------------------------
  function periods() {
    const seen = new Map();
    for (const r of rows) {
      if (!(PERIOD_KPIS.has(r.kpi) || (r.kpi === 'oee' && r.shift === null))) continue;
      const key = `${r.period_start}|${r.period_end}`;
      if (!seen.has(key)) seen.set(key, { start: r.period_start, end: r.period_end, computed: r.computed_ts });
    }
    return [...seen.values()].sort((a, b) => b.end.localeCompare(a.end) || a.start.localeCompare(b.start));
  }

  function inPeriod(r, p) {
    return r.period_start === p.start && r.period_end === p.end;
  }

  function within(r, p) {
    return r.period_start >= p.start && r.period_end <= p.end && Date.parse(r.period_end) - Date.parse(r.period_start) <= DAY_US;
  }

  function renderKpis() {
    destroyCharts();
    const list = periods();
    const p = list.find((x) => `${x.start}|${x.end}` === periodSel.value) || list[0];
    if (!p) {
      for (const box of [oeeBox, techBox, hvacBox, projBox]) {
        box.dataset.state = 'empty';
        clear(box).append(h('p', { class: 'muted empty' }, 'No KPIs you may read yet: they are computed from the lake by `weft kpi compute` (or weft-core\'s KPI job).'));
      }
      periodNote.textContent = '';
      return;
    }
    periodNote.textContent = `computed ${fmtTime(p.computed)}`;
    renderOee(p);
    renderTechnician(p);
    renderHvac(p);
    renderProjection(p);
  }

  // --- OEE -----------------------------------------------------------------------------------
  function renderOee(p) {
    clear(oeeBox);
    const lines = new Map(); // line -> {site, area, all: {kpi: value}, shifts: Map(shift -> {kpi: value})}
    for (const r of rows) {
      if (!r.line || !inPeriod(r, p) || !(r.kpi === 'oee' || r.kpi === 'availability' || r.kpi === 'performance' || r.kpi === 'quality' ||
        r.kpi === 'planned_s' || r.kpi === 'run_s' || r.kpi.startsWith('loss_') || r.kpi === 'good_count' || r.kpi === 'reject_count')) continue;
      if (!lines.has(r.line)) lines.set(r.line, { site: r.site, area: r.area, all: {}, shifts: new Map() });
      const l = lines.get(r.line);
      const target = r.shift === null ? l.all : (l.shifts.get(r.shift) || l.shifts.set(r.shift, {}).get(r.shift));
      target[r.kpi] = r.value;
      if (r.kpi === 'oee') target.coverage = r.coverage;
    }
    const withOee = [...lines].filter(([, l]) => l.all.oee !== undefined).sort(([a], [b]) => a.localeCompare(b));
    oeeBox.dataset.state = 'ready';
    oeeBox.dataset.lines = String(withOee.length);
    if (withOee.length === 0) {
      oeeBox.append(h('p', { class: 'muted empty' }, 'No OEE in this period for the lines you may read (only lines with `production` in plant.yaml have one).'));
      return;
    }
    const header = h('tr', {}, ['Line', 'Shift', 'OEE', 'Availability', 'Performance', 'Quality', 'Planned', 'Good', 'Rejects', 'Where the planned time went'].map((t) => h('th', {}, t)));
    const body = h('tbody', {});
    for (const [line, l] of withOee) {
      body.append(oeeRow(line, l, null, l.all, true));
      for (const [shift, v] of [...l.shifts].sort(([a], [b]) => a.localeCompare(b))) body.append(oeeRow(line, l, shift, v, false));
    }
    oeeBox.append(h('table', { class: 'grid', id: 'oee-table' }, h('thead', {}, header), body),
      h('p', { class: 'legend' }, h('span', { class: 'swatch good' }), ' good parts at ideal speed ',
        LOSSES.map(([, label, color]) => [swatch(color), ` ${label} `])),
      h('p', { class: 'muted' }, 'OEE = availability × performance × quality over planned time (shift time less planned stops, idle and no data); lines combined over the period from the sums, not averaged.'));
    oeeTrend(p, withOee.map(([line]) => line));
  }

  function oeeRow(line, l, shift, v, first) {
    const planned = v.planned_s;
    const bar = h('div', { class: 'loss-bar' });
    if (planned > 0) {
      let lost = 0;
      for (const [k] of LOSSES) lost += Math.max(0, v[k] || 0);
      const good = h('span', { class: 'good', title: `good parts at ideal speed: ${fmtHours(planned - lost)}` });
      good.style.width = `${Math.max(0, (100 * (planned - lost)) / planned)}%`;
      bar.append(good);
      for (const [k, label, color] of LOSSES) {
        const s = Math.max(0, v[k] || 0);
        if (!s) continue;
        const seg = h('span', { title: `${label}: ${fmtHours(s)} (${fmtPct(s / planned)})`, 'data-loss': k });
        seg.style.width = `${(100 * s) / planned}%`;
        seg.style.background = color;
        bar.append(seg);
      }
    }
    return h('tr', { class: first ? 'line-row' : 'shift-row', 'data-line': line, 'data-shift': shift || '', 'data-oee': v.oee ?? '' },
      h('td', {}, first ? h('strong', {}, line) : '', first ? h('div', { class: 'muted small' }, `${l.site} / ${l.area}`) : null),
      h('td', {}, shift || 'all shifts'),
      h('td', { class: 'num strong' }, fmtPct(v.oee)),
      h('td', { class: 'num' }, fmtPct(v.availability)),
      h('td', { class: 'num' }, fmtPct(v.performance)),
      h('td', { class: 'num' }, fmtPct(v.quality)),
      h('td', { class: 'num' }, fmtHours(planned)),
      h('td', { class: 'num' }, fmtCount(v.good_count)),
      h('td', { class: 'num' }, fmtCount(v.reject_count)),
      h('td', { class: 'bar-cell wide' }, bar, h('div', { class: 'muted small' }, biggestLosses(v))));
  }

  // "lost 9.8%: jams 4.1%, rejects 2.1%, electrical 1.3%" (losses of at least 0.5% of planned).
  function biggestLosses(v) {
    if (!(v.planned_s > 0)) return '';
    const losses = LOSSES.map(([k, label]) => [label, Math.max(0, v[k] || 0) / v.planned_s]).filter(([, f]) => f > 0);
    const total = losses.reduce((a, [, f]) => a + f, 0);
    const big = losses.filter(([, f]) => f >= 0.005).sort((a, b) => b[1] - a[1]);
    return `lost ${fmtPct(total)}${big.length ? `: ${big.map(([label, f]) => `${label} ${fmtPct(f)}`).join(', ')}` : ''}`;
  }

  // OEE per shift instance, one series per line.
  function oeeTrend(p, lines) {
    const byLine = new Map(lines.map((l) => [l, new Map()]));
    for (const r of rows) {
      if (r.kpi !== 'oee' || r.shift === null || !byLine.has(r.line) || !within(r, p) || r.value === null) continue;
      byLine.get(r.line).set(Date.parse(r.period_start) / 1000, r.value * 100);
    }
    const instants = new Set([...byLine.values()].flatMap((m) => [...m.keys()]));
    if (instants.size < 2) return;
    const box = h('div', { class: 'chart small-chart', id: 'oee-chart', 'data-points': String(instants.size) });
    oeeBox.append(h('h3', {}, 'OEE per shift instance (%)'), box);
    charts.push(new uPlot({
      width: chartWidth(box, oeeBox),
      height: 220,
      series: [{}, ...lines.map((l, i) => ({ label: l, stroke: COLORS[i % COLORS.length], width: 1.2, points: { size: 3 } }))],
      axes: [{}, { size: 45, label: '%' }],
      scales: { x: { time: true }, y: { range: [0, 100] } },
      legend: { live: true },
    }, gapped(lines.map((l) => byLine.get(l)), 26 * 3600), box));
  }

  // --- technician ----------------------------------------------------------------------------
  function renderTechnician(p) {
    clear(techBox);
    const scopes = new Map(); // key -> {use_case, asset, values}
    for (const r of rows) {
      if (!r.kpi.startsWith('technician_') || !inPeriod(r, p)) continue;
      const key = `${r.use_case || ''}|${r.asset || ''}`;
      if (!scopes.has(key)) scopes.set(key, { use_case: r.use_case, asset: r.asset, v: {} });
      scopes.get(key).v[r.kpi.slice('technician_'.length)] = r.value;
      if (r.kpi === 'technician_value' && r.unit) currency = currency || r.unit;
    }
    techBox.dataset.state = 'ready';
    techBox.dataset.scopes = String(scopes.size);
    if (scopes.size === 0) {
      techBox.append(h('p', { class: 'muted empty' }, 'No technician figures in this period that you may read (alerts of predictive-maintenance use cases, linked to work orders).'));
      return;
    }
    const ordered = [...scopes.values()].sort((a, b) =>
      (a.use_case ? 1 : 0) - (b.use_case ? 1 : 0) || String(a.use_case).localeCompare(String(b.use_case)) ||
      (a.asset ? 1 : 0) - (b.asset ? 1 : 0) || String(a.asset).localeCompare(String(b.asset)));
    const total = ordered.find((s) => !s.use_case && !s.asset);
    if (total) {
      techBox.append(h('div', { class: 'big-figure', id: 'minutes-per-alert', 'data-value': total.v.minutes_saved_per_alert ?? '' },
        h('span', { class: 'figure' }, `${fmtValue(total.v.minutes_saved_per_alert)} min`),
        h('span', { class: 'muted' }, ` saved per alert: ${fmtValue(total.v.minutes_saved)} min over ${fmtCount(total.v.alerts)} alerts ` +
          `(${fmtCount(total.v.confirmed)} confirmed faults, ${fmtCount(total.v.false_alarms)} false alarms, ${fmtCount(total.v.unanswered)} unanswered), ` +
          `worth ${fmtMoney(total.v.value, currency)}`)));
    }
    techBox.append(h('table', { class: 'grid', id: 'technician-table' },
      h('thead', {}, h('tr', {}, ['Scope', 'Alerts', 'Confirmed', 'False alarms', 'Unanswered', 'Minutes saved', 'Per alert', 'Value'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ordered.map((s) => h('tr', { class: s.asset ? 'shift-row' : 'line-row', 'data-use-case': s.use_case || '', 'data-asset': s.asset || '' },
        h('td', {}, s.asset ? `  ${s.asset}` : s.use_case ? h('strong', {}, s.use_case) : h('strong', {}, 'all use cases')),
        h('td', { class: 'num' }, fmtCount(s.v.alerts)),
        h('td', { class: 'num' }, fmtCount(s.v.confirmed)),
        h('td', { class: 'num' }, fmtCount(s.v.false_alarms)),
        h('td', { class: 'num' }, fmtCount(s.v.unanswered)),
        h('td', { class: 'num' }, fmtValue(s.v.minutes_saved)),
        h('td', { class: 'num strong' }, s.v.minutes_saved_per_alert === undefined ? '—' : `${fmtValue(s.v.minutes_saved_per_alert)} min`),
        h('td', { class: 'num' }, fmtMoney(s.v.value, currency)))))),
    h('p', { class: 'muted' }, 'Minutes saved = Σ confirmed faults (reactive repair time − minutes spent) − Σ false-alarm minutes; per alert = saved / alerts.'));
  }

  // --- HVAC ----------------------------------------------------------------------------------
  function renderHvac(p) {
    clear(hvacBox);
    const scopes = new Map();
    for (const r of rows) {
      if (!r.kpi.startsWith('hvac_') || !inPeriod(r, p)) continue;
      const level = r.use_case ? 'use case' : r.asset ? 'zone' : 'site';
      const name = r.use_case || r.asset || r.site;
      const key = `${level}|${name}`;
      if (!scopes.has(key)) scopes.set(key, { level, name, site: r.site, v: {}, fit: null, detail: null });
      const s = scopes.get(key);
      s.v[r.kpi] = r.value;
      if (r.kpi === 'hvac_savings_value' && r.unit) currency = currency || r.unit;
      if (r.kpi === 'hvac_baseline_cv_rmse') s.detail = r.detail;
    }
    hvacBox.dataset.state = 'ready';
    hvacBox.dataset.scopes = String(scopes.size);
    if (scopes.size === 0) {
      hvacBox.append(h('p', { class: 'muted empty' }, 'No HVAC savings in this period that you may read.'));
      return;
    }
    const rank = { 'use case': 0, site: 1, zone: 2 };
    const ordered = [...scopes.values()].sort((a, b) => rank[a.level] - rank[b.level] || a.name.localeCompare(b.name));
    const head = ordered[0];
    const hv = head.v;
    hvacBox.append(h('div', { class: 'big-figure', id: 'hvac-saved', 'data-kwh': hv.hvac_energy_saved_kwh ?? '', 'data-kg': hv.hvac_carbon_saved_kg ?? '' },
      h('span', { class: 'figure' }, `${fmtValue(hv.hvac_energy_saved_kwh)} kWh`),
      h('span', { class: 'muted' }, ` saved (${head.level} ${head.name}) over ${fmtCount(hv.hvac_optimised_days)} optimised days: `),
      h('span', { class: 'figure small' }, `${fmtValue(hv.hvac_carbon_saved_kg)} kg CO₂e`),
      h('span', { class: 'muted' }, `, worth ${fmtMoney(hv.hvac_savings_value, currency)}`)));
    hvacBox.append(h('table', { class: 'grid', id: 'hvac-table' },
      h('thead', {}, h('tr', {}, ['Scope', 'Saved', 'Carbon', 'Baseline', 'Actual', 'Saving', 'Value', 'Optimised days', 'CV(RMSE)', 'G14', 'Fit'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ordered.map((s) => {
        const fit = s.detail && s.detail.fit ? s.detail.fit : null;
        const verdict = fit ? (fit.meets_criteria ? 'meets' : 'misses') : 'no fit';
        const base = s.v.hvac_baseline_kwh;
        return h('tr', { class: s.level === 'zone' ? 'shift-row' : 'line-row', 'data-scope': `${s.level}:${s.name}`, 'data-g14': verdict, 'data-cv-rmse': s.v.hvac_baseline_cv_rmse ?? '' },
          h('td', {}, h('span', { class: 'muted small' }, `${s.level} `), s.level === 'zone' ? s.name : h('strong', {}, s.name)),
          h('td', { class: 'num strong' }, `${fmtValue(s.v.hvac_energy_saved_kwh)} kWh`),
          h('td', { class: 'num' }, `${fmtValue(s.v.hvac_carbon_saved_kg)} kg`),
          h('td', { class: 'num' }, `${fmtValue(base)} kWh`),
          h('td', { class: 'num' }, `${fmtValue(s.v.hvac_actual_kwh)} kWh`),
          h('td', { class: 'num' }, base ? fmtPct(s.v.hvac_energy_saved_kwh / base) : '—'),
          h('td', { class: 'num' }, fmtMoney(s.v.hvac_savings_value, currency)),
          h('td', { class: 'num' }, fmtCount(s.v.hvac_optimised_days)),
          h('td', { class: 'num' }, s.v.hvac_baseline_cv_rmse === null || s.v.hvac_baseline_cv_rmse === undefined ? '—' : `${s.v.hvac_baseline_cv_rmse.toFixed(1)}%`),
          h('td', {}, h('span', { class: `badge state-${fit ? (fit.meets_criteria ? 'ok' : 'alert') : 'stale'}`, title: fit ? fit.criteria : (s.detail && s.detail.error) || '' }, verdict)),
          h('td', { class: 'muted small' }, fit
            ? `NMBE ${fit.nmbe_pct.toFixed(1)}%, R² ${fit.r2.toFixed(3)}, n ${fit.n}${s.detail.fractional_savings_uncertainty !== undefined ? `, savings ±${fmtPct(s.detail.fractional_savings_uncertainty)}` : ''}`
            : (s.detail && (s.detail.error || s.detail.reason)) || ''));
      }))),
    h('p', { class: 'muted' }, 'Savings against a baseline model fitted on the days the optimiser did not run (daily heat-pump energy on heating degree days, and occupancy where every zone has it); ASHRAE Guideline 14 asks CV(RMSE) ≤ 30% and |NMBE| ≤ 10% for such data.'));
    hvacDays(p, head);
  }

  // The optimised days of the first scope: baseline model vs actual energy.
  function hvacDays(p, scope) {
    const base = new Map();
    const actual = new Map();
    for (const r of rows) {
      if ((r.kpi !== 'hvac_baseline_kwh' && r.kpi !== 'hvac_actual_kwh') || !within(r, p) || r.value === null) continue;
      const name = scope.level === 'use case' ? r.use_case : scope.level === 'zone' ? r.asset : (!r.use_case && !r.asset ? r.site : null);
      if (name !== scope.name) continue;
      (r.kpi === 'hvac_baseline_kwh' ? base : actual).set(Date.parse(r.period_start) / 1000, r.value);
    }
    const xs = [...new Set([...base.keys(), ...actual.keys()])].sort((a, b) => a - b);
    if (xs.length === 0) return;
    const box = h('div', { class: 'chart small-chart', id: 'hvac-chart', 'data-points': String(xs.length) });
    hvacBox.append(h('h3', {}, `Optimised days of ${scope.name}: baseline model vs actual heat-pump energy (kWh/day)`), box);
    charts.push(new uPlot({
      width: chartWidth(box, hvacBox),
      height: 200,
      series: [{},
        { label: 'baseline (model)', stroke: '#6b7280', width: 1.5, dash: [6, 4], points: { size: 5 } },
        { label: 'actual', stroke: '#16a34a', width: 2, points: { size: 5 } }],
      axes: [DAY_AXIS, { size: 50, values: compactValues }],
      scales: { x: { time: true } },
      legend: { live: true },
    }, [xs, xs.map((x) => base.get(x) ?? null), xs.map((x) => actual.get(x) ?? null)], box));
  }

  // --- actual vs projected -------------------------------------------------------------------
  function renderProjection(p) {
    clear(projBox);
    const cases = new Map(); // use case -> {unit, days: Map(ts -> {kpi_actual, ...}), basis}
    for (const r of rows) {
      if (!r.use_case || !['kpi_actual', 'kpi_projected', 'value_realised', 'value_projected'].includes(r.kpi) || !within(r, p)) continue;
      if (!cases.has(r.use_case)) cases.set(r.use_case, { unit: null, kpi: null, money: null, days: new Map(), reason: null });
      const c = cases.get(r.use_case);
      const t = Date.parse(r.period_start) / 1000;
      if (!c.days.has(t)) c.days.set(t, {});
      const d = c.days.get(t);
      d[r.kpi] = r.value;
      if (r.kpi === 'kpi_actual') {
        c.unit = r.unit;
        if (r.detail && typeof r.detail === 'object') {
          c.kpi = r.detail.kpi || c.kpi;
          d.basis = r.detail.basis;
          if (r.detail.measured_baseline !== undefined) d.measured_baseline = r.detail.measured_baseline;
          if (r.detail.not_measured) c.reason = r.detail.not_measured;
        }
      }
      if (r.kpi === 'value_realised' && r.unit) c.money = r.unit;
    }
    projBox.dataset.state = 'ready';
    projBox.dataset.useCases = String(cases.size);
    if (cases.size === 0) {
      projBox.append(h('p', { class: 'muted empty' }, 'No daily actual-vs-projected rows in this period that you may read.'));
      return;
    }
    const grid = h('div', { class: 'projection-grid' });
    projBox.append(grid, h('p', { class: 'muted' },
      'Left: the KPI measured on the use case\'s assets per day against plant.yaml\'s projection (a ramp from the baseline to the target over 90 days from go-live); ' +
      'where a measured baseline judges the day (the HVAC model, or the KPI before go-live), it is drawn too. Right: the value realised and projected, cumulated over the days. ' +
      'Click a legend entry to hide a series.'));
    for (const [id, c] of [...cases].sort(([a], [b]) => a.localeCompare(b))) {
      const xs = [...c.days.keys()].sort((a, b) => a - b);
      const get = (k) => xs.map((x) => (c.days.get(x)[k] ?? null));
      const cum = (k) => {
        let s = 0;
        let any = false;
        return xs.map((x) => {
          const v = c.days.get(x)[k];
          if (v === null || v === undefined) return any ? s : null;
          any = true;
          s += v;
          return s;
        });
      };
      const realised = cum('value_realised');
      const projected = cum('value_projected');
      const lastReal = [...realised].reverse().find((v) => v !== null);
      const lastProj = [...projected].reverse().find((v) => v !== null);
      const baselineDays = xs.filter((x) => c.days.get(x).basis === 'baseline_period').length;
      const kpiBox = h('div', { class: 'chart tiny-chart', 'data-series': 'kpi' });
      const valueBox = h('div', { class: 'chart tiny-chart', 'data-series': 'value' });
      const measured = xs.some((x) => c.days.get(x).kpi_actual !== null && c.days.get(x).kpi_actual !== undefined);
      const card = h('article', { class: 'projection', 'data-use-case': id, 'data-days': String(xs.length), 'data-measured': String(measured) },
        h('header', {}, h('strong', {}, id), ' ', h('span', { class: 'muted' }, `${c.kpi || 'KPI'} [${c.unit || '?'}] · ${xs.length} days${baselineDays ? `, ${baselineDays} baseline days` : ''}`)),
        h('p', { class: 'small' }, c.reason ? h('span', { class: 'muted' }, `Not measured: ${c.reason}`)
          : [`Value to date: realised ${fmtMoney(lastReal, c.money)} vs projected ${fmtMoney(lastProj, c.money)}`,
            lastProj ? ` (${fmtPct(lastReal / lastProj)})` : '']),
        measured ? h('div', { class: 'pair' }, kpiBox, valueBox) : null);
      grid.append(card);
      if (!measured) continue;
      const hasBaseline = xs.some((x) => c.days.get(x).measured_baseline !== undefined);
      const kpiSeries = [{}, { label: 'actual', stroke: COLORS[0], width: 1.5, spanGaps: false, points: { size: 4 } },
        { label: 'projected', stroke: '#6b7280', width: 1.2, dash: [6, 4], points: { show: false } }];
      const kpiData = [xs, get('kpi_actual'), get('kpi_projected')];
      if (hasBaseline) {
        kpiSeries.push({ label: 'measured baseline', stroke: '#ea580c', width: 1, paths: () => null, points: { show: true, size: 5, fill: '#ea580c' } });
        kpiData.push(get('measured_baseline'));
      }
      charts.push(new uPlot({
        width: chartWidth(kpiBox, card, 2),
        height: 180,
        series: kpiSeries,
        axes: [DAY_AXIS, { size: 55, values: compactValues }],
        scales: { x: { time: true } },
        legend: { live: false },
      }, kpiData, kpiBox));
      charts.push(new uPlot({
        width: chartWidth(valueBox, card, 2),
        height: 180,
        series: [{}, { label: `realised (${c.money || ''})`, stroke: COLORS[2], width: 2, spanGaps: true, points: { show: false } },
          { label: 'projected', stroke: '#6b7280', width: 1.2, dash: [6, 4], points: { show: false } }],
        axes: [DAY_AXIS, { size: 60, values: compactValues }],
        scales: { x: { time: true } },
        legend: { live: false },
      }, [xs, realised, projected], valueBox));
    }
  }

  // --- roadmap -------------------------------------------------------------------------------
  let roadmapSeq = 0;
  async function loadRoadmap() {
    const seq = ++roadmapSeq;
    const quarter = quarterSel.value;
    roadmapBox.dataset.state = 'loading';
    let r;
    try {
      r = await api(`/api/v1/roadmap?quarter=${encodeURIComponent(quarter)}`);
    } catch (e) {
      if (gone || seq !== roadmapSeq) return;
      if (e instanceof ApiError && e.status === 503) {
        roadmapBox.dataset.state = 'unavailable';
        clear(roadmapBox).append(h('p', { class: 'notice' }, `No roadmap: ${e.message}`));
        return;
      }
      refusal(roadmapBox, e, 'the roadmap');
      return;
    }
    if (gone || seq !== roadmapSeq) return;
    const cur = r.currency || currency;
    clear(roadmapBox);
    roadmapBox.dataset.state = 'ready';
    roadmapBox.dataset.quarter = r.quarter;
    roadmapBox.dataset.entries = String(r.use_cases.length);
    roadmapBox.append(h('p', { class: 'muted' }, `${r.quarter}: ${fmtTime(r.from)} – ${fmtTime(r.to)}. Evidence: every KPI period that starts before the quarter ends. ` +
      `Scale at attainment ≥ ${fmtPct(r.rules.scale_attainment)} with medium or high confidence; stop below ${fmtPct(r.rules.stop_attainment)}; measure while the evidence is thin or implausible.`));
    if (r.use_cases.length === 0) {
      roadmapBox.append(h('p', { class: 'muted empty' }, 'No use case you may read in this roadmap.'));
    } else {
      roadmapBox.append(h('table', { class: 'grid roadmap', id: 'roadmap-table' },
        h('thead', {}, h('tr', {}, ['#', 'Use case', 'Decision', 'Confidence', 'KPI: measured vs promised', 'Value per year: realised vs projected', 'Net, payback, ROI'].map((t) => h('th', {}, t)))),
        h('tbody', {}, r.use_cases.map((u) => roadmapRow(u, cur)))));
    }
    if (r.warnings && r.warnings.length) {
      roadmapBox.append(h('ul', { class: 'warnings' }, r.warnings.map((w) => h('li', {}, w))));
    }
  }

  function roadmapRow(u, cur) {
    const conf = { high: 'ok', medium: 'bad', low: 'stale' }[u.confidence] || 'stale';
    const improvement = u.measured_improvement !== null && u.measured_improvement !== undefined
      ? h('div', { class: 'small' }, `improvement ${fmtPct(u.measured_improvement)} measured vs ${fmtPct(u.projected_improvement)} promised`) : null;
    return h('tr', { 'data-use-case': u.id, 'data-decision': u.decision, 'data-confidence': u.confidence, 'data-rank': u.rank },
      h('td', { class: 'num strong' }, u.rank),
      h('td', {}, h('strong', {}, u.name), h('div', { class: 'muted small' }, `${u.id} · ${u.category.replace(/_/g, ' ')}${u.live ? '' : ' · not live'}`)),
      h('td', {}, h('span', { class: `badge roadmap-decision state-${DECISION_STATE[u.decision] || 'stale'}` }, u.decision)),
      h('td', {},
        h('span', { class: `badge state-${conf}` }, `${u.confidence} ${fmtValue(u.confidence_score)}`),
        h('details', { class: 'reasons' }, h('summary', {}, `${u.reasons.length} reasons`),
          h('ul', {}, u.reasons.map((t) => h('li', {}, t))))),
      h('td', {},
        u.kpi ? h('div', {}, `${u.kpi}: `, h('strong', {}, `${fmtValue(u.kpi_measured)} ${u.kpi_unit || ''}`),
          ` vs baseline ${fmtValue(u.kpi_baseline)}`, u.measured_baseline !== null && u.measured_baseline !== undefined ? ` (measured baseline ${fmtValue(u.measured_baseline)})` : '') : '—',
        improvement,
        h('div', { class: 'muted small' }, `${fmtValue(u.days_of_data)} days of data, coverage ${fmtPct(u.coverage)}${u.basis ? `, judged on ${u.basis.replace(/_/g, ' ')}` : ''}` +
          `${u.baseline_cv_rmse_pct !== null && u.baseline_cv_rmse_pct !== undefined ? `, baseline CV(RMSE) ${u.baseline_cv_rmse_pct}%` : ''}${u.implausible ? ', implausible' : ''}`)),
      h('td', {},
        h('strong', {}, fmtMoney(u.realised_annual_value, cur)), ` vs ${fmtMoney(u.projected_annual_value, cur)}`,
        h('div', { class: 'muted small' }, `attainment ${fmtPct(u.attainment)}; plan ${fmtMoney(u.plan_annual_value, cur)}/year at full effect`)),
      h('td', {},
        h('div', {}, `${fmtMoney(u.net_annual_value, cur)}/year`),
        h('div', { class: 'muted small' }, `payback ${u.payback_years === null ? '—' : `${fmtValue(u.payback_years)} y`}, ROI ${fmtPct(u.roi)} (3 y); ` +
          `retrofit ${fmtMoney(u.retrofit_cost, cur)}, running ${fmtMoney(u.running_cost_per_year, cur)}/year`)));
  }

  // --- loading -------------------------------------------------------------------------------
  // weft-core compresses large answers for browsers at a high cost per byte, so the page asks
  // only for what it shows: first the OEE rows (every line and shift instance: the table and the
  // trend) and the period-only KPIs that name the computation periods; then, for the chosen
  // period, the rows that start with it (the period's OEE, technician, HVAC figures) and the
  // daily rows of the charts.
  const DAILY = ['kpi_actual', 'kpi_projected', 'value_realised', 'value_projected', 'hvac_baseline_kwh', 'hvac_actual_kwh'];
  const loaded = new Set(); // periods whose rows are in `rows`
  const byKey = new Map();

  function addRows(list) {
    for (const r of list) {
      byKey.set([r.kpi, r.period_start, r.period_end, r.site, r.area, r.line, r.asset, r.shift, r.use_case].join('|'), r);
    }
    rows = [...byKey.values()];
  }

  async function kpis(query) {
    const res = await api(`/api/v1/kpi?limit=100000&${query}`);
    if (res.truncated) periodNote.textContent = 'only the first 100,000 rows of a query were read';
    return res.kpis;
  }

  function refuseAll(e) {
    for (const [box, what] of [[oeeBox, 'OEE'], [techBox, 'technician figures'], [hvacBox, 'HVAC savings'], [projBox, 'actual vs projected']]) refusal(box, e, what);
  }

  async function loadPeriod() {
    const p = periods().find((x) => `${x.start}|${x.end}` === periodSel.value);
    if (p && !loaded.has(periodSel.value)) {
      for (const box of [oeeBox, techBox, hvacBox, projBox]) box.dataset.state = 'loading';
      const startPlus = new Date(Date.parse(p.start) + 1).toISOString();
      const span = `from=${encodeURIComponent(p.start)}&to=${encodeURIComponent(p.end)}`;
      try {
        const parts = await Promise.all([
          kpis(`from=${encodeURIComponent(p.start)}&to=${encodeURIComponent(startPlus)}`),
          ...DAILY.map((k) => kpis(`kpi=${k}&${span}`)),
        ]);
        if (gone) return;
        addRows(parts.flat());
        loaded.add(periodSel.value);
      } catch (e) {
        if (!gone) refuseAll(e);
        return;
      }
    }
    if (!gone) renderKpis();
  }

  async function loadKpis() {
    let parts;
    try {
      parts = await Promise.all(['oee', 'technician_alerts', 'hvac_optimised_days'].map((k) => kpis(`kpi=${k}`)));
    } catch (e) {
      if (!gone) refuseAll(e);
      return;
    }
    if (gone) return;
    addRows(parts.flat());
    const list = periods();
    clear(periodSel);
    for (const p of list) {
      periodSel.append(h('option', { value: `${p.start}|${p.end}` }, `${p.start.slice(0, 10)} – ${p.end.slice(0, 10)}`));
    }
    periodSel.disabled = list.length < 2;
    await loadPeriod();
  }

  periodSel.addEventListener('change', loadPeriod);
  quarterSel.addEventListener('change', () => {
    history.replaceState(null, '', `#/value?quarter=${quarterSel.value}`);
    loadRoadmap();
  });

  loadKpis();
  loadRoadmap();

  return () => {
    gone = true;
    destroyCharts();
  };
}

// The quarter after the one `d` is in, e.g. 2026-11-27 -> 2027Q1.
export function nextQuarter(d) {
  const q = Math.floor(d.getUTCMonth() / 3) + 1;
  return q === 4 ? `${d.getUTCFullYear() + 1}Q1` : `${d.getUTCFullYear()}Q${q + 1}`;
}

// Three quarters back to three ahead of the current one.
function quarterOptions(now = new Date()) {
  const out = [];
  let y = now.getUTCFullYear();
  let q = Math.floor(now.getUTCMonth() / 3) + 1;
  for (let i = 0; i < 3; i++) {
    q -= 1;
    if (q === 0) { q = 4; y -= 1; }
  }
  for (let i = 0; i < 7; i++) {
    out.push(`${y}Q${q}`);
    q += 1;
    if (q === 5) { q = 1; y += 1; }
  }
  return out;
}

// uPlot data for series given as Map(unix s -> value) on one time axis: a series is joined
// across the other series' instants (undefined), broken (null) where its own points are more
// than `maxGap` seconds apart (a weekend without shifts is not a line).
function gapped(maps, maxGap) {
  const xs = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  // An instant in every long pause of all series, so that each series can break there.
  for (let i = xs.length - 1; i > 0; i--) {
    if (xs[i] - xs[i - 1] > maxGap) xs.splice(i, 0, Math.round((xs[i] + xs[i - 1]) / 2));
  }
  return [xs, ...maps.map((m) => {
    const own = [...m.keys()].sort((a, b) => a - b);
    let k = 0; // own[k - 1] <= x < own[k]
    return xs.map((x) => {
      while (k < own.length && own[k] <= x) k++;
      if (m.has(x)) return m.get(x);
      const before = own[k - 1];
      const after = own[k];
      return before !== undefined && after !== undefined && after - before > maxGap ? null : undefined;
    });
  })];
}

// Axis labels that fit: -255k, 1.2M, 97.5.
function compactValues(u, splits) {
  return splits.map((v) => {
    if (v === null || v === undefined) return '';
    const a = Math.abs(v);
    if (a >= 1e6) return `${Number((v / 1e6).toFixed(1))}M`;
    if (a >= 1e4) return `${Number((v / 1e3).toFixed(a >= 1e5 ? 0 : 1))}k`;
    return String(Number(v.toFixed(a >= 100 ? 0 : a >= 1 ? 2 : 3)));
  });
}

function chartWidth(box, container, columns = 1) {
  const w = box.clientWidth || (container.clientWidth ? (container.clientWidth - 24) / columns : 0);
  return Math.max(260, Math.floor(w || 600));
}

function swatch(color) {
  const s = h('span', { class: 'swatch' });
  s.style.background = color;
  return s;
}

function fmtPct(f) {
  if (f === null || f === undefined || Number.isNaN(f) || !Number.isFinite(f)) return '—';
  const p = f * 100;
  return `${Math.abs(p) >= 1000 ? Math.round(p).toLocaleString('en') : p.toFixed(1)}%`;
}

function fmtHours(s) {
  if (s === null || s === undefined) return '—';
  return `${(s / 3600).toLocaleString('en', { maximumFractionDigits: s < 36000 ? 1 : 0 })} h`;
}

function fmtCount(v) {
  if (v === null || v === undefined) return '—';
  return Math.round(v).toLocaleString('en');
}

function fmtMoney(v, currency) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return `${Math.round(v).toLocaleString('en')} ${currency || ''}`.trim();
}
