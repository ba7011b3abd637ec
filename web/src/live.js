// Live values: GET /api/v1/live (server-sent events) read with fetch(), since EventSource cannot
// send the Authorization header. Reconnects after the server's retry delay when the stream ends
// (weft-core ends each stream after a few minutes) or fails.

import { authHeaders } from './api.js';

// Parses text/event-stream text; calls onEvent({event, data, id}) for each complete event and
// returns the unparsed rest. Exported for clarity and reuse.
export function parseSse(buffer, onEvent, state) {
  let rest = buffer;
  for (;;) {
    const m = rest.match(/\r\n|\r|\n/);
    if (!m) return rest;
    const line = rest.slice(0, m.index);
    rest = rest.slice(m.index + m[0].length);
    if (line === '') {
      if (state.data.length > 0) {
        onEvent({ event: state.event || 'message', data: state.data.join('\n'), id: state.id });
      }
      state.event = '';
      state.data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') state.event = value;
    else if (field === 'data') state.data.push(value);
    else if (field === 'id') state.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) state.retry = Number(value);
  }
}

// Subscribes to the latest values of `assets` (all when empty). onValues(body) gets each
// "values" event's JSON (body.full: the whole snapshot). Returns a function that stops it.
export function subscribeLive(assets, onValues, onStatus = () => {}) {
  const controller = new AbortController();
  let stopped = false;
  const state = { event: '', data: [], id: '', retry: 3000 };
  const url = '/api/v1/live' + (assets.length ? `?asset=${encodeURIComponent(assets.join(','))}` : '');

  async function run() {
    while (!stopped) {
      try {
        const res = await fetch(url, { headers: authHeaders(), signal: controller.signal, cache: 'no-store' });
        if (!res.ok || !res.body) {
          onStatus(res.status === 401 || res.status === 403 ? 'refused' : 'retrying');
          if (res.status === 401 || res.status === 403) return;
        } else {
          onStatus('live');
          const reader = res.body.getReader();
          const decoder = new TextDecoder();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer = parseSse(buffer + decoder.decode(value, { stream: true }), (e) => {
              if (e.event === 'values') onValues(JSON.parse(e.data));
            }, state);
          }
          onStatus('reconnecting');
        }
      } catch (e) {
        if (stopped) return;
        onStatus('retrying');
      }
      await new Promise((r) => setTimeout(r, state.retry));
    }
  }
  run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
