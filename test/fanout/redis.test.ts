/**
 * The fanout on the real change log in a private redis-server: the Watch basics in process,
 * and zero loss across a deploy — fanout child processes (fanout/main.ts, as the Fargate task
 * runs it) replaced while a writer keeps changing keys, a raw gRPC client resuming with its
 * cursor every time it is told to reconnect.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { RedisChangeLog } from '../../adapters/redis/redis-change-log';
import { RedisConnector, waitUntilReady } from '../../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../../adapters/redis/redis-versioned-cache';
import { resolveCacheSettings } from '../../core/versioned-cache';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner } from '../../local/dev-signer';
import { backendOn, createTestTable } from '../adapters/dynamodb-test-table';
import { describeIf, freePort, startDynalite, startRedis, type RunningServer } from '../support/servers';
import { healthClient, sleep, startHarness, Writer, type ChangeStore, type FanoutHarness } from './harness';
import { ResumingWatcher } from './resuming-client';
import { createServer as createTcpServer, connect as tcpConnect, type Server as TcpServer, type Socket } from 'node:net';
import { ConfigClient } from '../../client';

/** A stand-in for the NLB: new connections go to whichever fanout `target()` names now; old ones stay where they are. */
async function startBalancer(target: () => string): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((inbound) => {
    const [host, port] = target().split(':');
    const outbound = tcpConnect(Number(port), host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let namespaces = 0;

/** Clients made the way production makes them (RESP2, timeouts, a blocking connection for the follower). */
async function redisConnector(server: RunningServer): Promise<RedisConnector> {
  return RedisConnector.create({
    host: '127.0.0.1',
    port: server.port,
    tls: false,
    cluster: false,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    maxReconnectDelayMs: 300,
  });
}

async function redisStore(server: RunningServer, namespace?: string): Promise<ChangeStore & { loseLog(): Promise<void> }> {
  namespaces += 1;
  const settings = resolveCacheSettings({ namespace: namespace ?? `f${process.pid % 1000}n${namespaces}` });
  const connector = await redisConnector(server);
  const client = connector.connect('commands');
  await waitUntilReady(client, 5000);
  const cache = new RedisVersionedCache(client, settings);
  const log = new RedisChangeLog(client, settings, { blockingConnection: () => connector.connect('blocking') });
  return {
    cache,
    log,
    // What a cache restart without persistence does to the log: gone, and re-created on the next write.
    loseLog: async () => {
      for (let shard = 0; shard < settings.shards; shard++) await client.del(cache.layout.logKey(shard), cache.layout.epochKey(shard));
    },
    close: async () => {
      await log.close();
      await cache.close();
      client.disconnect();
    },
  };
}

/** A private redis-server, a change store on it and a fanout harness over it, for one describe block. */
function useRedisHarness(heartbeatIntervalMs: number) {
  const ctx = {} as { redis: RunningServer; h: FanoutHarness; store: Awaited<ReturnType<typeof redisStore>> };
  beforeAll(async () => {
    ctx.redis = await startRedis();
    ctx.store = await redisStore(ctx.redis);
    ctx.h = await startHarness({ store: ctx.store, watch: { heartbeatIntervalMs } });
  });
  afterAll(async () => {
    await ctx.h?.close();
    await ctx.redis?.stop();
  });
  return ctx;
}

describeIf('redis-server')('Watch on the Redis change log', () => {
  const ctx = useRedisHarness(200);

  it('sends a snapshot, then changes in order, and resumes with exactly the missed ones', async () => {
    // Arrange
    await ctx.h.writer.put('acme', 'tenantconfig:plan', 'gold');
    const first = ctx.h.watch(ctx.h.token('acme'));
    await first.until((r) => r.snapshots.length === 1);

    // Act
    await ctx.h.writer.put('acme', 'tenantconfig:plan', 'platinum');
    await ctx.h.writer.put('globex', 'tenantconfig:plan', 'other tenant');
    await ctx.h.writer.remove('acme', 'tenantconfig:plan');
    await first.until((r) => r.changes.length === 2);
    const cursor = first.lastCursor!;
    first.cancel();
    await ctx.h.writer.put('acme', 'tenantconfig:plan', 'back');
    const second = ctx.h.watch(ctx.h.token('acme'), { resume_cursor: cursor });
    await second.until((r) => r.changes.length === 1);
    await sleep(50);

    // Assert
    expect(first.snapshots[0].items.map((i) => [i.key, i.version])).toEqual([['tenantconfig:plan', 1]]);
    expect(first.changes.map((c) => [c.version, c.deleted])).toEqual([
      [2, false],
      [2, true],
    ]);
    expect(second.snapshots).toHaveLength(0);
    expect(second.changes.map((c) => [c.version, c.value_json])).toEqual([[3, '"back"']]);
    second.cancel();
  });

  it('heartbeats an idle stream with a cursor it can resume from', async () => {
    // Arrange
    const watch = ctx.h.watch(ctx.h.token('idle'));
    await watch.until((r) => r.events.some((e) => e.event === 'heartbeat'), 3000, 'a heartbeat');
    const beat = watch.events.find((e) => e.event === 'heartbeat')!.heartbeat!.cursor;
    watch.cancel();

    // Act
    await ctx.h.writer.put('idle', 'tenantconfig:x', 1);
    const resumed = ctx.h.watch(ctx.h.token('idle'), { resume_cursor: beat });
    await resumed.until((r) => r.changes.length === 1);

    // Assert
    expect(beat).toBe(watch.snapshots[0].cursor);
    expect(resumed.snapshots).toHaveLength(0);
    expect(resumed.changes[0].key).toBe('tenantconfig:x');
    resumed.cancel();
  });
});

describeIf('redis-server')('a change log that was lost (cache restart)', () => {
  const ctx = useRedisHarness(60_000);

  it('tells the streams of its shard to reconnect, and their cursors then yield a CURSOR_EXPIRED snapshot', async () => {
    // Arrange
    await ctx.h.writer.put('gap', 'tenantconfig:a', 1);
    const watch = ctx.h.watch(ctx.h.token('gap'));
    await watch.until((r) => r.snapshots.length === 1);
    const cursor = watch.lastCursor!;

    // Act
    await ctx.store.loseLog();
    await ctx.h.writer.put('gap', 'tenantconfig:b', 1);
    const status = await watch.status;
    const resumed = ctx.h.watch(ctx.h.token('gap'), { resume_cursor: cursor });
    await resumed.until((r) => r.snapshots.length === 1);

    // Assert
    expect(status.code).toBe(grpc.status.OK);
    expect(watch.events.at(-1)?.event).toBe('reconnect');
    expect(resumed.snapshots[0].reason).toBe('CURSOR_EXPIRED');
    expect(resumed.snapshots[0].items.map((i) => i.key)).toEqual(['tenantconfig:a', 'tenantconfig:b']);
    resumed.cancel();
  });
});

describeIf('redis-server')('zero loss across a deploy (fanout child processes on Redis)', () => {
  // Each test starts two fanout processes under tsx and rolls between them: ~15 s alone, and more
  // than the default 30 s while the whole suite shares two cores. The assertions are about loss, not time.
  jest.setTimeout(90_000);
  let redis: RunningServer;
  let dynalite: RunningServer;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    [redis, dynalite] = await Promise.all([startRedis(), startDynalite({ inMemory: true })]);
    dir = mkdtempSync(join(tmpdir(), 'fanout-deploy-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await redis?.stop();
    await dynalite?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts fanout/main.ts as its own process and waits until its health service says SERVING. */
  async function startFanoutProcess(env: Record<string, string>): Promise<{ child: ChildProcess; address: string; exited: Promise<number | null> }> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'fanout', 'main.ts')], {
      env: { ...process.env, ...env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const address = `127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`fanout exited with ${child.exitCode}: ${stderr}`);
      const client = healthClient(address);
      const status = await new Promise<string | undefined>((resolve) =>
        (client.Check as (r: object, o: object, cb: (e: unknown, r?: { status: string }) => void) => void)(
          { service: '' },
          { deadline: Date.now() + 500 },
          (e, r) => resolve(e ? undefined : r?.status),
        ),
      );
      client.close();
      if (status === 'SERVING') return { child, address, exited };
      if (Date.now() > deadline) throw new Error(`fanout at ${address} not SERVING within 20 s: ${stderr}`);
      await sleep(100);
    }
  }

  /** The shared stores of one deploy test: a fresh table, a Redis namespace, a writer, and the fanout's environment. */
  async function deployStores(namespace: string) {
    const signer = openDevSigner(dir);
    const table = await createTestTable(dynalite.endpoint);
    const store = await redisStore(redis, namespace);
    const writer = new Writer(backendOn(table), store.cache);
    const env = {
      JWT_ISSUER: LOCAL_ISSUER,
      JWT_AUDIENCE: LOCAL_CLIENT_ID,
      JWT_JWKS_FILE: join(dir, 'signer', 'jwks.json'),
      CACHE_REDIS_URL: redis.endpoint,
      CACHE_NAMESPACE: namespace,
      TABLE_NAME: table.tableName,
      SSM_ROOT: 'tenant-config',
      STAGE: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      FANOUT_METRICS: 'off',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      WATCH_HEARTBEAT_MS: '300',
      DRAIN_DEADLINE_MS: '5000',
    };
    const close = async () => {
      await store.close();
      table.client.destroy();
    };
    return { signer, writer, env, close };
  }

  const KEYS = ['tenantconfig:k0', 'tenantconfig:k1', 'tenantconfig:k2', 'tenantconfig:k3'];

  /**
   * Keeps writing the keys while `deploy` runs (start B, SIGTERM A), and for 700 ms after it.
   * Returns the versions written per key and how many writes came before and after the SIGTERM.
   */
  async function writeThroughDeploy<T>(writer: Writer, tenant: string, deploy: () => Promise<T>) {
    const written = new Map<string, number[]>(KEYS.map((k) => [k, []]));
    let writing = true;
    let count = 0;
    const writes = (async () => {
      for (let i = 0; writing; i++, count++) {
        const key = KEYS[i % KEYS.length];
        const item = await writer.put(tenant, key, { i });
        written.get(key)!.push(item.version);
        await sleep(3);
      }
    })();
    await sleep(500);
    const before = count;
    const deployed = await deploy();
    await sleep(700);
    writing = false;
    await writes;
    return { deployed, written, before, after: count - before, finals: KEYS.map((k) => written.get(k)!.at(-1)!) };
  }

  it('a client that resumes with its cursor ends with every version of every key, in order, once', async () => {
    // Arrange: the shared stores, the writer, and fanout A.
    const { signer, writer, env, close } = await deployStores(`deploy${process.pid % 1000}`);
    const a = await startFanoutProcess(env);
    let target = a.address;
    const watcher = new ResumingWatcher(
      () => target,
      () => signer.signToken({ tenant: 'deploy' }),
      ['tenantconfig:'],
    );
    watcher.start();
    await watcher.until(() => watcher.snapshotReasons.length === 1, 10_000, 'the first snapshot');

    // Act: keep writing while B starts, A is told SIGTERM and exits.
    let aExit: number | null = null;
    const run = await writeThroughDeploy(writer, 'deploy', async () => {
      const b = await startFanoutProcess(env);
      target = b.address; // the load balancer now sends new connections to B
      a.child.kill('SIGTERM');
      aExit = await a.exited;
      return b;
    });
    await watcher.until(() => KEYS.every((k, i) => watcher.applied.get(k)?.at(-1) === run.finals[i]), 10_000, 'the last version of every key');
    await sleep(300);
    watcher.stop();
    run.deployed.child.kill('SIGTERM');
    const bExit = await run.deployed.exited;

    // Assert
    expect(aExit).toBe(0);
    expect(bExit).toBe(0);
    expect(watcher.reconnectsReceived).toBeGreaterThanOrEqual(1);
    expect(watcher.snapshotReasons).toEqual(['INITIAL']);
    expect(run.before).toBeGreaterThan(KEYS.length);
    expect(run.after).toBeGreaterThan(KEYS.length);
    for (const key of KEYS) expect(watcher.applied.get(key)).toEqual(run.written.get(key));
    expect(watcher.statuses.every((s) => s.code === grpc.status.OK || s.code === grpc.status.CANCELLED)).toBe(true);

    await close();
  });

  it('an SDK client behind a balancer ends with every version of every key, in order, once', async () => {
    // Arrange: the shared stores, the writer, fanout A behind the balancer, and a ConfigClient.
    const { signer, writer, env, close } = await deployStores(`sdk${process.pid % 1000}`);
    const a = await startFanoutProcess(env);
    let target = a.address;
    const balancer = await startBalancer(() => target);
    const client = new ConfigClient({ grpcTarget: balancer.address, token: () => signer.signToken({ tenant: 'deploy-sdk' }), prefixes: ['tenantconfig:'] });
    const applied = new Map<string, number[]>();
    client.onChange((c) => {
      if (!c.deleted) applied.set(c.key, [...(applied.get(c.key) ?? []), c.version]);
    });
    await client.start();

    // Act: keep writing while B starts behind the balancer, and A gets SIGTERM.
    let aExit: number | null = null;
    const run = await writeThroughDeploy(writer, 'deploy-sdk', async () => {
      const b = await startFanoutProcess(env);
      target = b.address;
      a.child.kill('SIGTERM');
      aExit = await a.exited;
      return b;
    });
    const deadline = Date.now() + 10_000;
    while (!KEYS.every((k, i) => client.getItem(k)?.version === run.finals[i]) && Date.now() < deadline) await sleep(50);
    await sleep(300);
    await client.close();
    await balancer.close();
    run.deployed.child.kill('SIGTERM');
    await run.deployed.exited;

    // Assert
    expect(aExit).toBe(0);
    expect(run.after).toBeGreaterThan(KEYS.length);
    for (const key of KEYS) {
      expect(client.getItem(key)?.version).toBe(run.written.get(key)!.at(-1));
      expect(applied.get(key)).toEqual(run.written.get(key));
    }

    await close();
  });
});
