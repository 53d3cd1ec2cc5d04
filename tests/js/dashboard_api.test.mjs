// The dashboard's JSON API and event stream against the real `orderflow up` with
// deploy/template.yaml and the real function: the pipeline it finds, the live samples, the DLQ
// with the failure reason from the function's logs, redriving one message, orders, logs, the
// EMF metrics on /metrics, and the token and cross-site checks that guard it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SQSClient, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { startServer, clientConfig, waitFor } from './lib/harness.mjs';
import { publishOrders } from './lib/stack.mjs';

const PARAMS = ['--param', 'FunctionTimeout=1', '--param', 'QueueVisibilityTimeout=1'];

function order(id, extra = {}) {
  return { orderId: id, customerId: `c-${id}`, items: [{ sku: 'S', quantity: 2, unitPrice: 5 }], total: 10,
    currency: 'EUR', ...extra };
}


async function get(endpoint, path, init) {
  const r = await fetch(`${endpoint}${path}`, init);
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text, type: r.headers.get('content-type') };
}

// Reads Server-Sent Events from the stream until `until` returns true for the events so far.
async function readEvents(endpoint, until, timeoutMs = 15000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const r = await fetch(`${endpoint}/_orderflow/api/events`, { signal: ac.signal });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/event-stream');
  const events = [];
  let buf = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of r.body) {
      buf += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, at);
        buf = buf.slice(at + 2);
        const ev = /^event: (.*)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (ev && data) events.push({ event: ev[1], data: JSON.parse(data[1]) });
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

