// The seed's pipeline end to end, with the real binaries: `orderflow up` provisions
// deploy/template.yaml, orders are published to OrderTopic with the AWS SDK, the SQS event
// source mapping runs the real C++ bootstrap as worker processes, which store orders in the
// Orders table through our DynamoDB API; poison orders reach OrderQueueDLQ-CF after exactly 3
// receives; the logs are read back through the CloudWatch Logs API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { SNSClient, PublishBatchCommand } from '@aws-sdk/client-sns';
import { SQSClient, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startServer, clientConfig, waitFor, jsonCall, workerPids } from './lib/harness.mjs';
import { depth, scanAll } from './lib/stack.mjs';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:OrderTopic';
// Short timeouts so that retries and the DLQ take seconds (visibility >= function timeout).
const PARAMS = ['--param', 'FunctionTimeout=1', '--param', 'QueueVisibilityTimeout=2'];

function order(id, extra = {}) {
  return {
    orderId: id,
    customerId: `c-${id}`,
    items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 10.5 }, { sku: 'SKU-2', quantity: 1, unitPrice: 4 }],
    currency: 'EUR',
    total: 25,
    createdAt: '2026-11-30T12:00:00Z',
    ...extra,
  };
}

async function publishAll(sns, messages) {
  const ids = [];
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const r = await sns.send(new PublishBatchCommand({
      TopicArn: TOPIC,
      PublishBatchRequestEntries: chunk.map((m, j) => ({ Id: `e${j}`, Message: m })),
    }));
    assert.equal(r.Failed?.length ?? 0, 0, JSON.stringify(r.Failed));
    ids.push(...r.Successful.map((s) => s.MessageId));
  }
  return ids;
}

async function logLines(endpoint, filterPattern) {
  const events = [];
  let nextToken;
  do {
    const r = await jsonCall(endpoint, 'Logs_20140328.FilterLogEvents',
      { logGroupName: '/aws/lambda/ProcessOrderLambda', filterPattern, nextToken },
      { service: 'logs', contentType: 'application/x-amz-json-1.1' });
    assert.equal(r.status, 200, r.text);
    events.push(...r.json.events);
    nextToken = r.json.nextToken;
  } while (nextToken);
  return events.map((e) => e.message);
}

async function metrics(endpoint) {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const get = (name) => {
    const m = text.match(new RegExp(`^${name}\\{function="ProcessOrderLambda"\\} (\\S+)$`, 'm'));
    return m ? Number(m[1]) : NaN;
  };
  return { get, text };
}

