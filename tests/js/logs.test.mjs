// CloudWatch Logs (AWS JSON 1.1) driven by @aws-sdk/client-cloudwatch-logs and Debian's awscli
// against the real server: groups, streams, PutLogEvents, GetLogEvents paginated until the
// forward token repeats, FilterLogEvents paginated until nextToken is absent, the error shapes,
// `aws logs filter-log-events`, `aws logs get-log-events`, `aws logs tail` with and without
// --follow, and events surviving a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, DeleteLogGroupCommand,
  DescribeLogGroupsCommand, DescribeLogStreamsCommand, PutLogEventsCommand, GetLogEventsCommand,
  FilterLogEventsCommand, PutRetentionPolicyCommand, ListTagsForResourceCommand,
  paginateGetLogEvents, paginateFilterLogEvents, paginateDescribeLogGroups,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  startServer, clientConfig, uniqueName, awscli, waitFor, AWSCLI, ACCESS_KEY, SECRET_KEY, REGION,
} from './lib/harness.mjs';

let server;
let logs;
before(async () => {
  server = await startServer();
  logs = new CloudWatchLogsClient(clientConfig(server.endpoint));
});
after(async () => {
  logs?.destroy();
  const status = await server?.stop();
  assert.equal(status?.code, 0, `server exit: ${JSON.stringify(status)}\n${server?.output()}`);
});

async function rejects(promise, name) {
  const e = await promise.then(() => null, (err) => err);
  assert.ok(e, `expected ${name}`);
  assert.equal(e.name, name, e.message);
  return e;
}

// A group with the given streams; group names may not contain the pid separators' colons.
async function groupWithStreams(streams, prefix = '/orderflow/test') {
  const group = uniqueName(prefix);
  await logs.send(new CreateLogGroupCommand({ logGroupName: group, tags: { suite: 'logs' } }));
  for (const s of streams) await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: s }));
  return group;
}

async function put(group, stream, messages, start = Date.now() - 60_000) {
  const logEvents = messages.map((message, i) => ({ timestamp: start + i, message }));
  return logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents }));
}

test('GetLogEvents pages forward until the token repeats, and from the tail', async () => {
  const group = await groupWithStreams(['app']);
  const messages = Array.from({ length: 25 }, (_, i) => `event ${i}`);
  const start = Date.now() - 60_000;
  for (let i = 0; i < 25; i += 10) {
    const r = await put(group, 'app', messages.slice(i, i + 10), start + i);
    assert.match(r.nextSequenceToken, /^\d+$/);
    assert.equal(r.rejectedLogEventsInfo, undefined);
  }
  const got = [];
  let pages = 0;
  for await (const page of paginateGetLogEvents({ client: logs, pageSize: 10, stopOnSameToken: true },
    { logGroupName: group, logStreamName: 'app', startFromHead: true })) {
    pages += 1;
    assert.match(page.nextForwardToken, /^f\//);
    assert.match(page.nextBackwardToken, /^b\//);
    for (const e of page.events) {
      got.push(e.message);
      assert.ok(e.ingestionTime >= e.timestamp);
    }
    assert.ok(pages < 20, 'pagination must end');
  }
  assert.deepEqual(got, messages);
  assert.equal(pages, 4); // 10, 10, 5, then the same token with nothing new

  const tail = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 'app', limit: 5 }));
  assert.deepEqual(tail.events.map((e) => e.message), messages.slice(20));
  const before5 = await logs.send(new GetLogEventsCommand({
    logGroupName: group, logStreamName: 'app', limit: 5, nextToken: tail.nextBackwardToken,
  }));
  assert.deepEqual(before5.events.map((e) => e.message), messages.slice(15, 20));

  const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }));
  assert.equal(streams.logStreams.length, 1);
  assert.equal(streams.logStreams[0].firstEventTimestamp, start);
  assert.equal(streams.logStreams[0].lastEventTimestamp, start + 24);
  assert.equal(streams.logStreams[0].arn, `arn:aws:logs:us-east-1:000000000000:log-group:${group}:log-stream:app`);
});

