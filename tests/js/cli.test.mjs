// The client subcommands of the real `orderflow` binary (publish, orders, dlq, logs, status)
// against a real `orderflow up`, with the seed's resources made by hand through the AWS SDK:
// table Orders (key orderId), topic OrderTopic, queue OrderQueue-CF with a redrive policy to
// OrderQueueDLQ-CF, and the SNS -> SQS subscription (raw delivery off). No function runs here:
// what the commands do is checked through the same APIs (the queue's envelopes, the table, the
// DLQ, the log group).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  SQSClient, CreateQueueCommand, GetQueueUrlCommand, GetQueueAttributesCommand, SendMessageCommand, ReceiveMessageCommand,
  DeleteMessageBatchCommand, PurgeQueueCommand,
} from '@aws-sdk/client-sqs';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDBClient, CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startServer, clientConfig, waitFor, jsonCall, orderflowBinary } from './lib/harness.mjs';

let server;
let sqs;
let sns;
let ddb;
let queueUrl;
let dlqUrl;
let topicArn;
const LOG_GROUP = '/aws/lambda/ProcessOrderLambda';
// `orderflow up` arguments beyond the harness's: it starts the APIs only (--no-template), so no
// function consumes the queue (these tests look at what the commands put there).
const UP_ARGS = [];

// Creating what exists already is fine: a stack that provisions itself has made it.
const ignoreExisting = (e) => { if (!/ResourceInUse|AlreadyExists/.test(e.name)) throw e; };

before(async () => {
  server = await startServer({ args: UP_ARGS });
  sqs = new SQSClient(clientConfig(server.endpoint));
  sns = new SNSClient(clientConfig(server.endpoint));
  ddb = new DynamoDBClient(clientConfig(server.endpoint));
  await ddb.send(new CreateTableCommand({
    TableName: 'Orders', BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
  })).catch(ignoreExisting);
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'OrderTopic' }))).TopicArn;
  dlqUrl = await createQueue('OrderQueueDLQ-CF');
  const dlqArn = await queueArn(dlqUrl);
  queueUrl = await createQueue('OrderQueue-CF',
    { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '3' }) });
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: await queueArn(queueUrl) }));
});
after(async () => {
  sqs?.destroy();
  sns?.destroy();
  ddb?.destroy();
  const status = await server?.stop();
  assert.equal(status?.code, 0, `server exit: ${JSON.stringify(status)}\n${server?.output()}`);
});

async function createQueue(QueueName, Attributes) {
  try {
    return (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl;
  } catch (e) {
    if (e.name !== 'QueueNameExists' && e.name !== 'QueueAlreadyExists') throw e;
    return (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl;
  }
}
async function queueArn(url) {
  return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
}
async function depth(url) {
  const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes;
  return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed) };
}
// Receives (and deletes) every visible message of a queue.
async function drain(url) {
  const out = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    if (!r.Messages?.length) return out;
    out.push(...r.Messages);
    await sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: url, Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    }));
  }
}

