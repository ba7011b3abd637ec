// DuckDB's side of bench/live_poll_bench.sh: the dashboard's live poll done by DuckDB on the same
// Delta table in the same run. Every INTERVAL_MS for SECONDS it reads the table's new commits
// (the last checkpoint, then the JSON commits after it: add and remove actions, as a Delta
// reader does), keeps today's files (the date partition weft-core reads), and runs
//   SELECT asset, signal, arg_max(value, ts), max(ts) FROM read_parquet(files)
//   WHERE ts >= max(newest seen - 30 s, now - 15 min) GROUP BY asset, signal
// (DuckDB prunes row groups by their statistics, as weft-core does). One thread.
//   node live_poll_duckdb.mjs TABLE_DIR SECONDS [INTERVAL_MS]
// Prints one JSON line: polls, pairs (asset, signal) held, CPU seconds of the polling (after
// start-up), wall seconds.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const [table, secondsArg, intervalArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const intervalMs = Number(intervalArg || 1000);
const log = path.join(table, '_delta_log');
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run('SET threads = 1');
await c.run("SET TimeZone = 'UTC'");
const sql = (s) => `'${String(s).replaceAll("'", "''")}'`;

const files = new Set();
let version = -1;
async function readLog() {
  if (version < 0) {
    const last = path.join(log, '_last_checkpoint');
    if (fs.existsSync(last)) {
      const v = JSON.parse(fs.readFileSync(last, 'utf8')).version;
      const cp = path.join(log, `${String(v).padStart(20, '0')}.checkpoint.parquet`);
      const r = await c.runAndReadAll(`SELECT "add".path FROM read_parquet(${sql(cp)}) WHERE "add" IS NOT NULL`);
      for (const [p] of r.getRows()) files.add(decodeURIComponent(p));
      version = v;
    }
  }
  for (;;) {
    const f = path.join(log, `${String(version + 1).padStart(20, '0')}.json`);
    if (!fs.existsSync(f)) break;
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      const a = JSON.parse(line);
      if (a.add) files.add(decodeURIComponent(a.add.path));
      if (a.remove) files.delete(decodeURIComponent(a.remove.path));
    }
    version += 1;
  }
}

const latest = new Map();
let newest = 0;
async function poll() {
  await readLog();
  const today = new Date().toISOString().slice(0, 10);
  const mine = [...files].filter((p) => p.includes(`date=${today}`)).map((p) => path.join(table, p));
  if (mine.length === 0) return;
  const since = Math.max(newest - 30e6, (Date.now() - 15 * 60e3) * 1e3);
  const r = await c.runAndReadAll(`SELECT asset, signal, arg_max(value, ts), epoch_us(max(ts))
      FROM read_parquet([${mine.map(sql).join(',')}], hive_partitioning = false)
      WHERE ts >= make_timestamp(${Math.floor(since)}) GROUP BY asset, signal`);
  for (const [asset, signal, value, ts] of r.getRows()) {
    const t = Number(ts);
    const k = `${asset}/${signal}`;
    if (!latest.has(k) || latest.get(k).ts < t) latest.set(k, { value, ts: t });
    if (t > newest) newest = t;
  }
}

await poll(); // start-up (first log read, extension-free parquet scan) is not counted
const cpu0 = process.cpuUsage();
const t0 = Date.now();
let polls = 0;
while (Date.now() - t0 < seconds * 1000) {
  const started = Date.now();
  await poll();
  polls += 1;
  const wait = intervalMs - (Date.now() - started);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ engine: 'duckdb', polls, pairs: latest.size, cpu_seconds: (cpu.user + cpu.system) / 1e6, wall_seconds: (Date.now() - t0) / 1000 }));
