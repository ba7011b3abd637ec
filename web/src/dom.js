// A tiny element builder: text always goes through textContent, never innerHTML, so nothing the
// server returns (asset names, event messages) can inject markup.
//   h('a', {href: '#/asset/m1', class: 'asset'}, 'm1')

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// "12.35" with up to 3 significant decimals; "—" for null.
export function fmtValue(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3)));
}

export function fmtTime(isoText) {
  const d = new Date(isoText);
  return Number.isNaN(d.getTime()) ? isoText : d.toLocaleString();
}

export function ago(isoText, now = Date.now()) {
  const s = Math.round((now - new Date(isoText).getTime()) / 1000);
  if (s < 0) return 'in the future';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
