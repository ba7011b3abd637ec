// Starts s3rver (an S3 emulator) for Weft's tests on 127.0.0.1 only.
//
//   node tests/interop/s3rver_main.mjs --port 4568 --directory /tmp/x [--bucket weft]...
//
// Prints "ready" on stdout once it listens; stops on SIGTERM or SIGINT.
// Credentials: access key "S3RVER", secret "S3RVER" (s3rver does not verify SigV4 signatures).
// Run node with --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens
// with DES, which OpenSSL 3 only offers in its legacy provider.
// s3rver ignores If-None-Match: it cannot test the losing side of a conditional put.
import crypto from 'node:crypto';
import S3rver from 's3rver';

try {
  crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
} catch {
  console.error('s3rver_main: DES is unavailable (s3rver needs it for paginated listings); ' +
                'run node with --openssl-legacy-provider');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { port: 0, directory: '', buckets: [] };
  for (let i = 0; i < argv.length; ++i) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--port') args.port = Number(value);
    else if (flag === '--directory') args.directory = value;
    else if (flag === '--bucket') args.buckets.push(value);
    else throw new Error(`unknown flag ${flag}`);
    ++i;
  }
  if (!Number.isInteger(args.port) || args.port <= 0 || args.port > 65535) {
    throw new Error('--port must be a TCP port');
  }
  if (!args.directory) throw new Error('--directory is required');
  return args;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`s3rver_main: ${err.message}`);
  console.error('usage: s3rver_main.mjs --port N --directory DIR [--bucket NAME]...');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: args.port,
  directory: args.directory,
  silent: true,
  configureBuckets: args.buckets.map((name) => ({ name })),
});

try {
  await server.run();
} catch (err) {
  console.error(`s3rver_main: cannot listen on 127.0.0.1:${args.port}: ${err.message}`);
  process.exit(1);
}
console.log('ready');

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
