/**
 * The local system's cache and change log: a private, supervised redis-server when one is on
 * PATH (the same RedisVersionedCache + RedisChangeLog the Lambdas and the fanout use on AWS),
 * the in-memory implementation with the same semantics otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo } from 'node:net';
import { RedisChangeLog } from '../adapters/redis/redis-change-log';
import { REDIS_CONFIG_DEFAULTS, RedisConnector, waitUntilReady, type RedisClient } from '../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../adapters/redis/redis-versioned-cache';
import type { ChangeLog } from '../core/change-log';
import { InMemoryVersionedCache } from '../adapters/memory/in-memory-cache';
import type { VersionedCache } from '../core/versioned-cache';
import type { GenericLogger } from '../core/logger';

/** `auto`: redis-server when it is on PATH, in memory otherwise. */
export type LocalCacheMode = 'auto' | 'redis' | 'memory';

export const LOCAL_CACHE_MODES: readonly LocalCacheMode[] = ['auto', 'redis', 'memory'];

/** What the supervisor is doing: keeping redis-server up, or not. */
export interface RedisSupervision {
  /**
   * `running`; `restarting` (it died, a new one is due or starting); `held` (stopped by
   * {@link LocalRedis.kill} until {@link LocalRedis.restart}); `stopped` (closed for good).
   */
  readonly state: 'running' | 'restarting' | 'held' | 'stopped';
  /** Servers the supervisor started after one died. */
  readonly restarts: number;
  /** Attempts that did not bring a server up (each followed by a longer wait). */
  readonly failedStarts: number;
  /** The wait before the next attempt, while `restarting`. */
  readonly nextDelayMs?: number;
  readonly lastError?: string;
}

/** The private redis-server, with hooks for fault tests. */
export interface LocalRedis {
  /** `redis://127.0.0.1:<port>`, as endpoints.json advertises it. */
  readonly url: string;
  readonly port: number;
  /** Pid of the running redis-server; undefined while it is down. */
  readonly pid: number | undefined;
  readonly supervision: RedisSupervision;
  /**
   * Kills redis-server at once (SIGKILL) and keeps it down until {@link restart}: an outage
   * whose length the caller decides. A server that dies any other way is restarted by itself.
   */
  kill(): Promise<void>;
  /** Starts a new, empty redis-server on the same port (after {@link kill}); supervised again. */
  restart(): Promise<void>;
}

export interface LocalCache {
  readonly kind: 'redis' | 'memory';
  readonly cache: VersionedCache;
  readonly changeLog: ChangeLog;
  /** Present when kind is `redis`. */
  readonly redis?: LocalRedis;
  /** Closes the change log and the clients, then stops supervising and stops redis-server. */
  close(): Promise<void>;
}

/** How redis-server is run and brought back when it dies. */
export interface LocalRedisOptions {
  /** The executable, given redis-server's arguments. @default 'redis-server' */
  readonly command?: string;
  /** Wait before the first restart after a death; doubles per failed attempt. @default 100 */
  readonly restartDelayMs?: number;
  /** Cap of that wait. @default 5000 */
  readonly maxRestartDelayMs?: number;
}

export interface LocalCacheOptions {
  readonly mode: LocalCacheMode;
  /** Working directory for redis-server (it persists nothing: `--save ''`, no AOF). */
  readonly dataDir: string;
  readonly host: string;
  readonly logger?: GenericLogger;
  readonly redisServer?: LocalRedisOptions;
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
  if (!options.redisServer?.command && !redisServerOnPath()) {
    throw new Error("cache 'redis' was asked for, but redis-server is not on PATH (use CACHE=memory or auto)");
  }

  const redis = await RedisServerProcess.start(options.host, options.dataDir, options.redisServer ?? {}, options.logger);
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
        await redis.close();
      },
    };
  } catch (e) {
    await changeLog?.close().catch(() => undefined);
    client?.disconnect();
    await redis.close();
    throw e;
  }
}

/** A server that stayed up this long was healthy: the next death starts the backoff afresh. */
const STABLE_UPTIME_MS = 10_000;
/** How long one start may take to accept connections. */
const START_TIMEOUT_MS = 10_000;

/**
 * redis-server as a supervised child process on a port that stays the same across restarts,
 * so every ioredis client (commands and blocking readers) reconnects by itself. When it dies
 * it is started again, empty, after a wait that doubles while starts keep failing.
 */
class RedisServerProcess implements LocalRedis {
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private state: RedisSupervision['state'] = 'running';
  private restarts = 0;
  private failedStarts = 0;
  /** Attempts since the last server that stayed up {@link STABLE_UPTIME_MS}. */
  private attempt = 0;
  private nextDelayMs: number | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The start in progress, so kill/restart/close never race a supervisor's start. */
  private starting: Promise<void> | undefined;
  private readonly command: string;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;

  private constructor(
    private readonly host: string,
    readonly port: number,
    private readonly dataDir: string,
    options: LocalRedisOptions,
    private readonly logger?: GenericLogger,
  ) {
    this.command = options.command ?? 'redis-server';
    this.initialDelayMs = options.restartDelayMs ?? 100;
    this.maxDelayMs = Math.max(this.initialDelayMs, options.maxRestartDelayMs ?? 5000);
  }

