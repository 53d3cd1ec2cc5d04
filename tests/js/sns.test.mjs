// SNS (query protocol) driven by @aws-sdk/client-sns against the real server, with deliveries
// read back through @aws-sdk/client-sqs: topics, subscriptions, the SNS envelope, raw delivery,
// filter policies, PublishBatch and the error codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createVerify, X509Certificate } from 'node:crypto';
import {
  SNSClient, CreateTopicCommand, DeleteTopicCommand, ListTopicsCommand, GetTopicAttributesCommand,
  SetTopicAttributesCommand, SubscribeCommand, UnsubscribeCommand, ListSubscriptionsCommand,
  ListSubscriptionsByTopicCommand, GetSubscriptionAttributesCommand, SetSubscriptionAttributesCommand,
  PublishCommand, PublishBatchCommand, paginateListTopics,
} from '@aws-sdk/client-sns';
import {
  SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import {
  startServer, clientConfig, uniqueName, waitFor, queryCall, signedFetch, xmlText,
} from './lib/harness.mjs';

let server;
let sns;
let sqs;
before(async () => {
  server = await startServer();
  sns = new SNSClient(clientConfig(server.endpoint));
  sqs = new SQSClient(clientConfig(server.endpoint));
});
after(async () => {
  sns?.destroy();
  sqs?.destroy();
  const status = await server?.stop();
  assert.equal(status?.code, 0, `server exit: ${JSON.stringify(status)}\n${server?.output()}`);
});

async function rejects(promise, name) {
  const e = await promise.then(() => null, (err) => err);
  assert.ok(e, `expected ${name}`);
  assert.equal(e.name, name, e.message);
  return e;
}

const topic = async (name = uniqueName('topic'), extra = {}) =>
  (await sns.send(new CreateTopicCommand({ Name: name, ...extra }))).TopicArn;

async function queue(name = uniqueName('q')) {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
    .Attributes.QueueArn;
  return { url, arn };
}

const subscribe = async (topicArn, q, Attributes) => (await sns.send(new SubscribeCommand({
  TopicArn: topicArn, Protocol: 'sqs', Endpoint: q.arn, Attributes, ReturnSubscriptionArn: true,
}))).SubscriptionArn;

// Receives until `n` messages arrived (polling, never a fixed sleep).
async function receiveN(q, n, extra = {}) {
  const got = [];
  await waitFor(async () => {
    const r = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, ...extra,
    }));
    got.push(...(r.Messages ?? []));
    return got.length >= n;
  }, { what: `${n} message(s) in ${q.url}` });
  return got;
}

test('topics: create (idempotent), list with pagination, attributes, delete', async () => {
  const name = uniqueName('orders');
  const arn = await topic(name, { Attributes: { DisplayName: 'Orders & more' }, Tags: [{ Key: 'team', Value: 'core' }] });
  assert.equal(arn, `arn:aws:sns:us-east-1:000000000000:${name}`);
  assert.equal(await topic(name, { Attributes: { DisplayName: 'Orders & more' } }), arn);
  await rejects(topic(name, { Attributes: { DisplayName: 'other' } }), 'InvalidParameterException');

  for (let i = 0; i < 101; i += 1) await topic(uniqueName('many'));
  const listed = [];
  let pages = 0;
  for await (const page of paginateListTopics({ client: sns }, {})) {
    listed.push(...page.Topics.map((t) => t.TopicArn));
    pages += 1;
  }
  assert.ok(pages >= 2, 'more than 100 topics take two pages');
  assert.ok(listed.includes(arn));

  const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes;
  assert.equal(attrs.DisplayName, 'Orders & more');
  assert.equal(attrs.TopicArn, arn);
  assert.equal(attrs.Owner, '000000000000');
  assert.ok(JSON.parse(attrs.Policy).Statement);
  await sns.send(new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'DisplayName', AttributeValue: '<new>' }));
  assert.equal((await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes.DisplayName, '<new>');

  await sns.send(new DeleteTopicCommand({ TopicArn: arn }));
  const e = await rejects(sns.send(new GetTopicAttributesCommand({ TopicArn: arn })), 'NotFoundException');
  assert.equal(e.message, 'Topic does not exist');
  await rejects(topic('bad name!'), 'InvalidParameterException');
});

