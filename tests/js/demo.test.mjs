// `orderflow demo`, the main job, run as a user runs it: the real binary starts its own stack
// in-process (port 0, a fresh data dir), publishes the orders, waits and prints a summary.
// Checked: the counts it reports, its exit code, the text summary, that a non-empty data dir
// is refused, that the temporary data dir is removed, and that no function worker outlives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { orderflowBinary, waitFor, workerPids } from './lib/harness.mjs';

// Runs `orderflow demo ...`; resolves to { code, signal, stdout, stderr, json, port }.
function demo(args, { timeoutMs = 170000 } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(orderflowBinary(), ['demo', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const kill = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(kill);
      let json;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      const m = stderr.match(/stack up at http:\/\/[\d.]+:(\d+)/);
      resolve({ code, signal, stdout, stderr, json, port: m ? Number(m[1]) : undefined });
    });
  });
}

async function noWorkersLeft(port) {
  assert.ok(port > 0, 'the demo printed its port');
  await waitFor(() => workerPids(port).length === 0, { timeoutMs: 10000, what: `workers on port ${port} to exit` });
}

test('demo --json: 200 orders stored, 10 duplicates suppressed, the 5 invalid ones dead-lettered with reasons', { timeout: 180000 }, async () => {
  const r = await demo(['--orders', '200', '--json']);
  const why = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
  assert.equal(r.code, 0, why);
  assert.ok(r.json, `stdout is one JSON object: ${why}`);
  const s = r.json;
  assert.equal(s.ok, true, why);
  assert.equal(s.expected, 200);
  assert.equal(s.stored, 200);
  assert.equal(s.unexpected, 0);
  assert.equal(s.published, 215);
  assert.equal(s.duplicates_suppressed, 10);
  assert.deepEqual(s.problems, []);
  assert.equal(s.dead_lettered.length, 5);
  assert.deepEqual(s.dead_lettered.map((d) => d.kind).sort(),
    ['bad currency', 'no orderId', 'not JSON', 'quantity 0', 'total != items']);
  for (const d of s.dead_lettered) {
    assert.ok(typeof d.reason === 'string' && d.reason.length > 0, JSON.stringify(d));
    assert.equal(d.receives, 3, JSON.stringify(d));
  }
  assert.equal(s.dead_lettered.find((d) => d.kind === 'not JSON').orderId, undefined);
  assert.match(s.dead_lettered.find((d) => d.kind === 'quantity 0').orderId, /^ord-[0-9a-z]{6}-bad-quantity$/);
  assert.ok(s.throughput_per_s > 0);
  assert.ok(s.latency_ms.p50 >= 0 && s.latency_ms.p99 >= s.latency_ms.p50, JSON.stringify(s.latency_ms));
  assert.ok(s.seconds > 0);
  // The temporary data dir is gone, and so are the function's workers.
  assert.equal(s.data_dir_kept, false);
  assert.ok(s.data_dir && !existsSync(s.data_dir), `${s.data_dir} removed`);
  await noWorkersLeft(r.port);
});

test('demo (text) into a new --data-dir: the summary block, and the data dir is kept', { timeout: 180000 }, async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'orderflow-demo-test-'));
  const dataDir = path.join(parent, 'data');
  try {
    const r = await demo(['--orders', '50', '--data-dir', dataDir]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    assert.match(out, /^orderflow demo: 50 orders through OrderTopic -> OrderQueue-CF -> ProcessOrderLambda -> Orders$/m);
    assert.match(out, /^ {2}published +65 messages in [\d.]+ s \(50 valid orders, 5 invalid, 10 duplicates\)$/m);
    assert.match(out, /^ {2}stored +50 of 50 orders in Orders$/m);
    assert.match(out, /^ {2}duplicates +10 of 10 re-published orders suppressed/m);
    assert.match(out, /^ {2}dead-lettered +5 of 5 invalid orders in OrderQueueDLQ-CF:$/m);
    for (const kind of ['not JSON', 'no orderId', 'quantity 0', 'total != items', 'bad currency']) {
      assert.match(out, new RegExp(`^ {4}${kind.replace(/[!]/g, '\\$&')} +\\S+ +3 {2}\\S.*$`, 'm'), kind);
    }
    assert.match(out, /^ {2}throughput +\d+ orders\/s \(first publish to last stored\)$/m);
    assert.match(out, /^ {2}latency +p50 \d+ ms, p99 \d+ ms, max \d+ ms \(publish to stored\)$/m);
    assert.match(out, new RegExp(`^ {2}data +kept in ${dataDir.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(out, /^ {2}result +OK\n$/m);
    assert.ok(existsSync(dataDir) && readdirSync(dataDir).length > 0, 'the named data dir holds the stack');
    await noWorkersLeft(r.port);

    // Run again on it: no longer empty, so refused before anything starts.
    const again = await demo(['--orders', '10', '--data-dir', dataDir]);
    assert.notEqual(again.code, 0);
    assert.equal(again.stdout, '');
    assert.match(again.stderr, /^orderflow demo: --data-dir .* is not empty: the demo needs a fresh stack/m);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('demo refuses a non-empty --data-dir with a clear message', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orderflow-demo-test-'));
  try {
    writeFileSync(path.join(dir, 'something'), 'x');
    const r = await demo(['--data-dir', dir], { timeoutMs: 30000 });
    assert.notEqual(r.code, 0);
    assert.equal(r.port, undefined, 'no stack was started');
    assert.match(r.stderr, new RegExp(`--data-dir ${dir.replace(/[.]/g, '\\.')} is not empty`));
    assert.deepEqual(readdirSync(dir), ['something'], 'left as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
