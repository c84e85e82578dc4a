/**
 * The local system's redis-server is supervised: killed from outside (SIGKILL, as a crash or
 * the OOM killer would), it comes back empty on the same port, so the ioredis clients reconnect
 * by themselves; while it cannot start, the supervisor waits longer and longer; on close it
 * stops supervising. Real redis-server processes throughout.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import Redis from 'ioredis';
import { parseTenantId } from '../../core/tenant';
import { startLocalCache, type LocalCache } from '../../local/local-cache';
import { describeIf } from '../support/servers';
import { SILENT_LOGGER } from '../../core/logger';

const T = parseTenantId('acme');
const quiet = SILENT_LOGGER;
/** Version 1 of a key, as the refresher would apply it. */
const goldV1 = () => ({ key: 'tenantconfig:plan', version: 1, deleted: false, valueJson: '"gold"', updatedAt: new Date().toISOString(), updatedBy: 't' });

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** redis-server behind a script that refuses to start while `hold` exists: a start that fails for real. */
function holdableRedisServer(dir: string): { command: string; hold: string } {
  const hold = join(dir, 'hold');
  const command = join(dir, 'redis-server-unless-held');
  writeFileSync(command, `#!/bin/sh\nif [ -e '${hold}' ]; then echo 'held down by the test' >&2; exit 1; fi\nexec redis-server "$@"\n`);
  chmodSync(command, 0o755);
  return { command, hold };
}

describeIf('redis-server')('the local redis-server under supervision', () => {
  let dir: string;
  let local: LocalCache | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-supervision-'));
  });
  afterEach(async () => {
    await local?.close();
    local = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts redis-server killed with SIGKILL on the same port; the clients reconnect and the old log reads as trimmed', async () => {
    local = await startLocalCache({ mode: 'redis', dataDir: join(dir, 'redis'), host: '127.0.0.1', logger: quiet });
    const redis = local.redis!;
    const before = await local.cache.apply(T, goldV1());
    const pid = redis.pid!;

    process.kill(pid, 'SIGKILL');

    const newPid = await until('a new redis-server', () => redis.supervision.state === 'running' && redis.pid !== pid && redis.pid);
    expect(isAlive(pid)).toBe(false);
    expect(isAlive(newPid)).toBe(true);
    expect(redis.supervision).toMatchObject({ restarts: 1, failedStarts: 0 });
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    // The same clients answer again, from an empty server and a new incarnation of the log.
    const lookup = await until('the cache answering again', async () => local!.cache.get(T, 'tenantconfig:plan'));
    expect(lookup).toEqual({ kind: 'miss' });
    expect(await local.changeLog.readAfter(T, before.cursor!, 10)).toEqual({ trimmed: true });
  });

  it('starts empty even when a dump was saved in its directory, so nothing older than the stores comes back', async () => {
    local = await startLocalCache({ mode: 'redis', dataDir: join(dir, 'redis'), host: '127.0.0.1', logger: quiet });
    const redis = local.redis!;
    const before = await local.cache.apply(T, goldV1());
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      expect(await probe.save()).toBe('OK'); // what `redis-cli save` by hand would leave behind
    } finally {
      probe.disconnect();
    }
    expect(existsSync(join(dir, 'redis', 'dump.rdb'))).toBe(true);
    const pid = redis.pid!;

    process.kill(pid, 'SIGKILL');

    await until('a new redis-server', () => redis.supervision.state === 'running' && redis.pid !== pid);
    const lookup = await until('the cache answering again', async () => local!.cache.get(T, 'tenantconfig:plan'));
    expect(lookup).toEqual({ kind: 'miss' });
    expect(await local.changeLog.readAfter(T, before.cursor!, 10)).toEqual({ trimmed: true });
  });

  it('waits longer after each failed start (doubling, capped), and recovers once redis-server can start', async () => {
    const { command, hold } = holdableRedisServer(dir);
    const delays: number[] = [];
    const logger = {
      ...SILENT_LOGGER,
      warn: (_message: string, ...attributes: Record<string, unknown>[]) => {
        const retryInMs = attributes[0]?.retryInMs;
        if (typeof retryInMs === 'number') delays.push(retryInMs);
      },
      info: () => undefined,
    };
    local = await startLocalCache({
      mode: 'redis',
      dataDir: join(dir, 'redis'),
      host: '127.0.0.1',
      logger,
      redisServer: { command, restartDelayMs: 20, maxRestartDelayMs: 160 },
    });
    const redis = local.redis!;
    const pid = redis.pid!;
    writeFileSync(hold, '');

    process.kill(pid, 'SIGKILL');

    await until('six failed starts', () => redis.supervision.failedStarts >= 6, 15_000);
    expect(redis.supervision.state).toBe('restarting');
    expect(redis.supervision.lastError).toMatch(/held down by the test/);
    expect(redis.pid).toBeUndefined();
    expect(delays.slice(0, 7)).toEqual([20, 40, 80, 160, 160, 160, 160]);

    rmSync(hold);
    await until('redis-server running again', () => redis.supervision.state === 'running', 5_000);
    expect(redis.supervision.restarts).toBe(1);
    await until('the cache answering again', async () => (await local!.cache.get(T, 'tenantconfig:x')).kind === 'miss');
  });

  it('stops supervising on close: nothing starts redis-server again afterwards', async () => {
    const { command, hold } = holdableRedisServer(dir);
    local = await startLocalCache({
      mode: 'redis',
      dataDir: join(dir, 'redis'),
      host: '127.0.0.1',
      logger: quiet,
      redisServer: { command, restartDelayMs: 20, maxRestartDelayMs: 40 },
    });
    const redis = local.redis!;
    writeFileSync(hold, '');
    process.kill(redis.pid!, 'SIGKILL');
    await until('a failed start', () => redis.supervision.failedStarts >= 1);

    await local.close();
    local = undefined;
    rmSync(hold);

    expect(redis.supervision.state).toBe('stopped');
    expect(redis.supervision.nextDelayMs).toBeUndefined();
    // Absence can only be watched for: ten times the longest wait, and still no server.
    await new Promise((r) => setTimeout(r, 400));
    expect(redis.pid).toBeUndefined();
    expect(await listening(redis.port)).toBe(false);
  });

  it('kill() holds redis-server down until restart(), which brings it back on the same port, supervised again', async () => {
    local = await startLocalCache({ mode: 'redis', dataDir: join(dir, 'redis'), host: '127.0.0.1', logger: quiet });
    const redis = local.redis!;
    const pid = redis.pid!;
    await redis.kill();
    expect(redis.supervision.state).toBe('held');
    expect(redis.pid).toBeUndefined();
    expect(isAlive(pid)).toBe(false);

    await redis.restart();
    expect(redis.supervision.state).toBe('running');
    const second = redis.pid!;
    process.kill(second, 'SIGKILL');
    await until('a supervised restart after the manual one', () => redis.supervision.state === 'running' && redis.pid !== second && redis.pid);
    expect(redis.supervision.restarts).toBe(1);
    await until('the cache answering again', async () => (await local!.cache.get(T, 'tenantconfig:x')).kind === 'miss');
  });
});
