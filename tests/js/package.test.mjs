// `orderflow package`: the deployment zip for Lambda's provided.al2023 runtime, checked the way
// Lambda uses it. The zip is unpacked into an empty directory and the function runs there
// under chroot(8), so it can use nothing of this machine's libraries; the local cloud
// (`orderflow up` with deploy/template.yaml) starts it as ProcessOrderLambda's worker with only
// the Lambda environment, and an order published to OrderTopic must reach the Orders table.
//
// The chroot holds exactly:
//   /var/task   the unpacked zip (LAMBDA_TASK_ROOT, where Lambda unpacks it);
//   /bin/sh     the runtime's shell, which the zip's bootstrap script needs (AL2023 has one):
//               this machine's dash, with the loader and libc.so.6 that dash itself needs.
// No /tmp, /dev, /proc, /etc: the function needs none of them when it talks to 127.0.0.1
// over HTTP (no DNS, no CA bundle). The test also checks, in /proc/<pid>/maps, that every
// file the running function maps comes from /var/task: dash's libc, the one library in the
// chroot outside the zip, is not used by the function.
//
// chroot needs root (CAP_SYS_CHROOT): without it the end-to-end test is skipped, saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  mkdtempSync, mkdirSync, copyFileSync, writeFileSync, chmodSync, statSync, readFileSync, readdirSync, readlinkSync,
  rmSync, realpathSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startServer, clientConfig, waitFor, orderflowBinary, workerPids } from './lib/harness.mjs';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:OrderTopic';
const CHROOT = '/usr/sbin/chroot';

// Every variable the worker may see: Lambda's own (the runtime's reserved variables), the
// template's ORDERS_TABLE, AWS_ENDPOINT_URL, which the local runtime adds so the function
// reaches the local APIs, and what a shell running the bootstrap script exports (PWD; bash,
// AL2023's /bin/sh, also SHLVL and _).
const LAMBDA_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'LANG', 'PATH', 'LD_LIBRARY_PATH', 'TZ',
  'ORDERS_TABLE', 'AWS_ENDPOINT_URL', 'PWD', 'SHLVL', '_',
  // A sanitizer build's options, which the local runtime passes on (tests/sanitizers/run.sh).
  'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'TSAN_OPTIONS',
]);

function run(file, args, options = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function packageTo(zip) {
  const r = await run(orderflowBinary(), ['package', '--output', zip]);
  assert.equal(r.code, 0, `orderflow package failed:\n${r.stdout}${r.stderr}`);
  return r;
}

// The shared libraries `file` needs, by `ldd`: [soname or loader path, resolved path].
function libraries(file) {
  const out = execFileSync('ldd', [file], { encoding: 'utf8' });
  const libs = [];
  for (const line of out.split('\n')) {
    const m = line.trim().match(/^(\S+) => (\/\S+) \(0x[0-9a-f]+\)$/) ?? line.trim().match(/^(\/\S+) \(0x[0-9a-f]+\)$/);
    if (m) libs.push(m[2] ?? m[1]);
  }
  return libs;
}

function order(id) {
  return {
    orderId: id,
    customerId: `c-${id}`,
    items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 10.5 }],
    currency: 'EUR',
    total: 21,
    createdAt: '2026-11-30T12:00:00Z',
  };
}

