// Reading the seed's stack through the AWS SDK, for the black-box tests of the pipeline.
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/client-dynamodb';

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
