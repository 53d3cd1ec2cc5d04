// The end-to-end load client of bench/run, written once with the AWS SDK for JavaScript v3 and
// pointed at any endpoint: orders published to an SNS topic, fanned out to an SQS queue,
// consumed, stored in the DynamoDB table Orders.
//
//   node bench/js/e2e.mjs --endpoint URL | --sns URL --sqs URL --dynamodb URL
//        [--label NAME] [--server-pids P,Q] [--consumer] [--orders N] [--concurrency C]
//        [--rate R] [--latency-seconds S] [--timeout S]
//
// Against orderflow (`up` with deploy/template.yaml) the stack's own function consumes:
// OrderTopic -> OrderQueue-CF -> ProcessOrderLambda (the bootstrap workers) -> Orders. With
// --consumer (servers without a Lambda runtime) this client creates the topic, the queue, the
// subscription and the table, and starts bench/js/consumer.mjs as its own process, which does
// the function's work (receive, unwrap the SNS envelope, conditional PutItem, delete).
//
// Two phases:
//   1. throughput: --orders orders published with PublishBatch (10 per call, --concurrency
//      calls in flight); orders/s from the first publish until the table holds them all;
//      server CPU per order: CPU time (user + system, /proc/<pid>/stat) of --server-pids and
//      every process under them (orderflow's function workers) over the phase, / orders.
//   2. latency at a fixed offered load: one Publish per order, order i due at t0 + i/--rate,
//      for --latency-seconds (open loop: sent when due, not when the previous call returned);
//      latency = the receivedAt the consumer stored (truncated to the ms, so + 1 ms: an upper
//      bound) minus when the order was due (e2e_latency_publish_p50/_p99: the Publish call's
//      answer minus when it was due, a busy client's late sends included). Orders not sent by
//      3x the planned duration are abandoned (reported as unsent).
// Prints CSV (figure,value,unit,server) on stdout; progress on stderr. Asserts no speed.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  CreateTopicCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DescribeTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { clients, parseArgs, percentile, sleep, treeCpuSeconds, treeRssKiB } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const a = parseArgs(process.argv.slice(2), {
  endpoint: '',
  sns: '',
  sqs: '',
  dynamodb: '',
  label: '',
  serverPids: '',
  consumer: false,
  orders: 5000,
  concurrency: 8,
  rate: 1000,
  latencySeconds: 10,
  timeout: 180,
});
const ep = {
  sns: a.sns || a.endpoint,
  sqs: a.sqs || a.endpoint,
  dynamodb: a.dynamodb || a.endpoint,
};
if (!ep.sns || !ep.sqs || !ep.dynamodb) throw new Error('--endpoint, or --sns, --sqs and --dynamodb, are required');
const label = a.label || ep.sns;
const pids = a.serverPids ? a.serverPids.split(',').map(Number) : [];
const { sns, sqs, ddb } = clients(ep);
const TABLE = 'Orders';
const run = Date.now().toString(36);
// Wall-clock milliseconds with sub-millisecond steps, on the system clock that the function's
// `receivedAt` comes from. performance.timeOrigin may be off that clock by milliseconds, so the
// offset is taken at the moment Date.now() ticks to its next millisecond.
const clockOffset = (() => {
  const start = Date.now();
  let now;
  while ((now = Date.now()) === start) {}
  return now - performance.now();
})();
const wallNow = () => clockOffset + performance.now();

function figure(name, value, unit) {
  const v = unit === 'ms' ? value.toFixed(3) : Math.round(value).toString();
  process.stdout.write(`${name},${v},${unit},${label}\n`);
  process.stderr.write(`e2e.mjs: ${label} ${name} ${v} ${unit}\n`);
}

function orderJson(id) {
  return JSON.stringify({
    orderId: id,
    customerId: 'c-1',
    items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 10.5 }],
    currency: 'EUR',
    total: 21,
    createdAt: '2026-11-30T12:00:00Z',
  });
}

