// The asset page's Predictions section (issue 11): per model a chart of the predictions over the
// page's range with the threshold and the physics guard's flags, the latest value with its trust
// (the newest monitoring window's score and level), and the twin residuals of the monitoring
// windows. Compared with what the API returns for the same asset and range.
//
//   import * as assetPredictions from './pages/asset_predictions.mjs';
//   await assetPredictions.admin(page, t);   // page on #/asset/<a motor>, signed in

// What the routes return for the asset over [from, to) (the page's own range).
async function fromApi(t, asset, from, to) {
  const a = encodeURIComponent(asset);
  const p = await t.call('GET', `/api/v1/predictions?asset=${a}&from=${from}&to=${to}&limit=5000`, t.adminToken);
  const m = await t.call('GET', `/api/v1/monitoring?asset=${a}&limit=500`, t.adminToken);
  if (p.status !== 200) throw new Error(`predictions: ${p.status} ${JSON.stringify(p.json)}`);
  if (m.status !== 200) throw new Error(`monitoring: ${m.status} ${JSON.stringify(m.json)}`);
  return { predictions: p.json.predictions, windows: m.json.windows };
}

export async function admin(page, t) {
  await t.step('the asset page shows its predictions', async () => {
    await page.waitForSelector('#predictions[data-state="ready"], #predictions[data-state="error"]', { timeout: 30000 });
    const state = await page.getAttribute('#predictions', 'data-state');
    if (state !== 'ready') {
      t.check('the asset page reads its predictions', false, await page.textContent('#predictions'));
      return;
    }
    const asset = await page.getAttribute('section[data-asset]', 'data-asset');
    const d = await page.$eval('#predictions', (e) => ({ ...e.dataset }));
    const points = Number(d.points);
    const flagged = Number(d.flagged);
    const api = await fromApi(t, asset, d.from, d.to);
    // The page read [from, to) before the test did: rows may have landed since, none gone.
    const apiFlagged = api.predictions.filter((p) => p.flagged).length;
    t.check(`the predictions on the page are the API's for ${asset} (${points} of ${api.predictions.length}, ${flagged} flagged of ${apiFlagged})`,
      points <= api.predictions.length && flagged <= apiFlagged && (points > 0 || api.predictions.length <= 2));
    if (points > 0) {
      const charts = await page.$$eval('#predictions .prediction-model[data-points]:not([data-points="0"]) canvas', (els) => els.map((c) => c.width));
      const perModel = await page.$$eval('#predictions .prediction-model', (els) => els.map((e) => [e.dataset.model, Number(e.dataset.points), Number(e.dataset.flagged)]));
      const sum = perModel.reduce((s, [, n]) => s + n, 0);
      t.check(`each model with predictions has a chart (${perModel.map(([m, n, f]) => `${m}: ${n}, ${f} flagged`).join('; ')})`,
        charts.length > 0 && charts.every((w) => w > 100) && sum === points);
      const latest = await page.textContent('#predictions .prediction-model .latest');
      t.check(`the latest prediction is shown (${latest.trim()})`, /^latest \S+ at /.test(latest.trim()));
    } else {
      const empty = await page.textContent('#no-predictions');
      t.check(`no predictions in the range reads well (${empty})`, /^No predictions for this asset in the range/.test(empty));
    }
  });

  await t.step('the asset page shows its trust and twin residuals', async () => {
    const asset = await page.getAttribute('section[data-asset]', 'data-asset');
    const d = await page.$eval('#predictions', (e) => ({ ...e.dataset }));
    const api = await fromApi(t, asset, d.from, d.to);
    await page.waitForSelector('#monitoring, #no-monitoring');
    await t.shot(page, 'asset-predictions');
    if (api.windows.length === 0) {
      const text = await page.textContent('#no-monitoring');
      t.check(`no monitoring windows reads well (${text})`, /^No monitoring windows for this asset/.test(text));
      return;
    }
    const rows = await page.$$eval('#monitoring tbody tr', (els) => els.map((r) => ({ ...r.dataset })));
    const listed = Number(await page.getAttribute('#monitoring', 'data-windows'));
    const newest = api.windows[0];
    t.check(`the twin residuals list the monitoring windows, newest first (${rows.length} shown of ${listed}, API ${api.windows.length}; newest ends ${rows[0]?.end})`,
      listed === api.windows.length && rows.length === Math.min(listed, 12) && rows[0].end === newest.end && rows[0].level === newest.level);
    const thermal = newest.checks.find((c) => c.check === 'thermal_degradation' && c.statistic === 'residual_mean');
    if (thermal) {
      const shown = await page.textContent('#monitoring tbody tr:first-child td[data-statistic="residual_mean"]');
      t.check(`the newest window's thermal residual mean is shown (${shown} = ${thermal.value})`, Math.abs(Number(shown) - thermal.value) < 0.01 * Math.max(1, Math.abs(thermal.value)));
    }
    // The trust of each model shown: its newest window's score and level.
    const badges = await page.$$eval('#predictions .prediction-model', (els) => els.map((e) => [e.dataset.model, e.querySelector('.trust')?.textContent || '']));
    const wrong = badges.filter(([model, text]) => {
      const w = api.windows.find((x) => x.model === model);
      return w ? text !== `trust: ${w.score.toFixed(2)} (${w.level})` : text !== 'trust: not monitored';
    });
    t.check(`each model shows its trust (${badges.map(([m, x]) => `${m} ${x}`).join('; ')})`, badges.length > 0 && wrong.length === 0,
      JSON.stringify(wrong));
    if (listed > rows.length) {
      await page.click('#monitoring-all');
      const all = await page.$$eval('#monitoring tbody tr', (els) => els.length);
      t.check(`"Show all" lists every window (${all})`, all === listed);
    }
  });
}
