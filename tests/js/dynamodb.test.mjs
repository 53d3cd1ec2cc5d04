// DynamoDB (AWS JSON 1.0) driven by @aws-sdk/client-dynamodb against the real server: every
// operation, conditional writes, pagination until LastEvaluatedKey is absent, transactions,
// the error shapes, and x-amz-crc32 on every response.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, ListTablesCommand, DeleteTableCommand,
  UpdateTableCommand, PutItemCommand, GetItemCommand, DeleteItemCommand, UpdateItemCommand, QueryCommand,
  ScanCommand, BatchWriteItemCommand, BatchGetItemCommand, TransactWriteItemsCommand, TransactGetItemsCommand,
  paginateListTables, paginateQuery, paginateScan, waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { startServer, clientConfig, uniqueName, jsonCall } from './lib/harness.mjs';

let server;
let ddb;
before(async () => {
  server = await startServer();
  ddb = new DynamoDBClient(clientConfig(server.endpoint));
});
after(async () => {
  ddb?.destroy();
  const status = await server?.stop();
  assert.equal(status?.code, 0, `server exit: ${JSON.stringify(status)}\n${server?.output()}`);
});

async function rejects(promise, name) {
  const e = await promise.then(() => null, (err) => err);
  assert.ok(e, `expected ${name}`);
  assert.equal(e.name, name, e.message);
  return e;
}

// A table with a string hash key `pk` and a number range key `sk` (or hash key only).
async function createTable(name = uniqueName('t'), { range = true } = {}) {
  const KeySchema = [{ AttributeName: 'pk', KeyType: 'HASH' }];
  const AttributeDefinitions = [{ AttributeName: 'pk', AttributeType: 'S' }];
  if (range) {
    KeySchema.push({ AttributeName: 'sk', KeyType: 'RANGE' });
    AttributeDefinitions.push({ AttributeName: 'sk', AttributeType: 'N' });
  }
  await ddb.send(new CreateTableCommand({ TableName: name, KeySchema, AttributeDefinitions, BillingMode: 'PAY_PER_REQUEST' }));
  return name;
}

const key = (pk, sk) => ({ pk: { S: pk }, sk: { N: String(sk) } });
const dynamo = (target, body) => jsonCall(server.endpoint, `DynamoDB_20120810.${target}`, body, { service: 'dynamodb' });

