// The pages of issue 11 that later work adds.
import { h } from '../dom.js';

const PLANNED = {
  models: 'Models: the registry\'s models and versions, their validation and approvals, drift and reliability.',
  fleet: 'Fleet: devices, firmware, OTA campaigns and compliance.',
  governance: 'Governance: policies, pending decisions and approvals.',
  value: 'Value: OEE, technician time, energy and carbon, actual vs projected, the roadmap.',
  data: 'Data: the catalog, tags, views, and a view\'s download as CSV or Parquet.',
};

export function renderNotBuilt(page, p) {
  page.append(h('section', { class: 'card not-built', 'data-not-built': p.id },
    h('h1', {}, p.title),
    h('p', {}, 'Not built yet.'),
    h('p', { class: 'muted' }, PLANNED[p.id] || '')));
}
