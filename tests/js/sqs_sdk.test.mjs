// SQS over the JSON protocol, driven by @aws-sdk/client-sqs (which checks body MD5s itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  SQSClient, CreateQueueCommand, GetQueueUrlCommand, ListQueuesCommand, DeleteQueueCommand,
  GetQueueAttributesCommand, SetQueueAttributesCommand, SendMessageCommand, SendMessageBatchCommand,
  ReceiveMessageCommand, DeleteMessageCommand, DeleteMessageBatchCommand, ChangeMessageVisibilityCommand,
  ChangeMessageVisibilityBatchCommand, PurgeQueueCommand, ListDeadLetterSourceQueuesCommand,
  StartMessageMoveTaskCommand, ListMessageMoveTasksCommand, CancelMessageMoveTaskCommand, TagQueueCommand,
  UntagQueueCommand, ListQueueTagsCommand, paginateListQueues,
} from '@aws-sdk/client-sqs';
import { startServer, clientConfig, waitFor, uniqueName } from './lib/harness.mjs';

let server;
let sqs;
before(async () => {
  server = await startServer();
  sqs = new SQSClient(clientConfig(server.endpoint));
});
after(async () => {
  sqs?.destroy();
  const status = await server?.stop();
  assert.equal(status?.code, 0, `server exit: ${JSON.stringify(status)}\n${server?.output()}`);
});

const md5 = (s) => createHash('md5').update(s).digest('hex');
const create = async (name = uniqueName(), Attributes) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl;
async function rejects(promise, name, code) {
  const e = await promise.then(() => null, (err) => err);
  assert.ok(e, `expected ${name}`);
  assert.equal(e.name, name, e.message);
  if (code) assert.equal(e.Code, code);
  return e;
}

test('CreateQueue returns a URL on the server itself; GetQueueUrl, ListQueues and DeleteQueue agree', async () => {
  const name = uniqueName('life');
  const url = await create(name, { VisibilityTimeout: '45' });
  assert.equal(url, `${server.endpoint}/000000000000/${name}`);
  assert.equal(await create(name, { VisibilityTimeout: '45' }), url, 'same attributes: idempotent');
  await rejects(create(name, { VisibilityTimeout: '46' }), 'QueueNameExists', 'QueueAlreadyExists');
  assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl, url);
  const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: name }));
  assert.deepEqual(listed.QueueUrls, [url]);
  await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  await rejects(sqs.send(new GetQueueUrlCommand({ QueueName: name })), 'QueueDoesNotExist',
    'AWS.SimpleQueueService.NonExistentQueue');
});

test('ListQueues paginates with MaxResults and NextToken', async () => {
  const prefix = uniqueName('page');
  const urls = [];
  for (let i = 0; i < 5; i += 1) urls.push(await create(`${prefix}-${i}`));
  const seen = [];
  for await (const page of paginateListQueues({ client: sqs, pageSize: 2 }, { QueueNamePrefix: prefix })) {
    assert.ok((page.QueueUrls ?? []).length <= 2);
    seen.push(...(page.QueueUrls ?? []));
  }
  assert.deepEqual(seen, urls);
});

test('queue attributes: get All, get some, set, and reject unknown names', async () => {
  const url = await create();
  const all = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes;
  assert.equal(all.VisibilityTimeout, '30');
  assert.match(all.QueueArn, /^arn:aws:sqs:us-east-1:000000000000:/);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: '2', VisibilityTimeout: '10' } }));
  const some = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['DelaySeconds'] }))).Attributes;
  assert.deepEqual(some, { DelaySeconds: '2' });
  await rejects(sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Bogus'] })), 'InvalidAttributeName');
  await rejects(sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '-1' } })),
    'InvalidAttributeValue');
});

test('send and receive with attributes: MD5s match, selection by name, prefix and All', async () => {
  const url = await create();
  const body = 'Test message.';
  const sent = await sqs.send(new SendMessageCommand({
    QueueUrl: url, MessageBody: body,
    MessageAttributes: {
      'order.id': { DataType: 'String', StringValue: '42' },
      'order.total': { DataType: 'Number', StringValue: '99.12' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 255]) },
    },
  }));
  assert.equal(sent.MD5OfMessageBody, 'e4e68fb7bd0e697a0ae8f1bb342846b3');
  assert.match(sent.MD5OfMessageAttributes, /^[0-9a-f]{32}$/);
  const got = await sqs.send(new ReceiveMessageCommand({
    QueueUrl: url, MessageAttributeNames: ['order.*'], MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    VisibilityTimeout: 0,
  }));
  assert.equal(got.Messages.length, 1);
  const m = got.Messages[0];
  assert.equal(m.Body, body);
  assert.equal(m.MD5OfBody, md5(body));
  assert.deepEqual(Object.keys(m.MessageAttributes).sort(), ['order.id', 'order.total']);
  assert.deepEqual(Object.keys(m.Attributes).sort(), ['ApproximateReceiveCount', 'SentTimestamp']);
  assert.match(m.Attributes.SentTimestamp, /^\d{13}$/, 'milliseconds, as a string');
  assert.notEqual(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes, 'digest of the returned subset');
  const all = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], AttributeNames: ['All'] }))).Messages[0];
  assert.equal(all.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
  assert.deepEqual([...all.MessageAttributes.blob.BinaryValue], [0, 1, 2, 255]);
  assert.equal(all.Attributes.ApproximateReceiveCount, '2');
  assert.equal(all.Attributes.SenderId, 'test');
  const none = (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages;
  assert.equal(none, undefined, 'invisible now: empty result has no Messages');
});

