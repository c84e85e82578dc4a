/**
 * A tenant registry row's stream record refreshes the tenant's `@attributes` cache entry and
 * logs it in the tenant's shard, so a change of attributes made while the API could not tell
 * the cache itself still reaches the cache and every watcher (docs/design.md §8.2).
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { REGISTRY_PARTITION } from '../../../adapters/dynamodb/dynamodb-tenant-registry';
import { InMemoryVersionedCache } from '../../../adapters/memory/in-memory-cache';
import { encodeCursor, START_ID } from '../../../core/change-log';
import type { TenantId } from '../../../core/tenant';
import { ATTRIBUTES_KEY, type TenantRecord } from '../../../core/tenant-registry';
import { CacheRefresher } from '../../../lambda/cache-refresh/refresh';
import { eventContext, patterns } from '../../events/support/change-events';
import { Recorder } from './support';

const acme = 'acme' as TenantId;

function registryEvent(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', record: TenantRecord, tenantKey: string = record.tenantId): Record<string, unknown> {
  const image = marshall({ tenantId: REGISTRY_PARTITION, configKey: tenantKey, record }, { removeUndefinedValues: true });
  return {
    version: '0',
    id: `registry-${record.version}-${eventName}`,
    'detail-type': patterns.dynamodbPipe.detailType,
    source: patterns.dynamodbPipe.source,
    time: '2026-11-22T10:15:31Z',
    detail: {
      eventName,
      eventSource: 'aws:dynamodb',
      dynamodb: {
        ApproximateCreationDateTime: 1_795_342_531,
        Keys: { tenantId: { S: REGISTRY_PARTITION }, configKey: { S: tenantKey } },
        ...(eventName === 'REMOVE' ? { OldImage: image } : { NewImage: image }),
        SequenceNumber: `1795342531${record.version}`,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    },
  };
}

const record = (version: number, attributes: Record<string, string>): TenantRecord => ({
  tenantId: acme,
  attributes,
  version,
  createdAt: '2026-11-22T10:00:00.000Z',
  updatedAt: `2026-11-22T10:15:3${version}.000Z`,
  updatedBy: 'op-alice',
});

describe('cache refresh of tenant registry rows', () => {
  const refresherOn = (cache: InMemoryVersionedCache) =>
    new CacheRefresher({
      cache,
      parameters: { get: () => Promise.reject(new Error('no store read')) },
      events: eventContext,
      logger: new Recorder(),
      metrics: new Recorder(),
    });

  it('applies a registry row as the tenant’s @attributes entry, version-guarded, and logs it in the tenant’s shard', async () => {
    // Arrange
    const cache = new InMemoryVersionedCache();
    const refresher = refresherOn(cache);

    // Act
    const first = await refresher.refresh(registryEvent('INSERT', record(1, { plan: 'free' })));
    const second = await refresher.refresh(registryEvent('MODIFY', record(2, { plan: 'gold' })));
    const late = await refresher.refresh(registryEvent('MODIFY', record(1, { plan: 'free' })));

    // Assert
    expect([first.outcome, second.outcome, late.outcome]).toEqual(['applied', 'applied', 'ignored']);
    expect(await cache.get(acme, ATTRIBUTES_KEY)).toMatchObject({
      kind: 'hit',
      item: { version: 2, value: { attributes: { plan: 'gold' }, offboarded: false } },
    });
    const log = await cache.readAfter(acme, encodeCursor(cache.shardOf(acme), cache.epoch, START_ID), 10);
    expect(log.trimmed === false && log.events.map((e) => [e.tenant, e.key, e.version])).toEqual([
      ['acme', ATTRIBUTES_KEY, 1],
      ['acme', ATTRIBUTES_KEY, 2],
    ]);
  });

  it('a removed record leaves the tenant without attributes (a tombstone newer than the record)', async () => {
    const cache = new InMemoryVersionedCache();
    const refresher = refresherOn(cache);
    await refresher.refresh(registryEvent('INSERT', record(3, { plan: 'gold' })));

    const removed = await refresher.refresh(registryEvent('REMOVE', record(3, { plan: 'gold' })));

    expect(removed).toMatchObject({ outcome: 'applied', deleted: true, version: 4 });
    expect(await cache.get(acme, ATTRIBUTES_KEY)).toMatchObject({ kind: 'absent' });
  });

  it('drops a registry row whose key is not a tenant id, or whose record names another tenant', async () => {
    const cache = new InMemoryVersionedCache();
    const refresher = refresherOn(cache);

    const badId = await refresher.refresh(registryEvent('INSERT', { ...record(1, {}), tenantId: '_platform' as TenantId }, '_platform'));
    const mismatch = await refresher.refresh(registryEvent('INSERT', record(1, {}), 'other'));

    expect(badId).toMatchObject({ outcome: 'dropped', kind: 'foreign' });
    expect(mismatch).toMatchObject({ outcome: 'dropped', kind: 'malformed' });
  });
});
