// Open alerts, as the dashboard shows them. Alert events (GET /api/v1/events?alerts=true) of one
// asset closer than `mergeMs` (1 h, as the KPI job merges them) form one alert episode, at its
// first event's time, with id "<asset>@<ts>". An episode is answered by a work order on its asset
// whose alert_id is the episode's id, or whose event_ts is at or after the episode's start;
// the others are open.

export function alertEpisodes(events, mergeMs = 3600 * 1000) {
  const byAsset = new Map();
  for (const e of events) {
    if (!e.alert) continue;
    if (!byAsset.has(e.asset)) byAsset.set(e.asset, []);
    byAsset.get(e.asset).push(e);
  }
  const episodes = [];
  for (const [asset, list] of byAsset) {
    list.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    let current = null;
    for (const e of list) {
      const t = Date.parse(e.ts);
      if (current && t - current.lastMs <= mergeMs) {
        current.lastMs = t;
        current.last = e.ts;
        current.count += 1;
        continue;
      }
      current = { id: `${asset}@${e.ts}`, asset, start: e.ts, startMs: t, last: e.ts, lastMs: t, kind: e.kind, signal: e.signal, message: e.message, count: 1 };
      episodes.push(current);
    }
  }
  return episodes.sort((a, b) => b.startMs - a.startMs);
}

export function openEpisodes(episodes, workOrders) {
  return episodes.filter((ep) => !workOrders.some((w) => w.asset === ep.asset &&
    (w.alert_id === ep.id || Date.parse(w.event_ts) >= ep.startMs)));
}
