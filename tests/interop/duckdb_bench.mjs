// DuckDB's side of bench/lake_bench.sh (one thread, same rows, same machine, same run).
//   node duckdb_bench.mjs write ROWS OUT.parquet   -> materializes the rows in memory, then times
//                                                     COPY ... (FORMAT parquet, COMPRESSION zstd)
//   node duckdb_bench.mjs scan FILE.parquet ASSET FROM TO REPEAT -> times the filtered scan
// Prints one JSON line. The rows are bench/lake_bench_rows.h's, defined again here in SQL:
//   row i: asset = i % 46, ts = 2026-11-01T00:00:00Z + (i / 46) * 10 s, signal = (i / 46) % 10,
//   site 'site-1', line 'line-' || (asset % 4 + 1), edge 'edge-' || (asset % 3 + 1),
//   value = round(sin(i * 0.001) * 100 + asset, 3), quality = 0 every 1000th row else 192.
import { DuckDBInstance } from '@duckdb/node-api';

const [mode, ...args] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run('SET threads = 1');
await c.run("SET TimeZone = 'UTC'");
const now = () => Number(process.hrtime.bigint()) / 1e9;

if (mode === 'write') {
  const [rows, out] = args;
  await c.run(`CREATE TABLE t AS SELECT
      make_timestamp(1793491200000000 + (i // 46) * 10000000)::TIMESTAMPTZ AS ts,
      'site-1' AS site,
      'line-' || (i % 46 % 4 + 1) AS line,
      'asset-' || (i % 46) AS asset,
      'signal-' || ((i // 46) % 10) AS signal,
      round(sin(i * 0.001) * 100 + (i % 46), 3) AS value,
      (CASE WHEN i % 1000 = 0 THEN 0 ELSE 192 END)::INTEGER AS quality,
      'edge-' || (i % 46 % 3 + 1) AS edge
    FROM range(${Number(rows)}) r(i)`);
  const t0 = now();
  await c.run(`COPY t TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
  const t1 = now();
  console.log(JSON.stringify({ engine: 'duckdb', rows: Number(rows), seconds: t1 - t0 }));
} else if (mode === 'scan') {
  const [file, asset, from, to, repeat] = args;
  const q = `SELECT count(*) AS n, sum(value) AS s FROM read_parquet('${file}')
             WHERE asset = '${asset}' AND ts >= TIMESTAMPTZ '${from}' AND ts < TIMESTAMPTZ '${to}'`;
  let best = Infinity, result;
  for (let k = 0; k < Number(repeat || 5); ++k) {
    const t0 = now();
    const r = await c.runAndReadAll(q);
    const t1 = now();
    result = r.getRows()[0];
    best = Math.min(best, t1 - t0);
  }
  console.log(JSON.stringify({ engine: 'duckdb', rows: Number(result[0]), sum: Number(result[1]), seconds: best }));
} else if (mode === 'rows') {
  // Prints the first ROWS rows as CSV, to check the C++ generator produces the same rows.
  const [rows] = args;
  const r = await c.runAndReadAll(`SELECT strftime(make_timestamp(1793491200000000 + (i // 46) * 10000000), '%Y-%m-%dT%H:%M:%S.%fZ'),
      'site-1', 'line-' || (i % 46 % 4 + 1), 'asset-' || (i % 46), 'signal-' || ((i // 46) % 10),
      round(sin(i * 0.001) * 100 + (i % 46), 3), (CASE WHEN i % 1000 = 0 THEN 0 ELSE 192 END),
      'edge-' || (i % 46 % 3 + 1) FROM range(${Number(rows)}) r(i)`);
  for (const row of r.getRows()) console.log(row.map(String).join(','));
} else {
  console.error('usage: duckdb_bench.mjs write ROWS OUT | scan FILE ASSET FROM TO [REPEAT] | rows N');
  process.exit(2);
}
