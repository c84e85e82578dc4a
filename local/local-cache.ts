/**
 * The local system's cache and change log (DESIGN §5): a private redis-server when one is on
 * PATH (the same RedisVersionedCache + RedisChangeLog the Lambdas and the fanout use on AWS),
 * the in-memory implementation with the same semantics otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { RedisChangeLog } from '../adapters/redis/redis-change-log';
import { REDIS_CONFIG_DEFAULTS, RedisConnector, waitUntilReady, type RedisClient, type RedisLogger } from '../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../adapters/redis/redis-versioned-cache';
import type { ChangeLog } from '../core/change-log';
import { InMemoryVersionedCache } from '../core/memory-cache';
import type { VersionedCache } from '../core/versioned-cache';

/** `auto`: redis-server when it is on PATH, in memory otherwise. */
export type LocalCacheMode = 'auto' | 'redis' | 'memory';

export const LOCAL_CACHE_MODES: readonly LocalCacheMode[] = ['auto', 'redis', 'memory'];

/** The private redis-server, with hooks for fault tests. */
export interface LocalRedis {
  /** `redis://127.0.0.1:<port>`, as endpoints.json advertises it. */
  readonly url: string;
  readonly port: number;
  /** Pid of the running redis-server; undefined while it is down. */
  readonly pid: number | undefined;
  /** Kills redis-server at once (SIGKILL), as a crash would; the cache's clients keep reconnecting. */
  kill(): Promise<void>;
  /** Starts a new, empty redis-server on the same port (after {@link kill}). */
  restart(): Promise<void>;
}

export interface LocalCache {
  readonly kind: 'redis' | 'memory';
  readonly cache: VersionedCache;
  readonly changeLog: ChangeLog;
  /** Present when kind is `redis`. */
  readonly redis?: LocalRedis;
  /** Closes the change log and the clients, then stops redis-server. */
  close(): Promise<void>;
}

export interface LocalCacheOptions {
  readonly mode: LocalCacheMode;
  /** Working directory for redis-server (it persists nothing: `--save ''`, no AOF). */
  readonly dataDir: string;
  readonly host: string;
  readonly logger?: RedisLogger;
}

export function redisServerOnPath(): boolean {
  return spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
}

export async function startLocalCache(options: LocalCacheOptions): Promise<LocalCache> {
  const useRedis = options.mode === 'redis' || (options.mode === 'auto' && redisServerOnPath());
  if (!useRedis) {
    const memory = new InMemoryVersionedCache();
    return { kind: 'memory', cache: memory, changeLog: memory, close: () => memory.close() };
  }
  if (!redisServerOnPath()) throw new Error("cache 'redis' was asked for, but redis-server is not on PATH (use CACHE=memory or auto)");

  const redis = await RedisServerProcess.start(options.host, options.dataDir);
  let client: RedisClient | undefined;
  let changeLog: RedisChangeLog | undefined;
  try {
    const connector = await RedisConnector.create(
      { ...REDIS_CONFIG_DEFAULTS, host: options.host, port: redis.port, tls: false, cluster: false },
      { logger: options.logger },
    );
    const commands = connector.connect('commands');
    client = commands;
    await waitUntilReady(commands, REDIS_CONFIG_DEFAULTS.connectTimeoutMs * 5);
    changeLog = new RedisChangeLog(commands, {}, { blockingConnection: () => connector.connect('blocking') });
    const log = changeLog;
    return {
      kind: 'redis',
      cache: new RedisVersionedCache(commands, {}),
      changeLog: log,
      redis,
      async close() {
        await log.close();
        await commands.quit().catch(() => commands.disconnect());
        await redis.kill();
      },
    };
  } catch (e) {
    await changeLog?.close().catch(() => undefined);
    client?.disconnect();
    await redis.kill();
    throw e;
  }
}

/** redis-server as a child process on a port that stays the same across restarts. */
class RedisServerProcess implements LocalRedis {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly host: string,
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  static async start(host: string, dataDir: string): Promise<RedisServerProcess> {
    mkdirSync(dataDir, { recursive: true });
    const server = new RedisServerProcess(host, await freePort(host), dataDir);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async restart(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    const args = ['--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no', '--dir', this.dataDir];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + 10_000;
    // redis speaks RESP, not HTTP: ready once it accepts a TCP connection.
    while (!(await accepts(this.host, this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${this.port}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Its log is of no use once it runs; stop buffering it.
    child.stdout?.off('data', keep).resume();
    child.stderr?.off('data', keep).resume();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
