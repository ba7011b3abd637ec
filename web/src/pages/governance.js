// Governance: the approval board's policies (GET /api/v1/governance/policies), the decisions
// waiting for approvals (GET /api/v1/governance/pending: what each needs, who approved so far),
// the board's recent approvals (GET /api/v1/governance/approvals) and the audit trail
// (GET /api/v1/audit, paged by after_seq/limit) with its hash-chain verification
// (GET /api/v1/audit/verify) as a badge. Reading the audit needs read_audit on '*': a caller
// without it sees a notice instead.
// Action, shown only when whoami's permissions allow the decision's approval permission on the
// global scope: approve a pending decision in a role (POST /api/v1/governance/approvals), after
// a confirmation; the server's refusal is shown as it says it.

import { api, ApiError, may } from '../api.js';
import { ago, clear, fmtTime, h } from '../dom.js';
import { confirmAction, failure, globalRoles, lastAction } from './models.js';
import './models_governance.css';

const DECISION_TITLE = {
  model_promotion: 'Model promotion',
  firmware_release: 'Firmware release',
  control_write_mode: 'Control write mode',
};
const SOURCE_TITLE = { board: 'the approval board', model_registry: 'the model registry', control: 'the control service' };
const AUDIT_PAGE = 25;
const RECENT_APPROVALS = 25;
const DECISION_STATE = { allow: 'ok', done: 'ok', deny: 'alert', error: 'bad' };