test('CreateTable, DescribeTable, UpdateTable and DeleteTable answer TableDescriptions', async () => {
  const name = uniqueName('life');
  const created = await ddb.send(new CreateTableCommand({
    TableName: name,
    KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
    ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
  }));
  const d = created.TableDescription;
  assert.equal(d.TableName, name);
  assert.equal(d.TableArn, `arn:aws:dynamodb:us-east-1:000000000000:table/${name}`);
  assert.ok(d.CreationDateTime instanceof Date && Math.abs(d.CreationDateTime - Date.now()) < 60000);
  assert.deepEqual(d.ProvisionedThroughput, { NumberOfDecreasesToday: 0, ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
  assert.equal(d.ItemCount, 0);
  assert.equal(d.TableSizeBytes, 0);
  assert.match(d.TableId, /^[0-9a-f-]{36}$/);
  await waitUntilTableExists({ client: ddb, maxWaitTime: 20, minDelay: 1 }, { TableName: name });

  await ddb.send(new PutItemCommand({ TableName: name, Item: { orderId: { S: 'o-1' }, total: { N: '12.50' } } }));
  const described = (await ddb.send(new DescribeTableCommand({ TableName: name }))).Table;
  assert.equal(described.TableStatus, 'ACTIVE');
  assert.equal(described.ItemCount, 1);
  assert.ok(described.TableSizeBytes > 0);

  const updated = (await ddb.send(new UpdateTableCommand({ TableName: name, BillingMode: 'PAY_PER_REQUEST' }))).TableDescription;
  assert.equal(updated.BillingModeSummary.BillingMode, 'PAY_PER_REQUEST');
  assert.ok(updated.BillingModeSummary.LastUpdateToPayPerRequestDateTime instanceof Date);
  assert.equal(updated.ProvisionedThroughput.ReadCapacityUnits, 0);

  await rejects(ddb.send(new CreateTableCommand({
    TableName: name, KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
  })), 'ResourceInUseException');

  const deleted = (await ddb.send(new DeleteTableCommand({ TableName: name }))).TableDescription;
  assert.equal(deleted.TableStatus, 'DELETING');
  const e = await rejects(ddb.send(new DescribeTableCommand({ TableName: name })), 'ResourceNotFoundException');
  assert.match(e.message, /Requested resource not found/);
});

test('ListTables paginates with Limit until LastEvaluatedTableName is absent', async () => {
  const names = [];
  for (let i = 0; i < 5; i += 1) names.push(await createTable(uniqueName('list')));
  const seen = [];
  let pages = 0;
  for await (const page of paginateListTables({ client: ddb, pageSize: 2 }, {})) {
    assert.ok(page.TableNames.length <= 2);
    seen.push(...page.TableNames);
    pages += 1;
  }
  assert.ok(pages >= 3);
  for (const n of names) assert.ok(seen.includes(n), n);
  assert.deepEqual([...seen].sort(), seen, 'names come sorted');
  await rejects(ddb.send(new ListTablesCommand({ Limit: 101 })), 'ValidationException');
});

test('PutItem, GetItem, UpdateItem and DeleteItem with conditional writes', async () => {
  const t = await createTable();
  const item = {
    ...key('a', 1), s: { S: 'text' }, n: { N: '1.0' }, b: { B: new Uint8Array([0, 1, 2]) }, bool: { BOOL: true },
    nul: { NULL: true }, m: { M: { x: { S: 'y' } } }, l: { L: [{ N: '1' }, { S: 'two' }] },
    ss: { SS: ['b', 'a'] }, ns: { NS: ['3', '1'] }, bs: { BS: [new Uint8Array([9])] },
  };
  await ddb.send(new PutItemCommand({ TableName: t, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
  const got = (await ddb.send(new GetItemCommand({ TableName: t, Key: key('a', 1), ConsistentRead: true }))).Item;
  assert.equal(got.n.N, '1', 'numbers come back canonical');
  assert.deepEqual([...got.b.B], [0, 1, 2]);
  assert.deepEqual(got.m, { M: { x: { S: 'y' } } });
  assert.deepEqual(got.l, { L: [{ N: '1' }, { S: 'two' }] });
  assert.deepEqual([...got.ss.SS].sort(), ['a', 'b']);
  assert.equal(got.nul.NULL, true);

  // Duplicate delivery of the same order: the conditional put fails.
  const dup = await rejects(ddb.send(new PutItemCommand({
    TableName: t, Item: key('a', 1), ConditionExpression: 'attribute_not_exists(pk)',
  })), 'ConditionalCheckFailedException');
  assert.equal(dup.Item, undefined);
  const withItem = await rejects(ddb.send(new PutItemCommand({
    TableName: t, Item: key('a', 1), ConditionExpression: 'attribute_not_exists(pk)',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  })), 'ConditionalCheckFailedException');
  assert.equal(withItem.Item.s.S, 'text');

  const miss = await ddb.send(new GetItemCommand({ TableName: t, Key: key('nope', 1) }));
  assert.equal(miss.Item, undefined);

  const up = await ddb.send(new UpdateItemCommand({
    TableName: t, Key: key('a', 1),
    UpdateExpression: 'SET #c = if_not_exists(#c, :zero) + :one, #st = :st REMOVE s',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: { '#c': 'count', '#st': 'status' },
    ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':st': { S: 'PAID' } },
    ReturnValues: 'ALL_NEW',
  }));
  assert.equal(up.Attributes.count.N, '1');
  assert.equal(up.Attributes.status.S, 'PAID');
  assert.equal(up.Attributes.s, undefined);
  await rejects(ddb.send(new UpdateItemCommand({
    TableName: t, Key: key('a', 1), UpdateExpression: 'SET #st = :st', ConditionExpression: '#st = :old',
    ExpressionAttributeNames: { '#st': 'status' }, ExpressionAttributeValues: { ':st': { S: 'X' }, ':old': { S: 'NEW' } },
  })), 'ConditionalCheckFailedException');

  const old = await ddb.send(new DeleteItemCommand({ TableName: t, Key: key('a', 1), ReturnValues: 'ALL_OLD' }));
  assert.equal(old.Attributes.status.S, 'PAID');
  assert.equal((await ddb.send(new GetItemCommand({ TableName: t, Key: key('a', 1) }))).Item, undefined);

  const cap = await ddb.send(new PutItemCommand({ TableName: t, Item: key('c', 1), ReturnConsumedCapacity: 'TOTAL' }));
  assert.equal(cap.ConsumedCapacity.TableName, t);
  assert.ok(cap.ConsumedCapacity.CapacityUnits >= 1);
});

test('Query and Scan page with Limit until LastEvaluatedKey is absent', async () => {
  const t = await createTable();
  for (let i = 1; i <= 9; i += 1) {
    await ddb.send(new PutItemCommand({ TableName: t, Item: { ...key('p', i), odd: { BOOL: i % 2 === 1 } } }));
  }
  await ddb.send(new PutItemCommand({ TableName: t, Item: key('other', 1) }));

  // By hand: ExclusiveStartKey = LastEvaluatedKey until it is absent.
  const seen = [];
  let start;
  let pages = 0;
  do {
    const page = await ddb.send(new QueryCommand({
      TableName: t, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } },
      Limit: 4, ExclusiveStartKey: start,
    }));
    seen.push(...page.Items.map((i) => Number(i.sk.N)));
    assert.equal(page.Count, page.Items.length);
    start = page.LastEvaluatedKey;
    pages += 1;
    assert.ok(pages < 10);
  } while (start);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  // With the SDK's paginator, descending, filtered, on a sort-key range.
  const odd = [];
  for await (const page of paginateQuery({ client: ddb, pageSize: 2 }, {
    TableName: t, KeyConditionExpression: 'pk = :p AND sk BETWEEN :lo AND :hi', FilterExpression: 'odd = :t',
    ExpressionAttributeValues: { ':p': { S: 'p' }, ':lo': { N: '2' }, ':hi': { N: '8' }, ':t': { BOOL: true } },
    ScanIndexForward: false,
  })) {
    assert.ok(page.ScannedCount <= 2);
    odd.push(...page.Items.map((i) => Number(i.sk.N)));
  }
  assert.deepEqual(odd, [7, 5, 3]);

  const count = await ddb.send(new QueryCommand({
    TableName: t, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } }, Select: 'COUNT',
  }));
  assert.equal(count.Count, 9);
  assert.equal(count.Items, undefined);

  let scanned = 0;
  let matched = 0;
  for await (const page of paginateScan({ client: ddb, pageSize: 3 }, {
    TableName: t, FilterExpression: 'attribute_exists(odd)', ProjectionExpression: 'pk, sk',
  })) {
    scanned += page.ScannedCount;
    matched += page.Count;
    for (const i of page.Items) assert.deepEqual(Object.keys(i).sort(), ['pk', 'sk']);
  }
  assert.equal(scanned, 10);
  assert.equal(matched, 9);

  await rejects(ddb.send(new QueryCommand({
    TableName: t, KeyConditionExpression: 'odd = :p', ExpressionAttributeValues: { ':p': { S: 'p' } },
  })), 'ValidationException');
});