  static async start(host: string, dataDir: string, options: LocalRedisOptions, logger?: GenericLogger): Promise<RedisServerProcess> {
    mkdirSync(dataDir, { recursive: true });
    const server = new RedisServerProcess(host, await freePort(host), dataDir, options, logger);
    // The first start is not retried: a redis-server that cannot start at all is a setup error.
    await server.track(server.spawnServer());
    // An exit without stop() (a second Ctrl-C) must not leave redis-server running on its own.
    process.on('exit', server.killOnExit);
    return server;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get supervision(): RedisSupervision {
    return {
      state: this.state,
      restarts: this.restarts,
      failedStarts: this.failedStarts,
      ...(this.nextDelayMs === undefined ? {} : { nextDelayMs: this.nextDelayMs }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  async restart(): Promise<void> {
    if (this.state === 'stopped') throw new Error('redis-server supervision is closed');
    await this.starting;
    if (this.child) throw new Error('redis-server is already running');
    this.cancelTimer();
    this.state = 'running';
    try {
      await this.track(this.spawnServer());
    } catch (e) {
      // Said to the caller, and still supervised: the system must get its cache back.
      this.lastError = (e as Error).message;
      this.scheduleRestart('cache: redis-server did not start; trying again', { error: this.lastError });
      throw e;
    }
  }

  async kill(): Promise<void> {
    if (this.state !== 'stopped') this.state = 'held';
    this.cancelTimer();
    await this.starting?.catch(() => undefined);
    await this.killChild();
  }

  /** Stops supervising, then stops redis-server. Idempotent. */
  async close(): Promise<void> {
    this.state = 'stopped';
    process.off('exit', this.killOnExit);
    this.cancelTimer();
    await this.starting?.catch(() => undefined);
    await this.killChild();
  }

  private readonly killOnExit = (): void => {
    this.state = 'stopped';
    this.child?.kill('SIGKILL');
  };

  private async killChild(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  private track(start: Promise<void>): Promise<void> {
    this.starting = start;
    const clear = () => {
      if (this.starting === start) this.starting = undefined;
    };
    start.then(clear, clear);
    return start;
  }

  private died(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = undefined;
    if (this.state !== 'running') return;
    if (Date.now() - this.startedAt >= STABLE_UPTIME_MS) this.attempt = 0;
    this.scheduleRestart('cache: redis-server died; restarting it, empty, on the same port', { pid: child.pid, code, signal });
  }

  private scheduleRestart(why: string, attributes: Record<string, unknown>): void {
    const delay = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(this.attempt, 20));
    this.attempt += 1;
    this.state = 'restarting';
    this.nextDelayMs = delay;
    this.logger?.warn(why, { port: this.port, ...attributes, retryInMs: delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.track(this.spawnServer()).then(
        () => {
          this.restarts += 1;
          // kill() or close() came during the start: they stop this server, and no one restarts it.
          if (this.state !== 'restarting') return;
          this.state = 'running';
          this.nextDelayMs = undefined;
          this.logger?.info?.('cache: redis-server restarted, empty; the cache refills from the stores', { port: this.port, pid: this.pid });
        },
        (e: unknown) => {
          // kill() or close() during the start: they decide what happens next.
          if (this.state !== 'restarting') return;
          this.failedStarts += 1;
          this.lastError = (e as Error).message;
          this.scheduleRestart('cache: redis-server did not start; trying again', { error: this.lastError });
        },
      );
    }, delay);
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextDelayMs = undefined;
  }

  /** Starts one redis-server and resolves once it (that very process) answers on the port. */
  private async spawnServer(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    // It must come up empty: a dump left in its directory (a SAVE by hand, an older run) would
    // bring back values older than the stores and an old change log, with no one the wiser.
    rmSync(join(this.dataDir, 'dump.rdb'), { force: true });
    rmSync(join(this.dataDir, 'appendonlydir'), { recursive: true, force: true });
    const args = ['--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no', '--dir', this.dataDir];
    const child = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    this.child = child;
    this.startedAt = Date.now();
    let up = false;
    // A death while starting is this start's failure (thrown below), not the supervisor's business.
    child.once('exit', (code, signal) => {
      if (up) this.died(child, code, signal);
      else if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    // Another process may hold the port: only this child's own pid in INFO means it is up.
    for (;;) {
      const pid = await serverPid(this.host, this.port);
      if (pid !== undefined && pid === child.pid && child.exitCode === null) break;
      const gone = spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
      if (gone || Date.now() > deadline) {
        if (this.child === child) this.child = undefined;
        child.kill('SIGKILL');
        const why = spawnError?.message ?? output.trim().split('\n').slice(-3).join(' | ');
        throw new Error(`redis-server did not start on port ${this.port}: ${why || `exit code ${child.exitCode}`}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    up = true;
    // Its log is of no use once it runs; stop buffering it.
    child.stdout?.off('data', keep).resume();
    child.stderr?.off('data', keep).resume();
  }
}

/** The `process_id` a redis server on the port reports, or undefined when none answers. */
function serverPid(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, host, () => socket.write('INFO server\r\n'));
    const finish = (pid: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => finish(undefined), 1000);
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const match = /process_id:(\d+)\r/.exec(reply);
      if (match) finish(Number(match[1]));
      else if (reply.startsWith('-') && reply.includes('\r\n')) finish(undefined);
    });
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
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