export function render(page, who) {
  let gone = false;
  const chain = h('span', { id: 'chain', class: 'badge', 'data-verified': 'unknown' }, 'audit chain: checking…');
  const flash = lastAction();
  const pendingBox = h('div', { id: 'pending' }, h('p', { class: 'muted' }, 'Loading…'));
  const policiesBox = h('div', { id: 'policies' });
  const approvalsBox = h('div', { id: 'recent-approvals' });
  const auditBox = h('div', { id: 'audit' }, h('p', { class: 'muted' }, 'Loading…'));
  page.append(h('section', {},
    h('div', { class: 'title-row' }, h('h1', {}, 'Governance'), chain), flash,
    h('div', { class: 'card' }, h('h2', {}, 'Pending decisions'),
      h('p', { class: 'muted' }, 'Decisions with some but not all of the approvals their policy requires, and requested ones.'),
      pendingBox),
    h('div', { class: 'card' }, h('h2', {}, 'Policies'), policiesBox),
    h('div', { class: 'card' }, h('h2', {}, 'Recent approvals'),
      h('p', { class: 'muted' }, 'Approvals kept by the board (firmware releases). Model and control approvals are kept where ' +
        'they act: see each model\'s version page.'),
      approvalsBox),
    h('div', { class: 'card' }, h('div', { class: 'title-row' }, h('h2', {}, 'Audit trail')), auditBox)));

  let policies = null; // decision -> policy
  let audit = { last: null, after: 0 };

  async function loadPolicies() {
    try {
      const res = await api('/api/v1/governance/policies');
      policies = new Map((res.policies || []).map((p) => [p.decision, p]));
    } catch (e) {
      policies = null;
      if (!gone) clear(policiesBox).append(failure(e, 'the policies', 'policies'));
      return;
    }
    if (gone) return;
    clear(policiesBox).append(h('table', { class: 'data policies' },
      h('thead', {}, h('tr', {}, ['Decision', 'Approved by (each a different principal)', 'An approval is valid for', 'Approvers need'].map((t) => h('th', {}, t)))),
      h('tbody', {}, [...policies.values()].map((p) => h('tr', { 'data-decision': p.decision },
        h('th', { scope: 'row' }, DECISION_TITLE[p.decision] || p.decision, h('div', { class: 'muted small' }, p.decision)),
        h('td', {}, p.roles.join(', ')),
        h('td', {}, p.valid_for),
        h('td', {}, `${p.permission} on '*'`))))));
  }

  function roleLine(st, role) {
    const principal = st.filled_roles ? st.filled_roles[role] : undefined;
    if (!principal) {
      return h('li', { 'data-role': role, 'data-filled': 'false' },
        h('span', { class: 'badge state-bad' }, 'missing'), ' ', h('strong', {}, role), h('span', { class: 'muted' }, ': not approved yet'));
    }
    const a = (st.approvals || []).find((x) => x.role === role && x.principal === principal);
    return h('li', { 'data-role': role, 'data-filled': 'true' },
      h('span', { class: 'badge state-ok' }, 'approved'), ' ', h('strong', {}, role), `: ${principal}`,
      a ? h('span', { class: 'muted' }, ` · ${ago(a.approved_at)}${a.expires_at ? `, valid until ${fmtTime(a.expires_at)}` : ''}${a.note ? ` · “${a.note}”` : ''}`) : null);
  }

  function subjectLink(st) {
    if (st.decision === 'model_promotion') {
      const [model, version] = st.subject.split('/');
      if (model && version) return h('a', { href: `#/models/${encodeURIComponent(model)}/${encodeURIComponent(version)}` }, `${model} v${version}`);
    }
    return h('code', {}, st.subject);
  }

  function approveForm(st) {
    const policy = policies && policies.get(st.decision);
    if (!policy || !may(who, policy.permission, 'global')) return null;
    const held = globalRoles(who);
    const order = [...st.missing_roles, ...policy.roles.filter((r) => !st.missing_roles.includes(r))];
    const role = h('select', { class: 'approve-role' }, order.map((r) => h('option', { value: r }, r)));
    const mine = order.find((r) => held.includes(r) && st.missing_roles.includes(r)) || order.find((r) => held.includes(r));
    if (mine) role.value = mine;
    const note = h('input', { type: 'text', class: 'approve-note', maxlength: 1000, placeholder: 'note (optional)', size: 32 });
    return h('div', { class: 'action-form' },
      h('label', {}, 'Approve as ', role), ' ', note, ' ',
      confirmAction({
        action: 'approve-decision',
        label: 'Approve…',
        question: () => `Approve ${DECISION_TITLE[st.decision] || st.decision} of ${st.subject} as ${role.value}? It is recorded with your name and audited.`,
        run: async () => {
          const body = { decision: st.decision, subject: st.subject, role: role.value };
          if (note.value) body.note = note.value;
          const r = await api('/api/v1/governance/approvals', { method: 'POST', body });
          const missing = r.state ? r.state.missing_roles : r.approval.missing_roles || [];
          return `${st.decision} of ${st.subject} approved as ${role.value}` +
            (missing.length ? `; still needs ${missing.join(', ')}.` : '; it now has every approval it needs.');
        },
        done: (message) => {
          flash.show(message);
          loadPending();
          loadApprovals();
          loadAudit(true);
        },
      }),
      mine ? null : h('p', { class: 'muted small' },
        `You hold none of ${policy.roles.join(', ')} on '*' (${held.join(', ') || 'no global role'}): an approval is given in a role one holds.`));
  }

  async function loadPending() {
    let res;
    try {
      res = await api('/api/v1/governance/pending');
    } catch (e) {
      if (!gone) clear(pendingBox).append(failure(e, 'the pending decisions', 'pending'));
      return;
    }
    if (gone) return;
    clear(pendingBox);
    const pending = res.pending || [];
    pendingBox.dataset.count = String(pending.length);
    if (pending.length === 0) {
      pendingBox.append(h('p', { class: 'notice', id: 'no-pending' }, 'Nothing is waiting for approval.'));
      return;
    }
    for (const st of pending) {
      const filled = new Set(Object.values(st.filled_roles || {}));
      const extra = (st.approvals || []).filter((a) => !(st.filled_roles && st.filled_roles[a.role] === a.principal) && !filled.has(a.principal));
      pendingBox.append(h('article', { class: 'decision', 'data-decision': st.decision, 'data-subject': st.subject, 'data-source': st.source, 'data-missing': st.missing_roles.join(',') },
        h('header', {},
          h('h3', {}, DECISION_TITLE[st.decision] || st.decision), subjectLink(st),
          h('span', { class: 'badge state-bad' }, `needs ${st.missing_roles.join(', ')}`),
          h('span', { class: 'muted small' }, `kept by ${SOURCE_TITLE[st.source] || st.source}`)),
        st.request ? h('p', { class: 'request' }, `Requested by ${st.request.requested_by} ${ago(st.request.requested_at)}`,
          st.request.note ? `: “${st.request.note}”` : '') : null,
        h('ul', { class: 'roles' }, st.required_roles.map((r) => roleLine(st, r))),
        extra.length ? h('p', { class: 'muted small' }, `Other approvals (not filling a required role): ${extra.map((a) => `${a.principal} as ${a.role}`).join(', ')}`) : null,
        approveForm(st)));
    }
  }

  async function loadApprovals() {
    let res;
    try {
      res = await api('/api/v1/governance/approvals');
    } catch (e) {
      if (!gone) clear(approvalsBox).append(failure(e, 'the approvals', 'approvals'));
      return;
    }
    if (gone) return;
    const list = (res.approvals || []).slice(0, RECENT_APPROVALS);
    clear(approvalsBox);
    if (list.length === 0) {
      approvalsBox.append(h('p', { class: 'muted', id: 'no-approvals' }, 'No approvals on the board yet.'));
      return;
    }
    const now = Date.now();
    approvalsBox.append(h('table', { class: 'data approvals' },
      h('thead', {}, h('tr', {}, ['When', 'Decision', 'Subject', 'Role', 'Principal', 'Note', 'Valid'].map((t) => h('th', {}, t)))),
      h('tbody', {}, list.map((a) => {
        const expired = a.expires_at && Date.parse(a.expires_at) <= now;
        return h('tr', { 'data-approval': a.id, 'data-decision': a.decision },
          h('td', { title: a.approved_at }, `${fmtTime(a.approved_at)} (${ago(a.approved_at)})`),
          h('td', {}, DECISION_TITLE[a.decision] || a.decision),
          h('td', {}, h('code', {}, a.subject)),
          h('td', {}, a.role), h('td', {}, a.principal),
          h('td', {}, a.note || h('span', { class: 'muted' }, '—')),
          h('td', { class: expired ? 'muted' : 'ok-text' }, a.expires_at ? (expired ? `expired ${fmtTime(a.expires_at)}` : `until ${fmtTime(a.expires_at)}`) : '—'));
      }))));
    if ((res.approvals || []).length > list.length) approvalsBox.append(h('p', { class: 'muted' }, `The newest ${list.length} of ${res.approvals.length}.`));
  }

  function showChain(r) {
    chain.dataset.verified = r.ok ? 'true' : 'false';
    chain.dataset.lastSeq = String(r.last_seq);
    chain.dataset.records = String(r.records);
    chain.className = `badge ${r.ok ? 'chain-ok' : 'chain-bad'}`;
    chain.title = r.summary || '';
    chain.textContent = r.ok
      ? `audit chain verified · ${r.records} records${r.torn_tail ? ' (a torn last line)' : ''}`
      : `audit chain BROKEN at seq ${r.first_bad_seq} (line ${r.first_bad_line}): ${r.problem}`;
  }

  function detailText(d) {
    if (!d || typeof d !== 'object') return '';
    const parts = [];
    if (d.reason) parts.push(d.reason);
    for (const [k, v] of Object.entries(d)) {
      if (k === 'reason') continue;
      parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
    const text = parts.join(' · ');
    return text.length > 240 ? `${text.slice(0, 240)}…` : text;
  }

  function auditTable(records, more) {
    const first = records.length ? records[0].seq : audit.after;
    const last = records.length ? records[records.length - 1].seq : audit.after;
    const total = audit.last;
    const older = h('button', { type: 'button', id: 'audit-older', disabled: audit.after <= 0 }, '← Older');
    const newer = h('button', { type: 'button', id: 'audit-newer', disabled: !more }, 'Newer →');
    const newest = h('button', { type: 'button', id: 'audit-newest', disabled: !more }, 'Newest');
    older.addEventListener('click', () => pageAudit(Math.max(0, audit.after - AUDIT_PAGE)));
    newer.addEventListener('click', () => pageAudit(audit.after + AUDIT_PAGE));
    newest.addEventListener('click', () => loadAudit(true));
    const pager = h('div', { class: 'pager' }, older, newer, newest,
      h('span', { class: 'muted', id: 'audit-range' }, records.length
        ? `records ${first}–${last}${total ? ` of ${total}` : ''}, newest first`
        : 'no records in this range'));
    if (records.length === 0) return h('div', {}, pager);
    return h('div', {}, pager, h('div', { class: 'scroll-x' }, h('table', { class: 'data audit', 'data-first': first, 'data-last': last },
      h('thead', {}, h('tr', {}, ['Seq', 'When', 'Principal', 'Action', 'Resource', 'Decision', 'Detail', 'Hash'].map((t) => h('th', {}, t)))),
      h('tbody', {}, [...records].reverse().map((r) => h('tr', { 'data-seq': r.seq, 'data-decision': r.decision, class: r.decision === 'deny' ? 'alert' : null },
        h('td', { class: 'num' }, String(r.seq)),
        h('td', { title: r.ts }, fmtTime(r.ts)),
        h('td', {}, r.principal),
        h('td', {}, r.action),
        h('td', {}, h('code', {}, r.resource)),
        h('td', {}, h('span', { class: `badge state-${DECISION_STATE[r.decision] || 'stale'}` }, r.decision)),
        h('td', { class: 'detail', title: JSON.stringify(r.detail, null, 1) }, h('div', { class: 'clip' }, detailText(r.detail))),
        h('td', {}, h('code', { class: 'hash', title: `hash ${r.hash}\nprev ${r.prev}` }, `${String(r.hash).slice(0, 10)}…`))))))));
  }

  async function pageAudit(after) {
    let res;
    try {
      res = await api(`/api/v1/audit?after_seq=${after}&limit=${AUDIT_PAGE}`);
    } catch (e) {
      if (!gone) clear(auditBox).append(failure(e, 'the audit trail', 'audit'));
      return;
    }
    if (gone) return;
    audit.after = after;
    clear(auditBox).append(auditTable(res.records || [], !!res.more));
    if (res.unreadable_lines) auditBox.append(h('p', { class: 'error' }, `${res.unreadable_lines} unreadable lines were skipped.`));
  }

  // Verifies the chain, then shows its newest page (`newest`) or the page already shown.
  async function loadAudit(newest) {
    try {
      const r = await api('/api/v1/audit/verify');
      if (gone) return;
      showChain(r);
      audit.last = r.last_seq;
    } catch (e) {
      if (gone) return;
      if (e instanceof ApiError && e.status === 403) {
        chain.remove();
        clear(auditBox).append(failure(e, 'the audit trail: reading it needs read_audit on \'*\' (security_lead or admin)', 'audit'));
        return;
      }
      chain.className = 'badge chain-bad';
      chain.dataset.verified = 'error';
      chain.textContent = `audit chain not verified: ${e.message}`;
      audit.last = null;
    }
    const after = newest || audit.last === null ? Math.max(0, (audit.last || 0) - AUDIT_PAGE) : audit.after;
    await pageAudit(after);
  }

  (async () => {
    await loadPolicies();
    loadPending();
  })();
  loadApprovals();
  loadAudit(true);
  return () => {
    gone = true;
  };
}
