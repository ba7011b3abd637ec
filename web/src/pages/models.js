// Models: the registry's models (GET /api/v1/models, /models/{name},
// /models/{name}/versions/{version}) with their versions, aliases (production, staging) and
// history; a version's lineage, physics validation report, metrics (model vs baseline) and
// approvals; and the model's monitoring on each asset (GET /api/v1/monitoring: the newest
// window per asset, its trust score and worst checks).
//   #/models                    every model with its versions
//   #/models/<name>             one model: aliases, versions, monitoring per asset, history
//   #/models/<name>/<version>   one version: approvals, validation, metrics, lineage
// Actions, shown only when whoami's permissions allow them on the global scope (the server
// decides anyway and its refusal is shown as it says it): approve a version in a role
// (approve_model), point an alias at a version and roll an alias back (deploy_model). Each asks
// for a confirmation first.
//
// The helpers exported at the end (notices for refused reads, the confirmation step, the quorum
// match) are shared with the governance page.

import { api, ApiError, may } from '../api.js';
import { ago, clear, fmtTime, fmtValue, h } from '../dom.js';
import './models_governance.css';

const LEVEL_STATE = { ok: 'ok', warn: 'bad', alert: 'alert' };
const LEVEL_RANK = { ok: 0, warn: 1, alert: 2 };
// How many versions per model the list shows with their full report (newest first).
const VERSIONS_SHOWN = 10;
// Monitoring windows read per model (the newest first; the newest per asset is shown).
const MONITORING_LIMIT = 2000;
const MONITORING_REFRESH_MS = 60000;
// The monitor's checks, grouped as the page shows them: [label, checks, the statistic shown].
const CHECK_GROUPS = [
  ['Drift', ['feature_drift', 'prediction_drift'], 'psi'],
  ['Saturation', ['actuator_saturation'], 'share_at_limits'],
  ['Thermal degradation', ['thermal_degradation'], 'residual_mean'],
  ['Envelope', ['environmental_deviation'], 'share_outside'],
];
const ALIASES = ['production', 'staging'];

export function render(page, who, args) {
  const ctx = { gone: false, timers: [] };
  const [name, version] = args;
  if (!name) listPage(page, who, ctx);
  else if (!version) modelPage(page, who, name, ctx);
  else versionPage(page, who, name, version, ctx);
  return () => {
    ctx.gone = true;
    for (const t of ctx.timers) clearInterval(t);
  };
}

// ---------------------------------------------------------------------------------------------
// Pages

function listPage(page, who, ctx) {
  const summary = h('span', { class: 'muted', id: 'models-summary' });
  const body = h('div', { id: 'models' }, h('p', { class: 'muted' }, 'Loading…'));
  page.append(h('section', {},
    h('div', { class: 'title-row' }, h('h1', {}, 'Models'), summary),
    h('p', { class: 'muted' }, 'The model registry: each version with its physics validation and approvals. ' +
      'A version goes to production with the approvals the model_promotion policy requires.'),
    body));
  (async () => {
    let list;
    let quorumRoles;
    try {
      [list, quorumRoles] = await Promise.all([api('/api/v1/models'), promotionRoles()]);
    } catch (e) {
      if (!ctx.gone) clear(body).append(failure(e, 'the model registry', 'models'));
      return;
    }
    if (ctx.gone) return;
    clear(body);
    const models = list.models || [];
    const total = models.reduce((n, m) => n + (m.versions || 0), 0);
    summary.textContent = `${models.length} model${models.length === 1 ? '' : 's'}, ${total} version${total === 1 ? '' : 's'}`;
    if (models.length === 0) {
      body.append(h('p', { class: 'notice', id: 'no-models' },
        'No models in the registry yet (weft model train … registers one).'));
      return;
    }
    for (const m of models) {
      const card = h('article', { class: 'card model-card', 'data-model': m.name },
        h('header', { class: 'title-row' },
          h('h2', {}, h('a', { href: modelHref(m.name), class: 'model-link' }, m.name)),
          aliasBadges(m.aliases || {}),
          h('span', { class: 'muted' }, `${m.versions} version${m.versions === 1 ? '' : 's'}, latest v${m.latest_version}, created ${fmtTime(m.created_at)}`)),
        h('p', { class: 'muted' }, 'Loading versions…'));
      body.append(card);
      fillModelCard(card, m.name, quorumRoles, ctx);
    }
  })();
}

async function fillModelCard(card, name, quorumRoles, ctx) {
  let model;
  let full;
  try {
    model = await api(`/api/v1/models/${encodeURIComponent(name)}`);
    full = await fullVersions(name, model.versions);
  } catch (e) {
    if (!ctx.gone) card.lastChild.replaceWith(failure(e, `the versions of ${name}`, 'versions'));
    return;
  }
  if (ctx.gone) return;
  const monitoring = h('p', { class: 'muted monitoring-summary' }, 'Reading monitoring…');
  card.lastChild.replaceWith(versionsTable(name, full, quorumRoles, model.versions.length), monitoring);
  const res = await readMonitoring(name);
  if (ctx.gone) return;
  if (!res.ok) {
    monitoring.replaceWith(res.notice);
    return;
  }
  const latest = latestPerAsset(res.windows);
  if (latest.length === 0) {
    monitoring.textContent = 'Not monitored on any asset you may see in the last 30 days.';
    return;
  }
  const counts = {};
  for (const w of latest) counts[w.level || 'unknown'] = (counts[w.level || 'unknown'] || 0) + 1;
  monitoring.textContent = '';
  monitoring.classList.remove('muted');
  monitoring.append(h('span', {}, `Monitored on ${latest.length} asset${latest.length === 1 ? '' : 's'}: `,
    Object.entries(counts).sort((a, b) => (LEVEL_RANK[b[0]] ?? -1) - (LEVEL_RANK[a[0]] ?? -1)).map(([lvl, n]) =>
      [h('span', { class: `badge state-${LEVEL_STATE[lvl] || 'stale'}` }, `${n} ${lvl}`), ' ']),
    h('a', { href: modelHref(name) }, 'trust per asset →')));
}

