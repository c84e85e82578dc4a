/**
 * The cached read path through ConfigService: read-through with coalescing, negative caching,
 * read-your-writes, and the circuit breaker against a redis-server that dies and comes back.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ConfigBackend, Page, PageRequest } from '../../core/backend-port';
import { CachedItemReader, readerPoliciesFromRegistry } from '../../core/cached-item-reader';
import { ConfigService } from '../../core/config-service';
import { NotFoundError } from '../../core/errors';
import type { ConfigItem, DeleteCommand, HistoryEntry, PutCommand, PutResult } from '../../core/item';
import { parseKey, type ConfigKey, type KeyPrefix } from '../../core/key';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { PageTokenCodec } from '../../core/page-token';
import type { TenantAccess } from '../../core/access-policy';
import { TagRegistry } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import { parseTenantId, type TenantId } from '../../core/tenant';
import type { VersionedCache } from '../../core/versioned-cache';
import { RedisConnector, waitUntilReady, type RedisClient } from '../../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../../adapters/redis/redis-versioned-cache';
import { InMemoryConfigBackend } from '../support/in-memory-backend';
import { describeIf } from '../support/servers';
import { startRedisProcess, type RedisProcess } from '../support/redis/redis-process';
import { redisTestConfig } from '../support/redis/redis-subject';
import type { GenericLogger } from '../../core/logger';

/** Counts backend reads and can hold them back, to make concurrent misses overlap. */
class CountingBackend implements ConfigBackend {
  gets = 0;
  private gate?: Promise<void>;
  private release?: () => void;

  constructor(readonly inner: ConfigBackend) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release?.();
    this.gate = undefined;
  }

  async get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined> {
    this.gets += 1;
    const item = await this.inner.get(tenant, key); // read now, answer when the gate opens
    await this.gate;
    return item;
  }

  list(tenant: TenantId, prefix: KeyPrefix, page: PageRequest): Promise<Page<ConfigItem>> {
    return this.inner.list(tenant, prefix, page);
  }

  put(tenant: TenantId, command: PutCommand): Promise<PutResult> {
    return this.inner.put(tenant, command);
  }

  delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }> {
    return this.inner.delete(tenant, command);
  }

  history(tenant: TenantId, key: ConfigKey, limit: number): Promise<readonly HistoryEntry[]> {
    return this.inner.history(tenant, key, limit);
  }
}

class RecordingLogger implements GenericLogger {
  readonly lines: string[] = [];
  warn(message: string): void {
    this.lines.push(`WARN ${message}`);
  }
  info(message: string): void {
    this.lines.push(`INFO ${message}`);
  }
  error(message: string): void {
    this.lines.push(`ERROR ${message}`);
  }
  debug(): void {}
}

const alice: TenantAccess = { caller: { kind: 'tenant-admin', tenant: parseTenantId('acme'), subject: 'alice' }, tenant: parseTenantId('acme') };
const registry = TagRegistry.default();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wire(cache: VersionedCache, options: ConstructorParameters<typeof CachedItemReader>[1] = {}) {
  const backend = new CountingBackend(new InMemoryConfigBackend());
  const router = new TagRouter(registry, { dynamodb: backend, ssm: backend });
  const reader = new CachedItemReader(cache, { ...readerPoliciesFromRegistry(registry), ...options });
  const service = new ConfigService(router, new PageTokenCodec('test-secret-0123456789abcdef'), reader);
  return { backend, reader, service };
}

