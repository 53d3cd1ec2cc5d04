// SQS AddPermission / RemovePermission (the queue's Policy) and SNS TagResource /
// UntagResource / ListTagsForResource, through Debian's awscli.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, awscli } from './lib/harness.mjs';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { assert.equal((await srv.stop()).code, 0, srv.output()); });

test('AddPermission writes a statement per label into the Policy; RemovePermission takes it out', async () => {
  const created = await awscli(srv.endpoint, ['sqs', 'create-queue', '--queue-name', 'perm']);
  const url = created.json.QueueUrl;
  const add = await awscli(srv.endpoint, ['sqs', 'add-permission', '--queue-url', url, '--label', 'shared',
    '--aws-account-ids', '123456789012', '--actions', 'SendMessage', 'ReceiveMessage']);
  assert.equal(add.code, 0, add.stderr);
  const again = await awscli(srv.endpoint, ['sqs', 'add-permission', '--queue-url', url, '--label', 'shared',
    '--aws-account-ids', '123456789012', '--actions', 'SendMessage']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /InvalidParameterValue.*Already exists/);
  const other = await awscli(srv.endpoint, ['sqs', 'add-permission', '--queue-url', url, '--label', 'second',
    '--aws-account-ids', '210987654321', '--actions', 'GetQueueAttributes']);
  assert.equal(other.code, 0, other.stderr);
  let attrs = await awscli(srv.endpoint, ['sqs', 'get-queue-attributes', '--queue-url', url, '--attribute-names', 'Policy']);
  let policy = JSON.parse(attrs.json.Attributes.Policy);
  assert.deepEqual(policy.Statement.map((s) => s.Sid), ['shared', 'second']);
  assert.deepEqual(policy.Statement[0].Action, ['SQS:SendMessage', 'SQS:ReceiveMessage']);
  assert.equal(policy.Statement[0].Principal.AWS, 'arn:aws:iam::123456789012:root');
  assert.equal(policy.Statement[0].Resource, 'arn:aws:sqs:us-east-1:000000000000:perm');

  const bad = await awscli(srv.endpoint, ['sqs', 'add-permission', '--queue-url', url, '--label', 'x',
    '--aws-account-ids', '123456789012', '--actions', 'FlyAway']);
  assert.match(bad.stderr, /InvalidParameterValue/);

  assert.equal((await awscli(srv.endpoint, ['sqs', 'remove-permission', '--queue-url', url, '--label', 'shared'])).code, 0);
  attrs = await awscli(srv.endpoint, ['sqs', 'get-queue-attributes', '--queue-url', url, '--attribute-names', 'Policy']);
  policy = JSON.parse(attrs.json.Attributes.Policy);
  assert.deepEqual(policy.Statement.map((s) => s.Sid), ['second']);
  const missing = await awscli(srv.endpoint, ['sqs', 'remove-permission', '--queue-url', url, '--label', 'shared']);
  assert.match(missing.stderr, /can't find label on existing policy/);
  assert.equal((await awscli(srv.endpoint, ['sqs', 'remove-permission', '--queue-url', url, '--label', 'second'])).code, 0);
  attrs = await awscli(srv.endpoint, ['sqs', 'get-queue-attributes', '--queue-url', url, '--attribute-names', 'Policy']);
  assert.equal(attrs.json?.Attributes?.Policy ?? '', '', 'no statement left: no policy');
});

test('SNS topics take tags, lose them, list them; a missing topic is ResourceNotFound', async () => {
  const arn = (await awscli(srv.endpoint, ['sns', 'create-topic', '--name', 'tagged'])).json.TopicArn;
  const tag = await awscli(srv.endpoint, ['sns', 'tag-resource', '--resource-arn', arn, '--tags',
    'Key=team,Value=orders', 'Key=env,Value=dev']);
  assert.equal(tag.code, 0, tag.stderr);
  let listed = await awscli(srv.endpoint, ['sns', 'list-tags-for-resource', '--resource-arn', arn]);
  assert.deepEqual(listed.json.Tags, [{ Key: 'env', Value: 'dev' }, { Key: 'team', Value: 'orders' }]);
  assert.equal((await awscli(srv.endpoint, ['sns', 'untag-resource', '--resource-arn', arn, '--tag-keys', 'env'])).code, 0);
  listed = await awscli(srv.endpoint, ['sns', 'list-tags-for-resource', '--resource-arn', arn]);
  assert.deepEqual(listed.json.Tags, [{ Key: 'team', Value: 'orders' }]);
  const many = Array.from({ length: 50 }, (_, i) => `Key=k${i},Value=v`);
  const tooMany = await awscli(srv.endpoint, ['sns', 'tag-resource', '--resource-arn', arn, '--tags', ...many]);
  assert.match(tooMany.stderr, /TagLimitExceeded/);
  const gone = await awscli(srv.endpoint, ['sns', 'list-tags-for-resource', '--resource-arn',
    'arn:aws:sns:us-east-1:000000000000:nope']);
  assert.match(gone.stderr, /ResourceNotFound/);
});