test('subscriptions: subscribe, list, attributes, unsubscribe', async () => {
  const t = await topic();
  const other = await topic();
  const q = await queue();
  const sub = await subscribe(t, q);
  assert.ok(sub.startsWith(`${t}:`), sub);
  await subscribe(other, q);

  const all = (await sns.send(new ListSubscriptionsCommand({}))).Subscriptions;
  const mine = all.find((s) => s.SubscriptionArn === sub);
  assert.deepEqual(mine, { SubscriptionArn: sub, Owner: '000000000000', Protocol: 'sqs', Endpoint: q.arn, TopicArn: t });
  const byTopic = (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions;
  assert.deepEqual(byTopic.map((s) => s.SubscriptionArn), [sub]);

  await sns.send(new SetSubscriptionAttributesCommand({
    SubscriptionArn: sub, AttributeName: 'RawMessageDelivery', AttributeValue: 'true',
  }));
  const attrs = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub }))).Attributes;
  assert.equal(attrs.RawMessageDelivery, 'true');
  assert.equal(attrs.TopicArn, t);
  assert.equal(attrs.Endpoint, q.arn);
  assert.equal(attrs.PendingConfirmation, 'false');
  await rejects(sns.send(new SetSubscriptionAttributesCommand({
    SubscriptionArn: sub, AttributeName: 'FilterPolicy', AttributeValue: '{not json',
  })), 'InvalidParameterException');

  await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub }));
  await rejects(sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub })), 'NotFoundException');
  assert.equal((await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: t }))).Subscriptions.length, 0);
  await rejects(sns.send(new SubscribeCommand({ TopicArn: `${t}-gone`, Protocol: 'sqs', Endpoint: q.arn })),
    'NotFoundException');
});

test('Publish delivers the SNS envelope into a subscribed queue', async () => {
  const t = await topic();
  const q = await queue();
  await subscribe(t, q);
  const order = JSON.stringify({ orderId: 'o-42', total: 12.5 });
  const { MessageId } = await sns.send(new PublishCommand({
    TopicArn: t, Message: order, Subject: 'New order',
    MessageAttributes: {
      store: { DataType: 'String', StringValue: 'example_corp' },
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
    },
  }));
  assert.match(MessageId, /^[0-9a-f-]{36}$/);
  const [m] = await receiveN(q, 1);
  const env = JSON.parse(m.Body);
  assert.equal(env.Type, 'Notification');
  assert.equal(env.MessageId, MessageId);
  assert.equal(env.TopicArn, t);
  assert.equal(env.Subject, 'New order');
  assert.equal(env.Message, order);
  assert.deepEqual(JSON.parse(env.Message), { orderId: 'o-42', total: 12.5 });
  assert.match(env.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(env.SignatureVersion, '1');
  assert.ok(env.Signature.length > 0);
  assert.ok(env.UnsubscribeURL.includes('Action=Unsubscribe'));
  // The signature verifies with the certificate SigningCertURL serves (unsigned GET, as on
  // AWS), over the string to sign AWS documents for a Notification (SignatureVersion 1: SHA1).
  assert.ok(env.SigningCertURL.startsWith(server.endpoint), env.SigningCertURL);
  const certRes = await fetch(env.SigningCertURL);
  assert.equal(certRes.status, 200);
  const cert = new X509Certificate(await certRes.text());
  const toSign = ['Message', env.Message, 'MessageId', env.MessageId, 'Subject', env.Subject,
    'Timestamp', env.Timestamp, 'TopicArn', env.TopicArn, 'Type', env.Type].map((s) => `${s}\n`).join('');
  const verifier = (data) => createVerify('RSA-SHA1').update(data).verify(cert.publicKey, env.Signature, 'base64');
  assert.ok(verifier(toSign), 'the envelope Signature verifies with the SigningCertURL certificate');
  assert.ok(!verifier(toSign.replace('o-42', 'o-43')), 'and fails for another message');
  assert.deepEqual(env.MessageAttributes.store, { Type: 'String', Value: 'example_corp' });
  assert.deepEqual(env.MessageAttributes.blob, { Type: 'Binary', Value: Buffer.from([1, 2, 3]).toString('base64') });
});

test('raw delivery puts the message verbatim and attributes as SQS message attributes', async () => {
  const t = await topic();
  const q = await queue();
  await subscribe(t, q, { RawMessageDelivery: 'true' });
  await sns.send(new PublishCommand({
    TopicArn: t, Message: 'plain <text> & "quotes"\r\nline two',
    MessageAttributes: { total: { DataType: 'Number', StringValue: '99.5' } },
  }));
  const [m] = await receiveN(q, 1, { MessageAttributeNames: ['All'] });
  assert.equal(m.Body, 'plain <text> & "quotes"\r\nline two');
  assert.deepEqual(m.MessageAttributes.total, { DataType: 'Number', StringValue: '99.5' });
});

test('filter policies decide which subscriptions get a message', async () => {
  const t = await topic();
  const big = await queue();
  const eu = await queue();
  const all = await queue();
  await subscribe(t, big, { FilterPolicy: JSON.stringify({ total: [{ numeric: ['>', 100] }] }) });
  await subscribe(t, eu, {
    FilterPolicy: JSON.stringify({ region: [{ prefix: 'eu-' }] }), FilterPolicyScope: 'MessageBody',
  });
  await subscribe(t, all);
  const publish = (total, region) => sns.send(new PublishCommand({
    TopicArn: t, Message: JSON.stringify({ region }),
    MessageAttributes: { total: { DataType: 'Number', StringValue: String(total) } },
  }));
  await publish(50, 'us-east-1');
  await publish(500, 'eu-west-1');
  await publish(7, 'eu-central-1');
  assert.equal((await receiveN(all, 3)).length, 3);
  const bigGot = await receiveN(big, 1);
  assert.deepEqual(bigGot.map((m) => JSON.parse(JSON.parse(m.Body).Message).region), ['eu-west-1']);
  const euGot = await receiveN(eu, 2);
  assert.deepEqual(euGot.map((m) => JSON.parse(JSON.parse(m.Body).Message).region).sort(), ['eu-central-1', 'eu-west-1']);
  // Nothing else arrives at the filtered queues.
  const more = await sqs.send(new ReceiveMessageCommand({ QueueUrl: big.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  assert.equal(more.Messages, undefined);
  await rejects(sns.send(new SubscribeCommand({
    TopicArn: t, Protocol: 'sqs', Endpoint: all.arn, Attributes: { FilterPolicy: '{"a": "not-an-array"}' },
  })), 'InvalidParameterException');
});

test('PublishBatch answers Successful and Failed entries', async () => {
  const t = await topic();
  const q = await queue();
  await subscribe(t, q);
  const r = await sns.send(new PublishBatchCommand({
    TopicArn: t,
    PublishBatchRequestEntries: [
      { Id: 'one', Message: 'first', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } },
      { Id: 'two', Message: '' },
      { Id: 'three', Message: 'third', Subject: 'third subject' },
    ],
  }));
  assert.deepEqual(r.Successful.map((s) => s.Id).sort(), ['one', 'three']);
  assert.ok(r.Successful.every((s) => /^[0-9a-f-]{36}$/.test(s.MessageId)));
  assert.equal(r.Failed.length, 1);
  assert.equal(r.Failed[0].Id, 'two');
  assert.equal(r.Failed[0].Code, 'InvalidParameter');
  assert.equal(r.Failed[0].SenderFault, true);
  const got = await receiveN(q, 2);
  assert.deepEqual(got.map((m) => JSON.parse(m.Body).Message).sort(), ['first', 'third']);

  const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, Message: 'm' }));
  await rejects(sns.send(new PublishBatchCommand({ TopicArn: t, PublishBatchRequestEntries: eleven })),
    'TooManyEntriesInBatchRequestException');
  await rejects(sns.send(new PublishBatchCommand({
    TopicArn: t, PublishBatchRequestEntries: [{ Id: 'a', Message: 'm' }, { Id: 'a', Message: 'm' }],
  })), 'BatchEntryIdsNotDistinctException');
});