describe('CachedItemReader over the in-memory cache', () => {
  let cache: InMemoryVersionedCache;
  beforeEach(() => {
    cache = new InMemoryVersionedCache();
  });
  afterEach(() => cache.close());

  it('coalesces concurrent misses for one key into one backend read', async () => {
    const { backend, reader, service } = wire(cache);
    await backend.inner.put(alice.tenant, { key: parseKey('tenantconfig:plan'), value: 'gold', updatedBy: 'seed' });
    backend.hold();
    const reads = Array.from({ length: 20 }, () => service.get(alice, 'tenantconfig:plan'));
    await sleep(20);
    backend.open();
    const items = await Promise.all(reads);
    expect(new Set(items.map((i) => `${i.value}@${i.version}`))).toEqual(new Set(['gold@1']));
    expect(backend.gets).toBe(1);
    expect(reader.counters).toMatchObject({ misses: 20, coalesced: 19, backendReads: 1 });
    await service.get(alice, 'tenantconfig:plan');
    expect(backend.gets).toBe(1);
    expect(reader.counters.hits).toBe(1);
  });

  it('does not coalesce reads of different keys or tenants', async () => {
    const { backend, service } = wire(cache);
    const bob: TenantAccess = { ...alice, tenant: parseTenantId('globex') };
    await Promise.all([
      service.get(alice, 'tenantconfig:a').catch(() => undefined),
      service.get(alice, 'tenantconfig:b').catch(() => undefined),
      service.get(bob, 'tenantconfig:a').catch(() => undefined),
    ]);
    expect(backend.gets).toBe(3);
  });

  it("caches a missing key negatively for the tag's TTL", async () => {
    expect(readerPoliciesFromRegistry(registry).negativeTtlMs!('tenantconfig:x')).toBe(5000);
    const { backend, reader, service } = wire(cache, { negativeTtlMs: () => 150 });
    await expect(service.get(alice, 'tenantconfig:missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(alice, 'tenantconfig:missing')).rejects.toBeInstanceOf(NotFoundError);
    expect(backend.gets).toBe(1);
    expect(reader.counters.absentHits).toBe(1);
    await sleep(250);
    await expect(service.get(alice, 'tenantconfig:missing')).rejects.toBeInstanceOf(NotFoundError);
    expect(backend.gets).toBe(2);
  });

  it('lets a writer read its own writes and deletes at once, without a backend read', async () => {
    const { backend, service } = wire(cache);
    await service.put(alice, 'tenantconfig:plan', 'silver');
    expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'silver', version: 1 });
    await service.put(alice, 'tenantconfig:plan', 'gold', 1);
    expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'gold', version: 2 });
    await service.delete(alice, 'tenantconfig:plan');
    await expect(service.get(alice, 'tenantconfig:plan')).rejects.toBeInstanceOf(NotFoundError);
    expect(backend.gets).toBe(0);
  });

  it('keeps a write when a read that started before it fills the cache late', async () => {
    const { backend, service } = wire(cache);
    await backend.inner.put(alice.tenant, { key: parseKey('tenantconfig:plan'), value: 'old', updatedBy: 'seed' });
    backend.hold();
    const before = service.get(alice, 'tenantconfig:plan');
    await sleep(10);
    await service.put(alice, 'tenantconfig:plan', 'new', 1);
    backend.open();
    expect(await before).toMatchObject({ value: 'old', version: 1 });
    expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'new', version: 2 });
    expect(backend.gets).toBe(1);
  });

  it('orders Parameter Store keys by store time: a re-created parameter at version 1 replaces its tombstone', async () => {
    const { reader } = wire(cache);
    const loads: number[] = [];
    await reader.onWrite(alice, 'paramconfig:db/pool', { deletedVersion: 7 });
    const later = new Date(Date.now() + 1000).toISOString();
    await reader.onWrite(alice, 'paramconfig:db/pool', { item: { key: 'paramconfig:db/pool', value: 10, version: 1, updatedAt: later, updatedBy: 'alice' } });
    const item = await reader.get(alice, 'paramconfig:db/pool', async () => {
      loads.push(1);
      return undefined;
    });
    expect(item).toMatchObject({ value: 10, version: 1 });
    expect(loads).toEqual([]);
  });
});