test('1,000 orders are stored exactly once; 5 poison orders reach the DLQ after exactly 3 receives', { timeout: 180000 }, async () => {
  const srv = await startServer({ template: true, args: PARAMS });
  try {
    const sns = new SNSClient(clientConfig(srv.endpoint));
    const sqs = new SQSClient(clientConfig(srv.endpoint));
    const ddb = new DynamoDBClient(clientConfig(srv.endpoint));
    const queueUrl = `${srv.endpoint}/000000000000/OrderQueue-CF`;
    const dlqUrl = `${srv.endpoint}/000000000000/OrderQueueDLQ-CF`;

    const valid = Array.from({ length: 1000 }, (_, i) => JSON.stringify(order(`ord-${i}`)));
    const poison = [
      'this is not json',
      JSON.stringify({ customerId: 'no-order-id' }),
      JSON.stringify(order('bad-qty', { items: [{ sku: 'x', quantity: 0, unitPrice: 1 }], total: 0 })),
      JSON.stringify(order('bad-total', { total: 99 })),
      JSON.stringify(order('bad-currency', { currency: 'EURO' })),
    ];
    const duplicates = Array.from({ length: 10 }, (_, i) => JSON.stringify(order(`ord-${i}`)));
    await publishAll(sns, [...valid.slice(0, 500), ...poison, ...valid.slice(500), ...duplicates]);

    await waitFor(async () => {
      const [q, d] = [await depth(sqs, queueUrl), await depth(sqs, dlqUrl)];
      return q.visible + q.inFlight + q.delayed === 0 && d.visible === 5;
    }, { timeoutMs: 120000, intervalMs: 200, what: 'the queue to drain and 5 messages in the DLQ' });

    const items = await scanAll(ddb);
    const ids = items.map((it) => it.orderId.S).sort();
    const expected = Array.from({ length: 1000 }, (_, i) => `ord-${i}`).sort();
    assert.deepEqual(ids, expected, 'every valid order exactly once, nothing else');
    const one = items.find((it) => it.orderId.S === 'ord-7');
    assert.equal(one.currency.S, 'EUR');
    assert.equal(one.items.L.length, 2);
    assert.ok(one.receivedAt?.S, 'receivedAt stored');
    assert.ok(one.messageId?.S, 'the SNS messageId stored');

    // The dead letters: the poison bodies, each received 3 times on the source queue.
    const dead = [];
    for (let i = 0; i < 5 && dead.length < 5; i += 1) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10,
        AttributeNames: ['All'], VisibilityTimeout: 60 }));
      dead.push(...(r.Messages ?? []));
    }
    assert.equal(dead.length, 5);
    const deadOrders = dead.map((m) => JSON.parse(m.Body).Message).sort();
    assert.deepEqual(deadOrders, [...poison].sort());
    for (const m of dead) {
      const lines = (await logLines(srv.endpoint, `"${m.MessageId}"`)).map((l) => JSON.parse(l));
      const counts = lines.map((l) => l.approximateReceiveCount).sort();
      assert.deepEqual(counts, [1, 2, 3], `receive counts logged for ${m.MessageId}: ${JSON.stringify(lines)}`);
      for (const l of lines) {
        assert.equal(l.outcome, 'rejected');
        assert.ok(l.reason.length > 0);
      }
    }

    // The duplicates were suppressed by the conditional write and logged as such.
    const dupLines = await logLines(srv.endpoint, '"duplicate"');
    assert.equal(dupLines.length, 10, dupLines.join('\n'));
    // Platform lines in AWS's format.
    const reports = await logLines(srv.endpoint, 'REPORT RequestId');
    assert.ok(reports.length > 0);
    assert.match(reports[0], /^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\t/);
    const m = await metrics(srv.endpoint);
    assert.ok(m.get('orderflow_function_invocations_total') >= 100, m.text);
    assert.ok(m.get('orderflow_function_workers') >= 1);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a worker killed mid-batch and a worker stuck past its timeout cause retries, not loss, and are replaced', { timeout: 180000 }, async () => {
  const srv = await startServer({ template: true, args: PARAMS });
  try {
    const sns = new SNSClient(clientConfig(srv.endpoint));
    const ddb = new DynamoDBClient(clientConfig(srv.endpoint));
    const sqs = new SQSClient(clientConfig(srv.endpoint));
    // One order: one warm worker, parked in `next`.
    await publishAll(sns, [JSON.stringify(order('warm-0'))]);
    await waitFor(async () => (await scanAll(ddb)).length === 1, { timeoutMs: 30000, what: 'the warm-up order' });
    const startedBefore = (await metrics(srv.endpoint)).get('orderflow_function_workers_started_total');
    const [warm] = workerPids(srv.port, 'ProcessOrderLambda');
    assert.ok(warm, 'a worker process is running');

    // Crash mid-batch: freeze the warm worker, publish (its parked `next` takes the first
    // batch), kill it while that batch runs.
    process.kill(warm, 'SIGSTOP');
    await publishAll(sns, Array.from({ length: 150 }, (_, i) => JSON.stringify(order(`a-${i}`))));
    await waitFor(async () => (await metrics(srv.endpoint)).get('orderflow_function_busy_workers') >= 1,
      { timeoutMs: 30000, intervalMs: 5, what: 'a batch handed to the frozen worker' });
    process.kill(warm, 'SIGKILL');
    await waitFor(async () => (await scanAll(ddb)).length === 151, { timeoutMs: 60000, intervalMs: 200, what: 'phase 1 orders stored' });

    // Timeouts: freeze every worker; the batches they take never finish.
    // (A worker listed may be gone by the time it is signalled -- the one killed above, not
    // reaped yet: only those actually stopped count.)
    const frozen = workerPids(srv.port, 'ProcessOrderLambda').filter((pid) => {
      try {
        process.kill(pid, 'SIGSTOP');
        return true;
      } catch (e) {
        if (e.code === 'ESRCH') return false;
        throw e;
      }
    });
    assert.ok(frozen.length >= 1, 'at least one live worker frozen');
    await publishAll(sns, Array.from({ length: 169 }, (_, i) => JSON.stringify(order(`b-${i}`))));
    await waitFor(async () => (await scanAll(ddb)).length === 320, { timeoutMs: 60000, intervalMs: 200, what: 'all 320 orders stored' });
    const ids = (await scanAll(ddb)).map((it) => it.orderId.S);
    assert.equal(new Set(ids).size, 320, 'no order stored twice');
    const dlq = await depth(sqs, `${srv.endpoint}/000000000000/OrderQueueDLQ-CF`);
    assert.equal(dlq.visible + dlq.inFlight, 0, 'nothing dead-lettered: retries succeeded');

    await waitFor(async () => {
      const m = await metrics(srv.endpoint);
      return m.get('orderflow_function_timeouts_total') >= 1 && m.get('orderflow_function_crashes_total') >= 1;
    }, { timeoutMs: 30000, what: 'a timeout and a crash counted' });
    const after = await metrics(srv.endpoint);
    assert.ok(after.get('orderflow_function_workers_started_total') > startedBefore, 'workers were replaced');
    for (const pid of frozen) assert.ok(!workerPids(srv.port, 'ProcessOrderLambda').includes(pid), `the stuck worker ${pid} was killed`);
    const timedOut = await logLines(srv.endpoint, '"Task timed out after 1.00 seconds"');
    assert.ok(timedOut.length >= 1);
    const exited = await logLines(srv.endpoint, 'Runtime.ExitError');
    assert.ok(exited.length >= 1);
  } finally {
    assert.equal((await srv.stop()).code, 0, srv.output());
  }
});