function modelPage(page, who, name, ctx) {
  const aliasesBox = h('div', { id: 'aliases' }, h('p', { class: 'muted' }, 'Loading…'));
  const versionsBox = h('div', { id: 'versions' });
  const monitoringBox = h('div', { id: 'monitoring-box' }, h('p', { class: 'muted' }, 'Loading…'));
  const historyBox = h('div', { id: 'history' });
  const badges = h('span', { class: 'badges' });
  const flash = lastAction();
  page.append(h('section', { 'data-model': name },
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / ', name),
    h('div', { class: 'title-row' }, h('h1', {}, name), badges), flash,
    h('div', { class: 'card' }, h('h2', {}, 'Aliases'), aliasesBox),
    h('div', { class: 'card' }, h('h2', {}, 'Versions'), versionsBox),
    h('div', { class: 'card' }, h('h2', {}, 'Monitoring per asset'),
      h('p', { class: 'muted' }, 'The newest monitoring window of each asset: its trust score, level and action, and the worst ' +
        'result of each check (drift: PSI; saturation: share of samples at a limit; thermal degradation: mean twin residual; ' +
        'envelope: share of values outside the training envelope).'),
      monitoringBox),
    h('div', { class: 'card' }, h('h2', {}, 'History'), historyBox)));

  async function load() {
    let model;
    let full;
    let quorumRoles;
    try {
      [model, quorumRoles] = await Promise.all([api(`/api/v1/models/${encodeURIComponent(name)}`), promotionRoles()]);
      full = await fullVersions(name, model.versions);
    } catch (e) {
      if (!ctx.gone) clear(aliasesBox).append(failure(e, `model ${name}`, 'model'));
      return;
    }
    if (ctx.gone) return;
    clear(badges).append(...aliasBadges(model.aliases || {}));
    clear(aliasesBox).append(aliasesTable(who, name, model, (message) => {
      flash.show(message);
      load();
    }));
    clear(versionsBox).append(versionsTable(name, full, quorumRoles, model.versions.length));
    clear(historyBox).append(historyTable(name, model.history || []));
  }

  async function loadMonitoring() {
    const res = await readMonitoring(name);
    if (ctx.gone) return;
    clear(monitoringBox).append(res.ok ? monitoringTable(latestPerAsset(res.windows), res.truncated) : res.notice);
  }

  load();
  loadMonitoring();
  ctx.timers.push(setInterval(() => {
    if (!document.hidden) loadMonitoring();
  }, MONITORING_REFRESH_MS));
}