test('the zip has bootstrap at its root, executable, and is the same bytes every time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orderflow-package-'));
  try {
    const [a, b] = [path.join(dir, 'a.zip'), path.join(dir, 'b.zip')];
    await packageTo(a);
    await packageTo(b);
    assert.deepEqual(readFileSync(a), readFileSync(b), 'two packages of the same build differ');

    const listing = execFileSync('unzip', ['-Z', a], { encoding: 'utf8' });
    const modes = new Map();
    for (const line of listing.split('\n')) {
      const m = line.match(/^([-dl][rwxst-]{9})\s.*\s(\S+)$/);
      if (m) modes.set(m[2], m[1]);
    }
    assert.equal(modes.get('bootstrap'), '-rwxr-xr-x', listing);
    assert.equal(modes.get('bin/bootstrap'), '-rwxr-xr-x', listing);
    assert.equal(modes.get('lib/ld-linux-x86-64.so.2'), '-rwxr-xr-x', listing);
    assert.ok(modes.has('lib/libc.so.6'), `glibc is packaged:\n${listing}`);
    assert.ok([...modes.values()].every((m) => !m.startsWith('l')), `no symlinks in the zip:\n${listing}`);
    // Every library the function needs, except the kernel's vDSO, is there under its name.
    const bootstrap = path.join(path.dirname(orderflowBinary()), 'bootstrap');
    const out = execFileSync('ldd', [bootstrap], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const m = line.trim().match(/^(\S+) => \//) ?? line.trim().match(/^\/\S*\/([^/\s]+) \(/);
      if (m) assert.ok(modes.has(`lib/${m[1]}`), `lib/${m[1]} is missing:\n${listing}`);
    }
    // The function opens libcurl itself (for https), unlinked: it is packaged with what it needs.
    assert.doesNotMatch(out, /libcurl/, 'bootstrap does not link libcurl (it opens it when it needs it)');
    assert.ok(modes.has('lib/libcurl.so.4'), `libcurl is packaged:\n${listing}`);
    const curl = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).match(/libcurl\.so\.4 \(libc6,x86-64\) => (\S+)/);
    assert.ok(curl, 'ldconfig knows libcurl.so.4');
    for (const line of execFileSync('ldd', [curl[1]], { encoding: 'utf8' }).split('\n')) {
      const m = line.trim().match(/^(\S+) => \//);
      if (m) assert.ok(modes.has(`lib/${m[1]}`), `lib/${m[1]} (for libcurl) is missing:\n${listing}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the unpacked zip processes an order in an empty chroot against the local Runtime API', { timeout: 120000 }, async (t) => {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    t.skip('NOT RUN: chroot needs root (CAP_SYS_CHROOT); run this test as root to check the package');
    return;
  }
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'orderflow-package-')));
  const root = path.join(dir, 'root');
  let srv;
  try {
    // The zip, unpacked into an empty directory's /var/task.
    const zip = path.join(dir, 'orderflow-lambda.zip');
    await packageTo(zip);
    mkdirSync(path.join(root, 'var/task'), { recursive: true });
    const unzipped = await run('unzip', ['-q', zip, '-d', path.join(root, 'var/task')]);
    assert.equal(unzipped.code, 0, unzipped.stderr);
    assert.ok(statSync(path.join(root, 'var/task/bootstrap')).mode & 0o100, 'bootstrap is executable once unpacked');

    // The runtime's /bin/sh: dash and exactly the files it needs, where its loader looks.
    const dash = realpathSync('/bin/sh').endsWith('dash') ? realpathSync('/bin/sh') : '/usr/bin/dash';
    mkdirSync(path.join(root, 'bin'));
    copyFileSync(dash, path.join(root, 'bin/sh'));
    chmodSync(path.join(root, 'bin/sh'), 0o755);
    for (const lib of libraries(dash)) {
      const at = path.join(root, lib.startsWith('/lib64/') ? lib : path.join('/lib/x86_64-linux-gnu', path.basename(lib)));
      mkdirSync(path.dirname(at), { recursive: true });
      copyFileSync(realpathSync(lib), at);
    }
    const probe = await run(CHROOT, [root, '/bin/sh', '-c', 'exit 0'], { env: {} });
    if (probe.code !== 0 && /Operation not permitted/.test(probe.stderr)) {
      t.skip(`NOT RUN: chroot is not permitted here: ${probe.stderr.trim()}`);
      return;
    }
    assert.equal(probe.code, 0, `the chroot's /bin/sh does not run: ${probe.stderr}`);

    // libcurl, which the function opens for https, loads in the chroot from the package alone.
    const listed = await run(CHROOT, [root, '/var/task/lib/ld-linux-x86-64.so.2', '--library-path', '/var/task/lib',
      '--list', '/var/task/lib/libcurl.so.4'], { env: {} });
    assert.equal(listed.code, 0, `the packaged libcurl does not load: ${listed.stdout}${listed.stderr}`);
    const resolved = listed.stdout.split('\n').map((l) => l.trim().match(/^(\S+) => (\S+)/)).filter(Boolean);
    assert.ok(resolved.length > 5, listed.stdout);
    for (const [, name, where] of resolved) assert.ok(where.startsWith('/var/task/lib/'), `${name} => ${where}`);

    // What the local runtime starts as the function: it enters the chroot with the Lambda
    // environment it was given, pointing LAMBDA_TASK_ROOT (and Lambda's LD_LIBRARY_PATH) at
    // /var/task as Lambda does.
    const worker = path.join(dir, 'enter-chroot');
    writeFileSync(worker, [
      '#!/bin/sh',
      'LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime \\',
      'LD_LIBRARY_PATH=/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \\',
      `exec ${CHROOT} '${root}' /var/task/bootstrap`,
      '',
    ].join('\n'));
    chmodSync(worker, 0o755);

    srv = await startServer({ template: true, args: ['--function-code', worker, '--max-workers', '1'] });
    const sns = new SNSClient(clientConfig(srv.endpoint));
    const ddb = new DynamoDBClient(clientConfig(srv.endpoint));
    try {
      const id = `pkg-${process.pid}`;
      await sns.send(new PublishCommand({ TopicArn: TOPIC, Message: JSON.stringify(order(id)) }));
      const item = await waitFor(async () => {
        const r = await ddb.send(new GetItemCommand({ TableName: 'Orders', Key: { orderId: { S: id } }, ConsistentRead: true }));
        return r.Item;
      }, { timeoutMs: 60000, intervalMs: 100, what: `order ${id} in Orders (server output:\n${srv.output()})` });
      assert.equal(item.customerId.S, `c-${id}`);

      // The worker that did it: chrooted, with only Lambda's variables, mapping only the zip.
      const pids = workerPids(srv.port, 'ProcessOrderLambda');
      assert.ok(pids.length > 0, 'a worker is running');
      for (const pid of pids) {
        assert.equal(readlinkSync(`/proc/${pid}/root`), root, `worker ${pid} runs in the chroot`);
        const names = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean)
          .map((e) => e.slice(0, e.indexOf('=')));
        const extra = names.filter((n) => !LAMBDA_VARIABLES.has(n));
        assert.deepEqual(extra, [], `worker ${pid} has variables Lambda does not set`);
        const files = new Set(readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')
          .map((l) => l.trim().split(/\s+/)[5]).filter((f) => f?.startsWith('/')));
        assert.ok(files.has(path.join(root, 'var/task/bin/bootstrap')), [...files].join('\n'));
        assert.ok(files.has(path.join(root, 'var/task/lib/libc.so.6')), [...files].join('\n'));
        const outside = [...files].filter((f) => !f.startsWith(path.join(root, 'var/task') + '/'));
        assert.deepEqual(outside, [], `worker ${pid} maps files from outside the zip`);
      }
    } finally {
      sns.destroy();
      ddb.destroy();
    }
  } finally {
    const status = await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (status) assert.equal(status.code, 0, `server exit: ${JSON.stringify(status)}\n${srv.output()}`);
  }
});
