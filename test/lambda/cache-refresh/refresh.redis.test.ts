import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { RedisConnector, waitUntilReady, type RedisClient } from '../../../adapters/redis/redis-connection';
import { redisConfigFromEnv } from '../../../adapters/redis/redis-environment';
import { RedisVersionedCache } from '../../../adapters/redis/redis-versioned-cache';
import type { TenantId } from '../../../core/tenant';
import { CacheRefresher } from '../../../lambda/cache-refresh/refresh';
import { eventContext, fixture, writeEvent } from '../../events/support/change-events';
import { describeIf, startRedis, type RunningServer } from '../../support/servers';
import { deliverAndCheck, deliveries, Recorder } from './support';

const acme = 'acme' as TenantId;
/** redis-server again on a port it had before (startRedis always picks a new one), for the recovery half of an outage. */
async function restartRedisOn(port: number): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-again-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  return async () => {
    if (child.exitCode === null)
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    rmSync(dir, { recursive: true, force: true });
  };
}

const noStoreReads = { get: () => Promise.reject(new Error('DynamoDB events must not read the store')) };

describeIf('redis-server')('cache refresh into a real Redis', () => {
  let redis: RunningServer;
  let client: RedisClient;
  let cache: RedisVersionedCache;
  let refresher: CacheRefresher;

  beforeAll(async () => {
    redis = await startRedis();
    const config = redisConfigFromEnv({ CACHE_REDIS_URL: redis.endpoint, CACHE_REDIS_MAX_RECONNECT_DELAY_MS: '100' })!;
    client = (await RedisConnector.create(config)).connect('commands');
    await waitUntilReady(client, 5000);
    cache = new RedisVersionedCache(client, { namespace: 'refresh' });
    const recorder = new Recorder();
    refresher = new CacheRefresher({ cache, parameters: noStoreReads, events: eventContext, logger: recorder, metrics: recorder });
  });

  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });

  it('applies a stream record through the Lua-guarded write', async () => {
    expect(await refresher.refresh(fixture('pipe-dynamodb-record-modify.json'))).toMatchObject({ outcome: 'applied', version: 3, cursor: expect.any(String) });
    expect(await cache.get(acme, 'tenantconfig:plan')).toMatchObject({ kind: 'hit', item: { value: { tier: 'gold', seats: 50 }, version: 3 } });
  });

  it('any permutation and duplication of change events leaves the newest version, never going back (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constant(null).chain(() => deliveries(`tenantconfig:perm${++run}`).map((d) => ({ ...d, key: `tenantconfig:perm${run}` }))),
        async ({ key, history, delivered }) => {
          await deliverAndCheck(refresher, cache, acme, key, { history, delivered });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a cache outage throws, so the event is retried (and finally dead-lettered) instead of lost; once back, the retry lands', async () => {
    const event = writeEvent(1, 'gold', 'tenantconfig:during-outage');
    await redis.stop();
    await expect(refresher.refresh(event)).rejects.toThrow();
    const stopAgain = await restartRedisOn(redis.port);
    redis = { ...redis, stop: stopAgain };
    await waitUntilReady(client, 10_000);
    expect(await refresher.refresh(event)).toMatchObject({ outcome: 'applied', version: 1 });
  });
});
