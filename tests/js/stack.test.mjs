// The local stack across `orderflow up` runs on one data directory: changed parameters update
// resources in place, a changed template creates and deletes resources, and the data of
// resources that stay is kept. Checked through the AWS APIs with the SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SQSClient, ListQueuesCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startServer, clientConfig, jsonCall, repoRoot } from './lib/harness.mjs';

async function retention(endpoint) {
  const r = await jsonCall(endpoint, 'Logs_20140328.DescribeLogGroups', { logGroupNamePrefix: '/aws/lambda/ProcessOrderLambda' },
    { service: 'logs', contentType: 'application/x-amz-json-1.1' });
  assert.equal(r.status, 200, r.text);
  return r.json.logGroups[0]?.retentionInDays;
}

test('a second up with other parameters and another template updates, creates and deletes resources', { timeout: 120000 }, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'orderflow-stack-'));
  const scratch = mkdtempSync(path.join(tmpdir(), 'orderflow-stack-tpl-'));
  try {
    // 1. The seed's template with its defaults.
    let srv = await startServer({ template: true, dataDir });
    try {
      assert.match(srv.output(), /stack orderflow CREATE_COMPLETE/);
      assert.equal(await retention(srv.endpoint), 14);
      const sqs = new SQSClient(clientConfig(srv.endpoint));
      const url = `${srv.endpoint}/000000000000/OrderQueueDLQ-CF`;
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'kept across runs' }));
    } finally {
      assert.equal((await srv.stop()).code, 0, srv.output());
    }

    // 2. Same template, other parameters: updated in place, data kept.
    srv = await startServer({ template: true, dataDir, args: ['--param', 'LogRetentionDays=30', '--param', 'QueueVisibilityTimeout=240'] });
    try {
      assert.match(srv.output(), /stack orderflow UPDATE_COMPLETE/);
      assert.equal(await retention(srv.endpoint), 30);
      const sqs = new SQSClient(clientConfig(srv.endpoint));
      const q = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${srv.endpoint}/000000000000/OrderQueue-CF`, AttributeNames: ['VisibilityTimeout'] }));
      assert.equal(q.Attributes.VisibilityTimeout, '240');
      const dlq = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${srv.endpoint}/000000000000/OrderQueueDLQ-CF`, AttributeNames: ['ApproximateNumberOfMessages'] }));
      assert.equal(dlq.Attributes.ApproximateNumberOfMessages, '1', 'the message sent in the first run is still there');
    } finally {
      assert.equal((await srv.stop()).code, 0, srv.output());
    }

    // 3. The template with one more queue: the new queue is created, everything else unchanged.
    const seed = readFileSync(path.join(repoRoot, 'deploy/template.yaml'), 'utf8');
    const extra = seed.replace(/\nResources:\n/, '\nResources:\n  AuditQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: OrderAudit\n      MessageRetentionPeriod: 86400\n\n');
    assert.notEqual(extra, seed);
    const changed = path.join(scratch, 'template.yaml');
    writeFileSync(changed, extra);
    srv = await startServer({ template: changed, dataDir });
    try {
      assert.match(srv.output(), /stack orderflow UPDATE_COMPLETE/);
      const sqs = new SQSClient(clientConfig(srv.endpoint));
      const names = (await sqs.send(new ListQueuesCommand({}))).QueueUrls.map((u) => u.split('/').pop()).sort();
      assert.deepEqual(names, ['OrderAudit', 'OrderQueue-CF', 'OrderQueueDLQ-CF']);
      const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${srv.endpoint}/000000000000/OrderAudit`, AttributeNames: ['MessageRetentionPeriod'] }));
      assert.equal(a.Attributes.MessageRetentionPeriod, '86400');
    } finally {
      assert.equal((await srv.stop()).code, 0, srv.output());
    }

    // 4. Back to the seed's template: the extra queue is deleted.
    srv = await startServer({ template: true, dataDir });
    try {
      const sqs = new SQSClient(clientConfig(srv.endpoint));
      const names = (await sqs.send(new ListQueuesCommand({}))).QueueUrls.map((u) => u.split('/').pop()).sort();
      assert.deepEqual(names, ['OrderQueue-CF', 'OrderQueueDLQ-CF']);
      assert.equal(await retention(srv.endpoint), 14, 'parameters not given again go back to their defaults');
    } finally {
      assert.equal((await srv.stop()).code, 0, srv.output());
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('a bad template stops up with one clear error naming the resource', { timeout: 60000 }, async () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'orderflow-stack-bad-'));
  try {
    const file = path.join(scratch, 'bad.yaml');
    writeFileSync(file, 'Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt Missing.Arn\n        maxReceiveCount: 3\n');
    await assert.rejects(startServer({ template: file }), (e) => {
      assert.match(e.message, /Missing/);
      assert.match(e.message, /Queue/);
      return true;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
