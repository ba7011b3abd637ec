// Plant overview: sites → areas → lines → assets, each asset with its latest values, a state and
// its open alerts. Values update live (GET /api/v1/live); alerts are re-read every 30 s.
// Everything shown comes from routes that filter by the caller's grants: a viewer of one line
// sees only that line.

import { api, iso } from '../api.js';
import { alertEpisodes, openEpisodes } from '../alerts.js';
import { ago, clear, fmtValue, h } from '../dom.js';
import { subscribeLive } from '../live.js';

const STALE_MS = 120 * 1000;

export function renderOverview(page, who) {
  const status = h('span', { id: 'live-status', class: 'badge', 'data-status': 'connecting' }, 'connecting');
  const summary = h('span', { id: 'summary', class: 'muted' });
  const body = h('div', { id: 'plant' }, h('p', { class: 'muted' }, 'Loading…'));
  page.append(h('section', {},
    h('div', { class: 'title-row' }, h('h1', {}, 'Plant overview'), summary, status),
    body));

  const assets = new Map(); // asset id -> {site, area, line, asset, asset_type, signals: Map}
  let open = new Map(); // asset id -> open episodes
  let stopLive = null;
  let timer = null;
  let gone = false;

  function merge(values) {
    let added = false;
    for (const a of values.assets) {
      if (!assets.has(a.asset)) {
        assets.set(a.asset, { ...a, signals: new Map() });
        added = true;
      }
      const known = assets.get(a.asset);
      for (const s of a.signals) {
        if (!known.signals.has(s.signal)) added = true;
        known.signals.set(s.signal, s);
      }
    }
    return added;
  }

  function stateOf(a) {
    const alerts = (open.get(a.asset) || []).length;
    const signals = [...a.signals.values()];
    const newest = Math.max(...signals.map((s) => Date.parse(s.ts)));
    if (alerts > 0) return ['alert', `${alerts} open alert${alerts > 1 ? 's' : ''}`];
    if (signals.some((s) => s.quality !== 0)) return ['bad', 'bad quality'];
    if (Date.now() - newest > STALE_MS) return ['stale', `stale (${ago(new Date(newest).toISOString())})`];
    return ['ok', 'running'];
  }

  function assetCard(a) {
    const [state, label] = stateOf(a);
    const rows = [...a.signals.values()].sort((x, y) => x.signal.localeCompare(y.signal)).map((s) =>
      h('tr', {},
        h('th', { scope: 'row' }, s.signal),
        h('td', { class: `value${s.quality !== 0 ? ' bad' : ''}`, 'data-asset': a.asset, 'data-signal': s.signal, 'data-ts': s.ts, title: s.ts }, fmtValue(s.value)),
        h('td', { class: 'unit' }, s.unit)));
    const alerts = open.get(a.asset) || [];
    return h('article', { class: `asset-card state-${state}`, 'data-asset': a.asset },
      h('header', {},
        h('a', { href: `#/asset/${encodeURIComponent(a.asset)}`, class: 'asset-link' }, a.asset),
        h('span', { class: 'muted' }, a.asset_type),
        h('span', { class: `badge state-${state}`, 'data-state': state }, label)),
      h('table', { class: 'signals' }, h('tbody', {}, rows)),
      alerts.length ? h('ul', { class: 'alerts', 'data-open-alerts': alerts.length },
        alerts.slice(0, 3).map((ep) => h('li', {}, `${ep.kind} on ${ep.signal} · ${ago(ep.start)}${ep.count > 1 ? ` (${ep.count} events)` : ''}`))) : null);
  }

  function render() {
    clear(body);
    if (assets.size === 0) {
      body.append(h('p', { class: 'muted', id: 'no-data' }, 'No values yet: nothing you may read has reached the lake in the last 15 minutes.'));
      summary.textContent = '';
      return;
    }
    // site -> area -> line -> [asset]
    const tree = new Map();
    for (const a of assets.values()) {
      const site = a.site || '(no site)';
      const key = `${a.area || '(no area)'} / ${a.line || '(no line)'}`;
      if (!tree.has(site)) tree.set(site, new Map());
      if (!tree.get(site).has(key)) tree.get(site).set(key, []);
      tree.get(site).get(key).push(a);
    }
    let alertCount = 0;
    for (const eps of open.values()) alertCount += eps.length;
    summary.textContent = `${tree.size} site${tree.size === 1 ? '' : 's'}, ${assets.size} assets, ${alertCount} open alerts`;
    for (const [site, lines] of [...tree].sort()) {
      const section = h('section', { class: 'site', 'data-site': site }, h('h2', {}, site));
      for (const [line, list] of [...lines].sort()) {
        list.sort((x, y) => x.asset.localeCompare(y.asset));
        section.append(h('div', { class: 'line', 'data-line': line }, h('h3', {}, line),
          h('div', { class: 'cards' }, list.map(assetCard))));
      }
      body.append(section);
    }
  }

  function update(values) {
    if (merge(values) || values.full) {
      render();
      return;
    }
    for (const a of values.assets) {
      for (const s of a.signals) {
        const cell = body.querySelector(`td.value[data-asset="${CSS.escape(a.asset)}"][data-signal="${CSS.escape(s.signal)}"]`);
        if (!cell) continue;
        cell.textContent = fmtValue(s.value);
        cell.dataset.ts = s.ts;
        cell.title = s.ts;
        cell.classList.toggle('bad', s.quality !== 0);
        cell.classList.remove('flash');
        void cell.offsetWidth; // restart the highlight
        cell.classList.add('flash');
      }
    }
  }

  async function loadAlerts() {
    const from = iso(Date.now() - 24 * 3600 * 1000);
    try {
      const [events, orders] = await Promise.all([
        api(`/api/v1/events?alerts=true&limit=5000&from=${from}`),
        api(`/api/v1/workorders?from=${iso(Date.now() - 48 * 3600 * 1000)}`).catch(() => ({ work_orders: [] })),
      ]);
      const eps = openEpisodes(alertEpisodes(events.events), orders.work_orders || []);
      open = new Map();
      for (const ep of eps) {
        if (!open.has(ep.asset)) open.set(ep.asset, []);
        open.get(ep.asset).push(ep);
      }
    } catch (e) {
      open = new Map();
    }
  }

  (async () => {
    try {
      const [latest] = await Promise.all([api('/api/v1/latest'), loadAlerts()]);
      if (gone) return;
      merge(latest);
      render();
    } catch (e) {
      clear(body).append(h('p', { class: 'error' }, `Cannot read the plant: ${e.message}`));
      return;
    }
    stopLive = subscribeLive([], update, (s) => {
      status.textContent = s;
      status.dataset.status = s;
    });
    timer = setInterval(async () => {
      await loadAlerts();
      if (!gone) render();
    }, 30000);
  })();

  return () => {
    gone = true;
    if (stopLive) stopLive();
    if (timer) clearInterval(timer);
  };
}
