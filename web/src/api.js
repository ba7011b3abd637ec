// The dashboard's side of weft-core's API: the session (an API token in sessionStorage, sent as
// a Bearer header; never in a URL the server sees) and JSON calls.

const TOKEN_KEY = 'weft.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
  session = null;
}

export function authHeaders() {
  return { Authorization: `Bearer ${token()}` };
}

// GET/POST a JSON route; throws ApiError with the server's {"error": {code, message}}.
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = authHeaders();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store',
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = json && json.error ? json.error : { code: `http_${res.status}`, message: text };
    throw new ApiError(res.status, err.code, err.message);
  }
  return json;
}

// The caller (GET /api/v1/whoami), cached for the session: principal, roles, permissions.
let session = null;

export async function whoami() {
  if (!session) session = await api('/api/v1/whoami');
  return session;
}

// Whether the caller's grants allow `permission` on some scope ("anywhere") or on the global
// resource ("global"). The dashboard shows an action only when this holds; the server decides
// each call anyway.
export function may(who, permission, where = 'anywhere') {
  const p = who && who.permissions ? who.permissions[where] : null;
  return Array.isArray(p) && p.includes(permission);
}

export function iso(date) {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
