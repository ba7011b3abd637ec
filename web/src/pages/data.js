// Data: the catalog's signals with their tags (GET /api/v1/catalog/signals?tag=key=value,...),
// the views (GET /api/v1/views) and a view's rows over a chosen range downloaded as CSV or
// Parquet (GET /api/v1/views/{name}/query?from=&to=&format=; fetched with the token, then saved
// from an object URL). The catalog lists only the signals the caller may read at their place
// (restricted ones need a grant for their tag); an export needs export_data, so callers without
// it see a notice instead of the download form (the server refuses it anyway).

import { api, ApiError, authHeaders, iso, may } from '../api.js';
import { clear, fmtTime, h } from '../dom.js';
import './fleet_value_data.css';

const CATALOG_ROWS = 300;
// Tags shown as columns of their own or already in the place column.
const PLACE_TAGS = new Set(['site', 'area', 'line', 'asset', 'signal', 'unit', 'quantity']);
const RANGES = [['15m', 'last 15 min', 15 * 60e3], ['1h', 'last hour', 3600e3], ['24h', 'last 24 hours', 24 * 3600e3]];

export function render(page, who, args, params) {
  const tagInput = h('input', { id: 'tag-filter', type: 'search', size: 40, list: 'tag-suggestions', placeholder: 'e.g. asset_type=motor,quantity=temperature', value: params.get('tag') || '' });
  const suggestions = h('datalist', { id: 'tag-suggestions' });
  const applyTag = h('button', { type: 'submit', id: 'tag-apply' }, 'Filter');
  const clearTag = h('button', { type: 'button', id: 'tag-clear' }, 'Clear');
  const catalogNote = h('span', { class: 'muted', id: 'catalog-count' });
  const catalogBox = h('div', { id: 'catalog', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const viewsBox = h('div', { id: 'views', 'data-state': 'loading' }, h('p', { class: 'muted' }, 'Loading…'));
  const downloadBox = h('div', { id: 'download', 'data-state': 'loading' });

  page.append(h('section', { class: 'fvd' },
    h('div', { class: 'title-row' }, h('h1', {}, 'Data'), h('span', { class: 'muted' }, 'the catalog, its tags, and the views you can query or download')),
    h('div', { class: 'card' },
      h('div', { class: 'title-row' }, h('h2', {}, 'Catalog: signals and their tags'), catalogNote),
      h('form', { class: 'controls', id: 'tag-form' }, h('label', {}, 'Tags ', tagInput), suggestions, applyTag, clearTag,
        h('span', { class: 'muted small' }, 'key=value pairs, comma-separated, all must hold; click a tag below to add it')),
      catalogBox),
    h('div', { class: 'card' }, h('h2', {}, 'Views'), viewsBox),
    h('div', { class: 'card' }, h('h2', {}, 'Download a view'), downloadBox)));

  let gone = false;
  let objectUrl = null;
  let showAll = false;
  let signals = [];
  let catalogSeq = 0;

  function refusal(box, e, what, permission) {
    box.dataset.state = e instanceof ApiError && e.status === 403 ? 'forbidden' : 'error';
    clear(box).append(e instanceof ApiError && e.status === 403
      ? h('p', { class: 'notice', 'data-forbidden': what }, `You may not see ${what}: your grants do not include ${permission}.`)
      : h('p', { class: 'error' }, `Cannot read ${what}: ${e.message}`));
  }

  // --- catalog -------------------------------------------------------------------------------
  async function loadCatalog() {
    const seq = ++catalogSeq;
    const tag = tagInput.value.trim().replace(/\s*,\s*/g, ',').replace(/\s*=\s*/g, '=');
    catalogBox.dataset.state = 'loading';
    let res;
    try {
      res = await api(`/api/v1/catalog/signals${tag ? `?tag=${encodeURIComponent(tag)}` : ''}`);
    } catch (e) {
      if (gone || seq !== catalogSeq) return;
      catalogNote.textContent = '';
      if (e instanceof ApiError && e.status === 400) {
        catalogBox.dataset.state = 'invalid';
        clear(catalogBox).append(h('p', { class: 'error' }, `That filter does not parse: ${e.message}`));
        return;
      }
      refusal(catalogBox, e, 'the catalog', 'read_catalog');
      return;
    }
    if (gone || seq !== catalogSeq) return;
    signals = res.signals.sort((a, b) => `${a.site}/${a.line}/${a.asset}/${a.signal}`.localeCompare(`${b.site}/${b.line}/${b.asset}/${b.signal}`));
    catalogBox.dataset.filter = tag;
    if (!tag) suggest(signals);
    history.replaceState(null, '', tag ? `#/data?tag=${encodeURIComponent(tag)}` : '#/data');
    renderCatalog(tag);
  }

  // The most common key=value pairs (other than places) as the filter's suggestions.
  function suggest(list) {
    const counts = new Map();
    for (const s of list) {
      for (const [k, v] of Object.entries(s.tags || {})) {
        if (k === 'asset' || k === 'signal') continue;
        const kv = `${k}=${v}`;
        counts.set(kv, (counts.get(kv) || 0) + 1);
      }
    }
    clear(suggestions);
    for (const [kv] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 200)) suggestions.append(h('option', { value: kv }));
  }

  function renderCatalog(tag) {
    clear(catalogBox);
    catalogBox.dataset.state = 'ready';
    catalogBox.dataset.signals = String(signals.length);
    const assets = new Set(signals.map((s) => s.asset));
    catalogNote.textContent = `${signals.length} signals of ${assets.size} assets${tag ? ` with ${tag}` : ''}`;
    if (signals.length === 0) {
      catalogBox.append(h('p', { class: 'muted empty', id: 'no-signals' }, tag
        ? `No signal you may read has ${tag}.`
        : 'No signal you may read in the catalog yet: signals are recorded as the ingest sees them.'));
      return;
    }
    const shown = showAll ? signals : signals.slice(0, CATALOG_ROWS);
    // Per asset: a row with its place and the tags all its signals share, then one row per
    // signal with its unit, quantity and the tags of its own.
    const byAsset = new Map();
    for (const s of shown) {
      if (!byAsset.has(s.asset)) byAsset.set(s.asset, []);
      byAsset.get(s.asset).push(s);
    }
    const body = h('tbody', {});
    for (const [asset, list] of byAsset) {
      const first = list[0];
      const common = Object.entries(first.tags || {}).filter(([k, v]) => !PLACE_TAGS.has(k) && list.every((x) => (x.tags || {})[k] === v))
        .sort(([a], [b]) => a.localeCompare(b));
      const shared = new Set(common.map(([k]) => k));
      body.append(h('tr', { class: 'asset-row', 'data-asset': asset },
        h('td', { colspan: 3 }, h('strong', {}, asset), ' ',
          h('span', { class: 'muted small' }, [first.site, first.area, first.line].filter(Boolean).join(' / ') || '(no place)'),
          h('span', { class: 'muted small' }, ` · ${list.length} signal${list.length > 1 ? 's' : ''}`)),
        h('td', { class: 'tags' }, common.map(([k, v]) => tagChip(k, v)))));
      for (const x of list) {
        const t = x.tags || {};
        const own = Object.entries(t).filter(([k]) => !PLACE_TAGS.has(k) && !shared.has(k)).sort(([a], [b]) => a.localeCompare(b));
        body.append(h('tr', { class: 'signal-row', 'data-asset': asset, 'data-signal': x.signal,
          'data-tags': Object.entries(t).map(([k, v]) => `${k}=${v}`).join(';') },
        h('td', {}, x.signal),
        h('td', {}, t.unit || '—'),
        h('td', {}, t.quantity || '—'),
        h('td', { class: 'tags' }, own.map(([k, v]) => tagChip(k, v)))));
      }
    }
    catalogBox.append(h('table', { class: 'grid', id: 'catalog-table' },
      h('thead', {}, h('tr', {}, ['Signal', 'Unit', 'Quantity', 'Tags (on the asset\'s row: shared by all its signals)'].map((x) => h('th', {}, x)))), body));
    if (shown.length < signals.length) {
      catalogBox.append(h('p', { class: 'muted' }, `${shown.length} of ${signals.length} shown. `,
        h('button', { type: 'button', class: 'link', onclick: () => { showAll = true; renderCatalog(tag); } }, 'Show all')));
    }
  }

  function tagChip(k, v) {
    const restricted = k === 'sensitivity' && v !== 'public' && v !== 'internal';
    return h('button', {
      type: 'button', class: `tag${restricted ? ' restricted' : ''}`, 'data-tag': `${k}=${v}`, title: `filter on ${k}=${v}`,
      onclick: () => {
        const parts = tagInput.value.split(',').map((x) => x.trim()).filter(Boolean).filter((x) => !x.startsWith(`${k}=`));
        parts.push(`${k}=${v}`);
        tagInput.value = parts.join(',');
        showAll = false;
        loadCatalog();
      },
    }, h('span', { class: 'k' }, k), '=', h('span', { class: 'v' }, v));
  }

  // --- views ---------------------------------------------------------------------------------
  async function loadViews() {
    let views;
    try {
      views = (await api('/api/v1/views')).views;
    } catch (e) {
      if (!gone) {
        refusal(viewsBox, e, 'the views', 'read_catalog');
        clear(downloadBox);
        downloadBox.dataset.state = viewsBox.dataset.state;
      }
      return;
    }
    if (gone) return;
    clear(viewsBox);
    viewsBox.dataset.state = 'ready';
    viewsBox.dataset.views = String(views.length);
    if (views.length === 0) {
      viewsBox.append(h('p', { class: 'muted empty' }, 'No views declared: weft-core reads them from its --views file.'));
    } else {
      viewsBox.append(h('table', { class: 'grid', id: 'views-table' },
        h('thead', {}, h('tr', {}, ['View', 'Description', 'Asset types', 'Period', 'Columns', 'Rows'].map((x) => h('th', {}, x)))),
        h('tbody', {}, views.map((v) => h('tr', { 'data-view': v.name },
          h('td', {}, h('strong', {}, v.name)),
          h('td', {}, v.description || ''),
          h('td', {}, (v.asset_types || []).join(', ') || 'any'),
          h('td', {}, v.period),
          h('td', { class: 'columns-cell' }, v.signals.map((s) => h('span', { class: 'column', title: `${s.signal} → ${s.column}: ${s.agg} per period, in ${s.unit}` },
            h('strong', {}, s.column), ` ${s.unit} · ${s.agg}${s.signal !== s.column ? ` (${s.signal})` : ''}`))),
          h('td', { class: 'muted small' }, `${v.good_only ? 'good quality only' : 'any quality'}; gaps: ${v.fill}`))))));
    }
    renderDownload(views);
  }

  // --- download ------------------------------------------------------------------------------
  function renderDownload(views) {
    clear(downloadBox);
    if (!may(who, 'export_data')) {
      downloadBox.dataset.state = 'forbidden';
      downloadBox.append(h('p', { class: 'notice', 'data-forbidden': 'export' },
        'You may not download views: exporting data needs the export_data permission, which your grants do not include. You can still read the catalog and the views above.'));
      return;
    }
    if (views.length === 0) {
      downloadBox.dataset.state = 'empty';
      downloadBox.append(h('p', { class: 'muted' }, 'No view to download.'));
      return;
    }
    downloadBox.dataset.state = 'ready';
    const viewSel = h('select', { id: 'download-view' }, views.map((v) => h('option', { value: v.name }, `${v.name} (${v.period})`)));
    const assetSel = h('select', { id: 'download-asset' }, h('option', { value: '' }, 'all assets'));
    for (const a of [...new Set(signals.map((s) => s.asset))].sort()) assetSel.append(h('option', { value: a }, a));
    const rangeSel = h('select', { id: 'download-range' }, RANGES.map(([k, label]) => h('option', { value: k }, label)), h('option', { value: 'custom' }, 'custom…'));
    rangeSel.value = '1h';
    const fromIn = h('input', { id: 'download-from', type: 'datetime-local', step: 1 });
    const toIn = h('input', { id: 'download-to', type: 'datetime-local', step: 1 });
    const custom = h('span', { hidden: true }, ' from ', fromIn, ' to ', toIn);
    const csv = h('input', { type: 'radio', name: 'format', value: 'csv', id: 'format-csv', checked: true });
    const parquet = h('input', { type: 'radio', name: 'format', value: 'parquet', id: 'format-parquet' });
    const go = h('button', { type: 'submit', id: 'download-go', 'data-download': '' }, 'Download');
    const result = h('p', { id: 'download-result', role: 'status', 'data-state': 'idle' });
    const about = h('p', { class: 'muted small', id: 'download-about' });
    const describe = () => {
      const v = views.find((x) => x.name === viewSel.value);
      about.textContent = v ? `${v.description || v.name}: ts, asset, ${v.signals.map((s) => s.column).join(', ')}; one row per asset and ${v.period}.` : '';
    };
    describe();
    viewSel.addEventListener('change', describe);
    rangeSel.addEventListener('change', () => {
      custom.hidden = rangeSel.value !== 'custom';
      if (rangeSel.value === 'custom' && !fromIn.value) {
        fromIn.value = localInput(Date.now() - 3600e3);
        toIn.value = localInput(Date.now());
      }
    });
    const form = h('form', { id: 'download-form', class: 'controls' },
      h('label', {}, 'View ', viewSel), h('label', {}, 'Asset ', assetSel), h('label', {}, 'Range ', rangeSel), custom,
      h('span', { class: 'formats' }, h('label', {}, csv, ' CSV'), h('label', {}, parquet, ' Parquet')), go);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let from;
      let to;
      if (rangeSel.value === 'custom') {
        from = new Date(fromIn.value).getTime();
        to = new Date(toIn.value).getTime();
        if (!(from < to)) {
          result.dataset.state = 'error';
          result.textContent = 'Choose a start before the end.';
          return;
        }
      } else {
        to = Date.now();
        from = to - RANGES.find(([k]) => k === rangeSel.value)[2];
      }
      const format = parquet.checked ? 'parquet' : 'csv';
      const view = viewSel.value;
      const q = new URLSearchParams({ from: iso(from), to: iso(to), format });
      if (assetSel.value) q.set('asset', assetSel.value);
      go.disabled = true;
      result.dataset.state = 'loading';
      result.textContent = `Reading ${view}…`;
      const t0 = performance.now();
      try {
        const res = await fetch(`/api/v1/views/${encodeURIComponent(view)}/query?${q}`, { headers: authHeaders(), cache: 'no-store' });
        if (!res.ok) {
          const text = await res.text();
          let message = text;
          try {
            message = JSON.parse(text).error.message;
          } catch { /* not JSON: the text */ }
          throw new ApiError(res.status, `http_${res.status}`, message);
        }
        const blob = await res.blob();
        if (gone) return;
        const name = fileName(view, from, to, assetSel.value, format);
        if (objectUrl) URL.revokeObjectURL(objectUrl);
        objectUrl = URL.createObjectURL(blob);
        let rowsNote = '';
        if (format === 'csv') {
          const text = await blob.text();
          const lines = text.split('\n').filter((l) => l.length > 0).length;
          rowsNote = lines > 1 ? `, ${(lines - 1).toLocaleString('en')} rows` : ', no rows: nothing of this view for that asset and range';
          result.dataset.rows = String(Math.max(0, lines - 1));
        }
        const link = h('a', { href: objectUrl, download: name, id: 'download-link' }, name);
        clear(result).append('Saved ', link, ` (${blob.size.toLocaleString('en')} bytes${rowsNote}, ${fmtTime(iso(from))} – ${fmtTime(iso(to))}, ${((performance.now() - t0) / 1000).toFixed(1)} s).`);
        result.dataset.state = 'done';
        result.dataset.bytes = String(blob.size);
        result.dataset.file = name;
        link.click();
      } catch (e) {
        result.dataset.state = 'error';
        result.textContent = e instanceof ApiError && e.status === 403 ? `You may not download this: ${e.message}` : `The download failed: ${e.message}`;
      } finally {
        go.disabled = false;
      }
    });
    downloadBox.append(form, about, result);
  }

  tagInput.form?.addEventListener('submit', (ev) => {
    ev.preventDefault();
    showAll = false;
    loadCatalog();
  });
  clearTag.addEventListener('click', () => {
    tagInput.value = '';
    showAll = false;
    loadCatalog();
  });

  // The views after the catalog: the download form lists the catalog's assets.
  loadCatalog().finally(() => { if (!gone) loadViews(); });

  return () => {
    gone = true;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
}

// motor_health_2026-11-27.csv; a range over several UTC days names both ends, an asset itself.
function fileName(view, from, to, asset, format) {
  const a = iso(from).slice(0, 10);
  const b = iso(to - 1).slice(0, 10);
  const safe = (s) => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `${safe(view)}${asset ? `_${safe(asset)}` : ''}_${a}${b !== a ? `_${b}` : ''}.${format}`;
}

function localInput(t) {
  return new Date(t - new Date(t).getTimezoneOffset() * 60e3).toISOString().slice(0, 19);
}