function versionPage(page, who, name, version, ctx) {
  const head = h('div', { class: 'title-row' }, h('h1', {}, `${name} v${version}`));
  const body = h('div', { id: 'version', 'data-model': name, 'data-version': version }, h('p', { class: 'muted' }, 'Loading…'));
  const flash = lastAction();
  const reload = (message) => {
    flash.show(message);
    load();
  };
  page.append(h('section', {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / ',
      h('a', { href: modelHref(name) }, name), ' / ', `v${version}`),
    head, flash, body));

  async function load() {
    let v;
    let model;
    let quorumRoles;
    try {
      [v, model, quorumRoles] = await Promise.all([
        api(`/api/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
        api(`/api/v1/models/${encodeURIComponent(name)}`),
        promotionRoles(),
      ]);
    } catch (e) {
      if (!ctx.gone) clear(body).append(failure(e, `version ${version} of ${name}`, 'version'));
      return;
    }
    if (ctx.gone) return;
    while (head.childNodes.length > 1) head.lastChild.remove();
    head.append(...aliasBadges(Object.fromEntries((v.aliases || []).map((a) => [a, v.version]))), validationBadge(v));
    const q = quorumRoles ? matchQuorum(v.approvals || [], quorumRoles) : null;
    clear(body).append(
      h('div', { class: 'card' }, h('h2', {}, 'Summary'), versionSummary(v, model)),
      h('div', { class: 'card', id: 'approvals' }, h('h2', {}, 'Approvals'),
        approvalsBlock(v, quorumRoles, q),
        approveForm(who, v, quorumRoles, reload),
        promoteForm(who, v, model, q, reload)),
      h('div', { class: 'card', id: 'validation' }, h('h2', {}, 'Physics validation'), validationBlock(v.validation, v.validation_passed)),
      h('div', { class: 'card', id: 'metrics' }, h('h2', {}, 'Metrics: model vs baseline'), metricsBlock(v.metrics)),
      h('div', { class: 'card', id: 'lineage' }, h('h2', {}, 'Lineage'), lineageBlock(v, model)),
      h('div', { class: 'card', id: 'model-card' }, h('h2', {}, 'Model card'), cardBlock(v.card)));
  }
  load();
}

// ---------------------------------------------------------------------------------------------
// Reading

// The full record (validation report, metrics, lineage) of the newest versions.
async function fullVersions(name, versions) {
  const newest = [...versions].sort((a, b) => Number(b.version) - Number(a.version)).slice(0, VERSIONS_SHOWN);
  return Promise.all(newest.map((v) =>
    api(`/api/v1/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(v.version)}`)));
}

// The roles the model_promotion policy requires (null when the board cannot be read).
async function promotionRoles() {
  try {
    const { policies } = await api('/api/v1/governance/policies');
    const p = (policies || []).find((x) => x.decision === 'model_promotion');
    return p ? p.roles : null;
  } catch {
    return null;
  }
}

// {ok, windows, truncated} or {ok: false, notice}.
async function readMonitoring(name) {
  try {
    const res = await api(`/api/v1/monitoring?model=${encodeURIComponent(name)}&limit=${MONITORING_LIMIT}`);
    return { ok: true, windows: res.windows || [], truncated: !!res.truncated };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return { ok: false, notice: h('p', { class: 'notice', id: 'monitoring-unavailable', 'data-unavailable': 'monitoring' },
        'Monitoring is not available from this weft-core (GET /api/v1/monitoring answered 404).') };
    }
    return { ok: false, notice: failure(e, `the monitoring of ${name}`, 'monitoring') };
  }
}

// The newest window of each asset (windows arrive newest first), sorted worst first.
function latestPerAsset(windows) {
  const seen = new Map();
  for (const w of windows) if (!seen.has(w.asset)) seen.set(w.asset, w);
  return [...seen.values()].sort((a, b) =>
    (LEVEL_RANK[b.level] ?? -1) - (LEVEL_RANK[a.level] ?? -1) || (a.score ?? 1) - (b.score ?? 1) || a.asset.localeCompare(b.asset));
}

// ---------------------------------------------------------------------------------------------
// Blocks

function modelHref(name, version) {
  return `#/models/${encodeURIComponent(name)}${version === undefined ? '' : `/${encodeURIComponent(version)}`}`;
}

function aliasBadges(aliases) {
  return Object.entries(aliases).sort().map(([alias, version]) =>
    h('span', { class: `badge alias alias-${alias === 'production' ? 'production' : 'other'}`, 'data-alias': alias, 'data-alias-version': version },
      `${alias} → v${version}`));
}

function validationCounts(report) {
  const c = { passed: 0, failed: 0, skipped: 0 };
  for (const r of (report && report.results) || []) c[r.status] = (c[r.status] || 0) + 1;
  return c;
}

function validationBadge(v) {
  const c = validationCounts(v.validation);
  const passed = v.validation_passed;
  return h('span', {
    class: `badge validation ${passed ? 'state-ok' : 'state-alert'}`, 'data-validation': passed ? 'passed' : 'failed',
    title: `${c.passed} constraints passed, ${c.failed} failed, ${c.skipped} skipped`,
  }, passed ? 'validation passed' : 'validation failed');
}

function versionsTable(name, versions, quorumRoles, total) {
  const rows = versions.map((v) => {
    const c = validationCounts(v.validation);
    const q = quorumRoles ? matchQuorum(v.approvals || [], quorumRoles) : null;
    const inProduction = (v.aliases || []).includes('production');
    return h('tr', { 'data-version': v.version, 'data-validation': v.validation_passed ? 'passed' : 'failed' },
      h('td', {}, h('a', { href: modelHref(name, v.version), class: 'version-link' }, `v${v.version}`)),
      h('td', { title: v.created_at }, `${fmtTime(v.created_at)}`, h('br'), h('span', { class: 'muted' }, `by ${v.created_by}`)),
      h('td', { class: 'validation-cell' }, validationBadge(v), h('br'),
        h('span', { class: 'muted' }, `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`)),
      h('td', {}, headlineMetrics(v.metrics)),
      h('td', {}, (v.approvals || []).length
        ? h('ul', { class: 'plain' }, v.approvals.map((a) => h('li', { title: a.comment || '' }, `${a.role}: ${a.principal}`)))
        : h('span', { class: 'muted' }, 'none')),
      h('td', { class: 'quorum' }, inProduction ? h('span', { class: 'muted' }, 'in production')
        : !v.validation_passed ? h('span', { class: 'muted' }, 'cannot be promoted')
          : q ? (q.missing.length ? h('span', { class: 'missing', 'data-missing': q.missing.join(',') }, `needs ${q.missing.join(', ')}`)
            : h('span', { class: 'ok-text' }, 'approved for production'))
            : h('span', { class: 'muted' }, '—')),
      h('td', {}, aliasBadges(Object.fromEntries((v.aliases || []).map((a) => [a, v.version])))));
  });
  const wrap = h('div', {}, h('table', { class: 'data versions' },
    h('thead', {}, h('tr', {}, ['Version', 'Registered', 'Physics validation', 'Held-out metrics', 'Approvals', 'Production quorum', 'Aliases'].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows)));
  if (total > versions.length) wrap.append(h('p', { class: 'muted' }, `The newest ${versions.length} of ${total} versions.`));
  return wrap;
}

// "run F1 1.00 (baseline 0.90)" from a metrics document, or a dash.
function headlineMetrics(m) {
  if (!m || !m.model) return h('span', { class: 'muted' }, '—');
  const parts = [];
  const f1 = m.model.runs?.f1;
  const bf1 = m.baseline?.runs?.f1;
  if (typeof f1 === 'number') parts.push(`run F1 ${f1.toFixed(2)}${typeof bf1 === 'number' ? ` (baseline ${bf1.toFixed(2)})` : ''}`);
  const lead = m.model.runs?.median_lead_h;
  if (typeof lead === 'number') parts.push(`median lead ${lead.toFixed(0)} h`);
  return parts.length ? parts.join(' · ') : h('span', { class: 'muted' }, '—');
}

function aliasesTable(who, name, model, reload) {
  const aliases = model.aliases || {};
  const stacks = aliasStacks(model.history || []);
  const canDeploy = may(who, 'deploy_model', 'global');
  const names = Object.keys(aliases).sort();
  if (names.length === 0) return h('p', { class: 'muted', id: 'no-aliases' }, 'No alias is set: no version serves yet.');
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['Alias', 'Version', 'Since', 'Earlier versions', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, names.map((alias) => {
      const stack = stacks.get(alias) || [];
      const last = [...(model.history || [])].reverse().find((e) => e.alias === alias);
      const previous = stack.length >= 2 ? stack[stack.length - 2] : null;
      const cell = h('td', { class: 'action-cell' });
      if (canDeploy && previous) {
        cell.append(confirmAction({
          action: 'rollback-alias',
          label: `Roll back to v${previous}`,
          question: `Roll ${alias} of ${name} back from v${aliases[alias]} to v${previous}? Whatever resolves ${alias} serves v${previous} from now on.`,
          run: async () => {
            const r = await api(`/api/v1/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}/rollback`, { method: 'POST', body: {} });
            return `${alias} now points at v${r.version} (was v${r.previous}).`;
          },
          done: reload,
        }));
      } else if (canDeploy) {
        cell.append(h('span', { class: 'muted' }, 'no earlier version to roll back to'));
      }
      return h('tr', { 'data-alias': alias },
        h('th', { scope: 'row' }, aliasBadges({ [alias]: aliases[alias] })),
        h('td', {}, h('a', { href: modelHref(name, aliases[alias]) }, `v${aliases[alias]}`)),
        h('td', {}, last ? `${fmtTime(last.at)} by ${last.actor}` : '—'),
        h('td', {}, stack.length > 1 ? stack.slice(0, -1).reverse().map((v) => `v${v}`).join(', ') : h('span', { class: 'muted' }, 'none')),
        cell);
    })));
}

// alias -> the versions it pointed at, oldest first (promote pushes, rollback pops), from the
// history: the registry keeps the same stack, so its top is the alias's version.
function aliasStacks(history) {
  const stacks = new Map();
  for (const e of history) {
    if (!e.alias) continue;
    if (!stacks.has(e.alias)) stacks.set(e.alias, []);
    const s = stacks.get(e.alias);
    if (e.action === 'promote') s.push(e.to);
    else if (e.action === 'rollback') s.pop();
  }
  return stacks;
}

function historyTable(name, history) {
  if (history.length === 0) return h('p', { class: 'muted' }, 'No history.');
  const describe = (e) => {
    const d = e.detail || {};
    if (e.action === 'approve') return `as ${d.role || '?'}${d.comment ? `: “${d.comment}”` : ''}`;
    if (e.action === 'promote' || e.action === 'rollback') return `${e.alias}: ${e.from ? `v${e.from}` : 'unset'} → v${e.to}`;
    if (e.action === 'register') return `${d.validation_passed ? 'validation passed' : 'validation failed'}${d.sha256 ? `, artifact ${String(d.sha256).slice(0, 12)}…` : ''}`;
    return JSON.stringify(d);
  };
  return h('table', { class: 'data history' },
    h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Version', 'Detail'].map((t) => h('th', {}, t)))),
    h('tbody', {}, [...history].reverse().map((e) => h('tr', { 'data-action-kind': e.action },
      h('td', { title: e.at }, `${fmtTime(e.at)} (${ago(e.at)})`),
      h('td', {}, e.actor),
      h('td', {}, e.action),
      h('td', {}, h('a', { href: modelHref(name, e.version) }, `v${e.version}`)),
      h('td', {}, describe(e))))));
}

// The worst subject of a check group in a window: {level, text} or null when it did not run.
function worstOf(w, checks, statistic) {
  const mine = (w.checks || []).filter((c) => checks.includes(c.check));
  if (mine.length === 0) return null;
  let worst = null;
  for (const c of mine) {
    const rank = LEVEL_RANK[c.level] ?? -1;
    if (!worst || rank > worst.rank || (rank === worst.rank && c.statistic === statistic && worst.statistic !== statistic)) {
      worst = { rank, level: c.level, subject: c.subject, statistic: c.statistic, value: c.value, check: c.check };
    }
  }
  // Show the group's headline statistic of the worst subject when it has one.
  const headline = mine.find((c) => c.subject === worst.subject && c.check === worst.check && c.statistic === statistic);
  const shown = headline || worst;
  return {
    level: worst.level,
    text: `${shown.subject || shown.check.replace(/_/g, ' ')} ${shown.statistic.replace(/_/g, ' ')} ${fmtValue(shown.value)}`,
  };
}

function monitoringTable(latest, truncated) {
  if (latest.length === 0) {
    return h('p', { class: 'notice', id: 'no-monitoring' },
      'No monitoring windows in the last 30 days on assets you may see (weft model monitor … --append writes them).');
  }
  const wrap = h('div', {}, h('table', { class: 'data monitoring', id: 'monitoring', 'data-assets': latest.length },
    h('thead', {}, h('tr', {}, ['Asset', 'Version', 'Window', 'Trust', 'Level', 'Action', ...CHECK_GROUPS.map((g) => g[0])].map((t) => h('th', {}, t)))),
    h('tbody', {}, latest.map((w) => h('tr', { 'data-asset': w.asset, 'data-level': w.level, class: w.level === 'alert' ? 'alert' : null },
      h('td', {}, h('a', { href: `#/asset/${encodeURIComponent(w.asset)}`, class: 'asset-link' }, w.asset),
        w.line ? h('div', { class: 'muted small' }, `${w.site} / ${w.line}`) : null),
      h('td', {}, `v${w.model_version}`),
      h('td', { title: `${w.start || '?'} – ${w.end}` }, w.start ? `${fmtTime(w.start)} –` : 'ending', h('br'), `${fmtTime(w.end)} (${ago(w.end)})`),
      h('td', { class: 'num trust', 'data-trust': typeof w.score === 'number' ? w.score : '' }, typeof w.score === 'number' ? w.score.toFixed(2) : '—'),
      h('td', {}, h('span', { class: `badge state-${LEVEL_STATE[w.level] || 'stale'}` }, w.level || '?')),
      h('td', { class: w.action && w.action !== 'none' ? 'action-needed' : 'muted' }, (w.action || '—').replace(/_/g, ' ')),
      CHECK_GROUPS.map(([label, checks, statistic]) => {
        const r = worstOf(w, checks, statistic);
        if (!r) return h('td', { class: 'muted', 'data-check': label.toLowerCase() }, 'not run');
        return h('td', { 'data-check': label.toLowerCase(), 'data-level': r.level },
          h('span', { class: `dot state-${LEVEL_STATE[r.level] || 'stale'}`, title: r.level }), ' ', r.text);
      }))))));
  if (truncated) wrap.append(h('p', { class: 'muted' }, `Read the newest ${MONITORING_LIMIT} windows: assets monitored only before them are not listed.`));
  return wrap;
}

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) =>
    [h('dt', {}, k), h('dd', {}, v)]));
}

