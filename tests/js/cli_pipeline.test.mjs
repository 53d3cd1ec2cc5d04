// The `orderflow` client commands against the whole running stack (deploy/template.yaml with
// the real function): publish orders from a file, find them with `orders`, see the poison one
// in `dlq list` with the reason the function logged, send it back with `dlq redrive`, read the
// function's logs, and see the function's workers in `status`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, waitFor, orderflowBinary } from './lib/harness.mjs';

let server;
let scratch;
before(async () => {
  server = await startServer({ template: true, args: ['--param', 'FunctionTimeout=1', '--param', 'QueueVisibilityTimeout=2'] });
  scratch = mkdtempSync(path.join(tmpdir(), 'orderflow-cli-'));
});
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  const status = await server?.stop();
  assert.equal(status?.code, 0, server?.output());
});

function run(args) {
  return new Promise((resolve) => {
    const proc = spawn(orderflowBinary(), [...args, '--endpoint-url', server.endpoint], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('close', (code) => {
      let json;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      resolve({ code, stdout, stderr, json });
    });
  });
}
async function ok(args) {
  const r = await run(args);
  assert.equal(r.code, 0, `orderflow ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

const good = (id) => JSON.stringify({
  orderId: id, customerId: 'c-9', items: [{ sku: 'A', quantity: 3, unitPrice: 2.5 }], currency: 'USD', total: 7.5,
  createdAt: '2026-11-30T10:00:00Z',
});

test('publish, orders, dlq list with the logged reason, dlq redrive, logs and status on the live pipeline', { timeout: 120000 }, async () => {
  const file = path.join(scratch, 'orders.jsonl');
  const poison = JSON.stringify({ orderId: 'cli-bad', items: [{ sku: 'A', quantity: -1, unitPrice: 1 }] });
  writeFileSync(file, `${good('cli-1')}\n${good('cli-2')}\n${poison}\n`);
  const published = await ok(['publish', file, '--json']);
  assert.equal(published.json.published ?? published.json.count, 3, published.stdout);

  // The function stores the good ones.
  const got = await waitFor(async () => {
    const r = await run(['orders', 'get', 'cli-1', '--json']);
    return r.code === 0 ? r : undefined;
  }, { timeoutMs: 30000, intervalMs: 100, what: 'cli-1 stored' });
  assert.equal(got.json.orderId, 'cli-1');
  assert.equal(got.json.currency, 'USD');
  const listed = await ok(['orders', 'list', '--json']);
  assert.deepEqual(listed.json.map((o) => o.orderId).sort(), ['cli-1', 'cli-2']);

  // The poison one is dead-lettered after 3 attempts; dlq list shows the function's reason.
  const dead = await waitFor(async () => {
    const r = await ok(['dlq', 'list', '--json']);
    return r.json.length === 1 ? r.json[0] : undefined;
  }, { timeoutMs: 60000, intervalMs: 300, what: 'the poison order in the DLQ' });
  assert.equal(dead.orderId, 'cli-bad');
  assert.match(dead.reason ?? '', /quantity/, JSON.stringify(dead));

  // The logs show its three attempts.
  const logs = await ok(['logs', '--filter', dead.messageId, '--json']);
  const attempts = logs.json.map((e) => JSON.parse(e.message.slice(e.message.indexOf('{'))))
    .map((l) => l.approximateReceiveCount).sort();
  assert.deepEqual(attempts, [1, 2, 3], logs.stdout);

  // Redrive moves it back to OrderQueue-CF (as a new message, with a new id), where the
  // function fails it again.
  const redriven = await ok(['dlq', 'redrive', '--json']);
  assert.equal(redriven.json.status, 'COMPLETED', redriven.stdout);
  const moreAttempts = await waitFor(async () => {
    const r = await ok(['logs', '--filter', '"cli-bad"', '--json']);
    return r.json.length > 3 ? r.json : undefined;
  }, { timeoutMs: 30000, intervalMs: 200, what: 'the redriven order to be attempted again' });
  assert.ok(moreAttempts.some((e) => !e.message.includes(dead.messageId)), 'attempted under its new message id');

  const status = await ok(['status', '--json']);
  assert.ok(status.json.function.workers >= 1, status.stdout);
  assert.ok(status.json.function.invocations >= 4, status.stdout);
  assert.equal(status.json.table.itemCount ?? status.json.table.items, 2, status.stdout);
});
