// Login: paste an API token (weft-core's admin.token, or one issued with POST
// /api/v1/principals/{id}/tokens). It is checked with GET /api/v1/whoami and kept in
// sessionStorage for this tab only.

import { ApiError, setToken, whoami } from '../api.js';
import { h } from '../dom.js';

export function renderLogin(page, onDone) {
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'weft_...', required: true, size: 60 });
  const message = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const form = h('form', { id: 'login', class: 'card narrow' },
    h('h1', {}, 'Sign in to Weft'),
    h('p', {}, 'Paste an API token. It stays in this browser tab (sessionStorage) and is sent only to this weft-core, as a Bearer header.'),
    h('label', { for: 'token' }, 'API token'), input,
    h('div', {}, h('button', { type: 'submit', id: 'login-submit' }, 'Sign in')),
    message);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    message.textContent = '';
    setToken(input.value);
    try {
      await whoami();
      onDone();
    } catch (e) {
      setToken('');
      message.textContent = e instanceof ApiError && e.status === 401
        ? 'This token is not valid (unknown, revoked or expired).'
        : `Cannot sign in: ${e.message}`;
    }
  });
  page.append(form);
  input.focus();
}
