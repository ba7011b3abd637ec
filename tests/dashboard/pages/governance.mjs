// Browser checks of the governance page (#/governance), run by ../dashboard_test.mjs with the page
// signed in and on #/governance. What the page shows is compared with the API's answers.
//   admin:  the policies; every pending decision with the roles it still needs and who approved;
//           an approval in a role the admin does not hold refused as the server says; the audit
//           trail's newest page with the verified-chain badge, and its paging.
//   viewer: the pending decisions without an action, and a calm notice instead of the audit.

async function api(t, route) {
  const r = await t.call('GET', route, t.adminToken);
  if (r.status !== 200) throw new Error(`GET ${route}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

async function checkPending(page, t, who) {
  const { pending } = await api(t, '/api/v1/governance/pending');
  await page.waitForSelector('#pending article.decision, #no-pending');
  const shown = await page.$$eval('#pending article.decision', (els) => els.map((e) => ({
    decision: e.dataset.decision, subject: e.dataset.subject, missing: e.dataset.missing,
    filled: [...e.querySelectorAll('li[data-filled="true"]')].map((li) => li.dataset.role),
  })));
  const agree = pending.length === shown.length && pending.every((p) => shown.some((s) =>
    s.decision === p.decision && s.subject === p.subject && s.missing === p.missing_roles.join(',') &&
    s.filled.length === Object.keys(p.filled_roles).length));
  t.check(`${who}: governance lists the ${shown.length} pending decision(s) with what each needs ` +
    `(${shown.map((s) => `${s.decision} ${s.subject} needs ${s.missing}`).join('; ')})`, shown.length >= 1 && agree);
  return pending;
}

export async function admin(page, t) {
  const { check, step } = t;
  await step('governance: policies', async () => {
    const { policies } = await api(t, '/api/v1/governance/policies');
    await page.waitForSelector('#policies tr[data-decision]');
    const shown = await page.$$eval('#policies tr[data-decision]', (els) => els.map((e) => e.dataset.decision));
    check(`admin: governance lists the ${shown.length} policies`, shown.length === policies.length && policies.every((p) => shown.includes(p.decision)));
  });
  let pending = [];
  await step('governance: pending decisions', async () => {
    pending = await checkPending(page, t, 'admin');
  });
  await step('governance: an approval the server refuses', async () => {
    const board = pending.find((p) => p.source === 'board') || pending[0];
    if (!board) return;
    const article = `#pending article.decision[data-subject="${board.subject}"][data-decision="${board.decision}"]`;
    await page.click(`${article} [data-action="approve-decision"]`);
    await page.click(`${article} [data-action="approve-decision-confirm"]`);
    await page.waitForFunction((a) => document.querySelector(`${a} [data-result="approve-decision"]`)?.dataset.outcome, article);
    const r = await page.$eval(`${article} [data-result="approve-decision"]`, (e) => [e.dataset.outcome, e.textContent]);
    // The admin holds the approval permission but none of the policy's roles (the page preselects
    // the first missing role: "no grant of role ... is held by 'admin'").
    check(`admin: approving ${board.decision} of ${board.subject} without a required role is refused as the server says (${r[1]})`,
      r[0] === 'refused-403' && /^Refused: .*(holds none|no grant of role)/.test(r[1]));
  });
  await step('governance: the audit trail', async () => {
    await page.waitForSelector('#chain[data-verified="true"], #chain[data-verified="false"]');
    const chain = await page.$eval('#chain', (e) => ({ verified: e.dataset.verified, last: Number(e.dataset.lastSeq), text: e.textContent }));
    const verify = await api(t, '/api/v1/audit/verify');
    check(`admin: the audit chain's badge says it is verified (${chain.text})`, chain.verified === 'true' && verify.ok && chain.last <= verify.last_seq);
    await page.waitForSelector('#audit tr[data-seq]');
    const seqs = await page.$$eval('#audit tr[data-seq]', (els) => els.map((e) => Number(e.dataset.seq)));
    // The newest page: after_seq = last - page size, so its first row (newest first) is the verified last seq.
    check(`admin: the audit trail's newest page lists records ${seqs[seqs.length - 1]}..${seqs[0]}, newest first`,
      seqs.length >= 1 && seqs[0] === chain.last && seqs.every((s, i) => i === 0 || s === seqs[i - 1] - 1));
    const records = (await api(t, `/api/v1/audit?after_seq=${seqs[0] - 1}&limit=1`)).records;
    const row = await page.$eval(`#audit tr[data-seq="${seqs[0]}"]`, (e) => [...e.children].map((c) => c.textContent));
    check(`admin: an audit row shows its record (${row.slice(2, 6).join(' · ')})`,
      records.length === 1 && row[2] === records[0].principal && row[3] === records[0].action && row[5] === records[0].decision);
    if (seqs[seqs.length - 1] > 1) {
      await page.click('#audit-older');
      await page.waitForFunction((low) => Number(document.querySelector('#audit tr[data-seq]')?.dataset.seq) < low, seqs[seqs.length - 1]);
      const older = await page.$$eval('#audit tr[data-seq]', (els) => els.map((e) => Number(e.dataset.seq)));
      check(`admin: the audit trail pages to older records (${older[older.length - 1]}..${older[0]})`, older[0] === seqs[seqs.length - 1] - 1);
      await page.click('#audit-newest');
      await page.waitForFunction((top) => Number(document.querySelector('#audit tr[data-seq]')?.dataset.seq) >= top, seqs[0]);
    }
  });
}

export async function viewer(page, t) {
  const { check, step } = t;
  await step('governance: the viewer\'s pending decisions', async () => {
    await checkPending(page, t, 'viewer');
  });
  await step('governance: the viewer is refused the audit', async () => {
    await page.waitForSelector('#audit [data-denied="audit"]');
    const text = await page.textContent('#audit [data-denied="audit"]');
    check(`viewer: a calm notice replaces the audit trail ("${text.slice(0, 70)}…")`,
      /may not see the audit trail/.test(text) && !(await page.$('#audit tr[data-seq]')) && !(await page.$('#chain')) &&
      !(await page.$('#audit .error')));
  });
}