test('FilterLogEvents interleaves streams, applies patterns and pages until nextToken is absent', async () => {
  const group = await groupWithStreams(['a', 'b']);
  const t0 = Date.now() - 30_000;
  await put(group, 'a', ['a0 ERROR disk', 'a1 INFO ok', 'a2 ERROR net'], t0);
  await put(group, 'b', ['b0 INFO ok', 'b1 ERROR cpu', 'b2 INFO ok'], t0 + 1000);
  await put(group, 'b', ['{"level":"error","orderId":"o-9","n":7}'], t0 + 2000);

  const all = [];
  let pages = 0;
  for await (const page of paginateFilterLogEvents({ client: logs, pageSize: 2 }, { logGroupName: group })) {
    pages += 1;
    all.push(...page.events);
    assert.ok(pages < 20, 'pagination must end');
  }
  assert.equal(pages, 4);
  assert.deepEqual(all.map((e) => e.message), [
    'a0 ERROR disk', 'a1 INFO ok', 'a2 ERROR net', 'b0 INFO ok', 'b1 ERROR cpu', 'b2 INFO ok',
    '{"level":"error","orderId":"o-9","n":7}',
  ]);
  assert.deepEqual(all.map((e) => e.logStreamName), ['a', 'a', 'a', 'b', 'b', 'b', 'b']);
  assert.equal(new Set(all.map((e) => e.eventId)).size, all.length);

  const errors = await logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: 'ERROR' }));
  assert.deepEqual(errors.events.map((e) => e.message), ['a0 ERROR disk', 'a2 ERROR net', 'b1 ERROR cpu']);
  assert.equal(errors.nextToken, undefined);
  const either = await logs.send(new FilterLogEventsCommand({
    logGroupName: group, filterPattern: '?disk ?cpu', logStreamNames: ['b'],
  }));
  assert.deepEqual(either.events.map((e) => e.message), ['b1 ERROR cpu']);
  const json = await logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: '{ $.n > 5 }' }));
  assert.deepEqual(json.events.map((e) => e.message), ['{"level":"error","orderId":"o-9","n":7}']);
  const window = await logs.send(new FilterLogEventsCommand({
    logGroupName: group, startTime: t0 + 1, endTime: t0 + 1001,
  }));
  assert.deepEqual(window.events.map((e) => e.message), ['a1 INFO ok', 'a2 ERROR net', 'b0 INFO ok', 'b1 ERROR cpu']);
  await rejects(logs.send(new FilterLogEventsCommand({ logGroupName: group, filterPattern: '"unclosed' })),
    'InvalidParameterException');
});

