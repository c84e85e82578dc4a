import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import fc from 'fast-check';
import { BackendUnavailableError } from '../../../core/errors';
import { encodeCursor, START_ID } from '../../../core/change-log';
import { InMemoryVersionedCache } from '../../../adapters/memory/in-memory-cache';
import type { TenantId } from '../../../core/tenant';
import type { VersionedCache } from '../../../core/versioned-cache';
import { CacheRefresher, REFRESH_METRICS } from '../../../lambda/cache-refresh/refresh';
import { buildCacheRefresher } from '../../../lambda/cache-refresh/wiring';
import { startLocalParameterStore, type LocalParameterStore } from '../../../local/parameter-store/index';
import { eventContext, fixture, parameterEvent, pipeEvent, SSM_ROOT, STAGE, TENANTS_PATH, writeEvent } from '../../events/support/change-events';
import { freePort, localClientConfig } from '../../support/servers';
import { cachedState, deliverAndCheck, deliveries, Recorder } from './support';

const acme = 'acme' as TenantId;

/** Parameter reads must not happen for DynamoDB events: this reader fails the test if asked. */
const noStoreReads = {
  get: () => Promise.reject(new Error('the refresh read the store for an event that carries its value')),
};

function refresherOn(cache: VersionedCache, recorder = new Recorder(), now?: () => number): CacheRefresher {
  return new CacheRefresher({ cache, parameters: noStoreReads, events: eventContext, logger: recorder, metrics: recorder, now });
}

const cachedVersion = (cache: VersionedCache, key = 'tenantconfig:plan') => cachedState(cache, acme, key);

describe('cache refresh from DynamoDB stream records (in-memory cache)', () => {
  it('applies the record’s value and version straight from the image, with no store read', async () => {
    // Arrange
    const cache = new InMemoryVersionedCache();
    const recorder = new Recorder();
    const refresher = refresherOn(cache, recorder, () => Date.parse('2026-11-22T10:15:31.500Z'));
    // Act
    const outcome = await refresher.refresh(fixture('pipe-dynamodb-record-modify.json'));
    // Assert
    expect(outcome).toMatchObject({ outcome: 'applied', source: 'dynamodb', tenant: 'acme', key: 'tenantconfig:plan', version: 3, deleted: false, lagMs: 88 });
    expect(await cache.get(acme, 'tenantconfig:plan')).toEqual({
      kind: 'hit',
      item: { key: 'tenantconfig:plan', value: { tier: 'gold', seats: 50 }, version: 3, updatedAt: '2026-11-22T10:15:31.412Z', updatedBy: 'admin-1' },
    });
    expect(recorder.metrics).toEqual([
      { name: REFRESH_METRICS.applied, unit: 'Count', value: 1 },
      { name: REFRESH_METRICS.lag, unit: 'Milliseconds', value: 88 },
    ]);
  });

  it('a duplicate is ignored and counted, not logged twice to the change log', async () => {
    const cache = new InMemoryVersionedCache();
    const recorder = new Recorder();
    const refresher = refresherOn(cache, recorder);
    const event = writeEvent(1, 'gold');
    expect((await refresher.refresh(event)).outcome).toBe('applied');
    expect(await refresher.refresh(event)).toMatchObject({ outcome: 'ignored', version: 1 });
    expect(recorder.count(REFRESH_METRICS.ignored)).toBe(1);
    const log = await cache.readAfter(acme, encodeCursor(cache.shardOf(acme), cache.epoch, START_ID), 10);
    expect(log.trimmed === false && log.events.map((e) => e.version)).toEqual([1]);
  });

  it('a tombstone (API delete) and a REMOVE (hand delete) both leave a versioned tombstone', async () => {
    const cache = new InMemoryVersionedCache();
    const refresher = refresherOn(cache);
    await refresher.refresh(writeEvent(1, 'gold'));
    await refresher.refresh(pipeEvent({ eventName: 'MODIFY', newRow: { version: 2, deleted: true }, oldRow: { version: 1, value: 'gold' } }));
    expect(await cachedVersion(cache)).toEqual({ kind: 'tombstone', version: 2 });
    await refresher.refresh(writeEvent(1, 'x', 'tenantconfig:other'));
    await refresher.refresh(pipeEvent({ eventName: 'REMOVE', key: 'tenantconfig:other', oldRow: { version: 1, value: 'x' } }));
    expect(await cachedVersion(cache, 'tenantconfig:other')).toEqual({ kind: 'tombstone', version: 1 });
  });

  it('any permutation and duplication of a key’s change events leaves the newest version, and no reader sees a version go backwards (property)', async () => {
    await fc.assert(
      fc.asyncProperty(deliveries('tenantconfig:plan'), async (run) => {
        const cache = new InMemoryVersionedCache();
        await deliverAndCheck(refresherOn(cache), cache, acme, 'tenantconfig:plan', run);
        // The change log holds each accepted change once, in version order.
        const log = await cache.readAfter(acme, encodeCursor(cache.shardOf(acme), cache.epoch, START_ID), 100);
        const logged = log.trimmed ? [] : log.events.map((e) => e.version + (e.deleted ? 0.5 : 0));
        expect(logged).toEqual([...new Set(logged)].sort((a, b) => a - b));
      }),
      { numRuns: 150 },
    );
  });

  it('drops malformed and foreign events without throwing, counts them, and logs no values', async () => {
    const cache = new InMemoryVersionedCache();
    const recorder = new Recorder();
    const refresher = refresherOn(cache, recorder);
    const secretish = writeEvent(1, 'SECRET-VALUE-NEVER-LOGGED') as { detail: { dynamodb: { NewImage: Record<string, unknown> } } };
    secretish.detail.dynamodb.NewImage.version = { S: 'not a number' };
    const events: unknown[] = [
      null,
      'not an event',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
      secretish,
      pipeEvent({ eventName: 'INSERT', key: '#lease#paramconfig:x', newRow: { version: 1, value: 'SECRET-VALUE-NEVER-LOGGED' } }),
      fixture('aws-docs/ssm-parameter-store-change-update.json'),
    ];
    for (const event of events) expect((await refresher.refresh(event)).outcome).toBe('dropped');
    expect(recorder.count(REFRESH_METRICS.dropped)).toBe(events.length);
    expect(await cache.get(acme, 'tenantconfig:plan')).toEqual({ kind: 'miss' });
    expect(recorder.lines.filter((l) => l.level === 'warn')).toHaveLength(events.length);
    expect(recorder.logText()).not.toContain('SECRET-VALUE-NEVER-LOGGED');
  });
});

