// Every API route refuses an unsigned request and a wrongly signed one, in its protocol's own
// error shape, before doing anything. The list below is every operation the server serves; the
// only unsigned routes are GET /_orderflow/health, GET /metrics, the SNS signing certificate
// (SigningCertURL, public on AWS too) and the functions' Runtime API (/_orderflow/lambda/...,
// unsigned on AWS too), checked at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, signedFetch, formBody, xmlText } from './lib/harness.mjs';

const SQS = ['CreateQueue', 'GetQueueUrl', 'ListQueues', 'DeleteQueue', 'GetQueueAttributes', 'SetQueueAttributes',
  'SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch', 'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch', 'PurgeQueue', 'ListDeadLetterSourceQueues', 'StartMessageMoveTask',
  'ListMessageMoveTasks', 'CancelMessageMoveTask', 'TagQueue', 'UntagQueue', 'ListQueueTags', 'AddPermission',
  'RemovePermission'];
const SNS = ['CreateTopic', 'DeleteTopic', 'ListTopics', 'GetTopicAttributes', 'SetTopicAttributes', 'Subscribe',
  'Unsubscribe', 'ListSubscriptions', 'ListSubscriptionsByTopic', 'GetSubscriptionAttributes',
  'SetSubscriptionAttributes', 'Publish', 'PublishBatch', 'TagResource', 'UntagResource', 'ListTagsForResource'];
const DYNAMODB = ['CreateTable', 'DeleteTable', 'DescribeTable', 'ListTables', 'UpdateTable', 'PutItem', 'GetItem',
  'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'TransactGetItems',
  'TransactWriteItems'];
const LOGS = ['CreateLogGroup', 'DeleteLogGroup', 'DescribeLogGroups', 'PutRetentionPolicy', 'DeleteRetentionPolicy',
  'CreateLogStream', 'DeleteLogStream', 'DescribeLogStreams', 'PutLogEvents', 'GetLogEvents', 'FilterLogEvents',
  'TagLogGroup', 'UntagLogGroup', 'ListTagsLogGroup', 'TagResource', 'UntagResource', 'ListTagsForResource'];

let srv;
before(async () => { srv = await startServer({ template: true }); });
after(async () => { assert.equal((await srv.stop()).code, 0, srv.output()); });

// Each route once unsigned and once signed with the wrong secret.
const attempts = [{ sign: false }, { sign: true, secretKey: 'wrong-secret' }];

test('every query-protocol action (SQS, SNS) refuses unsigned and wrongly signed requests', async () => {
  for (const [service, actions, version] of [['sqs', SQS, '2012-11-05'], ['sns', SNS, '2010-03-31']]) {
    for (const action of actions) {
      for (const a of attempts) {
        const r = await signedFetch(srv.endpoint, { ...a, service, body: formBody({ Action: action, Version: version, QueueName: 'x', Name: 'x' }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        const code = xmlText(r.text, 'Code');
        assert.ok(r.status === 403 || r.status === 400, `${service} ${action} ${a.sign ? 'bad signature' : 'unsigned'}: ${r.status} ${r.text}`);
        assert.equal(code, a.sign ? 'SignatureDoesNotMatch' : 'MissingAuthenticationToken', `${service} ${action}: ${r.text}`);
      }
    }
  }
});

test('every JSON-protocol operation (SQS JSON, DynamoDB, Logs) refuses unsigned and wrongly signed requests', async () => {
  const families = [
    ['sqs', 'AmazonSQS', SQS, 'application/x-amz-json-1.0'],
    ['dynamodb', 'DynamoDB_20120810', DYNAMODB, 'application/x-amz-json-1.0'],
    ['logs', 'Logs_20140328', LOGS, 'application/x-amz-json-1.1'],
  ];
  for (const [service, prefix, ops, contentType] of families) {
    for (const op of ops) {
      for (const a of attempts) {
        const r = await signedFetch(srv.endpoint, { ...a, service, body: '{}',
          headers: { 'content-type': contentType, 'x-amz-target': `${prefix}.${op}` } });
        assert.ok(r.status === 400 || r.status === 403, `${prefix}.${op}: ${r.status} ${r.text}`);
        const type = JSON.parse(r.text).__type ?? '';
        const expected = a.sign ? /InvalidSignatureException$/ : /MissingAuthenticationTokenException$/;
        assert.match(type, expected, `${prefix}.${op} ${a.sign ? 'bad signature' : 'unsigned'}: ${r.text}`);
      }
    }
  }
  // Nothing was done: the stack's table is still the only one, and no log group was created.
  const tables = await signedFetch(srv.endpoint, { service: 'dynamodb', body: '{}',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' } });
  assert.deepEqual(JSON.parse(tables.text).TableNames, ['Orders']);
});

test('the unsigned routes are exactly health, metrics, the SNS certificate and the Runtime API', async () => {
  assert.equal((await fetch(`${srv.endpoint}/_orderflow/health`)).status, 200);
  assert.equal((await fetch(`${srv.endpoint}/metrics`)).status, 200);
  assert.equal((await fetch(`${srv.endpoint}/SimpleNotificationService-0000.pem`)).status, 200);
  assert.equal((await fetch(`${srv.endpoint}/SimpleNotificationService-0000.pem?Action=ListQueues`)).status, 200,
    'the certificate, not an API call');
  assert.equal((await fetch(`${srv.endpoint}/?Action=ListQueues`)).status, 403);
  const rt = await fetch(`${srv.endpoint}/_orderflow/lambda/ProcessOrderLambda/999/2018-06-01/runtime/invocation/next`);
  assert.equal(rt.status, 403, 'not a worker: refused by the Runtime API itself');
  const other = await fetch(`${srv.endpoint}/_orderflow/anything-else`);
  assert.notEqual(other.status, 200);
});
