// Reading and feeding the seed's stack through the AWS SDK, for the black-box tests of the
// pipeline.
import assert from 'node:assert/strict';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient, PublishBatchCommand } from '@aws-sdk/client-sns';
import { clientConfig } from './harness.mjs';

export const ORDER_TOPIC = 'arn:aws:sns:us-east-1:000000000000:OrderTopic';

// Publishes `messages` (strings) to OrderTopic, 10 per PublishBatch; every entry must succeed.
export async function publishOrders(endpoint, messages) {
  const sns = new SNSClient(clientConfig(endpoint));
  for (let i = 0; i < messages.length; i += 10) {
    const r = await sns.send(new PublishBatchCommand({ TopicArn: ORDER_TOPIC,
      PublishBatchRequestEntries: messages.slice(i, i + 10).map((m, j) => ({ Id: `e${j}`, Message: m })) }));
    assert.equal(r.Failed?.length ?? 0, 0, JSON.stringify(r.Failed));
  }
}

// A queue's visible / in-flight / delayed counts.
export async function depth(sqs, url) {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  const a = r.Attributes;
  return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed) };
}

// Every item of the Orders table (paginated Scan).
export async function scanAll(ddb) {
  const items = [];
  let start;
  do {
    const r = await ddb.send(new ScanCommand({ TableName: 'Orders', ExclusiveStartKey: start }));
    items.push(...r.Items);
    start = r.LastEvaluatedKey;
  } while (start);
  return items;
}