test('DescribeLogGroups pages, retention and tags show, errors have AWS shapes', async () => {
  const prefix = uniqueName('/orderflow/describe');
  for (const n of ['c', 'a', 'b']) await logs.send(new CreateLogGroupCommand({ logGroupName: `${prefix}/${n}` }));
  const names = [];
  for await (const page of paginateDescribeLogGroups({ client: logs, pageSize: 1 }, { logGroupNamePrefix: prefix })) {
    names.push(...page.logGroups.map((g) => g.logGroupName));
  }
  assert.deepEqual(names, [`${prefix}/a`, `${prefix}/b`, `${prefix}/c`]);

  await logs.send(new PutRetentionPolicyCommand({ logGroupName: `${prefix}/a`, retentionInDays: 30 }));
  const described = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `${prefix}/a` }));
  const g = described.logGroups[0];
  assert.equal(g.retentionInDays, 30);
  assert.equal(g.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${prefix}/a:*`);
  assert.equal(g.logGroupArn, `arn:aws:logs:us-east-1:000000000000:log-group:${prefix}/a`);
  assert.equal(g.metricFilterCount, 0);
  assert.ok(Math.abs(g.creationTime - Date.now()) < 60_000);

  const e = await rejects(logs.send(new CreateLogGroupCommand({ logGroupName: `${prefix}/a` })),
    'ResourceAlreadyExistsException');
  assert.equal(e.message, 'The specified log group already exists');
  assert.equal(e.$metadata.httpStatusCode, 400);
  const missing = await rejects(logs.send(new GetLogEventsCommand({ logGroupName: `${prefix}/a`, logStreamName: 'none' })),
    'ResourceNotFoundException');
  assert.equal(missing.message, 'The specified log stream does not exist.');
  await rejects(logs.send(new PutRetentionPolicyCommand({ logGroupName: `${prefix}/a`, retentionInDays: 2 })),
    'InvalidParameterException');
  await rejects(logs.send(new CreateLogGroupCommand({ logGroupName: 'bad name' })), 'InvalidParameterException');

  const tagged = await groupWithStreams([]);
  const tags = await logs.send(new ListTagsForResourceCommand({
    resourceArn: `arn:aws:logs:us-east-1:000000000000:log-group:${tagged}`,
  }));
  assert.deepEqual(tags.tags, { suite: 'logs' });
  await logs.send(new DeleteLogGroupCommand({ logGroupName: tagged }));
  await rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: tagged })), 'ResourceNotFoundException');
});

test('aws logs filter-log-events and get-log-events', async () => {
  const group = await groupWithStreams(['s1', 's2']);
  const t0 = Date.now() - 20_000;
  await put(group, 's1', ['one ERROR', 'two', 'three ERROR'], t0);
  await put(group, 's2', ['four ERROR'], t0 + 10);

  const filtered = await awscli(server.endpoint, ['logs', 'filter-log-events', '--log-group-name', group,
    '--filter-pattern', 'ERROR']);
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.deepEqual(filtered.json.events.map((e) => e.message), ['one ERROR', 'three ERROR', 'four ERROR']);
  assert.deepEqual(filtered.json.events.map((e) => e.logStreamName), ['s1', 's1', 's2']);

  // The CLI's own paginator, one event per page.
  const paged = await awscli(server.endpoint, ['logs', 'filter-log-events', '--log-group-name', group,
    '--page-size', '1']);
  assert.equal(paged.code, 0, paged.stderr);
  assert.equal(paged.json.events.length, 4);

  // get-log-events is not paginated by the CLI: loop on --next-token until it comes back unchanged.
  const got = [];
  let token;
  for (let i = 0; i < 10; i += 1) {
    const args = ['logs', 'get-log-events', '--log-group-name', group, '--log-stream-name', 's1',
      '--start-from-head', '--limit', '2'];
    if (token) args.push('--next-token', token);
    const r = await awscli(server.endpoint, args);
    assert.equal(r.code, 0, r.stderr);
    got.push(...r.json.events.map((e) => e.message));
    if (r.json.nextForwardToken === token) break;
    token = r.json.nextForwardToken;
  }
  assert.deepEqual(got, ['one ERROR', 'two', 'three ERROR']);

  const missing = await awscli(server.endpoint, ['logs', 'get-log-events', '--log-group-name', group,
    '--log-stream-name', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /ResourceNotFoundException/);
  assert.match(missing.stderr, /The specified log stream does not exist\./);
});

test('aws logs tail prints the recent events of every stream', async () => {
  const group = await groupWithStreams(['w1', 'w2']);
  const now = Date.now();
  await put(group, 'w1', ['START RequestId: r-1 Version: $LATEST', 'END RequestId: r-1'], now - 5000);
  await put(group, 'w2', ['processed orderId=o-1'], now - 4000);
  await put(group, 'w2', ['too long ago for --since'], now - 3 * 3600_000);

  const r = await awscli(server.endpoint, ['logs', 'tail', group, '--since', '1h']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 w1 START RequestId: r-1 Version: \$LATEST$/);
  assert.match(lines[1], / w1 END RequestId: r-1$/);
  assert.match(lines[2], / w2 processed orderId=o-1$/);

  const filtered = await awscli(server.endpoint, ['logs', 'tail', group, '--since', '1h', '--filter-pattern', 'orderId',
    '--format', 'short']);
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.match(filtered.stdout.trim(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d processed orderId=o-1$/);
});

test('aws logs tail --follow prints events as they arrive', async (t) => {
  const group = await groupWithStreams(['live']);
  await put(group, 'live', ['before the tail'], Date.now() - 1000);
  const child = spawn(AWSCLI, ['--endpoint-url', server.endpoint, 'logs', 'tail', group, '--follow', '--format', 'short'], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp',
      AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '',
      // Python block-buffers a piped stdout: without this the tail prints nothing until it exits.
      PYTHONUNBUFFERED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  await waitFor(() => out.includes('before the tail'), { timeoutMs: 30000, what: `the first event (stderr: ${err})` });
  await put(group, 'live', ['arrived while following'], Date.now());
  await waitFor(() => out.includes('arrived while following'), { timeoutMs: 30000, intervalMs: 100,
    what: `the new event in the tail output (stdout: ${out}, stderr: ${err})` });
  // Each event once: --follow de-duplicates by eventId, which must be stable across polls.
  assert.equal(out.split('arrived while following').length - 1, 1, out);
  assert.equal(out.split('before the tail').length - 1, 1, out);
});

// PutLogEvents answers only once the events are durable: they survive even kill -9.
test('events survive a kill -9 and restart of the server', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'orderflow-logs-'));
  try {
    let s = await startServer({ dataDir });
    let c = new CloudWatchLogsClient(clientConfig(s.endpoint));
    await c.send(new CreateLogGroupCommand({ logGroupName: '/durable' }));
    await c.send(new CreateLogStreamCommand({ logGroupName: '/durable', logStreamName: 's' }));
    await c.send(new PutLogEventsCommand({
      logGroupName: '/durable', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'kept' }],
    }));
    c.destroy();
    assert.equal((await s.stop({ keepData: true, signal: 'SIGKILL' })).signal, 'SIGKILL');
    s = await startServer({ dataDir });
    c = new CloudWatchLogsClient(clientConfig(s.endpoint));
    const r = await c.send(new GetLogEventsCommand({ logGroupName: '/durable', logStreamName: 's', startFromHead: true }));
    assert.deepEqual(r.events.map((e) => e.message), ['kept']);
    c.destroy();
    await s.stop({ keepData: true, signal: 'SIGKILL' });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
