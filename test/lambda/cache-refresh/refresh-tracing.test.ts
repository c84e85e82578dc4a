/**
 * A write's trace id reaches the cache-refresh log line of the same change: the config-api's
 * DynamoDB client stamps it into the item (lambda/shared/write-trace.ts), the stream image
 * carries it through the Pipe, and the refresh logs it as `writeTraceId`. Real path: the
 * DynamoDB backend writing to dynalite through the local stream proxy, the record wrapped as
 * the Pipe wraps it. A Parameter Store change has no writer data; its line names the event id.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbConfigBackend } from '../../../adapters/dynamodb/dynamodb-config-backend';
import { createTenantTableInput } from '../../../adapters/dynamodb/table-definition';
import { InMemoryVersionedCache } from '../../../adapters/memory/in-memory-cache';
import { parseKey } from '../../../core/key';
import { TagRegistry } from '../../../core/tag-registry';
import type { TenantId } from '../../../core/tenant';
import { CacheRefresher } from '../../../lambda/cache-refresh/refresh';
import { changeOriginOf, stampWriteTrace, WRITE_TRACE_ATTRIBUTE } from '../../../lambda/shared/write-trace';
import { startDynamoDbStreamProxy, type DynamoDbStreamProxy } from '../../../local/events/dynamodb-stream-proxy';
import type { StreamRecord } from '../../../local/events/stream-record';
import { eventContext, parameterEvent, patterns } from '../../events/support/change-events';
import { localClientConfig, startDynalite, type RunningServer } from '../../support/servers';
import { Recorder } from './support';

const TABLE = 'tenant-config-trace-test';
const acme = 'acme' as TenantId;
const WRITE_TRACE = '1-6750a1b2-0123456789abcdef01234567';

describe('the trace id of a write in the refresh log line', () => {
  let dynalite: RunningServer;
  let proxy: DynamoDbStreamProxy;
  let client: DynamoDBClient;
  const records: StreamRecord[] = [];
  let currentTrace: string | undefined;

  beforeAll(async () => {
    dynalite = await startDynalite({ inMemory: true });
    proxy = await startDynamoDbStreamProxy({ dynaliteEndpoint: dynalite.endpoint, tableName: TABLE, region: 'us-east-1', onRecord: (r) => records.push(r) });
    client = new DynamoDBClient(localClientConfig(proxy.endpoint));
    await client.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    // What lambda/config-api/main.ts does with the Lambda's client.
    stampWriteTrace(client, TABLE, () => currentTrace);
  });

  afterAll(async () => {
    client.destroy();
    await proxy.close();
    await dynalite.stop();
  });

  /** The Pipe's event for a stream record (local/events/change-event-sources.ts does the same). */
  const pipeEventOf = (record: StreamRecord) => ({
    version: '0',
    id: 'b6a1d3f0-5c2e-4c8e-9f44-2f6a9d1e7c10',
    'detail-type': patterns.dynamodbPipe.detailType,
    source: patterns.dynamodbPipe.source,
    account: '000000000000',
    time: '2026-12-01T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { ...record, eventSourceARN: proxy.streamArn },
  });

  it('carries the writer’s trace id from the DynamoDB write to the "cache refreshed" line', async () => {
    // Arrange: a write made inside a traced config-api invocation.
    const backend = new DynamoDbConfigBackend({ client, tableName: TABLE, registry: TagRegistry.default() });
    currentTrace = WRITE_TRACE;
    await backend.put(acme, { key: parseKey('tenantconfig:plan'), value: { tier: 'gold' }, updatedBy: 'admin-1' });
    currentTrace = undefined;
    const record = records.find((r) => r.dynamodb.NewImage?.configKey?.S === 'tenantconfig:plan');
    expect(record?.dynamodb.NewImage?.[WRITE_TRACE_ATTRIBUTE]).toEqual({ S: WRITE_TRACE });
    const recorder = new Recorder();
    const refresher = new CacheRefresher({
      cache: new InMemoryVersionedCache(),
      parameters: { get: () => Promise.reject(new Error('no store read')) },
      events: eventContext,
      logger: recorder,
      metrics: recorder,
    });

    // Act
    const outcome = await refresher.refresh(pipeEventOf(record!));

    // Assert
    expect(outcome).toMatchObject({ outcome: 'applied', tenant: 'acme', key: 'tenantconfig:plan', version: 1 });
    const line = recorder.lines.find((l) => l.message === 'cache refreshed');
    expect(line?.attributes).toMatchObject({
      key: 'tenantconfig:plan',
      version: 1,
      writeTraceId: WRITE_TRACE,
      changeEventId: 'b6a1d3f0-5c2e-4c8e-9f44-2f6a9d1e7c10',
    });
  });

  it('stamps nothing outside a trace, and a later write replaces the earlier id', async () => {
    const backend = new DynamoDbConfigBackend({ client, tableName: TABLE, registry: TagRegistry.default() });
    await backend.put(acme, { key: parseKey('flags:beta'), value: true, updatedBy: 'admin-1' });
    const untraced = records.filter((r) => r.dynamodb.NewImage?.configKey?.S === 'flags:beta').at(-1)!;
    expect(untraced.dynamodb.NewImage?.[WRITE_TRACE_ATTRIBUTE]).toBeUndefined();
    expect(changeOriginOf(pipeEventOf(untraced)).writeTraceId).toBeUndefined();

    currentTrace = '1-6750a1b3-fedcba9876543210fedcba98';
    await backend.put(acme, { key: parseKey('flags:beta'), value: false, updatedBy: 'admin-1' });
    currentTrace = undefined;
    const traced = records.filter((r) => r.dynamodb.NewImage?.configKey?.S === 'flags:beta').at(-1)!;
    expect(changeOriginOf(pipeEventOf(traced)).writeTraceId).toBe('1-6750a1b3-fedcba9876543210fedcba98');
  });

  it('ignores a traceId attribute that is not an X-Ray trace id (it could be anyone’s write)', () => {
    const event = { id: 'e-1', detail: { dynamodb: { NewImage: { [WRITE_TRACE_ATTRIBUTE]: { S: 'value: {"secret": 1}' } } } } };
    expect(changeOriginOf(event)).toEqual({ changeEventId: 'e-1' });
  });

  it('names the event of a Parameter Store change, which carries no writer data', async () => {
    const recorder = new Recorder();
    const refresher = new CacheRefresher({
      cache: new InMemoryVersionedCache(),
      parameters: { get: async () => undefined },
      events: eventContext,
      logger: recorder,
      metrics: recorder,
    });
    const event = parameterEvent({ operation: 'Delete', key: 'paramconfig:db/url' });
    await refresher.refresh(event);
    const line = recorder.lines.find((l) => l.message === 'cache refreshed' || l.message.startsWith('change already'));
    expect(line?.attributes).toMatchObject({ source: 'ssm', changeEventId: (event as { id: string }).id });
    expect(line?.attributes.writeTraceId).toBeUndefined();
  });
});