// Runs the binary; resolves to { code, signal, stdout, stderr, json }. The environment holds no
// AWS settings, so the command's own defaults (test/test, us-east-1) are what is tested.
function run(args, { input, endpoint = server.endpoint, env = {} } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(orderflowBinary(), [...args, ...(endpoint ? ['--endpoint-url', endpoint] : [])], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    // A command that exits before reading its input (bad arguments) closes the pipe: EPIPE.
    proc.stdin.on('error', () => {});
    proc.stdin.end(input ?? '');
    proc.on('close', (code, signal) => {
      let json;
      try { json = JSON.parse(stdout); } catch { json = undefined; }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}
async function ok(args, options) {
  const r = await run(args, options);
  assert.equal(r.code, 0, `orderflow ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

async function logsServed() {
  const r = await jsonCall(server.endpoint, 'Logs_20140328.DescribeLogGroups', {},
    { service: 'logs', contentType: 'application/x-amz-json-1.1' });
  return r.status === 200;
}
async function logsCall(op, body) {
  const r = await jsonCall(server.endpoint, `Logs_20140328.${op}`, body,
    { service: 'logs', contentType: 'application/x-amz-json-1.1' });
  assert.equal(r.status, 200, `${op}: ${r.text}`);
  return r.json;
}
let logStreamReady = false;
async function putLogLines(messages) {
  if (!logStreamReady) {
    const g = await jsonCall(server.endpoint, 'Logs_20140328.CreateLogGroup', { logGroupName: LOG_GROUP },
      { service: 'logs', contentType: 'application/x-amz-json-1.1' });
    assert.ok(g.status === 200 || /ResourceAlreadyExists/.test(g.text), g.text);
    await logsCall('CreateLogStream', { logGroupName: LOG_GROUP, logStreamName: '2024/05/01/[$LATEST]cli' });
    logStreamReady = true;
  }
  const now = Date.now();
  await logsCall('PutLogEvents', {
    logGroupName: LOG_GROUP, logStreamName: '2024/05/01/[$LATEST]cli',
    logEvents: messages.map((message, i) => ({ timestamp: now + i, message })),
  });
}

const ONE_LINE_ERROR = /^orderflow [a-z ]+: [^\n]+\n$/;

test('publish --generate sends valid orders through the topic, as SNS envelopes on the queue', async () => {
  const r = await ok(['publish', '--generate', '20']);
  assert.match(r.stdout, /^published 20 orders to OrderTopic in .* \(.* orders\/s\), 0 failed\n$/);
  const got = await waitFor(async () => {
    const d = await depth(queueUrl);
    return d.visible === 20 ? drain(queueUrl) : null;
  }, { what: '20 messages on the queue' });
  assert.equal(got.length, 20);
  const ids = new Set();
  for (const m of got) {
    const envelope = JSON.parse(m.Body);
    assert.equal(envelope.Type, 'Notification');
    assert.equal(envelope.TopicArn, topicArn);
    const order = JSON.parse(envelope.Message);
    assert.match(order.orderId, /^ord-[0-9a-z]{6}-\d+$/);
    ids.add(order.orderId);
    assert.match(order.customerId, /^cust-\d{4}$/);
    assert.match(order.email, /^cust-\d{4}@example\.com$/);
    assert.match(order.currency, /^[A-Z]{3}$/);
    assert.ok(!Number.isNaN(Date.parse(order.createdAt)), order.createdAt);
    assert.ok(order.items.length >= 1 && order.items.length <= 3);
    const cents = order.items.reduce((sum, i) => sum + i.quantity * Math.round(i.unitPrice * 100), 0);
    assert.equal(Math.round(order.total * 100), cents, 'total is the sum of the items');
  }
  assert.equal(ids.size, 20, 'orderIds are unique');
});

test('publish from stdin publishes every line, warns about lines that are not JSON, and reports as JSON', async () => {
  const input = '{"orderId":"stdin-1"}\nnot json at all\n\n{"orderId":"stdin-2"}\n';
  const r = await ok(['publish', '--json', '--concurrency', '2'], { input });
  assert.match(r.stderr, /line 2 is not JSON; publishing it anyway/);
  assert.equal(r.json.published, 3);
  assert.equal(r.json.failed, 0);
  assert.equal(r.json.topicArn, topicArn);
  assert.deepEqual(r.json.failures, []);
  const got = await waitFor(async () => ((await depth(queueUrl)).visible === 3 ? drain(queueUrl) : null),
    { what: 'three messages' });
  const messages = got.map((m) => JSON.parse(m.Body).Message).sort();
  assert.deepEqual(messages, ['not json at all', '{"orderId":"stdin-1"}', '{"orderId":"stdin-2"}']);
});

test('publish to a topic that does not exist fails with one line', async () => {
  const r = await run(['publish', '--generate', '1', '--topic', 'NoSuchTopic']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, ONE_LINE_ERROR);
  assert.match(r.stderr, /topic NoSuchTopic does not exist/);
});

test('orders get prints the item as plain JSON with exact numbers; orders list reads the table', async () => {
  await ddb.send(new PutItemCommand({ TableName: 'Orders', Item: {
    orderId: { S: 'cli-1' }, customerId: { S: 'cust-0001' }, total: { N: '123456789012345678901234567.5' },
    items: { L: [{ M: { sku: { S: 'SKU-1' }, quantity: { N: '2' }, unitPrice: { N: '1.25' } } }] },
    paid: { BOOL: true }, note: { NULL: true }, receivedAt: { S: '2024-05-01T12:00:00.000Z' },
  } }));
  await ddb.send(new PutItemCommand({ TableName: 'Orders', Item: {
    orderId: { S: 'cli-2' }, receivedAt: { S: '2024-05-02T12:00:00.000Z' }, currency: { S: 'EUR' },
  } }));

  const pretty = await ok(['orders', 'get', 'cli-1']);
  assert.match(pretty.stdout, /"total": 123456789012345678901234567\.5\b/, 'the number text is kept');
  assert.deepEqual(pretty.json.items, [{ sku: 'SKU-1', quantity: 2, unitPrice: 1.25 }]);
  assert.equal(pretty.json.paid, true);
  assert.equal(pretty.json.note, null);
  const compact = await ok(['orders', 'get', 'cli-1', '--json']);
  assert.equal(compact.stdout.trim().split('\n').length, 1);
  assert.equal(compact.json.orderId, 'cli-1');
  assert.ok(compact.stdout.startsWith('{"orderId":"cli-1"'), 'orderId comes first');

  const missing = await run(['orders', 'get', 'no-such-order']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr, 'orderflow orders get: order no-such-order not found in table Orders\n');

  const list = await ok(['orders', 'list', '--json']);
  const ids = list.json.map((o) => o.orderId);
  assert.deepEqual(ids.filter((id) => id.startsWith('cli-')), ['cli-2', 'cli-1'], 'newest first');
  const table = await ok(['orders', 'list']);
  assert.match(table.stdout, /^ORDER ID\s+CUSTOMER\s+ITEMS\s+TOTAL\s+CURRENCY\s+CREATED\s+RECEIVED\n/);
  assert.match(table.stdout, /\ncli-1\s+cust-0001\s+1\s+123456789012345678901234567\.5\s+2024-05-01T12:00:00\.000Z\n/);
  const one = await ok(['orders', 'list', '--limit', '1', '--json']);
  assert.equal(one.json.length, 1);

  const noTable = await run(['orders', 'list', '--table', 'NoSuchTable']);
  assert.equal(noTable.code, 1);
  assert.equal(noTable.stderr, 'orderflow orders list: table NoSuchTable does not exist\n');
});

test('dlq list shows a message sent to the DLQ and leaves it there', async () => {
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: '{"orderId":"dead-1"}' }));
  const r = await ok(['dlq', 'list', '--json']);
  assert.ok(Array.isArray(r.json));
  const m = r.json.find((x) => x.messageId === sent.MessageId);
  assert.ok(m, r.stdout);
  assert.equal(m.orderId, 'dead-1');
  assert.equal(m.body, '{"orderId":"dead-1"}');
  assert.equal(m.receiveCount, 1);
  assert.ok(m.sentTimestamp > 0 && m.firstReceiveTimestamp >= m.sentTimestamp);
  // Peeking hid it only for the listing.
  assert.deepEqual(await depth(dlqUrl), { visible: 1, inFlight: 0, delayed: 0 });
  const table = await ok(['dlq', 'list']);
  assert.match(table.stdout, /^MESSAGE ID\s+ORDER ID\s+RECEIVES\s+SENT\s+FIRST RECEIVE\s+LAST TRY\s+REASON\s+BODY\n/);
  assert.match(table.stdout, new RegExp(`\\n${sent.MessageId}\\s+dead-1\\s+2\\s`), 'each listing is a receive');
  assert.match(table.stdout, /1 message in OrderQueueDLQ-CF/);
});

test('dlq list finds the failure reason in the function\'s log group', async (t) => {
  assert.ok(await logsServed(), 'the server serves the CloudWatch Logs API');
  const listed = (await ok(['dlq', 'list', '--json'])).json;
  const m = listed.find((x) => x.orderId === 'dead-1');
  assert.ok(m, 'the message of the previous test is in the DLQ');
  assert.equal(m.reason, null, 'no log line yet');
  await putLogLines([
    JSON.stringify({ level: 'WARN', orderId: 'dead-1', messageId: m.messageId, approximateReceiveCount: 1,
      outcome: 'rejected', reason: 'items is required', retryable: false }),
    JSON.stringify({ level: 'WARN', orderId: 'dead-1', messageId: m.messageId, approximateReceiveCount: 2,
      outcome: 'rejected', reason: 'total does not match the items', retryable: false }),
    JSON.stringify({ level: 'WARN', orderId: 'other', messageId: 'another-message', outcome: 'rejected', reason: 'not this one' }),
  ]);
  const again = (await ok(['dlq', 'list', '--json'])).json.find((x) => x.messageId === m.messageId);
  assert.equal(again.reason, 'total does not match the items', 'the newest line about the message');
  assert.ok(again.lastAttemptTimestamp > 0);
  const table = await ok(['dlq', 'list']);
  assert.match(table.stdout, /total does not match the items/);
});

test('dlq redrive moves the DLQ\'s messages back to the order queue', async () => {
  assert.equal((await depth(dlqUrl)).visible, 1, 'the message of the earlier tests');
  const r = await ok(['dlq', 'redrive', '--max-per-second', '50']);
  assert.equal(r.stdout, 'moved 1 message from OrderQueueDLQ-CF to OrderQueue-CF\n');
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  const got = await waitFor(async () => ((await depth(queueUrl)).visible === 1 ? drain(queueUrl) : null),
    { what: 'the message back on the queue' });
  assert.equal(got[0].Body, '{"orderId":"dead-1"}');
  assert.equal((await depth(dlqUrl)).visible, 0);

  const empty = await ok(['dlq', 'redrive', '--json']);
  assert.equal(empty.json.status, 'NOTHING_TO_MOVE');
  assert.equal(empty.json.moved, 0);
  assert.deepEqual((await ok(['dlq', 'list', '--json'])).json, []);
  assert.equal((await ok(['dlq', 'list'])).stdout, 'OrderQueueDLQ-CF is empty\n');
});

test('status reports resources and queue depths (visible, in flight, delayed)', async () => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  await waitFor(async () => {
    const d = await depth(queueUrl);
    return d.visible + d.inFlight + d.delayed === 0;
  }, { what: 'the purge' });
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'a' }));
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'b' }));
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'c', DelaySeconds: 900 }));
  await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 900 }));
  await sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'dead' }));

  const r = await ok(['status', '--json']);
  const s = r.json;
  assert.equal(s.endpoint, server.endpoint);
  assert.equal(s.region, 'us-east-1');
  assert.deepEqual({ visible: s.queue.visible, inFlight: s.queue.inFlight, delayed: s.queue.delayed },
    { visible: 1, inFlight: 1, delayed: 1 });
  assert.equal(s.queue.url, queueUrl);
  assert.deepEqual({ visible: s.dlq.visible, inFlight: s.dlq.inFlight, delayed: s.dlq.delayed },
    { visible: 1, inFlight: 0, delayed: 0 });
  assert.equal(s.topic.arn, topicArn);
  assert.equal(s.topic.subscriptions, 1);
  assert.equal(s.table.exists, true);
  assert.equal(s.table.status, 'ACTIVE');
  assert.equal(typeof s.table.itemCount, 'number');
  assert.equal(s.function.name, 'ProcessOrderLambda');
  for (const k of ['workers', 'busyWorkers', 'invocations', 'errors']) {
    assert.ok(k in s.function && (s.function[k] === null || typeof s.function[k] === 'number'), k);
  }
  assert.equal(s.logGroup.name, LOG_GROUP);

  const table = await ok(['status']);
  assert.match(table.stdout, /\nqueue\s+OrderQueue-CF\s+ok\s+1 visible, 1 in flight, 1 delayed\n/);
  assert.match(table.stdout, /\ndlq\s+OrderQueueDLQ-CF\s+ok\s+1 visible, 0 in flight, 0 delayed\n/);
  assert.match(table.stdout, /\ntopic\s+OrderTopic\s+ok\s+1 subscription\n/);
  assert.match(table.stdout, /\ntable\s+Orders\s+ACTIVE\s+\d+ items?\n/);

  const missing = await ok(['status', '--json', '--queue', 'NoSuchQueue', '--table', 'NoSuchTable']);
  assert.equal(missing.json.queue.exists, false);
  assert.equal(missing.json.table.exists, false);
});

test('logs prints the log group\'s events, filters them, and follows new ones', async (t) => {
  assert.ok(await logsServed(), 'the server serves the CloudWatch Logs API');
  await putLogLines(['{"level":"INFO","orderId":"log-1","outcome":"stored"}', 'plain ERROR line']);
  const all = await ok(['logs', '--json', '--since', '10m']);
  assert.ok(all.json.some((e) => e.message === 'plain ERROR line' && e.logStreamName === '2024/05/01/[$LATEST]cli'));
  const text = await ok(['logs']);
  assert.match(text.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 2024\/05\/01\/\[\$LATEST\]cli plain ERROR line$/m);
  const filtered = await ok(['logs', '--filter', 'ERROR', '--json']);
  assert.deepEqual(filtered.json.map((e) => e.message), ['plain ERROR line']);
  const last = await ok(['logs', '--limit', '1', '--json']);
  assert.equal(last.json.length, 1);

  const noGroup = await run(['logs', '--log-group', '/aws/lambda/Nope']);
  assert.equal(noGroup.code, 1);
  assert.equal(noGroup.stderr, 'orderflow logs: log group /aws/lambda/Nope does not exist (has the function run yet?)\n');

  // --follow: the existing events, then new ones once each, until SIGINT.
  const proc = spawn(orderflowBinary(), ['logs', '--follow', '--filter', 'follow', '--endpoint-url', server.endpoint],
    { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await putLogLines(['follow one']);
  await waitFor(() => out.includes('follow one'), { what: 'the first followed line', timeoutMs: 15000 });
  await putLogLines(['follow two']);
  await waitFor(() => out.includes('follow two'), { what: 'the second followed line', timeoutMs: 15000 });
  proc.kill('SIGINT');
  assert.deepEqual(await exited, { code: 0, signal: null }, err);
  const lines = out.trim().split('\n');
  assert.equal(lines.filter((l) => l.endsWith(' follow one')).length, 1, out);
  assert.equal(lines.filter((l) => l.endsWith(' follow two')).length, 1, out);
});

test('a stopped stack gives one clear line and exit code 1', async () => {
  const other = await startServer();
  const { endpoint } = other;
  await other.stop();
  for (const args of [['orders', 'get', 'x'], ['orders', 'list'], ['status'], ['dlq', 'list'],
    ['dlq', 'redrive'], ['publish', '--generate', '1'], ['logs']]) {
    const r = await run(args, { endpoint });
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `orderflow ${args[0] === 'orders' || args[0] === 'dlq' ? `${args[0]} ${args[1]}` : args[0]}: `
      + `no orderflow at ${endpoint} — start it with \`orderflow up\`\n`);
  }
  // The default endpoint comes from AWS_ENDPOINT_URL.
  const fromEnv = await run(['status'], { endpoint: null, env: { AWS_ENDPOINT_URL: endpoint } });
  assert.equal(fromEnv.code, 1);
  assert.match(fromEnv.stderr, new RegExp(`no orderflow at ${endpoint.replace(/\./g, '\\.')} `));
});

test('the environment names the resources, and --help works on every command', async () => {
  const r = await ok(['status', '--json'], { env: { ORDERFLOW_QUEUE: 'NoSuchQueue' } });
  assert.equal(r.json.queue.name, 'NoSuchQueue');
  assert.equal(r.json.queue.exists, false);
  for (const args of [[], ['publish'], ['orders'], ['orders', 'get'], ['orders', 'list'], ['dlq'], ['dlq', 'list'],
    ['dlq', 'redrive'], ['logs'], ['status']]) {
    const help = await run([...args, '--help'], { endpoint: null });
    assert.equal(help.code, 0, args.join(' '));
    assert.match(help.stdout, /Usage:/);
  }
});

test('bad arguments are refused with a non-zero exit code before anything is called', async () => {
  for (const args of [['orders', 'list', '--limit', '0'], ['orders', 'get'], ['logs', '--since', '5x'],
    ['publish', '--generate', '5', 'orders.jsonl'], ['publish', '--concurrency', '0'], ['dlq', 'redrive', '--max-per-second', '501'],
    ['frobnicate'], ['orders'], ['status', '--aws']]) {
    const r = await run(args, { endpoint: args.includes('--aws') ? 'http://127.0.0.1:1' : null });
    assert.notEqual(r.code, 0, args.join(' '));
    if (!args.includes('--aws')) assert.equal(r.code, 2, `${args.join(' ')}: bad arguments exit 2\n${r.stderr}`);
    assert.ok(r.stderr.length > 0, args.join(' '));
  }
  const missingFile = await run(['publish', '/nonexistent/orders.jsonl']);
  assert.equal(missingFile.code, 1);
  assert.match(missingFile.stderr, /^orderflow publish: cannot read \/nonexistent\/orders\.jsonl: /);
});