function hash(hex, title) {
  if (!hex) return '—';
  return h('code', { class: 'hash', title: title || hex, 'data-hash': hex }, `${String(hex).slice(0, 16)}…`);
}

function versionSummary(v, model) {
  return kv([
    ['Registered', `${fmtTime(v.created_at)} (${ago(v.created_at)}) by ${v.created_by}`],
    ['Format', v.format],
    ['Artifact', [hash(v.artifact_sha256, `sha256 ${v.artifact_sha256}`), ` ${(v.artifact_size / 1024).toFixed(0)} KiB`]],
    ['Signature', v.signature ? hash(v.signature, `Ed25519 over the artifact's digest: ${v.signature}`) : null],
    ['Aliases', (v.aliases || []).length ? v.aliases.join(', ') : 'none'],
    ['Model', h('a', { href: modelHref(model.name) }, `${model.name} (${model.versions.length} versions)`)],
  ]);
}

function approvalsBlock(v, quorumRoles, q) {
  const approvals = v.approvals || [];
  const out = h('div', {});
  if (quorumRoles) {
    out.append(h('p', { class: 'quorum-line', 'data-missing': q.missing.join(',') },
      `Production needs approvals by ${quorumRoles.join(' and ')}, each by a different principal: `,
      quorumRoles.map((r) => {
        const f = q.filled.find(([role]) => role === r);
        return [h('span', { class: `badge ${f ? 'state-ok' : 'state-bad'}`, 'data-role': r }, f ? `${r}: ${f[1]}` : `${r}: missing`), ' '];
      })));
  }
  if (approvals.length === 0) {
    out.append(h('p', { class: 'muted', id: 'no-approvals' }, 'No approvals yet.'));
  } else {
    out.append(h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['Role', 'Principal', 'Comment', 'When'].map((t) => h('th', {}, t)))),
      h('tbody', {}, approvals.map((a) => h('tr', { 'data-role': a.role, 'data-principal': a.principal },
        h('td', {}, a.role), h('td', {}, a.principal), h('td', {}, a.comment || h('span', { class: 'muted' }, '—')),
        h('td', { title: a.at }, `${fmtTime(a.at)} (${ago(a.at)})`))))));
  }
  return out;
}

