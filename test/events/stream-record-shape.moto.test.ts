import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { startDynamoDbStreamProxy, type DynamoDbStreamProxy } from '../../local/events/dynamodb-stream-proxy';
import type { StreamRecord } from '../../local/events/stream-record';
import { describeIf, localClientConfig, startDynalite, startMoto, type RunningServer } from '../support/servers';

const run = promisify(execFile);
const TABLE = 'tenant-config-shape-test';
const key = { tenantId: { S: 'acme' }, configKey: { S: 'tenantconfig:plan' } };

/** The same writes the DynamoDB backend makes (put, versioned update, tombstone) and a hand delete. */
async function writeSequence(client: DynamoDBClient): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        ...key,
        version: { N: '1' },
        deleted: { BOOL: false },
        valueJson: { S: '{"tier":"gold"}' },
        updatedAt: { S: '2026-11-22T10:00:00.000Z' },
        updatedBy: { S: 'admin-1' },
        history: { L: [] },
      },
    }),
  );
  await client.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: key,
      UpdateExpression: 'SET version = :v, valueJson = :j, history = :h',
      ExpressionAttributeValues: {
        ':v': { N: '2' },
        ':j': { S: '{"tier":"platinum"}' },
        ':h': { L: [{ M: { version: { N: '1' }, valueJson: { S: '{"tier":"gold"}' } } }] },
      },
    }),
  );
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        ...key,
        version: { N: '3' },
        deleted: { BOOL: true },
        updatedAt: { S: '2026-11-22T10:01:00.000Z' },
        updatedBy: { S: 'admin-2' },
        history: { L: [] },
      },
    }),
  );
  await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key }));
}

/** moto's records, read the way any client would: the AWS CLI's dynamodbstreams commands. */
async function motoRecords(endpoint: string): Promise<Array<Record<string, unknown>>> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_DEFAULT_REGION: 'us-east-1' };
  const aws = async (...args: string[]) =>
    JSON.parse((await run('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], { env })).stdout) as Record<string, any>;
  const table = await aws('dynamodb', 'describe-table', '--table-name', TABLE);
  const streamArn = table.Table.LatestStreamArn as string;
  const stream = await aws('dynamodbstreams', 'describe-stream', '--stream-arn', streamArn);
  const shardId = stream.StreamDescription.Shards[0].ShardId as string;
  const iterator = await aws(
    'dynamodbstreams',
    'get-shard-iterator',
    '--stream-arn',
    streamArn,
    '--shard-id',
    shardId,
    '--shard-iterator-type',
    'TRIM_HORIZON',
  );
  const page = await aws('dynamodbstreams', 'get-records', '--shard-iterator', iterator.ShardIterator);
  return page.Records as Array<Record<string, unknown>>;
}

/**
 * Values that differ by nature (ids, times, sequence numbers, sizes, region) become their
 * type; moto says eventVersion '1.0' where AWS and we say '1.1'. Everything else stays as is.
 */
function normalised(record: Record<string, unknown>): unknown {
  const stream = record.dynamodb as Record<string, unknown>;
  return {
    ...record,
    eventID: typeof record.eventID,
    eventVersion: 'version',
    awsRegion: typeof record.awsRegion,
    dynamodb: {
      ...stream,
      ApproximateCreationDateTime: typeof stream.ApproximateCreationDateTime,
      SequenceNumber: /^[0-9]+$/.test(String(stream.SequenceNumber)) ? 'decimal string' : stream.SequenceNumber,
      SizeBytes: typeof stream.SizeBytes === 'number' && stream.SizeBytes > 0 ? 'positive number' : stream.SizeBytes,
    },
  };
}

describeIf('moto_server')('local stream records have the shape of real DynamoDB Streams records (moto)', () => {
  let moto: RunningServer;
  let dynalite: RunningServer;
  let proxy: DynamoDbStreamProxy;
  const local: StreamRecord[] = [];
  let remote: Array<Record<string, unknown>>;

  beforeAll(async () => {
    [moto, dynalite] = await Promise.all([startMoto(), startDynalite({ inMemory: true })]);
    proxy = await startDynamoDbStreamProxy({ dynaliteEndpoint: dynalite.endpoint, tableName: TABLE, region: 'us-east-1', onRecord: (r) => local.push(r) });
    const motoClient = new DynamoDBClient(localClientConfig(moto.endpoint));
    const proxyClient = new DynamoDBClient(localClientConfig(proxy.endpoint));
    try {
      await Promise.all([motoClient, proxyClient].map((c) => c.send(new CreateTableCommand(createTenantTableInput(TABLE)))));
      await writeSequence(motoClient);
      await writeSequence(proxyClient);
    } finally {
      motoClient.destroy();
      proxyClient.destroy();
    }
    remote = await motoRecords(moto.endpoint);
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([moto?.stop(), dynalite?.stop()]);
  });

  it('the same writes give the same kinds of record in the same order', () => {
    expect(remote.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'MODIFY', 'REMOVE']);
    expect(local.map((r) => r.eventName)).toEqual(remote.map((r) => r.eventName));
  });

  it('every record has the same fields, with the same types, at every level', () => {
    local.forEach((record, i) => {
      expect(Object.keys(record).sort()).toEqual(Object.keys(remote[i]).sort());
      expect(Object.keys(record.dynamodb).sort()).toEqual(Object.keys(remote[i].dynamodb as object).sort());
    });
  });

  it('Keys, NewImage and OldImage are identical, and the rest matches once ids and times are set aside', () => {
    local.forEach((record, i) => {
      expect(normalised(JSON.parse(JSON.stringify(record)))).toEqual(normalised(remote[i]));
    });
  });

  it('ApproximateCreationDateTime is epoch seconds (moto adds milliseconds; AWS and we give whole seconds)', () => {
    const now = Date.now() / 1000;
    for (const r of [
      ...local.map((l) => l.dynamodb.ApproximateCreationDateTime),
      ...remote.map((m) => (m.dynamodb as { ApproximateCreationDateTime: number }).ApproximateCreationDateTime),
    ]) {
      expect(Math.abs(r - now)).toBeLessThan(120);
    }
    for (const l of local) expect(Number.isInteger(l.dynamodb.ApproximateCreationDateTime)).toBe(true);
  });

  it('sequence numbers increase within the stream, as moto’s do', () => {
    const increasing = (xs: string[]) => xs.every((x, i) => i === 0 || BigInt(x) > BigInt(xs[i - 1]));
    expect(increasing(remote.map((r) => (r.dynamodb as { SequenceNumber: string }).SequenceNumber))).toBe(true);
    expect(increasing(local.map((r) => r.dynamodb.SequenceNumber))).toBe(true);
  });
});
