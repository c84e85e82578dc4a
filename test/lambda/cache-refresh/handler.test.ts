import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Redis } from 'ioredis';
import { RedisVersionedCache } from '../../../adapters/redis/redis-versioned-cache';
import type { TenantId } from '../../../core/tenant';
import type { dispose as Dispose, handler as Handler } from '../../../lambda/cache-refresh/handler';
import { startLocalParameterStore, type LocalParameterStore } from '../../../local/parameter-store/index';
import { fixture, parameterEvent, SSM_ROOT, STAGE, TENANTS_PATH } from '../../events/support/change-events';
import { describeIf, localClientConfig, startRedis, type RunningServer } from '../../support/servers';

const acme = 'acme' as TenantId;

/** The Lambda module, loaded fresh with the given environment (it reads it once, at first use). */
function loadHandler(env: Record<string, string | undefined>): typeof Handler {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let loaded!: { handler: typeof Handler; dispose: typeof Dispose };
  jest.isolateModules(() => {
    loaded = require('../../../lambda/cache-refresh/handler') as { handler: typeof Handler; dispose: typeof Dispose };
  });
  // The handler builds its dependencies on the first call, so keep the environment until the test ends.
  afterEachCleanup.push(async () => {
    await loaded.dispose();
    process.env = saved;
  });
  return loaded.handler;
}
const afterEachCleanup: Array<() => Promise<void>> = [];

/** EMF documents Powertools prints to stdout, parsed. */
function captureEmf(): { documents: () => Array<Record<string, unknown>>; stop: () => void } {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return {
    documents: () =>
      lines
        .flatMap((l) => l.split('\n'))
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () => spy.mockRestore(),
  };
}

const metricNames = (doc: Record<string, unknown>) =>
  ((doc._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics[0].Metrics ?? []).map((m) => m.Name);

describeIf('redis-server')('cache-refresh Lambda handler', () => {
  let redis: RunningServer;
  let store: LocalParameterStore;
  let reader: Redis;
  let env: Record<string, string>;

  beforeAll(async () => {
    [redis, store] = await Promise.all([startRedis(), startLocalParameterStore()]);
    reader = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
    await reader.connect();
    env = {
      SSM_ROOT,
      STAGE,
      CACHE_REDIS_URL: redis.endpoint,
      AWS_ENDPOINT_URL_SSM: store.endpoint,
      POWERTOOLS_METRICS_NAMESPACE: 'TenantConfigTest',
    };
  });

  afterEach(async () => {
    while (afterEachCleanup.length) await afterEachCleanup.pop()!();
  });

  afterAll(async () => {
    await reader?.quit();
    await Promise.all([redis?.stop(), store?.close()]);
  });

  it('applies a stream record to the cache and publishes Applied and RefreshLagMs as EMF', async () => {
    const handler = loadHandler(env);
    const emf = captureEmf();
    let outcome;
    try {
      outcome = await handler(fixture('pipe-dynamodb-record-modify.json'));
    } finally {
      emf.stop();
    }
    expect(outcome).toMatchObject({ outcome: 'applied', version: 3 });
    const cache = new RedisVersionedCache(reader);
    expect(await cache.get(acme, 'tenantconfig:plan')).toMatchObject({ kind: 'hit', item: { version: 3, value: { tier: 'gold', seats: 50 } } });
    const [doc] = emf.documents();
    expect(metricNames(doc).sort()).toEqual(['Applied', 'RefreshLagMs']);
    expect((doc._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0].Namespace).toBe('TenantConfigTest');
    expect(doc.Applied).toBe(1);
  });

  it('refreshes a Parameter Store change by reading the parameter through the local endpoint', async () => {
    const ssm = new SSMClient(localClientConfig(store.endpoint));
    await ssm.send(new PutParameterCommand({ Name: `${TENANTS_PATH}acme/paramconfig/db/pool/max`, Value: '64', Type: 'String' }));
    ssm.destroy();
    const handler = loadHandler(env);
    const emf = captureEmf();
    try {
      expect(await handler(parameterEvent({ operation: 'Create' }))).toMatchObject({ outcome: 'applied', source: 'ssm', version: 1 });
    } finally {
      emf.stop();
    }
    expect(await new RedisVersionedCache(reader).get(acme, 'paramconfig:db/pool/max')).toMatchObject({ kind: 'hit', item: { value: 64 } });
  });

  it('drops a malformed event without throwing and counts it as Dropped', async () => {
    const handler = loadHandler(env);
    const emf = captureEmf();
    try {
      expect(await handler({ source: 'tenantconfig.pipe', 'detail-type': 'DynamoDB Stream Record', detail: { eventSource: 'aws:dynamodb' } })).toMatchObject({
        outcome: 'dropped',
        kind: 'malformed',
      });
    } finally {
      emf.stop();
    }
    expect(emf.documents().flatMap(metricNames)).toEqual(['Dropped']);
  });

  it('fails fast naming a missing setting, and builds again on the next invocation', async () => {
    const handler = loadHandler({ ...env, SSM_ROOT: undefined });
    await expect(handler(fixture('pipe-dynamodb-record-modify.json'))).rejects.toThrow(/SSM_ROOT/);
    process.env.SSM_ROOT = SSM_ROOT;
    const emf = captureEmf();
    try {
      expect(await handler(fixture('pipe-dynamodb-record-modify.json'))).toMatchObject({ outcome: 'ignored' });
    } finally {
      emf.stop();
    }
    expect(emf.documents().flatMap(metricNames)).toEqual(['Ignored']);
  });
});
