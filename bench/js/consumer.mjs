// The consumer bench/js/e2e.mjs starts (as its own process) for servers that have no Lambda
// runtime (moto_server, fauxqs + dynalite): it does what orderflow's function does for each
// message: receive from the queue (10 at a time, long polling), unwrap the SNS envelope, parse
// the order, store it with a conditional PutItem (attribute_not_exists(orderId), with
// receivedAt and messageId like the function), delete the batch. Reports the orders stored to
// its parent (process.send) every 50 ms.
//
//   node consumer.mjs '{"sqs":URL,"dynamodb":URL,"queueUrl":URL,"table":"Orders","loops":8}'
import { ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { clients } from './lib.mjs';

const opts = JSON.parse(process.argv[2]);
const { sqs, ddb } = clients({ sns: opts.sqs, sqs: opts.sqs, dynamodb: opts.dynamodb });
let stored = 0;
let failed = 0;
let stopping = false;

function attribute(v) {
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (v === null) return { NULL: true };
  if (Array.isArray(v)) return { L: v.map(attribute) };
  return { M: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, attribute(x)])) };
}

async function handle(message) {
  const envelope = JSON.parse(message.Body);
  const order = JSON.parse(envelope.Message);
  if (typeof order.orderId !== 'string' || order.orderId === '') throw new Error('orderId is required');
  const item = attribute(order).M;
  item.receivedAt = { S: new Date().toISOString() };
  item.messageId = { S: envelope.MessageId ?? message.MessageId };
  try {
    await ddb.send(
      new PutItemCommand({
        TableName: opts.table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(orderId)',
      }),
    );
    stored++;
  } catch (e) {
    if (e.name !== 'ConditionalCheckFailedException') throw e;
  }
}

async function loop() {
  while (!stopping) {
    let got;
    try {
      got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: opts.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
    } catch (e) {
      failed++;
      continue;
    }
    const messages = got.Messages ?? [];
    if (messages.length === 0) continue;
    const done = [];
    await Promise.all(
      messages.map(async (m, i) => {
        try {
          await handle(m);
          done.push({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle });
        } catch {
          failed++; // left on the queue: received again after the visibility timeout
        }
      }),
    );
    if (done.length > 0) {
      try {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: opts.queueUrl, Entries: done }));
      } catch {
        failed++;
      }
    }
  }
}

const timer = setInterval(() => process.send({ stored, failed }), 50);
process.on('message', (m) => {
  if (m === 'stop') stopping = true;
});
await Promise.all(Array.from({ length: opts.loops ?? 8 }, loop));
clearInterval(timer);
process.send({ stored, failed, done: true });
process.disconnect();
