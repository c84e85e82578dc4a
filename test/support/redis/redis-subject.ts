/**
 * Builds contract subjects on a running Redis (standalone or cluster): one command client
 * for the whole file, a fresh key namespace per test so tests never see each other's keys.
 */
import { RedisChangeLog } from '../../../adapters/redis/redis-change-log';
import { RedisConnector, waitUntilReady, type RedisClient, type RedisConnectionConfig } from '../../../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../../../adapters/redis/redis-versioned-cache';
import { resolveCacheSettings } from '../../../core/versioned-cache';
import type { CacheSubject, MakeCache } from '../../contract/versioned-cache.contract';

export function redisTestConfig(port: number, overrides: Partial<RedisConnectionConfig> = {}): RedisConnectionConfig {
  return {
    host: '127.0.0.1',
    port,
    tls: false,
    cluster: false,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    maxReconnectDelayMs: 300,
    ...overrides,
  };
}

let namespaces = 0;

export interface RedisSubjects {
  readonly make: MakeCache;
  readonly client: RedisClient;
  readonly connector: RedisConnector;
  close(): Promise<void>;
}

export async function redisSubjects(config: RedisConnectionConfig): Promise<RedisSubjects> {
  const connector = await RedisConnector.create(config);
  const client = connector.connect();
  await waitUntilReady(client, 5000);
  const make: MakeCache = async (partial = {}) => {
    namespaces += 1;
    const settings = resolveCacheSettings({ ...partial, namespace: `t${process.pid % 1000}n${namespaces}` });
    const cache = new RedisVersionedCache(client, settings);
    const log = new RedisChangeLog(client, settings, { blockingConnection: () => connector.connect('blocking') });
    const subject: CacheSubject = {
      cache,
      log,
      loseLog: async () => {
        // One key per command: in cluster mode the shards live in different slots.
        for (let s = 0; s < settings.shards; s++) {
          await client.del(cache.layout.logKey(s));
          await client.del(cache.layout.epochKey(s));
        }
      },
      close: async () => {
        await log.close();
        await cache.close();
      },
    };
    return subject;
  };
  return { make, client, connector, close: async () => void client.disconnect() };
}
