/**
 * A cache node that restarts loses its data (ElastiCache failover, a local redis-server
 * restarted). The change log must never hide that: followers are told of the gap per shard and
 * go on with the new log, and cursors of the old log read as trimmed, so subscribers resnapshot.
 */
import { RedisChangeLog } from '../../../adapters/redis/redis-change-log';
import { RedisConnector, waitUntilReady, type RedisClient } from '../../../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../../../adapters/redis/redis-versioned-cache';
import type { ChangeEvent } from '../../../core/change-log';
import { parseTenantId } from '../../../core/tenant';
import { describeIf } from '../../support/servers';
import { startRedisProcess, type RedisProcess } from '../../support/redis/redis-process';
import { redisTestConfig } from '../../support/redis/redis-subject';
import { value } from '../../contract/versioned-cache.contract';

const T = parseTenantId('acme');

async function eventually(check: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeIf('redis-server')('the change log across a redis-server restart', () => {
  let redis: RedisProcess | undefined;
  let client: RedisClient;
  let log: RedisChangeLog;

  afterAll(async () => {
    await log?.close();
    client?.disconnect();
    await redis?.kill();
  });

  it('reports a gap for every shard, delivers what is written after the restart, and calls old cursors trimmed', async () => {
    redis = await startRedisProcess();
    const port = redis.port;
    const connector = await RedisConnector.create(redisTestConfig(port, { maxReconnectDelayMs: 100, connectTimeoutMs: 500 }));
    client = connector.connect();
    await waitUntilReady(client, 3000);
    const cache = new RedisVersionedCache(client);
    log = new RedisChangeLog(client, {}, { blockingConnection: () => connector.connect('blocking') });
    const seen: ChangeEvent[] = [];
    const gaps = new Set<number>();
    const errors: unknown[] = [];
    const follower = log.follow('now', (events) => void seen.push(...events), {
      blockMs: 300,
      onGap: (s) => gaps.add(s),
      onError: (e) => errors.push(e),
    });
    await follower.ready;
    const before = await cache.apply(T, value(1));
    await eventually(() => seen.length === 1);

    await redis.kill();
    redis = await startRedisProcess({ port });
    await waitUntilReady(client, 5000);
    // The entry was lost with the node: version 2 is news, in a new log.
    const after = await cache.apply(T, value(2));
    expect(after.applied).toBe(true);
    await eventually(() => seen.length === 2);

    expect(seen.map((e) => e.version)).toEqual([1, 2]);
    expect(seen[1].cursor).toBe(after.cursor);
    expect(gaps.size).toBe(16);
    expect(errors.length).toBeGreaterThan(0);
    expect(await log.readAfter(T, before.cursor!, 10)).toEqual({ trimmed: true });
    expect(log.parseCursor(follower.position(log.shardOf(T))!).epoch).toBe(log.parseCursor(after.cursor!).epoch);
    await follower.stop();
  });
});