test('BatchWriteItem and BatchGetItem', async () => {
  const t = await createTable(uniqueName('batch'), { range: false });
  const puts = [];
  for (let i = 0; i < 25; i += 1) puts.push({ PutRequest: { Item: { pk: { S: `k${i}` }, v: { N: String(i) } } } });
  const w = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [t]: puts } }));
  assert.deepEqual(w.UnprocessedItems, {});
  await ddb.send(new BatchWriteItemCommand({ RequestItems: { [t]: [{ DeleteRequest: { Key: { pk: { S: 'k0' } } } }] } }));
  const keys = [0, 1, 2, 24].map((i) => ({ pk: { S: `k${i}` } }));
  const g = await ddb.send(new BatchGetItemCommand({ RequestItems: { [t]: { Keys: keys, ProjectionExpression: 'v' } } }));
  assert.deepEqual(g.Responses[t].map((i) => i.v.N).sort(), ['1', '2', '24']);
  assert.deepEqual(g.UnprocessedKeys, {});
  puts.push({ PutRequest: { Item: { pk: { S: 'k25' } } } });
  await rejects(ddb.send(new BatchWriteItemCommand({ RequestItems: { [t]: puts } })), 'ValidationException');
});

test('TransactWriteItems is all or nothing; TransactGetItems reads in request order', async () => {
  const t = await createTable(uniqueName('tx'), { range: false });
  await ddb.send(new PutItemCommand({ TableName: t, Item: { pk: { S: 'stock' }, n: { N: '1' } } }));
  await ddb.send(new TransactWriteItemsCommand({
    TransactItems: [
      { Put: { TableName: t, Item: { pk: { S: 'order-1' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: t, Key: { pk: { S: 'stock' } }, UpdateExpression: 'SET n = n - :one',
        ConditionExpression: 'n >= :one', ExpressionAttributeValues: { ':one': { N: '1' } } } },
    ],
  }));
  const e = await rejects(ddb.send(new TransactWriteItemsCommand({
    TransactItems: [
      { Put: { TableName: t, Item: { pk: { S: 'order-2' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { TableName: t, Key: { pk: { S: 'stock' } }, UpdateExpression: 'SET n = n - :one',
        ConditionExpression: 'n >= :one', ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
    ],
  })), 'TransactionCanceledException');
  assert.deepEqual(e.CancellationReasons.map((r) => r.Code), ['None', 'ConditionalCheckFailed']);
  assert.equal(e.CancellationReasons[1].Item.n.N, '0');
  assert.match(e.message, /ConditionalCheckFailed/);

  const got = await ddb.send(new TransactGetItemsCommand({
    TransactItems: [
      { Get: { TableName: t, Key: { pk: { S: 'order-2' } } } },
      { Get: { TableName: t, Key: { pk: { S: 'order-1' } } } },
      { Get: { TableName: t, Key: { pk: { S: 'stock' } }, ProjectionExpression: 'n' } },
    ],
  }));
  assert.equal(got.Responses[0].Item, undefined, 'the cancelled put wrote nothing');
  assert.equal(got.Responses[1].Item.pk.S, 'order-1');
  assert.deepEqual(got.Responses[2].Item, { n: { N: '0' } });
});

test('validation errors name the member, as DynamoDB does', async () => {
  const t = await createTable();
  let e = await rejects(ddb.send(new GetItemCommand({ TableName: t, Key: { pk: { S: 'a' } } })), 'ValidationException');
  assert.equal(e.message, 'The provided key element does not match the schema');
  e = await rejects(ddb.send(new PutItemCommand({ TableName: t, Item: { pk: { S: 'a' } } })), 'ValidationException');
  assert.equal(e.message, 'One or more parameter values were invalid: Missing the key sk in the item');
  e = await rejects(ddb.send(new DescribeTableCommand({})), 'ValidationException');
  assert.equal(e.message,
    "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null");
  await rejects(ddb.send(new DescribeTableCommand({ TableName: 'no spaces allowed' })), 'ValidationException');
  await rejects(ddb.send(new GetItemCommand({ TableName: uniqueName('none'), Key: key('a', 1) })),
    'ResourceNotFoundException');
});

test('every response carries x-amz-crc32 of its exact bytes, errors included', async () => {
  const check = (r) => {
    assert.equal(r.headers.get('content-type'), 'application/x-amz-json-1.0');
    assert.equal(r.headers.get('x-amz-crc32'), String(crc32(Buffer.from(r.text, 'utf8'))), r.text);
    assert.ok(r.headers.get('x-amzn-requestid'));
  };
  const ok = await dynamo('ListTables', {});
  assert.equal(ok.status, 200);
  check(ok);
  const bad = await dynamo('ListTables', '{"Limit": ');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.__type, 'com.amazon.coral.service#SerializationException');
  check(bad);
  const wrongType = await dynamo('DescribeTable', { TableName: 42 });
  assert.equal(wrongType.json.__type, 'com.amazon.coral.service#SerializationException');
  check(wrongType);
  const unknown = await dynamo('DropAllTables', {});
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.__type, 'com.amazon.coral.service#UnknownOperationException');
  check(unknown);
  const missing = await dynamo('DescribeTable', { TableName: uniqueName('none') });
  assert.equal(missing.json.__type, 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException');
  check(missing);
  const t = await createTable();
  const empty = await dynamo('GetItem', { TableName: t, Key: key('x', 1) });
  assert.equal(empty.text, '{}');
  assert.equal(empty.headers.get('x-amz-crc32'), '2745614147');
});