test('publish errors: unknown topic, bad attributes, missing parameters', async () => {
  const t = await topic();
  await rejects(sns.send(new PublishCommand({ TopicArn: `${t}-nope`, Message: 'x' })), 'NotFoundException');
  await rejects(sns.send(new PublishCommand({ TopicArn: t, Message: '' })), 'InvalidParameterException');
  await rejects(sns.send(new PublishCommand({
    TopicArn: t, Message: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } },
  })), 'InvalidParameterValueException');
  await rejects(sns.send(new PublishCommand({ TopicArn: t, Message: 'x', Subject: 'line\nbreak' })),
    'InvalidParameterException');
  await rejects(sns.send(new PublishCommand({ TopicArn: t, Message: 'not json', MessageStructure: 'json' })),
    'InvalidParameterException');
  await rejects(sns.send(new PublishCommand({ Message: 'x' })), 'InvalidParameterException');
  const e = await rejects(sns.send(new GetTopicAttributesCommand({})), 'ValidationError');
  assert.equal(e.message,
    "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null");
});

test('raw query protocol: XML shapes, InvalidAction, invalid UTF-8', async () => {
  const name = uniqueName('raw');
  const created = await queryCall(server.endpoint, { Action: 'CreateTopic', Version: '2010-03-31', Name: name },
    { service: 'sns' });
  assert.equal(created.status, 200);
  assert.equal(created.headers.get('content-type'), 'text/xml');
  assert.match(created.text, /^<CreateTopicResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/"><CreateTopicResult><TopicArn>/);
  assert.equal(xmlText(created.text, 'RequestId'), created.headers.get('x-amzn-requestid'));

  const invalid = await queryCall(server.endpoint, { Action: 'Teleport', Version: '2010-03-31' }, { service: 'sns' });
  assert.equal(invalid.status, 400);
  assert.equal(xmlText(invalid.text, 'Code'), 'InvalidAction');
  assert.equal(xmlText(invalid.text, 'Type'), 'Sender');
  assert.match(invalid.text, /^<ErrorResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/"><Error>/);

  const notFound = await queryCall(server.endpoint, {
    Action: 'DeleteTopic', Version: '2010-03-31', TopicArn: 'arn:aws:sns:us-east-1:000000000000:x',
  }, { service: 'sns' });
  assert.equal(notFound.status, 200, 'deleting a missing topic succeeds, as on AWS');

  // A pre-encoded body: bytes that are not UTF-8.
  const badUtf8 = await signedFetch(server.endpoint, {
    body: 'Action=CreateTopic&Version=2010-03-31&Name=bad%FF', service: 'sns',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  });
  assert.equal(badUtf8.status, 400);
  assert.equal(xmlText(badUtf8.text, 'Code'), 'InvalidParameter');
});