function approveForm(who, v, quorumRoles, reload) {
  if (!may(who, 'approve_model', 'global')) return null;
  const held = globalRoles(who);
  const roles = quorumRoles || held;
  const role = h('select', { id: 'approve-role' }, roles.map((r) => h('option', { value: r }, r)));
  const mine = roles.find((r) => held.includes(r));
  if (mine) role.value = mine;
  const comment = h('input', { id: 'approve-comment', type: 'text', maxlength: 1000, placeholder: 'comment (optional)', size: 40 });
  const note = mine ? null : h('p', { class: 'muted small' },
    `You hold none of these roles on '*' (${held.join(', ') || 'no global role'}): the registry records an approval only in a role one holds.`);
  return h('div', { class: 'action-form', id: 'approve-form' }, h('h3', {}, 'Approve this version'),
    h('label', {}, 'Role ', role), ' ', comment, ' ',
    confirmAction({
      action: 'approve-model',
      label: 'Approve…',
      question: () => `Approve ${v.name} v${v.version} as ${role.value}? The approval is recorded with your name in the registry and the audit log.`,
      run: async () => {
        const body = { role: role.value };
        if (comment.value) body.comment = comment.value;
        const r = await api(`/api/v1/models/${encodeURIComponent(v.name)}/versions/${encodeURIComponent(v.version)}/approve`, { method: 'POST', body });
        return `Approved as ${role.value}; v${r.version} now has ${r.approvals.length} approval${r.approvals.length === 1 ? '' : 's'}.`;
      },
      done: reload,
    }), note);
}