describeIf('redis-server')('CachedItemReader over Redis: a dead or slow cache degrades to backend reads', () => {
  let redis: RedisProcess | undefined;
  let connector: RedisConnector;
  let client: RedisClient;

  beforeEach(async () => {
    redis = await startRedisProcess();
    connector = await RedisConnector.create(redisTestConfig(redis.port, { commandTimeoutMs: 300, connectTimeoutMs: 500, maxReconnectDelayMs: 150 }));
    client = connector.connect();
    await waitUntilReady(client, 3000);
  });

  afterEach(async () => {
    client.disconnect();
    await redis?.kill();
    redis = undefined;
  });

  it('serves a filled entry from Redis, and a write through the API at once', async () => {
    // The Lambda passes its Powertools Logger straight in.
    const { backend, reader, service } = wire(new RedisVersionedCache(client), { logger: new Logger({ serviceName: 'cache-test' }) });
    await backend.inner.put(alice.tenant, { key: parseKey('tenantconfig:plan'), value: 'gold', updatedBy: 'seed' });
    await service.get(alice, 'tenantconfig:plan');
    await service.get(alice, 'tenantconfig:plan');
    await service.put(alice, 'tenantconfig:plan', 'platinum', 1);
    expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'platinum', version: 2 });
    expect(backend.gets).toBe(1);
    expect(reader.counters).toMatchObject({ hits: 2, misses: 1, cacheErrors: 0 });
  });

  it('keeps reading from the backend when redis dies, opens the breaker, and fills again from a new redis after the cool-down', async () => {
    const logger = new RecordingLogger();
    const { backend, reader, service } = wire(new RedisVersionedCache(client), { failureThreshold: 3, coolDownMs: 400, logger });
    await backend.inner.put(alice.tenant, { key: parseKey('tenantconfig:plan'), value: 'gold', updatedBy: 'seed' });
    await service.get(alice, 'tenantconfig:plan');
    expect(reader.counters.hits + reader.counters.misses).toBe(1);

    const port = redis!.port;
    await redis!.kill();
    redis = undefined;
    const started = Date.now();
    for (let i = 0; i < 10; i++) expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'gold', version: 1 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(reader.breakerState).toBe('open');
    expect(reader.counters.breakerOpen).toBe(1);
    expect(reader.counters.cacheErrors).toBeGreaterThanOrEqual(3);
    expect(reader.counters.bypassed).toBeGreaterThan(0);
    expect(logger.lines).toContain('WARN cache: breaker open, reads go to the backend');

    // A write while the cache is down succeeds; a read that began before it does not hide it.
    backend.hold();
    const before = service.get(alice, 'tenantconfig:plan');
    await sleep(10);
    await service.put(alice, 'tenantconfig:plan', 'platinum', 1);
    const after = service.get(alice, 'tenantconfig:plan');
    backend.open();
    expect(await before).toMatchObject({ version: 1 });
    expect(await after).toMatchObject({ value: 'platinum', version: 2 });

    redis = await startRedisProcess({ port });
    const deadline = Date.now() + 8000;
    let hitsBefore = reader.counters.hits;
    let backendBefore = backend.gets;
    for (;;) {
      await service.get(alice, 'tenantconfig:plan');
      if (reader.breakerState === 'closed' && reader.counters.hits > hitsBefore && backend.gets === backendBefore) break;
      hitsBefore = reader.counters.hits;
      backendBefore = backend.gets;
      if (Date.now() > deadline) throw new Error(`the cache did not fill again: ${JSON.stringify(reader.counters)} ${reader.breakerState}`);
      await sleep(100);
    }
    expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'platinum', version: 2 });
    expect(logger.lines).toContain('INFO cache: breaker closed, the cache answers again');
  });

  it('answers from the backend when redis is too slow, within the cache timeout', async () => {
    const { backend, reader, service } = wire(new RedisVersionedCache(client), { cacheTimeoutMs: 100 });
    await backend.inner.put(alice.tenant, { key: parseKey('tenantconfig:plan'), value: 'gold', updatedBy: 'seed' });
    const admin = connector.connect();
    await waitUntilReady(admin, 3000);
    await admin.call('CLIENT', ['PAUSE', '1500', 'ALL']);
    const started = Date.now();
    expect(await service.get(alice, 'tenantconfig:plan')).toMatchObject({ value: 'gold' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(reader.counters.cacheErrors).toBeGreaterThanOrEqual(1);
    admin.disconnect();
  });
});