test('the dashboard API: pipeline, live samples, DLQ with reasons, redrive, orders, logs, EMF metrics', { timeout: 180000 }, async () => {
  const srv = await startServer({ template: true, args: PARAMS });
  try {
    const e = srv.endpoint;
    await waitFor(() => srv.output().includes('dashboard: '), { what: 'the banner' });
    assert.match(srv.output(), new RegExp(`dashboard: ${e}/\\n`), 'loopback: no token in the address');

    const page = await get(e, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.text, /uPlot\.iife\.min\.js/);

    const o = await get(e, '/_orderflow/api/overview');
    assert.equal(o.status, 200, o.text);
    const p = o.json.pipeline;
    assert.deepEqual([p.topic, p.queue, p.dlq, p.function, p.table, p.logGroup],
      ['OrderTopic', 'OrderQueue-CF', 'OrderQueueDLQ-CF', 'ProcessOrderLambda', 'Orders', '/aws/lambda/ProcessOrderLambda']);

    // Published and stored counts move on the event stream.
    const valid = Array.from({ length: 30 }, (_, i) => JSON.stringify(order(`dash-${i}`)));
    const poison = JSON.stringify(order('poison-1', { total: 99 }));
    const streamed = readEvents(e, (evs) => evs.some((x) => x.event === 'sample'
      && x.data.values['table:Orders:items'] === 30
      && x.data.totals['topic:OrderTopic:published'] === 31)
      && evs.some((x) => x.event === 'log' && x.data.message.includes('"dash-')), 60000);
    await publishOrders(e, [...valid, poison]);
    const events = await streamed;
    assert.ok(events.filter((x) => x.event === 'sample').length >= 2, 'samples arrive every second');

    // The poison order reaches the DLQ after 3 receives; the DLQ view has its reason.
    let dlq;
    await waitFor(async () => {
      dlq = await get(e, '/_orderflow/api/dlq');
      return dlq.json.messages.length === 1;
    }, { timeoutMs: 60000, intervalMs: 200, what: 'the poison order in the DLQ view' });
    const dead = dlq.json.messages[0];
    assert.equal(dead.orderId, 'poison-1');
    assert.equal(dead.receiveCount, 3);
    assert.match(dead.reason, /total/i, JSON.stringify(dead));
    assert.equal(dead.outcome, 'rejected');
    assert.ok(dead.sentTimestamp > 0 && dead.firstReceiveTimestamp >= dead.sentTimestamp);
    // Peeking changed nothing.
    const again = await get(e, '/_orderflow/api/dlq');
    assert.equal(again.json.messages[0].receiveCount, 3);

    // Orders: one by id, the latest ones, bad ids refused.
    const one = await get(e, '/_orderflow/api/orders?id=dash-7');
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.item.orderId.S, 'dash-7');
    assert.equal(one.json.item.currency.S, 'EUR');
    assert.equal((await get(e, '/_orderflow/api/orders?id=poison-1')).status, 404);
    assert.equal((await get(e, `/_orderflow/api/orders?id=${encodeURIComponent('a b')}`)).status, 400);
    assert.equal((await get(e, `/_orderflow/api/orders?id=${'x'.repeat(129)}`)).status, 400);
    const latest = await get(e, '/_orderflow/api/orders?limit=5');
    assert.equal(latest.json.items.length, 5);
    assert.equal(latest.json.itemCount, 30);
    for (const it of latest.json.items) assert.match(it.orderId.S, /^dash-\d+$/);

    // Logs: the function's structured lines, newest last.
    const logs = await get(e, '/_orderflow/api/logs?limit=1000');
    assert.ok(logs.json.lines.some((l) => l.message.includes('"orderId":"poison-1"')));
    assert.ok(logs.json.last >= logs.json.lines.length);
    const after = await get(e, `/_orderflow/api/logs?after=${logs.json.last}`);
    assert.equal(after.json.lines.length, 0);

    // History: 1-second samples with the published count in them.
    const h = await get(e, '/_orderflow/api/history');
    const published = h.json.series['topic:OrderTopic:published'].reduce((a, b) => a + (b ?? 0), 0);
    assert.equal(published, 31);
    const sum = (k) => h.json.series[k].reduce((a, b) => a + (b ?? 0), 0);
    assert.equal(sum('mapping:OrderQueue-CF:deleted'), 30, 'the mapping deleted the 30 stored orders\' messages');
    assert.ok(sum('mapping:OrderQueue-CF:batches') >= 4, 'the poison message alone took 3 batches');
    assert.ok(sum('function:ProcessOrderLambda:invocations') >= 4);
    assert.equal(h.json.time.length, h.json.series['queue:OrderQueue-CF:visible'].length);

    // /metrics: the EMF the function printed, aggregated as CloudWatch would.
    const metrics = await (await fetch(`${e}/metrics`)).text();
    const stored = metrics.match(/^orderflow_emf_sum\{namespace="OrderFlow",metric="OrdersStored",unit="Count",dimensions="FunctionName=ProcessOrderLambda"\} (\S+)$/m);
    assert.ok(stored, metrics);
    assert.equal(Number(stored[1]), 30);
    assert.match(metrics, /^orderflow_emf_sum\{namespace="OrderFlow",metric="OrdersRejected",unit="Count",dimensions="FunctionName=ProcessOrderLambda"\} 3$/m);
    assert.match(metrics, /^orderflow_topic_messages_published_total\{topic="OrderTopic"\} 31$/m);

    // Redrive: checked input, then the one message goes back to the queue (and, still poison,
    // comes back to the DLQ after 3 more receives, as a new message).
    const post = (body, headers = {}) => get(e, '/_orderflow/api/dlq/redrive', {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    assert.equal((await post('{"messageId":"00000000-0000-4000-8000-000000000000"}')).status, 404);
    assert.equal((await post('{"messageId":"../x"}')).status, 400);
    assert.equal((await post('{"messageId":1}')).status, 400);
    assert.equal((await post('{"what":1}')).status, 400);
    assert.equal((await post('{}', { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await get(e, '/_orderflow/api/dlq/redrive', { method: 'POST', body: '{}' })).status, 403,
      'a POST without a JSON content type (a cross-site form) is refused');
    const moved = await post(JSON.stringify({ messageId: dead.messageId }), { Origin: e });
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.json.moved, 1);
    assert.equal((await get(e, '/_orderflow/api/dlq')).json.messages.length, 0);
    await waitFor(async () => {
      const d = await get(e, '/_orderflow/api/dlq');
      return d.json.messages.length === 1 && d.json.messages[0].messageId !== dead.messageId;
    }, { timeoutMs: 60000, intervalMs: 200, what: 'the redriven poison order back in the DLQ' });
    // Redrive all: a message move task.
    const all = await post('{}');
    assert.equal(all.status, 200, all.text);
    assert.ok(all.json.taskHandle);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a token guards the dashboard when one is set; SQS query calls to / still work', { timeout: 60000 }, async () => {
  const srv = await startServer({ args: ['--dashboard-token', 'tok-123'] });
  try {
    const e = srv.endpoint;
    await waitFor(() => srv.output().includes('dashboard: '), { what: 'the banner' });
    assert.match(srv.output(), /dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=tok-123/);
    assert.equal((await get(e, '/')).status, 401);
    assert.equal((await get(e, '/_orderflow/api/overview')).status, 401);
    assert.equal((await get(e, '/_orderflow/api/overview?token=tok-12')).status, 401);
    assert.equal((await get(e, '/_orderflow/api/events')).status, 401);
    assert.equal((await get(e, '/?token=tok-123')).status, 200);
    assert.equal((await get(e, '/_orderflow/api/overview', { headers: { 'X-Orderflow-Token': 'tok-123' } })).status, 200);
    // The page's static files carry no data and need no token.
    assert.equal((await get(e, '/_orderflow/dashboard/app.js')).status, 200);
    // An SQS call signed with SigV4 to / is not the dashboard's.
    const sqs = new SQSClient(clientConfig(e));
    const r = await sqs.send(new ListQueuesCommand({}));
    assert.equal(r.$metadata.httpStatusCode, 200);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('bound to a non-loopback address, up makes a random token and prints it', { timeout: 60000 }, async () => {
  const srv = await startServer({ args: ['--host', '0.0.0.0'] });
  try {
    await waitFor(() => srv.output().includes('dashboard: '), { what: 'the banner' });
    const m = srv.output().match(/dashboard: (http:\/\/127\.0\.0\.1:\d+)\/\?token=([0-9a-f]{32})\n/);
    assert.ok(m, srv.output());
    assert.equal((await get(m[1], '/_orderflow/api/overview')).status, 401);
    assert.equal((await get(m[1], `/_orderflow/api/overview?token=${m[2]}`)).status, 200);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('draining ends open event streams', { timeout: 60000 }, async () => {
  const srv = await startServer();
  const r = await fetch(`${srv.endpoint}/_orderflow/api/events`);
  const reader = r.body.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /event: sample/);
  const status = srv.stop();
  // The stream ends (the server writes the last chunk and closes) and the server exits 0.
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
  assert.equal((await status).code, 0, srv.output());
});