// ---- the stack ---------------------------------------------------------------------------------

let topicArn;
let consumer = null;
let consumerStored = 0;

if (a.consumer) {
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'OrderTopic' }))).TopicArn;
  const queueUrl = (
    await sqs.send(new CreateQueueCommand({ QueueName: 'OrderQueue', Attributes: { VisibilityTimeout: '30' } }))
  ).QueueUrl;
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes.QueueArn;
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (let i = 0; ; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: TABLE }));
    if (d.Table.TableStatus === 'ACTIVE') break;
    if (i > 600) throw new Error('table Orders never became ACTIVE');
    await sleep(50);
  }
  consumer = fork(path.join(here, 'consumer.mjs'), [
    JSON.stringify({ sqs: ep.sqs, dynamodb: ep.dynamodb, queueUrl, table: TABLE, loops: 8 }),
  ]);
  consumer.on('message', (m) => {
    consumerStored = m.stored;
  });
} else {
  const topics = (await sns.send(new ListTopicsCommand({}))).Topics ?? [];
  topicArn = topics.map((t) => t.TopicArn).find((arn) => arn.endsWith(':OrderTopic'));
  if (!topicArn) throw new Error('no OrderTopic: start orderflow up with deploy/template.yaml, or pass --consumer');
}

async function storedCount() {
  if (consumer) return consumerStored;
  const d = await ddb.send(new DescribeTableCommand({ TableName: TABLE }));
  return Number(d.Table.ItemCount);
}
const base = await storedCount();

// Waits until `n` orders more than at the start are stored, or `timeout` s pass; returns when
// the last was seen stored (wall ms) and how many were.
async function waitStored(n) {
  const deadline = Date.now() + a.timeout * 1000;
  let seen = 0;
  for (;;) {
    seen = (await storedCount()) - base;
    if (seen >= n) return { at: wallNow(), stored: seen };
    if (Date.now() > deadline) return { at: wallNow(), stored: seen };
    await sleep(consumer ? 10 : 20);
  }
}

let rssMax = 0;
const sampler = setInterval(() => {
  if (pids.length) rssMax = Math.max(rssMax, treeRssKiB(pids));
}, 100);

// ---- 1. throughput -----------------------------------------------------------------------------

let stored1 = 0; // orders stored by the end of phase 1

{
  const n = a.orders;
  let next = 0;
  let failed = 0;
  const cpu0 = pids.length ? treeCpuSeconds(pids) : 0;
  const t0 = wallNow();
  await Promise.all(
    Array.from({ length: a.concurrency }, async () => {
      for (;;) {
        const start = next;
        next += 10;
        if (start >= n) return;
        const entries = [];
        for (let i = start; i < Math.min(n, start + 10); i++)
          entries.push({ Id: `e${i - start}`, Message: orderJson(`${run}-t-${i}`) });
        try {
          const r = await sns.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }));
          failed += r.Failed?.length ?? 0;
        } catch (e) {
          failed += entries.length;
          process.stderr.write(`e2e.mjs: PublishBatch failed: ${e.name}: ${e.message}\n`);
        }
      }
    }),
  );
  const published = wallNow();
  const { at, stored } = await waitStored(n - failed);
  stored1 = stored;
  const cpu = pids.length ? treeCpuSeconds(pids) - cpu0 : NaN;
  figure('e2e_js_publish_per_s', (n - failed) / ((published - t0) / 1000), 'orders/s');
  figure('e2e_js_orders_per_s', stored / ((at - t0) / 1000), 'orders/s');
  if (stored < n) figure('e2e_js_not_stored', n - stored, 'orders');
  if (pids.length && stored > 0) figure('server_cpu_per_order', (1000 * cpu) / stored, 'ms');
}

// ---- 2. latency at a fixed offered load --------------------------------------------------------

