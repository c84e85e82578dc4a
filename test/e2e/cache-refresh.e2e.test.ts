/**
 * Event-driven cache refresh end to end (docs/design.md §3.9): the cache is filled through the API, then
 * the AWS CLI changes the value straight in the advertised DynamoDB endpoint and in the local
 * Parameter Store, past the API. The change event (stream proxy → Pipe → bus, Parameter Store
 * Change → bus) reaches the cache-refresh code, and the API answers the new value within a
 * second. Run with the Redis cache (a private redis-server) and the in-memory one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisKeyLayout } from '../../adapters/redis/key-layout';
import { resolveCacheSettings } from '../../core/versioned-cache';
import { REFRESH_METRICS } from '../../lambda/cache-refresh/refresh';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { describeIf } from '../support/servers';
import { AwsCli, eventually } from './aws-cli';
import { LocalApi } from './local-api';

const PROPAGATION_MS = 1000;

function cacheRefreshSuite(mode: 'redis' | 'memory') {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let cli: AwsCli;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `e2e-refresh-${mode}-`));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0, cache: mode });
    api = new LocalApi(system.endpoints.http);
    cli = new AwsCli(system.endpoints);
    admin = system.signer.signToken({ tenant: 'acme', admin: true });
    reader = system.signer.signToken({ tenant: 'acme', admin: false });
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once GET answers `status` (and, for 200, `version`); fails after a second. */
  const apiAnswers = (key: string, status: number, version?: number) =>
    eventually(
      async () => {
        const res = await api.get(`/v1/config/${key}`, reader);
        return res.status === status && (version === undefined || res.body.version === version) ? res : undefined;
      },
      PROPAGATION_MS,
      `GET ${key} → ${status}${version === undefined ? '' : ` v${version}`}`,
    );

  it(`runs with the ${mode} cache and advertises redis only when it is used`, () => {
    expect(system.cache.kind).toBe(mode);
    if (mode === 'redis') expect(system.endpoints.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    else expect(system.endpoints).not.toHaveProperty('redis');
  });

  it('a row changed and deleted with the AWS CLI in the table reaches API readers within a second', async () => {
    const key = 'tenantconfig:cli/plan';
    expect((await api.put(`/v1/config/${key}`, admin, { tier: 'gold' })).status).toBe(201);
    // fill the cache through the API, and see the next read come from it
    expect((await api.get(`/v1/config/${key}`, reader)).body.version).toBe(1);
    const hitsBefore = system.cache.reader.counters.hits;
    expect((await api.get(`/v1/config/${key}`, reader)).body.value).toEqual({ tier: 'gold' });
    expect(system.cache.reader.counters.hits).toBe(hitsBefore + 1);

    const version = await cli.putNextVersion('acme', key, { tier: 'platinum' });
    const changed = await apiAnswers(key, 200, version);
    expect(changed.value.body).toMatchObject({ key, value: { tier: 'platinum' }, version: 2, updatedBy: 'aws-cli' });

    await cli.deleteRow('acme', key);
    const gone = await apiAnswers(key, 404);
    expect(gone.value.body.type).toMatch(/not-found$/);
    expect(system.cache.refreshes.total(REFRESH_METRICS.applied)).toBeGreaterThanOrEqual(2);
  }, 30000);

  it('a parameter overwritten and deleted with the AWS CLI reaches API readers within a second', async () => {
    const key = 'paramconfig:cli/db/pool';
    const created = await api.put(`/v1/config/${key}`, admin, { max: 10 });
    expect(created.status).toBe(201);
    expect((await api.get(`/v1/config/${key}`, reader)).body.value).toEqual({ max: 10 });

    const version = await cli.putParameter('acme', key, { max: 25 });
    const changed = await apiAnswers(key, 200, version);
    expect(changed.value.body).toMatchObject({ key, value: { max: 25 }, version });

    await cli.deleteParameter('acme', key);
    await apiAnswers(key, 404);
  }, 30000);

  it('an API write produces its change event too (the API writes through the stream proxy)', async () => {
    const key = 'tenantconfig:cli/limits';
    const appliedBefore = system.cache.refreshes.total(REFRESH_METRICS.applied) + system.cache.refreshes.total(REFRESH_METRICS.ignored);

    expect((await api.put(`/v1/config/${key}`, admin, { seats: 5 })).status).toBe(201);

    // The API already wrote v1 into the cache, so its own event is seen and ignored as not newer.
    await eventually(
      async () => system.cache.refreshes.total(REFRESH_METRICS.applied) + system.cache.refreshes.total(REFRESH_METRICS.ignored) > appliedBefore || undefined,
      PROPAGATION_MS,
      'the change event of an API write',
    );
  }, 30000);
}

