// Reads a Parquet file with two independent readers, DuckDB (@duckdb/node-api) and hyparquet
// (+ hyparquet-compressors for zstd/snappy/gzip...), and checks they see the same rows.
//
//   node parquet_check.mjs FILE                 prints the rows as canonical JSON lines
//   node parquet_check.mjs FILE EXPECTED.jsonl  compares both readers to EXPECTED; exit 1 on a
//                                               difference (the first one is described on stderr)
//   node parquet_check.mjs --metadata FILE      prints DuckDB's parquet_metadata() rows as JSON
//
// Canonical values (what EXPECTED holds): null; booleans; INT32 and DATE (days) as numbers;
// INT64 and TIMESTAMP (microseconds) as decimal strings; FLOAT/DOUBLE as numbers ("NaN",
// "Infinity", "-Infinity" as strings); strings and binary (decoded as UTF-8) as strings; structs
// and maps as objects; lists as arrays.
// Exit codes: 0 = readers agree (and match EXPECTED), 1 = difference, 2 = a reader failed.

import { readFileSync } from 'node:fs'
import {
  DuckDBArrayValue, DuckDBBlobValue, DuckDBDateValue, DuckDBInstance, DuckDBListValue,
  DuckDBMapValue, DuckDBStructValue, DuckDBTimestampTZValue, DuckDBTimestampValue,
} from '@duckdb/node-api'
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'

const utf8 = new TextDecoder()

function canonical(v) {
  if (v === null || v === undefined) return null
  switch (typeof v) {
    case 'bigint':
      return v.toString()
    case 'number':
      if (Number.isNaN(v)) return 'NaN'
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
      return Object.is(v, -0) ? 0 : v
    case 'boolean':
    case 'string':
      return v
    default:
      break
  }
  if (v instanceof Uint8Array) return utf8.decode(v)
  if (Array.isArray(v)) return v.map(canonical)
  // DuckDB's value classes.
  if (v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) {
    return v.micros.toString()
  }
  if (v instanceof DuckDBDateValue) return v.days
  if (v instanceof DuckDBBlobValue) return utf8.decode(v.bytes)
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(canonical)
  if (v instanceof DuckDBMapValue) {
    const out = {}
    for (const { key, value } of v.entries) out[String(canonical(key))] = canonical(value)
    return out
  }
  if (v instanceof DuckDBStructValue) {
    const out = {}
    for (const [k, value] of Object.entries(v.entries)) out[k] = canonical(value)
    return out
  }
  if (v instanceof Date) return (BigInt(v.getTime()) * 1000n).toString()
  // Plain objects: hyparquet's structs and maps.
  const out = {}
  for (const [k, value] of Object.entries(v)) out[k] = canonical(value)
  return out
}

// JSON with object keys sorted, so that key order does not matter when comparing.
function stable(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return '[' + v.map(stable).join(',') + ']'
  return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + stable(v[k])).join(',') + '}'
}

async function withDuckDB(fn) {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' })
  const connection = await instance.connect()
  try {
    return await fn(connection)
  } finally {
    connection.closeSync()
  }
}

function sqlString(s) {
  return "'" + s.replaceAll("'", "''") + "'"
}

async function readWithDuckDB(file) {
  return withDuckDB(async connection => {
    const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`)
    return reader.getRowObjects().map(row => canonical(row))
  })
}

async function readWithHyparquet(file) {
  const buffer = await asyncBufferFromFile(file)
  const rows = await parquetReadObjects({
    file: buffer,
    compressors,
    parsers: {
      timestampFromMilliseconds: ms => (BigInt(ms) * 1000n).toString(),
      timestampFromMicroseconds: us => BigInt(us).toString(),
      timestampFromNanoseconds: ns => (BigInt(ns) / 1000n).toString(),
      dateFromDays: days => days,
      stringFromBytes: bytes => bytes && utf8.decode(bytes),
    },
  })
  return rows.map(row => canonical(row))
}

function compare(name, actual, expected) {
  if (actual.length !== expected.length) {
    return `${name}: ${actual.length} rows, expected ${expected.length}`
  }
  for (let i = 0; i < expected.length; ++i) {
    const a = stable(actual[i])
    const e = stable(expected[i])
    if (a !== e) return `${name}: row ${i} differs\n  got      ${a}\n  expected ${e}`
  }
  return null
}

async function main() {
  const args = process.argv.slice(2)
  if (args[0] === '--metadata') {
    const rows = await withDuckDB(async connection => {
      const reader = await connection.runAndReadAll(
        `SELECT * FROM parquet_metadata(${sqlString(args[1])})`)
      return reader.getRowObjectsJson()
    })
    for (const row of rows) console.log(JSON.stringify(row))
    return 0
  }
  if (args.length < 1 || args.length > 2) {
    console.error('usage: node parquet_check.mjs FILE [EXPECTED.jsonl] | --metadata FILE')
    return 2
  }
  const [file, expectedPath] = args
  let duck, hyp
  try {
    duck = await readWithDuckDB(file)
  } catch (e) {
    console.error(`duckdb failed to read ${file}: ${e.message}`)
    return 2
  }
  try {
    hyp = await readWithHyparquet(file)
  } catch (e) {
    console.error(`hyparquet failed to read ${file}: ${e.stack}`)
    return 2
  }
  let expected = duck
  if (expectedPath) {
    expected = readFileSync(expectedPath, 'utf8').split('\n').filter(l => l.length > 0)
      .map(l => JSON.parse(l))
  } else {
    for (const row of duck) console.log(stable(row))
  }
  const problems = [
    expectedPath ? compare('duckdb', duck, expected) : null,
    compare('hyparquet', hyp, expected),
  ].filter(p => p !== null)
  for (const p of problems) console.error(p)
  if (problems.length > 0) return 1
  console.error(`ok: ${duck.length} rows, duckdb and hyparquet agree` +
                (expectedPath ? ' with the expected rows' : ''))
  return 0
}

process.exitCode = await main()