function promoteForm(who, v, model, q, reload) {
  if (!may(who, 'deploy_model', 'global')) return null;
  const names = [...new Set([...ALIASES, ...Object.keys(model.aliases || {})])];
  const alias = h('select', { id: 'promote-alias' }, names.map((a) => h('option', { value: a }, a)));
  const hint = h('span', { class: 'muted small', id: 'promote-hint' });
  const update = () => {
    const now = (model.aliases || {})[alias.value];
    hint.textContent = now === v.version ? `${alias.value} already points at v${v.version}.`
      : `${alias.value} points at ${now ? `v${now}` : 'nothing'} now.` +
        (alias.value === 'production' && q && q.missing.length ? ` Production still needs ${q.missing.join(', ')}.` : '');
  };
  alias.addEventListener('change', update);
  update();
  return h('div', { class: 'action-form', id: 'promote-form' }, h('h3', {}, 'Point an alias at this version'),
    h('label', {}, 'Alias ', alias), ' ',
    confirmAction({
      action: 'promote-model',
      label: 'Promote…',
      question: () => `Point ${alias.value} of ${v.name} at v${v.version}? Whatever resolves ${alias.value} serves v${v.version} from now on.`,
      run: async () => {
        const r = await api(`/api/v1/models/${encodeURIComponent(v.name)}/aliases/${encodeURIComponent(alias.value)}`, { method: 'POST', body: { version: v.version } });
        if (r.previous === r.version) return `${r.alias} already pointed at v${r.version}: nothing changed.`;
        return `${r.alias} now points at v${r.version}${r.previous ? ` (was v${r.previous})` : ''}.`;
      },
      done: reload,
    }), ' ', hint);
}

function validationBlock(report, passed) {
  if (!report || !Array.isArray(report.results)) return h('p', { class: 'muted' }, 'No validation report was registered with this version.');
  const c = validationCounts(report);
  const order = { failed: 0, passed: 1, skipped: 2 };
  const results = [...report.results].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3));
  return h('div', {},
    h('p', { class: 'validation-summary', 'data-passed': c.passed, 'data-failed': c.failed, 'data-skipped': c.skipped },
      h('span', { class: `badge ${passed ? 'state-ok' : 'state-alert'}` }, passed ? 'passed' : 'refused'), ' ',
      `${c.passed} constraint${c.passed === 1 ? '' : 's'} passed, ${c.failed} failed, ${c.skipped} skipped (what a sweep cannot check is left to the edge's physics guard).`),
    h('table', { class: 'data validation-table' },
      h('thead', {}, h('tr', {}, ['Constraint', 'Kind', 'Result', 'Checked', 'Violations', 'Detail'].map((t) => h('th', {}, t)))),
      h('tbody', {}, results.map((r) => h('tr', { 'data-constraint': r.name, 'data-status': r.status, class: r.status === 'failed' ? 'alert' : null },
        h('td', {}, r.name), h('td', {}, (r.kind || '').replace(/_/g, ' ')),
        h('td', {}, h('span', { class: `badge ${r.status === 'passed' ? 'state-ok' : r.status === 'failed' ? 'state-alert' : 'state-stale'}` }, r.status)),
        h('td', { class: 'num' }, r.points_checked ? `${r.points_checked} ${r.kind === 'monotonic' ? 'steps' : 'points'}` : '—'),
        h('td', { class: 'num' }, String(r.violations ?? 0)),
        h('td', {}, constraintDetail(r)))))));
}

function constraintDetail(r) {
  if (r.status === 'skipped') return h('span', { class: 'muted' }, r.reason || 'skipped');
  if (!r.worst) return h('span', { class: 'muted' }, 'no violation');
  const point = Object.entries(r.worst.point || {}).map(([k, v]) => `${k}=${fmtValue(v)}`).join(', ');
  return [r.worst.detail || '', point ? h('div', { class: 'muted small' }, `worst point: ${point}`) : null];
}

