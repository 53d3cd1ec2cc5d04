// Refusal of bad and missing signatures, in each protocol's own error shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SQSClient, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { startServer, awscli, clientConfig, signedFetch, queryCall, jsonCall, xmlText } from './lib/harness.mjs';

let server;
before(async () => { server = await startServer({ args: ['--access-key', 'AKIDORDERFLOW', '--secret-key', 's3cret'] }); });
after(async () => { assert.equal((await server?.stop())?.code, 0); });

const good = { accessKey: 'AKIDORDERFLOW', secretKey: 's3cret' };

test('awscli: configured key works; wrong secret and unknown key are refused', async () => {
  const ok = await awscli(server.endpoint, ['sqs', 'list-queues'], good);
  assert.equal(ok.code, 0, ok.stderr);
  const wrong = await awscli(server.endpoint, ['sqs', 'list-queues'], { ...good, secretKey: 'nope' });
  assert.match(wrong.stderr, /\(SignatureDoesNotMatch\)/);
  const unknown = await awscli(server.endpoint, ['sqs', 'list-queues'], { accessKey: 'test', secretKey: 'test' });
  assert.match(unknown.stderr, /\(InvalidClientTokenId\)/);
});

test('JS SDK: wrong secret and unknown key', async () => {
  const bad = new SQSClient(clientConfig(server.endpoint, { credentials: { accessKeyId: 'AKIDORDERFLOW', secretAccessKey: 'x' } }));
  const e = await bad.send(new ListQueuesCommand({})).catch((err) => err);
  assert.equal(e.Code, 'SignatureDoesNotMatch');
  assert.equal(e.$metadata.httpStatusCode, 403);
  bad.destroy();
  const unknown = new SQSClient(clientConfig(server.endpoint, { credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' } }));
  const e2 = await unknown.send(new ListQueuesCommand({})).catch((err) => err);
  assert.equal(e2.Code, 'InvalidClientTokenId');
  assert.equal(e2.$metadata.httpStatusCode, 403);
  unknown.destroy();
});

test('unsigned requests: MissingAuthenticationToken in XML, SQS JSON and DynamoDB JSON', async () => {
  const xml = await signedFetch(server.endpoint, { sign: false, body: 'Action=ListQueues&Version=2012-11-05',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(xml.status, 403);
  assert.equal(xmlText(xml.text, 'Code'), 'MissingAuthenticationToken');
  assert.ok(xml.headers.get('x-amzn-requestid'));
  assert.ok(xml.headers.get('date'));
  const sqsJson = await jsonCall(server.endpoint, 'AmazonSQS.ListQueues', {}, { sign: false });
  assert.equal(sqsJson.status, 403);
  assert.equal(sqsJson.json.__type, 'com.amazon.coral.service#MissingAuthenticationTokenException');
  assert.equal(sqsJson.headers.get('x-amzn-query-error'), 'MissingAuthenticationToken;Sender');
  const ddb = await jsonCall(server.endpoint, 'DynamoDB_20120810.ListTables', {}, { sign: false, service: 'dynamodb' });
  assert.equal(ddb.status, 400);
  assert.equal(ddb.json.__type, 'com.amazon.coral.service#MissingAuthenticationTokenException');
});

test('a request time more than 15 minutes off is refused', async () => {
  const old = new Date(Date.now() - 20 * 60 * 1000);
  const xml = await queryCall(server.endpoint, { Action: 'ListQueues' }, { ...good, date: old });
  assert.equal(xml.status, 403);
  assert.equal(xmlText(xml.text, 'Code'), 'SignatureDoesNotMatch');
  assert.match(xmlText(xml.text, 'Message'), /Signature expired/);
  const ddb = await jsonCall(server.endpoint, 'DynamoDB_20120810.ListTables', {}, { ...good, service: 'dynamodb', date: old });
  assert.equal(ddb.status, 400);
  assert.equal(ddb.json.__type, 'com.amazon.coral.service#InvalidSignatureException');
  const unknown = await jsonCall(server.endpoint, 'DynamoDB_20120810.ListTables', {}, { service: 'dynamodb' });
  assert.equal(unknown.json.__type, 'com.amazon.coral.service#UnrecognizedClientException');
});

test('a malformed Authorization header is an incomplete signature', async () => {
  const r = await signedFetch(server.endpoint, { sign: false, body: 'Action=ListQueues',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=garbage' } });
  assert.equal(r.status, 400);
  assert.equal(xmlText(r.text, 'Code'), 'IncompleteSignature');
});

test('the health check needs no signature', async () => {
  const r = await fetch(`${server.endpoint}/_orderflow/health`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { status: 'ok' });
});