describe('cache refresh from Parameter Store changes (local Parameter Store, in-memory cache)', () => {
  let store: LocalParameterStore;
  let ssm: SSMClient;
  const name = (key: string) => `${TENANTS_PATH}acme/${key.replace(':', '/')}`;

  beforeAll(async () => {
    store = await startLocalParameterStore();
    ssm = new SSMClient(localClientConfig(store.endpoint));
  });

  afterAll(async () => {
    ssm.destroy();
    await store.close();
  });

  function refresherFor(cache: VersionedCache, recorder = new Recorder()): CacheRefresher {
    return buildCacheRefresher({ environment: { ssmRoot: SSM_ROOT, stage: STAGE }, cache, ssm, logger: recorder, metrics: recorder });
  }

  it('reads the parameter once to learn its value and version, and applies them', async () => {
    await ssm.send(new PutParameterCommand({ Name: name('paramconfig:db/pool/max'), Value: '20', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: name('paramconfig:db/pool/max'), Value: '40', Type: 'String', Overwrite: true }));
    const cache = new InMemoryVersionedCache();
    const outcome = await refresherFor(cache).refresh(parameterEvent({ operation: 'Update', key: 'paramconfig:db/pool/max' }));
    expect(outcome).toMatchObject({ outcome: 'applied', source: 'ssm', version: 2 });
    expect(await cache.get(acme, 'paramconfig:db/pool/max')).toMatchObject({ kind: 'hit', item: { value: 40, version: 2 } });
  });

  it('a secret tag’s value is decrypted into the cache and never logged', async () => {
    await ssm.send(new PutParameterCommand({ Name: name('secretconfig:db/password'), Value: '"hunter2-secret"', Type: 'SecureString' }));
    const cache = new InMemoryVersionedCache();
    const recorder = new Recorder();
    await refresherFor(cache, recorder).refresh(parameterEvent({ operation: 'Create', key: 'secretconfig:db/password', type: 'SecureString' }));
    expect(await cache.get(acme, 'secretconfig:db/password')).toMatchObject({ kind: 'hit', item: { value: 'hunter2-secret', version: 1 } });
    expect(recorder.logText()).not.toContain('hunter2');
  });

  it('a delete leaves a tombstone at the version the cache held; a duplicate delete changes nothing', async () => {
    await ssm.send(new PutParameterCommand({ Name: name('paramconfig:gone'), Value: '"x"', Type: 'String' }));
    const cache = new InMemoryVersionedCache();
    const refresher = refresherFor(cache);
    await refresher.refresh(parameterEvent({ operation: 'Create', key: 'paramconfig:gone' }));
    await ssm.send(new DeleteParameterCommand({ Name: name('paramconfig:gone') }));
    expect(await refresher.refresh(parameterEvent({ operation: 'Delete', key: 'paramconfig:gone' }))).toMatchObject({
      outcome: 'applied',
      deleted: true,
      version: 1,
    });
    expect(await cache.get(acme, 'paramconfig:gone')).toEqual({ kind: 'absent', reason: 'tombstone', version: 1 });
    expect(await refresher.refresh(parameterEvent({ operation: 'Delete', key: 'paramconfig:gone' }))).toMatchObject({ outcome: 'ignored' });
  });

  it('a key deleted and re-created (Parameter Store restarts at version 1) ends with the re-created value, whatever order the events come in', async () => {
    const key = 'paramconfig:feature/limit';
    const orders = [
      ['Update', 'Delete', 'Create'],
      ['Create', 'Delete', 'Update'],
      ['Delete', 'Create', 'Update'],
    ];
    for (const order of orders) {
      await ssm.send(new PutParameterCommand({ Name: name(key), Value: '1', Type: 'String', Overwrite: true }));
      await ssm.send(new PutParameterCommand({ Name: name(key), Value: '2', Type: 'String', Overwrite: true }));
      const cache = new InMemoryVersionedCache();
      const refresher = refresherFor(cache);
      await refresher.refresh(parameterEvent({ operation: 'Update', key })); // the cache holds the old value
      await new Promise((r) => setTimeout(r, 5));
      await ssm.send(new DeleteParameterCommand({ Name: name(key) }));
      await new Promise((r) => setTimeout(r, 5));
      await ssm.send(new PutParameterCommand({ Name: name(key), Value: '99', Type: 'String' }));
      // Every event is handled after all the writes: each read sees the re-created parameter.
      for (const operation of order) await refresher.refresh(parameterEvent({ operation, key }));
      expect(await cache.get(acme, key)).toMatchObject({ kind: 'hit', item: { value: 99, version: 1 } });
      await ssm.send(new DeleteParameterCommand({ Name: name(key) }));
    }
  });

  it('an event for a name outside the hierarchy is dropped without reading the store', async () => {
    const cache = new InMemoryVersionedCache();
    const recorder = new Recorder();
    const outcome = await refresherFor(cache, recorder).refresh(
      parameterEvent({ operation: 'Update', name: '/tenant-config/prod/tenants/acme/paramconfig/x' }),
    );
    expect(outcome).toMatchObject({ outcome: 'dropped', kind: 'foreign' });
  });

  it('a store outage throws a retryable error, so the retry policy and DLQ apply', async () => {
    const port = await freePort();
    const unreachable = new SSMClient({ ...localClientConfig(`http://127.0.0.1:${port}`), maxAttempts: 1 });
    const refresher = buildCacheRefresher({
      environment: { ssmRoot: SSM_ROOT, stage: STAGE },
      cache: new InMemoryVersionedCache(),
      ssm: unreachable,
      logger: new Recorder(),
      metrics: new Recorder(),
    });
    await expect(refresher.refresh(parameterEvent({ operation: 'Update' }))).rejects.toBeInstanceOf(BackendUnavailableError);
    unreachable.destroy();
  });
});