{
  const total = Math.round(a.rate * a.latencySeconds);
  const due = new Float64Array(total);
  const answered = new Float64Array(total).fill(NaN); // when the Publish call returned
  const maxInFlight = 256;
  let inFlight = 0;
  let sent = 0;
  let failed = 0;
  const cpu0 = pids.length ? treeCpuSeconds(pids) : 0;
  const t0 = wallNow() + 20;
  const giveUp = t0 + 3000 * a.latencySeconds;
  const pending = [];
  while (sent < total && wallNow() < giveUp) {
    const now = wallNow();
    const dueNow = Math.min(total, Math.floor(((now - t0) * a.rate) / 1000) + 1);
    while (sent < dueNow && inFlight < maxInFlight) {
      const i = sent++;
      due[i] = t0 + (i * 1000) / a.rate;
      inFlight++;
      pending.push(
        sns
          .send(new PublishCommand({ TopicArn: topicArn, Message: orderJson(`${run}-l-${i}`) }))
          .then(() => {
            answered[i] = wallNow();
          })
          .catch((e) => {
            failed++;
            due[i] = NaN;
            if (failed < 5) process.stderr.write(`e2e.mjs: Publish failed: ${e.name}: ${e.message}\n`);
          })
          .finally(() => inFlight--),
      );
    }
    await sleep(1);
  }
  await Promise.all(pending);
  const sentAt = wallNow();
  const { stored } = await waitStored(a.orders + sent - failed);
  const cpu = pids.length ? treeCpuSeconds(pids) - cpu0 : NaN;
  // Read back receivedAt of this phase's orders.
  const latencies = [];
  let key;
  const prefix = `${run}-l-`;
  do {
    const page = await ddb.send(
      new ScanCommand({ TableName: TABLE, ProjectionExpression: 'orderId, receivedAt', ExclusiveStartKey: key }),
    );
    for (const item of page.Items ?? []) {
      const id = item.orderId.S;
      if (!id.startsWith(prefix)) continue;
      const i = Number(id.slice(prefix.length));
      const received = Date.parse(item.receivedAt.S);
      if (!Number.isNaN(due[i])) latencies.push(received + 1 - due[i]); // + 1: receivedAt is truncated to the ms
    }
    key = page.LastEvaluatedKey;
  } while (key);
  latencies.sort((x, y) => x - y);
  // How much of that is the Publish call itself (late sends of a busy client included).
  const calls = [];
  for (let i = 0; i < sent; i++) if (!Number.isNaN(due[i]) && !Number.isNaN(answered[i])) calls.push(answered[i] - due[i]);
  calls.sort((x, y) => x - y);
  figure('e2e_latency_publish_p50', percentile(calls, 0.5), 'ms');
  figure('e2e_latency_publish_p99', percentile(calls, 0.99), 'ms');
  figure('e2e_latency_p50', percentile(latencies, 0.5), 'ms');
  figure('e2e_latency_p95', percentile(latencies, 0.95), 'ms');
  figure('e2e_latency_p99', percentile(latencies, 0.99), 'ms');
  figure('e2e_latency_offered', a.rate, 'orders/s');
  figure('e2e_latency_achieved', (sent - failed) / ((sentAt - t0) / 1000), 'orders/s');
  if (total - sent > 0) figure('e2e_latency_unsent', total - sent, 'orders');
  // Orders of either phase still not stored at the end (a server that fell behind).
  const notStored = a.orders + sent - failed - stored;
  if (notStored > 0) figure('e2e_not_stored_at_end', notStored, 'orders');
  if (pids.length && latencies.length > 0)
    figure('server_cpu_per_order_at_rate', (1000 * cpu) / Math.max(1, stored - stored1), 'ms');
}

clearInterval(sampler);
if (pids.length) figure('rss_under_load_js', rssMax, 'KiB');
if (consumer) {
  consumer.send('stop');
  await new Promise((r) => consumer.on('exit', r));
}
for (const c of [sns, sqs, ddb]) c.destroy();
