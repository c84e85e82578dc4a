/**
 * ioredis clients for the cache, built from one validated config: standalone or cluster mode
 * (ElastiCache Serverless is cluster mode), TLS, AUTH (the secret read once through Powertools
 * Parameters), timeouts, and reconnects with capped backoff. The offline queue is off, so a
 * dead cache fails fast and reads fall back to the backend instead of waiting.
 */
import type { ConnectionOptions } from 'node:tls';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { GenericLogger } from '../../core/logger';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionConfig {
  readonly host: string;
  /** @default 6379 */
  readonly port: number;
  readonly tls: boolean;
  /** PEM of a private CA to trust (local tests); ElastiCache certificates verify against the system store. */
  readonly tlsCa?: string;
  /** ioredis Cluster (cluster-mode ElastiCache, including Serverless) instead of a single node. */
  readonly cluster: boolean;
  /** ACL user (ElastiCache RBAC); the `default` user when absent. */
  readonly username?: string;
  /** The password itself (local use); prefer `passwordParameter`. */
  readonly password?: string;
  /**
   * SSM parameter holding the password: a SecureString, or `/aws/reference/secretsmanager/<secret id>`
   * for a Secrets Manager secret (plain text, or JSON with `password` and optionally `username`).
   */
  readonly passwordParameter?: string;
  /** @default 2000 */
  readonly connectTimeoutMs: number;
  /** A command without a reply after this long fails (and the read goes to the backend). @default 500 */
  readonly commandTimeoutMs: number;
  /** Cap of the reconnect backoff. @default 2000 */
  readonly maxReconnectDelayMs: number;
}

export const REDIS_CONFIG_DEFAULTS = { port: 6379, connectTimeoutMs: 2000, commandTimeoutMs: 500, maxReconnectDelayMs: 2000 } as const;

/** Reads an SSM parameter, decrypted; Powertools caches it, and we ask once per connector anyway. */
export type ParameterReader = (name: string) => Promise<string | undefined>;

const powertoolsReader: ParameterReader = (name) => getParameter(name, { decrypt: true, maxAge: 300 });

/** The password and user after reading the secret, if one was configured. */
async function resolveCredentials(config: RedisConnectionConfig, read: ParameterReader): Promise<{ username?: string; password?: string }> {
  if (!config.passwordParameter) return { username: config.username, password: config.password };
  let secret: string | undefined;
  try {
    secret = await read(config.passwordParameter);
  } catch (e) {
    throw new Error(`cache: could not read the password parameter '${config.passwordParameter}': ${(e as Error).message}`, { cause: e });
  }
  if (!secret) throw new Error(`cache: the password parameter '${config.passwordParameter}' is empty`);
  // Secrets Manager secrets made by CDK are JSON documents; a SecureString is the password itself.
  if (secret.trimStart().startsWith('{')) {
    try {
      const doc = JSON.parse(secret) as { password?: unknown; username?: unknown };
      if (typeof doc.password === 'string') {
        return { username: typeof doc.username === 'string' ? doc.username : config.username, password: doc.password };
      }
    } catch {
      // Not JSON after all: a password that starts with '{'.
    }
  }
  return { username: config.username, password: secret };
}

export type ConnectionRole = 'commands' | 'blocking';

/**
 * Makes clients that share one config and one secret read. `connect('commands')` is the
 * client for cache reads and writes (command timeout on); `connect('blocking')` is for the
 * change-log follower, whose XREAD BLOCK must not hit the command timeout.
 */
export class RedisConnector {
  private constructor(
    readonly config: RedisConnectionConfig,
    private readonly credentials: { username?: string; password?: string },
    private readonly logger?: GenericLogger,
  ) {}

  static async create(config: RedisConnectionConfig, options: { readParameter?: ParameterReader; logger?: GenericLogger } = {}): Promise<RedisConnector> {
    const credentials = await resolveCredentials(config, options.readParameter ?? powertoolsReader);
    return new RedisConnector(config, credentials, options.logger);
  }

  connect(role: ConnectionRole = 'commands'): RedisClient {
    const c = this.config;
    const tls: ConnectionOptions | undefined = c.tls ? (c.tlsCa ? { ca: c.tlsCa } : {}) : undefined;
    const common: RedisOptions = {
      username: this.credentials.username,
      password: this.credentials.password,
      tls,
      connectTimeout: c.connectTimeoutMs,
      // Blocking reads wait up to their BLOCK time; ioredis adds a grace period on top.
      commandTimeout: role === 'blocking' ? undefined : c.commandTimeoutMs,
      blockingTimeout: role === 'blocking' ? c.connectTimeoutMs : undefined,
      // A command in flight when the connection drops fails, instead of being resent to whatever
      // server answers next: the breaker counts it, and a follower re-checks the log it was reading.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // RESP2 works on every ElastiCache engine version.
      protocol: 2,
      connectionName: `tenant-config-${role}`,
      // Commands issued in the same event-loop turn (concurrent requests) go out in one write:
      // under load that halves the syscalls per read. Blocking reads must stay alone on their connection.
      enableAutoPipelining: role === 'commands',
    };
    const retryStrategy = (times: number) => reconnectDelay(times, c.maxReconnectDelayMs);
    let client: RedisClient;
    if (c.cluster) {
      const options: ClusterOptions = {
        enableOfflineQueue: false,
        enableAutoPipelining: role === 'commands',
        clusterRetryStrategy: retryStrategy,
        // ElastiCache's TLS certificates name the configuration endpoint; keep the host names as given.
        dnsLookup: (address, callback) => callback(null, address),
        slotsRefreshTimeout: c.connectTimeoutMs,
        redisOptions: common,
      };
      client = new Cluster([{ host: c.host, port: c.port }], options);
    } else {
      client = new Redis({ ...common, host: c.host, port: c.port, enableOfflineQueue: false, retryStrategy });
    }
    // Without a listener ioredis prints every connection error; the breaker counts them instead.
    let lastWarn = 0;
    client.on('error', (error: Error) => {
      const now = Date.now();
      if (now - lastWarn < 10_000) return;
      lastWarn = now;
      this.logger?.warn('cache: redis connection error', { role, error: error.message });
    });
    return client;
  }
}

/** Exponential from 50 ms, capped, with jitter so a fleet does not reconnect in step. */
export function reconnectDelay(times: number, capMs: number): number {
  const base = Math.min(capMs, 50 * 2 ** Math.min(times - 1, 16));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Resolves when the client is ready; rejects after `timeoutMs`, or at once when the client is closed for good. */
export function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('cache: redis client is closed'));
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const onEnd = () => {
      done();
      reject(new Error('cache: redis client is closed'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`cache: redis not ready within ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}