test('a second up on the same data directory resumes the stack and its data', { timeout: 120000 }, async () => {
  const first = await startServer({ template: true, args: PARAMS });
  const dataDir = first.dataDir;
  try {
    const sns = new SNSClient(clientConfig(first.endpoint));
    const ddb = new DynamoDBClient(clientConfig(first.endpoint));
    await publishAll(sns, [JSON.stringify(order('before-restart'))]);
    await waitFor(async () => (await scanAll(ddb)).length === 1, { timeoutMs: 30000, what: 'the first order' });
  } finally {
    assert.equal((await first.stop({ keepData: true })).code, 0, first.output());
  }
  const second = await startServer({ template: true, args: PARAMS, dataDir });
  try {
    assert.match(second.output(), /stack orderflow (UPDATE_COMPLETE|CREATE_COMPLETE)/);
    const sns = new SNSClient(clientConfig(second.endpoint));
    const ddb = new DynamoDBClient(clientConfig(second.endpoint));
    await publishAll(sns, [JSON.stringify(order('after-restart'))]);
    await waitFor(async () => (await scanAll(ddb)).length === 2, { timeoutMs: 30000, what: 'both orders' });
    const workers = workerPids(second.port, 'ProcessOrderLambda');
    assert.ok(workers.length >= 1);
  } finally {
    assert.equal((await second.stop()).code, 0, second.output());
  }
  // No worker outlives the server.
  await waitFor(() => workerPids(second.port, 'ProcessOrderLambda').length === 0, { timeoutMs: 10000, what: 'workers to exit' });
  rmSync(dataDir, { recursive: true, force: true });
});
