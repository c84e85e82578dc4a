/**
 * The local system's redis-server dies (SIGKILL from outside) and the system brings it back by
 * itself: reads are answered from the cache again, a value written while the cache was down is
 * read back as the new value (never the old one), and a Watch client that was live before the
 * crash ends up holding the new value too (its cursor names the lost log, so it resnapshots).
 *
 * redis-server runs behind a script that refuses to start while a file exists, so the outage
 * lasts as long as the test needs to write in it, and the supervisor's failed starts are real.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RedisKeyLayout } from '../../adapters/redis/key-layout';
import { ConfigClient } from '../../client';
import { resolveCacheSettings } from '../../core/versioned-cache';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { describeIf } from '../support/servers';
import { eventually } from './aws-cli';
import { LocalApi, type ApiResponse } from './local-api';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const KEY = 'tenantconfig:supervised/plan';
const OLD = { tier: 'gold' };
const NEW = { tier: 'platinum' };

describeIf('redis-server')('the local system restarts its redis-server when it dies', () => {
  let dir: string;
  let hold: string;
  let system: LocalSystem;
  let api: LocalApi;
  let client: ConfigClient | undefined;
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-redis-supervision-'));
    hold = join(dir, 'hold');
    const command = join(dir, 'redis-server-unless-held');
    writeFileSync(command, `#!/bin/sh\nif [ -e '${hold}' ]; then echo 'held down by the test' >&2; exit 1; fi\nexec redis-server "$@"\n`);
    chmodSync(command, 0o755);
    system = await startLocalSystem({
      dir: join(dir, 'local'),
      port: 0,
      grpcPort: 0,
      cache: 'redis',
      redisServer: { command, restartDelayMs: 100, maxRestartDelayMs: 500 },
    });
    api = new LocalApi(system.endpoints.http);
    admin = system.signer.signToken({ tenant: 'acme', admin: true });
    reader = system.signer.signToken({ tenant: 'acme', admin: false });
  });
  afterAll(async () => {
    await client?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The version of acme's entry for KEY held in redis, looked up with the adapter's own key layout. */
  const cachedVersion = async (): Promise<string | null> => {
    const layout = new RedisKeyLayout(resolveCacheSettings());
    const probe = new Redis(system.endpoints.redis!, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await probe.connect();
      return await probe.hget(layout.entryKey('acme', KEY), 'v');
    } finally {
      probe.disconnect();
    }
  };

  it('serves from the cache again after a SIGKILL, and never the value from before a write made while it was down', async () => {
    const clientWarnings: string[] = [];
    const redis = system.cache.redis!;
    const counters = system.cache.reader.counters;
    expect((await api.put(`/v1/config/${KEY}`, admin, OLD)).status).toBe(201);
    expect((await api.get(`/v1/config/${KEY}`, reader)).body).toMatchObject({ value: OLD, version: 1 });
    expect(await cachedVersion()).toBe('1');

    client = new ConfigClient({
      grpcTarget: system.endpoints.grpc,
      token: () => reader,
      prefixes: ['tenantconfig:'],
      staleAfterMs: 500,
      backoffCapMs: 1_000,
      reconnectJitterMs: 50,
      logger: { ...quiet, warn: (message: string) => void clientWarnings.push(message) },
    });
    await client.start();
    expect(client.get(KEY)).toEqual(OLD);

    // the crash: redis-server killed from outside, and (for now) unable to start again
    writeFileSync(hold, '');
    const pid = redis.pid!;
    process.kill(pid, 'SIGKILL');
    await eventually(async () => redis.supervision.failedStarts >= 1 || undefined, 10_000, 'a refused restart');
    expect(redis.pid).toBeUndefined();
    expect(redis.supervision.state).toBe('restarting');

    // a write while the cache is down goes to the store; every read from here on must see it
    expect((await api.put(`/v1/config/${KEY}`, admin, NEW)).status).toBe(200);
    const reads: ApiResponse[] = [];
    const read = async () => {
      const res = await api.get(`/v1/config/${KEY}`, reader);
      reads.push(res);
      return res;
    };
    expect((await read()).body).toMatchObject({ value: NEW, version: 2 });

    // redis-server can start again: the supervisor brings it up on the same port, the
    // clients reconnect, the breaker closes, and the empty cache refills from the store
    rmSync(hold);
    await eventually(async () => (redis.supervision.state === 'running' && redis.pid !== undefined) || undefined, 10_000, 'redis-server restarted');
    expect(redis.pid).not.toBe(pid);
    expect(system.endpoints.redis).toBe(`redis://127.0.0.1:${redis.port}`);
    await eventually(
      async () => {
        await read();
        return (system.cache.reader.breakerState === 'closed' && (await cachedVersion()) === '2') || undefined;
      },
      20_000,
      'the cache holding the new version',
    );
    const hitsBefore = counters.hits;
    const backendReadsBefore = counters.backendReads;
    expect((await read()).body).toMatchObject({ value: NEW, version: 2 });
    expect(counters.hits).toBe(hitsBefore + 1);
    expect(counters.backendReads).toBe(backendReadsBefore);

    expect(reads.length).toBeGreaterThan(1);
    for (const res of reads) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ value: NEW, version: 2 });
    }

    // the Watch client: its stream was cut with the lost log, and it resyncs to the new value
    await eventually(async () => (client!.getItem(KEY)?.version === 2 ? true : undefined), 15_000, 'the Watch client holding v2');
    expect(client.get(KEY)).toEqual(NEW);
    // ...through a fresh snapshot, because its cursor named the log that died with redis-server
    expect(clientWarnings.some((m) => /fresh snapshot/.test(m))).toBe(true);
    expect(redis.supervision).toMatchObject({ state: 'running', restarts: 1 });
  }, 60_000);
});
