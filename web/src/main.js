// Weft's dashboard: a hash router over the pages, the navigation bar and the session.
//   #/login  #/overview  #/asset/<id>  #/models  #/fleet  #/governance  #/value  #/data
// A token may arrive in the URL fragment (#token=...: `weft demo` prints such a link); it is
// moved to sessionStorage and removed from the address bar at once. Fragments never reach the
// server.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { ApiError, setToken, token, whoami } from './api.js';
import { clear, h } from './dom.js';
import { renderLogin } from './pages/login.js';
import { renderOverview } from './pages/overview.js';
import { renderAsset } from './pages/asset.js';
import * as models from './pages/models.js';
import * as fleet from './pages/fleet.js';
import * as governance from './pages/governance.js';
import * as value from './pages/value.js';
import * as data from './pages/data.js';

// Pages in their own modules: render(page, who, args, params) -> a teardown function or null.
const MODULES = { models, fleet, governance, value, data };

export const PAGES = [
  { id: 'overview', title: 'Plant overview', href: '#/overview' },
  { id: 'asset', title: 'Asset', href: '#/asset' },
  { id: 'models', title: 'Models', href: '#/models' },
  { id: 'fleet', title: 'Fleet', href: '#/fleet' },
  { id: 'governance', title: 'Governance', href: '#/governance' },
  { id: 'value', title: 'Value', href: '#/value' },
  { id: 'data', title: 'Data', href: '#/data' },
];

const top = document.getElementById('top');
const page = document.getElementById('page');
let cleanup = null; // the current page's teardown (live streams, timers)

function takeTokenFromFragment() {
  const m = location.hash.match(/^#token=([^&]+)/);
  if (!m) return;
  setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + '#/overview');
}

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { id: parts[0] || 'overview', args: parts.slice(1), params: new URLSearchParams(query) };
}

function renderNav(who, current) {
  clear(top);
  const links = PAGES.map((p) =>
    h('a', { href: p.href, class: p.id === current ? 'active' : null, 'data-page': p.id }, p.title));
  const user = who
    ? h('span', { class: 'user', 'data-principal': who.principal.id },
        `${who.principal.id} · ${(who.roles || []).join(', ') || 'no role'}`,
        h('button', { type: 'button', class: 'link', id: 'logout', onclick: () => { setToken(''); location.hash = '#/login'; } }, 'Log out'))
    : null;
  top.append(h('nav', {}, h('span', { class: 'brand' }, 'Weft'), h('span', { class: 'links' }, links), user));
}

async function show() {
  takeTokenFromFragment();
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const r = route();
  if (r.id === 'login' || !token()) {
    renderNav(null, 'login');
    clear(page);
    renderLogin(page, () => { location.hash = '#/overview'; });
    return;
  }
  let who;
  try {
    who = await whoami();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setToken('');
      location.hash = '#/login';
      return;
    }
    clear(page).append(h('p', { class: 'error' }, `Cannot reach weft-core: ${e.message}`));
    return;
  }
  renderNav(who, r.id);
  clear(page);
  document.title = `Weft · ${(PAGES.find((p) => p.id === r.id) || { title: r.id }).title}`;
  page.dataset.page = r.id;
  if (r.id === 'overview') cleanup = renderOverview(page, who);
  else if (r.id === 'asset') cleanup = renderAsset(page, who, r.args[0], r.params);
  else if (MODULES[r.id]) cleanup = MODULES[r.id].render(page, who, r.args, r.params);
  else page.append(h('p', { class: 'error' }, `No page '${r.id}'.`));
}

window.addEventListener('hashchange', show);
show();
