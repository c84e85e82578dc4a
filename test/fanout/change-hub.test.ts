/**
 * The one change-log reader of a process: fans out by tenant, forgets subscribers that leave,
 * keeps going when one subscriber fails, and measures how far behind the log it runs.
 */
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import type { TenantId } from '../../core/tenant';
import { ChangeHub, type HubChange } from '../../fanout/change-hub';
import { InMemoryFanoutMetrics } from '../../fanout/metrics';
import { sleep } from './harness';

const acme = 'acme' as TenantId;
const globex = 'globex' as TenantId;

function change(key: string, version: number, updatedAt = new Date().toISOString()) {
  return { key, version, deleted: false, valueJson: String(version), updatedAt, updatedBy: 'test' };
}

describe('ChangeHub', () => {
  let log: InMemoryVersionedCache;
  let metrics: InMemoryFanoutMetrics;
  let hub: ChangeHub;
  beforeEach(async () => {
    log = new InMemoryVersionedCache({ shards: 2 });
    metrics = new InMemoryFanoutMetrics();
    hub = new ChangeHub(log, metrics);
    await hub.start();
  });
  afterEach(async () => {
    await hub.stop();
    await log.close();
  });

  it("hands each change to its tenant's subscribers only, in log order", async () => {
    // Arrange
    const got = { acme: [] as string[], globex: [] as string[] };
    hub.subscribe({ kind: 'one', tenant: acme }, { onChange: (c) => got.acme.push(`${c.event.key}@${c.event.version}`), onGap: () => undefined });
    hub.subscribe({ kind: 'one', tenant: globex }, { onChange: (c) => got.globex.push(`${c.event.key}@${c.event.version}`), onGap: () => undefined });

    // Act
    await log.apply(acme, change('tenantconfig:a', 1));
    await log.apply(globex, change('tenantconfig:a', 1));
    await log.apply(acme, change('tenantconfig:a', 2));
    await sleep(20);

    // Assert
    expect(got.acme).toEqual(['tenantconfig:a@1', 'tenantconfig:a@2']);
    expect(got.globex).toEqual(['tenantconfig:a@1']);
  });

  it('forgets a subscriber once it unsubscribes', async () => {
    // Arrange
    const got: HubChange[] = [];
    const unsubscribe = hub.subscribe({ kind: 'one', tenant: acme }, { onChange: (c) => got.push(c), onGap: () => undefined });
    await log.apply(acme, change('tenantconfig:a', 1));
    await sleep(20);

    // Act
    unsubscribe();
    await log.apply(acme, change('tenantconfig:a', 2));
    await sleep(20);

    // Assert
    expect(got.map((c) => c.event.version)).toEqual([1]);
    expect(hub.subscriberCount).toBe(0);
  });

  it('keeps delivering to the others when one subscriber throws', async () => {
    // Arrange
    const got: number[] = [];
    hub.subscribe(
      { kind: 'one', tenant: acme },
      {
        onChange: () => {
          throw new Error('broken subscriber');
        },
        onGap: () => undefined,
      },
    );
    hub.subscribe({ kind: 'one', tenant: acme }, { onChange: (c) => got.push(c.event.version), onGap: () => undefined });

    // Act
    await log.apply(acme, change('tenantconfig:a', 1));
    await log.apply(acme, change('tenantconfig:a', 2));
    await sleep(20);

    // Assert
    expect(got).toEqual([1, 2]);
  });

  it('advances the shard position past other tenants, for heartbeats', async () => {
    // Arrange
    const shard = log.shardOf(acme);
    const sameShard = ['t1', 't2', 't3', 't4', 't5', 't6'].find((t) => log.shardOf(t) === shard)! as TenantId;

    // Act
    const { cursor } = await log.apply(sameShard, change('tenantconfig:x', 1));
    await sleep(20);

    // Assert
    expect(hub.position(shard)?.raw).toBe(cursor);
  });

  it('records how far behind the change time each change is dispatched', async () => {
    // Act
    await log.apply(acme, change('tenantconfig:a', 1, new Date(Date.now() - 1500).toISOString()));
    await sleep(20);

    // Assert
    expect(metrics.maxLogLagMs).toBeGreaterThanOrEqual(1500);
    expect(metrics.maxLogLagMs).toBeLessThan(5000);
  });

  it('hands a stream of a list of tenants the changes of those tenants, and a stream of every tenant all of them, new tenants included', async () => {
    // Arrange
    const initech = 'initech' as TenantId;
    const list: string[] = [];
    const all: string[] = [];
    const unsubscribeList = hub.subscribe(
      { kind: 'list', tenants: new Set([acme, globex]) },
      { onChange: (c) => list.push(`${c.event.tenant}/${c.event.key}`), onGap: () => undefined },
    );
    const unsubscribeAll = hub.subscribe({ kind: 'all' }, { onChange: (c) => all.push(`${c.event.tenant}/${c.event.key}`), onGap: () => undefined });
    expect(hub.subscriberCount).toBe(3);

    // Act
    await log.apply(acme, change('tenantconfig:a', 1));
    await log.apply(initech, change('tenantconfig:i', 1));
    await log.apply(globex, change('tenantconfig:g', 1));
    for (let i = 0; i < 100 && all.length < 3; i++) await sleep(5);
    unsubscribeList();
    unsubscribeList();
    unsubscribeAll();
    await log.apply(acme, change('tenantconfig:a', 2));
    await sleep(20);

    // Assert
    expect(list.sort()).toEqual(['acme/tenantconfig:a', 'globex/tenantconfig:g']);
    expect(all.sort()).toEqual(['acme/tenantconfig:a', 'globex/tenantconfig:g', 'initech/tenantconfig:i']);
    expect(hub.subscriberCount).toBe(0);
  });
});