test('the attribute digest matches the published test vector', async () => {
  const url = await create();
  const sent = await sqs.send(new SendMessageCommand({
    QueueUrl: url, MessageBody: 'x', MessageAttributes: { attr1: { DataType: 'Number', StringValue: '99.12' } },
  }));
  assert.equal(sent.MD5OfMessageAttributes, 'd302007e9aa062660afc85fd0a482472');
});

test('SendMessageBatch reports per-entry failures with HTTP 200', async () => {
  const url = await create();
  const res = await sqs.send(new SendMessageBatchCommand({
    QueueUrl: url,
    Entries: [
      { Id: 'ok1', MessageBody: 'one' },
      { Id: 'bad', MessageBody: 'two', DelaySeconds: 901 },
      { Id: 'ok2', MessageBody: 'three', MessageAttributes: { a: { DataType: 'String', StringValue: 'v' } } },
    ],
  }));
  assert.deepEqual(res.Successful.map((e) => e.Id).sort(), ['ok1', 'ok2']);
  assert.equal(res.Failed.length, 1);
  assert.equal(res.Failed[0].Id, 'bad');
  assert.equal(res.Failed[0].SenderFault, true);
  assert.equal(res.Failed[0].Code, 'InvalidParameterValue');
  await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })), 'EmptyBatchRequest');
  await rejects(sqs.send(new SendMessageBatchCommand({
    QueueUrl: url, Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })),
  })), 'TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest');
  await rejects(sqs.send(new SendMessageBatchCommand({
    QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'x' }, { Id: 'a', MessageBody: 'y' }],
  })), 'BatchEntryIdsNotDistinct');
});

test('delete, change visibility, and their batches', async () => {
  const url = await create();
  await sqs.send(new SendMessageBatchCommand({
    QueueUrl: url, Entries: [1, 2, 3].map((i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })),
  }));
  const got = await waitFor(async () => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    return r.Messages?.length === 3 ? r.Messages : null;
  }, { what: 'three messages' });
  await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got[0].ReceiptHandle }));
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: got[1].ReceiptHandle, VisibilityTimeout: 0 }));
  const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
  assert.equal(again.Messages.length, 1);
  assert.equal(again.Messages[0].MessageId, got[1].MessageId);
  const vis = await sqs.send(new ChangeMessageVisibilityBatchCommand({
    QueueUrl: url,
    Entries: [{ Id: 'a', ReceiptHandle: again.Messages[0].ReceiptHandle, VisibilityTimeout: 0 },
      { Id: 'b', ReceiptHandle: 'garbage', VisibilityTimeout: 0 }],
  }));
  assert.deepEqual(vis.Successful.map((e) => e.Id), ['a']);
  assert.equal(vis.Failed[0].Id, 'b');
  assert.equal(vis.Failed[0].Code, 'ReceiptHandleIsInvalid');
  const last = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
  const del = await sqs.send(new DeleteMessageBatchCommand({
    QueueUrl: url,
    Entries: [{ Id: 'x', ReceiptHandle: last.Messages[0].ReceiptHandle }, { Id: 'y', ReceiptHandle: got[2].ReceiptHandle },
      { Id: 'z', ReceiptHandle: 'garbage' }],
  }));
  assert.deepEqual(del.Successful.map((e) => e.Id).sort(), ['x', 'y']);
  assert.deepEqual(del.Failed.map((e) => [e.Id, e.Code]), [['z', 'ReceiptHandleIsInvalid']]);
  await rejects(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })), 'ReceiptHandleIsInvalid');
  const counts = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes;
  assert.equal(counts.ApproximateNumberOfMessages, '0');
  assert.equal(counts.ApproximateNumberOfMessagesNotVisible, '0');
});

test('long polling returns as soon as a message arrives', async () => {
  const url = await create();
  const started = Date.now();
  const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }));
  // Other requests on other connections are served while the poll waits.
  await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }));
  const got = await poll;
  assert.equal(got.Messages[0].Body, 'wake up');
  assert.ok(Date.now() - started < 19000, 'returned before the wait ran out');
});

