import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDbConfigBackend } from '../../adapters/dynamodb/dynamodb-config-backend';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { parseKey } from '../../core/key';
import { TagRegistry } from '../../core/tag-registry';
import type { TenantId } from '../../core/tenant';
import { startDynamoDbStreamProxy, type DynamoDbStreamProxy } from '../../local/events/dynamodb-stream-proxy';
import type { StreamRecord } from '../../local/events/stream-record';
import { localClientConfig, startDynalite, type RunningServer } from '../support/servers';

const TABLE = 'tenant-config-proxy-test';
const key = (configKey: string) => ({ tenantId: { S: 'acme' }, configKey: { S: configKey } });

describe('DynamoDB stream proxy in front of dynalite', () => {
  let dynalite: RunningServer;
  let proxy: DynamoDbStreamProxy;
  let client: DynamoDBClient;
  let direct: DynamoDBClient;
  const records: StreamRecord[] = [];

  beforeAll(async () => {
    dynalite = await startDynalite({ inMemory: true });
    proxy = await startDynamoDbStreamProxy({ dynaliteEndpoint: dynalite.endpoint, tableName: TABLE, region: 'us-east-1', onRecord: (r) => records.push(r) });
    client = new DynamoDBClient(localClientConfig(proxy.endpoint));
    direct = new DynamoDBClient(localClientConfig(dynalite.endpoint));
    await client.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    await client.send(new CreateTableCommand({ ...createTenantTableInput('other-table'), StreamSpecification: undefined }));
  });

  afterAll(async () => {
    client.destroy();
    direct.destroy();
    await proxy.close();
    await dynalite.stop();
  });

  beforeEach(() => {
    records.length = 0;
  });

  it('a PutItem of a new item gives an INSERT with the item as NewImage and only the key in Keys', async () => {
    const item = { ...key('tenantconfig:insert'), version: { N: '1' }, valueJson: { S: '"gold"' }, blob: { B: new Uint8Array([1, 2, 3]) } };
    await client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      eventID: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: key('tenantconfig:insert'),
        // Binary stays base64 text, as the service's JSON carries it.
        NewImage: { ...key('tenantconfig:insert'), version: { N: '1' }, valueJson: { S: '"gold"' }, blob: { B: 'AQID' } },
        SequenceNumber: expect.stringMatching(/^[0-9]{21}$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    const seconds = records[0].dynamodb.ApproximateCreationDateTime;
    expect(Number.isInteger(seconds) && Math.abs(seconds - Date.now() / 1000) < 5).toBe(true);
    expect(records[0].dynamodb.SizeBytes).toBeGreaterThan(40);
  });

  it('an UpdateItem gives a MODIFY with both images; a DeleteItem a REMOVE with the OldImage; sequence numbers rise', async () => {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('tenantconfig:cycle'), version: { N: '1' } } }));
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key('tenantconfig:cycle'),
        UpdateExpression: 'SET version = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('tenantconfig:cycle') }));
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(records[1].dynamodb.OldImage).toEqual({ ...key('tenantconfig:cycle'), version: { N: '1' } });
    expect(records[1].dynamodb.NewImage).toEqual({ ...key('tenantconfig:cycle'), version: { N: '2' } });
    expect(records[2].dynamodb.OldImage).toEqual({ ...key('tenantconfig:cycle'), version: { N: '2' } });
    expect(records[2].dynamodb.NewImage).toBeUndefined();
    const sequence = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
    expect(sequence[0] < sequence[1] && sequence[1] < sequence[2]).toBe(true);
  });

  it('writes that change nothing give no record, as DynamoDB Streams', async () => {
    const item = { ...key('tenantconfig:same'), version: { N: '1' }, tags: { SS: ['a', 'b'] } };
    await client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    records.length = 0;
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, tags: { SS: ['b', 'a'] } } }));
    await client.send(new DeleteItemCommand({ TableName: TABLE, Key: key('tenantconfig:never-existed') }));
    expect(records).toEqual([]);
  });

  it('a failed conditional write gives no record and the client its usual error', async () => {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('tenantconfig:cond'), version: { N: '1' } } }));
    records.length = 0;
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { ...key('tenantconfig:cond'), version: { N: '9' } },
          ConditionExpression: 'attribute_not_exists(configKey)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(records).toEqual([]);
  });

  it('writes to other tables pass through without records', async () => {
    await client.send(new PutItemCommand({ TableName: 'other-table', Item: { ...key('tenantconfig:elsewhere'), version: { N: '1' } } }));
    const read = await client.send(new GetItemCommand({ TableName: 'other-table', Key: key('tenantconfig:elsewhere') }));
    expect(read.Item?.version).toEqual({ N: '1' });
    expect(records).toEqual([]);
  });

  it('a BatchWriteItem gives one record per changed item of the table', async () => {
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('tenantconfig:b3'), version: { N: '1' } } }));
    records.length = 0;
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { ...key('tenantconfig:b1'), version: { N: '1' } } } },
            { PutRequest: { Item: { ...key('tenantconfig:b2'), version: { N: '1' } } } },
            { DeleteRequest: { Key: key('tenantconfig:b3') } },
          ],
          'other-table': [{ PutRequest: { Item: { ...key('tenantconfig:b4'), version: { N: '1' } } } }],
        },
      }),
    );
    expect(records.map((r) => `${r.eventName} ${r.dynamodb.Keys.configKey.S}`).sort()).toEqual([
      'INSERT tenantconfig:b1',
      'INSERT tenantconfig:b2',
      'REMOVE tenantconfig:b3',
    ]);
  });

  it('passes dynalite’s answer to TransactWriteItems through (it has none) and records nothing', async () => {
    const write = client.send(
      new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { ...key('tenantconfig:tx'), version: { N: '1' } } } }] }),
    );
    await expect(write).rejects.toThrow();
    expect(records).toEqual([]);
  });

  it('concurrent writers of one item get an exact chain of images: each OldImage is the previous NewImage', async () => {
    const writers = 25;
    await Promise.all(
      Array.from({ length: writers }, () =>
        client.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key: key('tenantconfig:counter'),
            UpdateExpression: 'ADD hits :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        ),
      ),
    );
    expect(records).toHaveLength(writers);
    expect(records[0].eventName).toBe('INSERT');
    records.forEach((r, i) => {
      expect(r.dynamodb.NewImage?.hits).toEqual({ N: String(i + 1) });
      if (i > 0) expect(r.dynamodb.OldImage).toEqual(records[i - 1].dynamodb.NewImage);
    });
  });

  it('the DynamoDB backend works through the proxy, and each of its writes is one record carrying the new row', async () => {
    const backend = new DynamoDbConfigBackend({ client, tableName: TABLE, registry: TagRegistry.default() });
    const tenant = 'acme' as TenantId;
    const planKey = parseKey('tenantconfig:plan');
    await backend.put(tenant, { key: planKey, value: { tier: 'gold' }, updatedBy: 'admin-1' });
    await backend.put(tenant, { key: planKey, value: { tier: 'platinum' }, updatedBy: 'admin-1', expectedVersion: 1 });
    await backend.delete(tenant, { key: planKey, deletedBy: 'admin-2' });
    expect(await backend.get(tenant, planKey)).toBeUndefined();
    expect(records.map((r) => [r.eventName, r.dynamodb.NewImage?.version, r.dynamodb.NewImage?.deleted])).toEqual([
      ['INSERT', { N: '1' }, { BOOL: false }],
      ['MODIFY', { N: '2' }, { BOOL: false }],
      ['MODIFY', { N: '3' }, { BOOL: true }],
    ]);
    // What the proxy reported is what the table holds.
    const row = await direct.send(new GetItemCommand({ TableName: TABLE, Key: key('tenantconfig:plan'), ConsistentRead: true }));
    expect(records[2].dynamodb.NewImage).toEqual(JSON.parse(JSON.stringify(row.Item)));
  });

  it('keeps answering when a record consumer throws: the write stands and is reported as an error', async () => {
    const errors: string[] = [];
    const throwing = await startDynamoDbStreamProxy({
      dynaliteEndpoint: dynalite.endpoint,
      tableName: TABLE,
      region: 'us-east-1',
      onRecord: () => {
        throw new Error('consumer broke');
      },
      onError: (e) => errors.push(e.message),
    });
    const c = new DynamoDBClient(localClientConfig(throwing.endpoint));
    try {
      await c.send(new PutItemCommand({ TableName: TABLE, Item: { ...key('tenantconfig:consumer'), version: { N: '1' } } }));
      const read = await c.send(new GetItemCommand({ TableName: TABLE, Key: key('tenantconfig:consumer') }));
      expect(read.Item?.version).toEqual({ N: '1' });
      expect(errors).toEqual([expect.stringContaining('consumer broke')]);
    } finally {
      c.destroy();
      await throwing.close();
    }
  });
});
