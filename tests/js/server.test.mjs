// The HTTP edge: bad input gets AWS errors and the connection stays usable; limits; drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { SQSClient, CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startServer, clientConfig, jsonCall, queryCall, xmlText, waitFor, uniqueName } from './lib/harness.mjs';

// Sends raw bytes on one connection and collects what comes back until `done(text)` or close.
function rawExchange(port, chunks, done = () => false, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`raw exchange timed out; got:\n${out}`)); }, timeoutMs);
    sock.on('data', (d) => { out += d; if (done(out)) { clearTimeout(timer); sock.end(); resolve(out); } });
    sock.on('close', () => { clearTimeout(timer); resolve(out); });
    sock.on('error', () => {});
    for (const c of chunks) sock.write(c);
  });
}
const count = (s, re) => (s.match(re) || []).length;

test('bad input gets AWS errors and the server keeps serving', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const e = server.endpoint;
  const malformed = await jsonCall(e, 'AmazonSQS.ListQueues', '{"QueueNamePrefix": ');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.__type, 'com.amazon.coral.service#SerializationException');
  const deep = await jsonCall(e, 'AmazonSQS.ListQueues', `${'['.repeat(200)}${']'.repeat(200)}`);
  assert.equal(deep.json.__type, 'com.amazon.coral.service#SerializationException');
  const notObject = await jsonCall(e, 'AmazonSQS.ListQueues', '[1,2]');
  assert.equal(notObject.json.__type, 'com.amazon.coral.service#SerializationException');
  const badUtf8 = await jsonCall(e, 'AmazonSQS.ListQueues', Buffer.from([0x7b, 0x22, 0x51, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
  assert.equal(badUtf8.status, 400);
  assert.equal(badUtf8.json.__type, 'com.amazon.coral.service#SerializationException');
  const wrongType = await jsonCall(e, 'AmazonSQS.ReceiveMessage', { QueueUrl: `${e}/000000000000/q`, MaxNumberOfMessages: 'ten' });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.headers.get('x-amzn-query-error'), 'InvalidParameterValue;Sender');
  const missing = await jsonCall(e, 'AmazonSQS.SendMessage', { MessageBody: 'x' });
  assert.equal(missing.json.__type, 'com.amazonaws.sqs#MissingRequiredParameterException');
  assert.match(missing.json.message, /QueueUrl/);
  const unknownOp = await jsonCall(e, 'AmazonSQS.FlyToTheMoon', {});
  assert.equal(unknownOp.status, 400);
  assert.equal(unknownOp.headers.get('x-amzn-query-error'), 'InvalidAction;Sender');
  const unknownTarget = await jsonCall(e, 'Nope_2020.Op', {}, { service: 'nope' });
  assert.equal(unknownTarget.json.__type, 'com.amazon.coral.service#UnknownOperationException');
  const logs = await jsonCall(e, 'Logs_20140328.FlyToTheMoon', {}, { service: 'logs', contentType: 'application/x-amz-json-1.1' });
  assert.equal(logs.status, 400);
  assert.match(logs.json.__type, /UnknownOperationException$/);
  const badAction = await queryCall(e, { Action: 'Nope' });
  assert.equal(xmlText(badAction.text, 'Code'), 'InvalidAction');
  const noAction = await queryCall(e, { Version: '2012-11-05' });
  assert.equal(xmlText(noAction.text, 'Code'), 'MissingAction');
  const badEscape = await queryCall(e, 'Action=ListQueues&QueueNamePrefix=%zz');
  assert.equal(badEscape.status, 400);
  const badUrl = await queryCall(e, { Action: 'GetQueueAttributes', QueueUrl: 'not a url' });
  assert.equal(xmlText(badUrl.text, 'Code'), 'InvalidAddress');
  const sqs = new SQSClient(clientConfig(e));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName() }));
  assert.ok(QueueUrl, 'still serving');
  sqs.destroy();
});

test('keep-alive: a malformed request and a good one on the same connection, pipelined', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const bad = 'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AmazonSQS.ListQueues\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 5\r\n\r\n{bad}';
  const health = 'GET /_orderflow/health HTTP/1.1\r\nHost: x\r\n\r\n';
  const out = await rawExchange(server.port, [bad + health + health], (s) => count(s, /HTTP\/1\.1 /g) >= 3);
  const statuses = [...out.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
  assert.deepEqual(statuses, ['403', '200', '200'], out);
});

test('limits: oversize bodies get 413, oversize headers 431, garbage 400', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const big = await rawExchange(server.port, [`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`]);
  assert.match(big, /^HTTP\/1\.1 413/);
  const hdr = await rawExchange(server.port, [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`]);
  assert.match(hdr, /^HTTP\/1\.1 431/);
  const garbage = await rawExchange(server.port, ['THIS IS NOT HTTP\r\n\r\n']);
  assert.match(garbage, /^HTTP\/1\.1 400/);
  const r = await fetch(`${server.endpoint}/_orderflow/health`);
  assert.equal(r.status, 200);
});

test('SIGTERM drains: an in-flight long poll is answered, then the process exits 0', async () => {
  const server = await startServer();
  const sqs = new SQSClient(clientConfig(server.endpoint));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('drain'), Attributes: {} }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'durable' }));
  const started = Date.now();
  const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl: QueueUrl.replace(/[^/]+$/, 'drain-empty'), WaitTimeSeconds: 2 })).catch((err) => err);
  await new Promise((r) => setTimeout(r, 200));
  const exit = server.stop({ keepData: true });
  const answered = await poll;
  assert.ok(answered.name === 'QueueDoesNotExist' || answered.$metadata, 'the in-flight request was answered');
  const status = await exit;
  assert.equal(status.code, 0, server.output());
  assert.ok(Date.now() - started < 25000);
  sqs.destroy();
  // Restart on the same data: the message is still there.
  const again = await startServer({ dataDir: server.dataDir });
  const sqs2 = new SQSClient(clientConfig(again.endpoint));
  const url2 = QueueUrl.replace(server.endpoint, again.endpoint);
  const got = await waitFor(async () => (await sqs2.send(new ReceiveMessageCommand({ QueueUrl: url2 }))).Messages, { what: 'message after restart' });
  assert.equal(got[0].Body, 'durable');
  sqs2.destroy();
  assert.equal((await again.stop()).code, 0);
});

test('the server does not load libcurl (only the client commands do, when they first need it)', async (t) => {
  const server = await startServer({ template: true });
  t.after(() => server.stop());
  // Serve something first, so that every code path of a running server has been taken once.
  const created = await jsonCall(server.endpoint, 'AmazonSQS.CreateQueue', { QueueName: uniqueName('maps') });
  assert.equal(created.status, 200);
  const maps = readFileSync(`/proc/${server.proc.pid}/maps`, 'utf8');
  assert.match(maps, /libsqlite3/, 'the maps of the server process were read');
  assert.doesNotMatch(maps, /libcurl/);
});