describe('cache refresh end to end: in-memory cache', () => cacheRefreshSuite('memory'));
describeIf('redis-server')('cache refresh end to end: redis cache', () => cacheRefreshSuite('redis'));

describeIf('redis-server')('redis killed mid-test (redis cache)', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-redis-kill-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0, cache: 'redis' });
    api = new LocalApi(system.endpoints.http);
    admin = system.signer.signToken({ tenant: 'acme', admin: true });
    reader = system.signer.signToken({ tenant: 'acme', admin: false });
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** How many of acme's `keys` have an entry in redis (looked up with the adapter's own key layout). */
  const cachedEntries = async (keys: readonly string[]): Promise<number> => {
    const layout = new RedisKeyLayout(resolveCacheSettings());
    const probe = new Redis(system.endpoints.redis!, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await probe.connect();
      return await probe.exists(...keys.map((k) => layout.entryKey('acme', k)));
    } finally {
      probe.disconnect();
    }
  };

  it('serves reads from the backend while redis is dead, and fills the cache again once it is back', async () => {
    const redis = system.cache.redis!;
    const keys = ['tenantconfig:fault/a', 'paramconfig:fault/b'];
    for (const [i, key] of keys.entries()) expect((await api.put(`/v1/config/${key}`, admin, { n: i })).status).toBe(201);
    for (const key of keys) expect((await api.get(`/v1/config/${key}`, reader)).status).toBe(200);
    expect(await cachedEntries(keys)).toBe(keys.length);
    const pid = redis.pid!;

    // kill -9 the cache: every read still answers, from the backend
    await redis.kill();
    expect(() => process.kill(pid, 0)).toThrow();
    const statuses: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (const key of keys) {
        const res = await api.get(`/v1/config/${key}`, reader);
        statuses.push(res.status);
        expect(res.body.value).toEqual({ n: keys.indexOf(key) });
      }
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(system.cache.reader.counters.cacheErrors + system.cache.reader.counters.bypassed).toBeGreaterThan(0);
    expect(system.cache.reader.breakerState).toBe('open');
    // writes keep working too (the event's cache update fails and is retried, then dead-lettered)
    expect((await api.put(`/v1/config/${keys[0]}`, admin, { n: 10 })).status).toBe(200);

    // a new, empty redis-server on the same port: the client reconnects, the breaker's trial
    // call (after its 5 s cool-down) succeeds, and reads fill the cache again
    await redis.restart();
    expect(redis.pid).not.toBe(pid);
    // (a retried change event may already have put keys[0] back; keys[1] is only filled by a read)
    expect(await cachedEntries([keys[1]])).toBe(0);
    await eventually(
      async () => {
        for (const key of keys) expect((await api.get(`/v1/config/${key}`, reader)).status).toBe(200);
        return system.cache.reader.breakerState === 'closed' && (await cachedEntries(keys)) === keys.length ? true : undefined;
      },
      15000,
      'the cache filling again',
    );
    const hitsBefore = system.cache.reader.counters.hits;
    const res = await api.get(`/v1/config/${keys[0]}`, reader);
    expect(res.body).toMatchObject({ value: { n: 10 }, version: 2 });
    expect(system.cache.reader.counters.hits).toBe(hitsBefore + 1);
  }, 45000);
});