function metricsBlock(m) {
  if (!m || !m.model) return h('p', { class: 'muted' }, 'No metrics were registered with this version.');
  const b = m.baseline || {};
  const rows = [
    ['Runs: F1', 'runs', 'f1', 'higher'],
    ['Runs: precision', 'runs', 'precision', 'higher'],
    ['Runs: recall', 'runs', 'recall', 'higher'],
    ['Failures detected', 'runs', 'detected', 'higher', (x) => `${x.runs?.detected ?? '—'} of ${x.runs?.failure_runs ?? '—'}`],
    ['False alarms (healthy runs)', 'runs', 'false_alarms', 'lower', (x) => `${x.runs?.false_alarms ?? '—'} of ${x.runs?.healthy_runs ?? '—'}`],
    ['Median lead time (h)', 'runs', 'median_lead_h', 'higher'],
    ['P10 lead time (h)', 'runs', 'p10_lead_h', 'higher'],
    ['Rows: F1', 'rows', 'f1', 'higher'],
    ['Rows: precision', 'rows', 'precision', 'higher'],
    ['Rows: recall', 'rows', 'recall', 'higher'],
  ];
  const cell = (x, group, key, fmt) => {
    if (fmt) return fmt(x);
    const v = x[group]?.[key];
    return typeof v === 'number' ? fmtValue(v) : '—';
  };
  return h('div', {},
    h('p', { class: 'muted' }, `On ${m.test_runs ?? '?'} held-out runs (${m.test_rows ?? '?'} rows; trained on ${m.train_runs ?? '?'} runs), ` +
      `horizon ${m.horizon_h ?? '?'} h, an alarm after ${m.consecutive ?? '?'} consecutive rows above the threshold. ` +
      `Model: ${m.model.score} ≥ ${fmtValue(m.model.threshold)}; baseline: ${b.score || '—'} ≥ ${fmtValue(b.threshold ?? null)}.`),
    h('table', { class: 'data metrics-table' },
      h('thead', {}, h('tr', {}, ['Metric', 'Model', 'Baseline', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows.map(([label, group, key, better, fmt]) => {
        const mv = m.model[group]?.[key];
        const bv = b[group]?.[key];
        let verdict = '';
        if (typeof mv === 'number' && typeof bv === 'number' && mv !== bv) {
          verdict = (better === 'higher') === (mv > bv) ? 'better' : 'worse';
        }
        return h('tr', { 'data-metric': `${group}.${key}` },
          h('th', { scope: 'row' }, label),
          h('td', { class: 'num', 'data-model': mv ?? '' }, cell(m.model, group, key, fmt)),
          h('td', { class: 'num', 'data-baseline': bv ?? '' }, cell(b, group, key, fmt)),
          h('td', { class: verdict === 'better' ? 'ok-text' : verdict === 'worse' ? 'error' : 'muted' }, verdict || (typeof mv === 'number' && mv === bv ? 'same' : '')));
      }))));
}

function lineageBlock(v, model) {
  const l = v.lineage || {};
  const sc = l.scenarios || null;
  const fd = l.field_data || null;
  const twin = sc && sc.twin;
  const sorted = [...(model.versions || [])].map((x) => x.version).sort((a, b) => Number(a) - Number(b));
  const before = sorted.filter((x) => Number(x) < Number(v.version)).pop();
  const pairs = [
    ['Previous version', before ? h('a', { href: modelHref(v.name, before) }, `v${before}`) : 'none (first version)'],
    ['Training spec', l.spec ? [h('span', {}, l.spec.file || ''), ' ', hash(l.spec.sha256, `spec sha256 ${l.spec.sha256}`)] : null],
    ['Simulated data', sc ? `${sc.runs} twin runs of ${sc.duration}, a row every ${sc.row_every}, seed ${sc.seed}, faults in ${Math.round((sc.fault_fraction || 0) * 100)}%` : null],
    ['Twin', twin ? [`${twin.model} ${twin.version}`,
      twin.registry ? ` (registry ${twin.registry.ref}${twin.registry.parent_version ? `, parent ${twin.registry.parent_version}` : ''})` : '',
      twin.vary && Object.keys(twin.vary).length ? `; varied: ${Object.entries(twin.vary).map(([k, r]) => `${k} ${r.join('–')}`).join(', ')}` : ''] : null],
    ['Field data', fd ? [`${fd.telemetry} at Delta version ${fd.delta_version}, ${fmtTime(fd.from)} – ${fmtTime(fd.to)}, ${fd.rows} rows`,
      fd.labels_sha256 ? [' · labels ', hash(fd.labels_sha256, `labels ${fd.labels || ''} sha256 ${fd.labels_sha256}`)] : '',
      fd.work_orders ? ` · work orders ${fd.work_orders.table} at version ${fd.work_orders.delta_version} (${fd.work_orders.confirmed_faults} confirmed faults, ${fd.work_orders.false_alarms} false alarms)` : ''] : null],
    ['Dataset', l.dataset ? `${l.dataset.rows} rows from ${l.dataset.runs} runs, ${l.dataset.positives} positive` : null],
    ['Held out', l.holdout ? `${Math.round(l.holdout.fraction * 100)}% of the runs (seed ${l.holdout.seed})` : null],
    ['Trained', l.trained_at ? `${fmtTime(l.trained_at)} with XGBoost ${l.xgboost?.version || '?'} (${l.xgboost?.rounds ?? '?'} rounds, depth ${l.xgboost?.max_depth ?? '?'}), code ${l.code_version || '?'}` : null],
    ['Trained artifact', l.dataset?.model_sha256 ? [hash(l.dataset.model_sha256),
      l.dataset.model_sha256 === v.artifact_sha256 ? ' (the registered artifact)' : h('span', { class: 'error' }, ' differs from the registered artifact')] : null],
  ];
  return h('div', {}, kv(pairs),
    h('details', {}, h('summary', {}, 'The whole lineage record'), h('pre', { class: 'json' }, JSON.stringify(l, null, 2))));
}

function cardBlock(card) {
  if (!card || typeof card !== 'object') return h('p', { class: 'muted' }, 'No model card.');
  return kv([
    ['Asset type', card.asset_type],
    ['Output', card.output ? `${card.output}${card.task ? ` (${card.task})` : ''}${typeof card.threshold === 'number' ? `, threshold ${fmtValue(card.threshold)}` : ''}` : null],
    ['Window', card.window !== undefined ? String(card.window) : null],
    ['Horizon', typeof card.horizon_s === 'number' ? `${(card.horizon_s / 3600).toFixed(0)} h` : null],
    ['Features', (card.features || []).map((f) => `${f.signal} (${(f.stats || []).join(', ')})`).join('; ') || null],
    ['Monitored signals', card.monitoring?.signals ? card.monitoring.signals.join(', ') : null],
  ]);
}

// ---------------------------------------------------------------------------------------------
// Shared with the governance page

// The line that keeps the last action's result while the page reloads its data:
// el.show(message).
export function lastAction() {
  const el = h('p', { class: 'last-action', id: 'last-action', role: 'status', hidden: true });
  el.show = (message) => {
    el.textContent = `Done: ${message}`;
    el.hidden = false;
  };
  return el;
}

// The roles the caller holds on the global scope ("*", no tag).
export function globalRoles(who) {
  return [...new Set((who.grants || []).filter((g) => g.scope === '*' && !g.tag).map((g) => g.role))];
}

// A failed read as the page shows it: a calm notice for a refusal (403) or an unavailable
// service, an error otherwise. `what` names the thing ("the audit trail"); `key` marks it.
export function failure(e, what, key) {
  if (e instanceof ApiError && e.status === 403) {
    return h('p', { class: 'notice denied', 'data-denied': key, role: 'note' },
      `You may not see ${what}. `, h('span', { class: 'muted' }, `(${e.message})`));
  }
  if (e instanceof ApiError && (e.status === 503 || e.status === 404)) {
    return h('p', { class: 'notice', 'data-unavailable': key }, `${what[0].toUpperCase()}${what.slice(1)} is not available: ${e.message}`);
  }
  return h('p', { class: 'error', 'data-error': key }, `Cannot read ${what}: ${e.message}`);
}

// What the server said when it refused or failed an action.
export function refusal(e) {
  if (!(e instanceof ApiError)) return `Failed: ${e.message}`;
  if (e.status === 403) return `Refused: ${e.message}`;
  if (e.status >= 400 && e.status < 500) return `The server refused: ${e.message}`;
  return `Failed (${e.status}): ${e.message}`;
}

// A state-changing button (data-action) that first asks: clicking shows the question with
// Confirm (data-action="<action>-confirm") and Cancel; Confirm runs `run` and shows its result
// or the server's refusal. `question` may be a function (read when clicked). `done(message)`
// runs after a success (pages show the message where a reload keeps it, and reload).
export function confirmAction({ action, label, question, run, done }) {
  const button = h('button', { type: 'button', class: 'action', 'data-action': action }, label);
  const result = h('span', { class: 'result', role: 'status', 'data-result': action });
  const bar = h('span', { class: 'confirm-bar', hidden: true });
  const box = h('span', { class: 'confirm-action' }, button, bar, ' ', result);
  button.addEventListener('click', () => {
    result.textContent = '';
    result.className = 'result';
    delete result.dataset.outcome;
    const yes = h('button', { type: 'button', class: 'action confirm', 'data-action': `${action}-confirm` }, 'Confirm');
    const no = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
    clear(bar).append(h('span', { class: 'question' }, typeof question === 'function' ? question() : question), ' ', yes, ' ', no);
    bar.hidden = false;
    button.hidden = true;
    no.addEventListener('click', () => {
      bar.hidden = true;
      button.hidden = false;
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      let ok = false;
      try {
        result.textContent = await run();
        result.className = 'result ok';
        result.dataset.outcome = 'done';
        ok = true;
      } catch (e) {
        result.textContent = refusal(e);
        result.className = 'result refused';
        result.dataset.outcome = e instanceof ApiError ? `refused-${e.status}` : 'failed';
      }
      bar.hidden = true;
      button.hidden = false;
      if (ok && done) done(result.textContent);
    });
  });
  return box;
}

// Which required role each approver fills, each role by a different principal (a maximum
// bipartite matching by augmenting paths, like the server's MatchQuorum): {filled: [[role,
// principal]], missing: [role]}. Approvals are [{principal, role}].
export function matchQuorum(approvals, required) {
  const candidates = new Map(required.map((r) => [r, []]));
  for (const a of approvals) {
    const list = candidates.get(a.role);
    if (list && !list.includes(a.principal)) list.push(a.principal);
  }
  const roleOf = new Map(); // principal -> role
  const assign = (role, seen) => {
    for (const p of candidates.get(role)) {
      if (seen.has(p)) continue;
      seen.add(p);
      if (!roleOf.has(p) || assign(roleOf.get(p), seen)) {
        roleOf.set(p, role);
        return true;
      }
    }
    return false;
  };
  for (const r of required) assign(r, new Set());
  const byRole = new Map([...roleOf].map(([p, r]) => [r, p]));
  return {
    filled: required.filter((r) => byRole.has(r)).map((r) => [r, byRole.get(r)]),
    missing: required.filter((r) => !byRole.has(r)),
  };
}