test('a short long-poll with nothing to receive answers empty', async () => {
  const url = await create();
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
  assert.equal(got.Messages, undefined);
});

test('dead-letter flow: three receives, the fourth moves the message; then redrive it back', async () => {
  const dlqUrl = await create(uniqueName('dlq'));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
  const srcUrl = await create(uniqueName('src'), {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
  });
  const srcArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: srcUrl, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
  const policy = JSON.parse((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: srcUrl, AttributeNames: ['RedrivePolicy'] }))).Attributes.RedrivePolicy);
  assert.equal(policy.maxReceiveCount, 3);
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: srcUrl, MessageBody: 'poison' }));
  for (let i = 1; i <= 3; i += 1) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl, VisibilityTimeout: 0, AttributeNames: ['ApproximateReceiveCount'] }));
    assert.equal(r.Messages?.[0]?.MessageId, sent.MessageId, `delivery ${i}`);
    assert.equal(r.Messages[0].Attributes.ApproximateReceiveCount, String(i));
  }
  const fourth = await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl }));
  assert.equal(fourth.Messages, undefined, 'moved instead of delivered');
  const inDlq = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, VisibilityTimeout: 0, AttributeNames: ['All'] }));
  assert.equal(inDlq.Messages[0].MessageId, sent.MessageId);
  assert.equal(inDlq.Messages[0].Body, 'poison');
  const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
  assert.deepEqual(sources.queueUrls, [srcUrl]);

  const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
  assert.ok(TaskHandle);
  await waitFor(async () => {
    const t = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }));
    return t.Results?.[0]?.Status === 'COMPLETED';
  }, { what: 'move task to complete' });
  const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
  assert.equal(tasks.Results[0].ApproximateNumberOfMessagesMoved, 1);
  assert.equal(tasks.Results[0].SourceArn, dlqArn);
  const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: srcUrl }));
  assert.equal(back.Messages[0].Body, 'poison');
  await rejects(sqs.send(new StartMessageMoveTaskCommand({ SourceArn: srcArn })), 'InvalidParameterValue', 'InvalidParameterValue');
  await rejects(sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: 'nope' })), 'ResourceNotFoundException');
});

test('cancelling a running move task', async () => {
  const dlqUrl = await create(uniqueName('dlq'));
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
  const dest = await create(uniqueName('dest'));
  const destArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dest, AttributeNames: ['QueueArn'] }))).Attributes.QueueArn;
  await create(uniqueName('src'), { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) });
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `${i}` })) }));
  const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: destArn, MaxNumberOfMessagesPerSecond: 1 }));
  const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
  assert.ok(cancelled.ApproximateNumberOfMessagesMoved >= 0);
});

test('purge empties the queue; a second purge within 60 s is refused', async () => {
  const url = await create();
  await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'gone' }));
  await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages, undefined);
  await rejects(sqs.send(new PurgeQueueCommand({ QueueUrl: url })), 'PurgeQueueInProgress');
});

test('tags: tag, list, untag', async () => {
  const url = await create();
  await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { team: 'orders', env: 'test' } }));
  assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { team: 'orders', env: 'test' });
  await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ['env'] }));
  assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { team: 'orders' });
});

test('parameter errors: range, missing parameters, unknown queue URL', async () => {
  const url = await create();
  const e = await rejects(sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
    'InvalidParameterValue', 'InvalidParameterValue');
  assert.match(e.message, /Must be between 1 and 10/);
  await rejects(sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 21 })), 'InvalidParameterValue');
  await rejects(sqs.send(new SendMessageCommand({ QueueUrl: url })), 'MissingParameter', 'MissingParameter');
  await rejects(sqs.send(new SendMessageCommand({ QueueUrl: `${server.endpoint}/000000000000/missing-queue`, MessageBody: 'x' })),
    'QueueDoesNotExist');
  await rejects(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'bad \u0001 char' })), 'InvalidMessageContents');
  await rejects(sqs.send(new SendMessageCommand({
    QueueUrl: url, MessageBody: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } },
  })), 'InvalidParameterValue');
});

test('a queue URL with another host form still addresses the queue', async () => {
  const name = uniqueName('host');
  await create(name);
  const other = new SQSClient(clientConfig(server.endpoint, { useQueueUrlAsEndpoint: false }));
  try {
    const r = await other.send(new SendMessageCommand({ QueueUrl: `https://sqs.us-east-1.amazonaws.com/000000000000/${name}`, MessageBody: 'hi' }));
    assert.equal(r.MD5OfMessageBody, md5('hi'));
  } finally {
    other.destroy();
  }
});
