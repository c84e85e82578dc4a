/**
 * The fanout's settings, read from the environment once at start and checked before anything
 * is built: a missing or malformed setting stops the process with the variable's name.
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | GRPC_HOST, GRPC_PORT | where to listen | 0.0.0.0, 50051 |
 * | EVENTS_PORT | `GET /v1/events` (server-sent events for browsers) on this port, on GRPC_HOST | not served (the image sets 8081) |
 * | EVENTS_ALLOWED_ORIGINS | origins whose pages may read the events (CORS), comma-separated, each `https://host[:port]` | none |
 * | TENANT_CLAIM | JWT claim holding the tenant | tenant_id |
 * | JWT_ISSUER | `iss` of accepted tokens (Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool>`) | required |
 * | JWT_AUDIENCE | accepted app client ids, comma-separated (`aud`, or `client_id` of access tokens) | required |
 * | JWT_JWKS_URI | where the keys are fetched (once, then cached) | `<issuer>/.well-known/jwks.json` |
 * | JWT_JWKS_FILE | a JWKS file to pin instead of fetching (local dev signer) | — |
 * | JWT_TOKEN_USE | required `token_use`: access, id or any | access |
 * | CACHE_REDIS_URL or CACHE_REDIS_HOST (+ the other CACHE_REDIS_*), CACHE_LOG_SHARDS, CACHE_NAMESPACE | the change log (adapters/redis) | URL or host required |
 * | TABLE_NAME, SSM_ROOT, STAGE, SSM_KMS_KEY_ID | the backends snapshots are read from | required (KMS optional) |
 * | WATCH_HEARTBEAT_MS | heartbeat interval of an idle stream | 15000 |
 * | WATCH_MAX_QUEUE_EVENTS | send queue bound per stream | 1024 |
 * | WATCH_MAX_STREAM_AGE_MS | stream age before `reconnect` (0 = never) | 1800000 |
 * | WATCH_MAX_STREAMS_PER_CONNECTION | Watch streams open at once on one connection (HTTP/2 max_concurrent_streams is this + 16) | 100 |
 * | WATCH_MAX_STREAMS_PER_IDENTITY | Watch streams open at once in one process per watcher identity (a tenant, a service or an operator; a stream counts once however many tenants it follows) | 1000 |
 * | WATCH_MAX_TENANTS | tenant ids one Watch may list (beyond, "*" follows every tenant) | 1000 |
 * | WATCH_SNAPSHOT_PAGE_BYTES | most bytes of one snapshot page (clients that ask for paged snapshots) | 65536 |
 * | WATCH_SLOW_CONSUMER_GRACE_MS | a cut-off consumer not reading by then has its stream reset | 1000 |
 * | GRPC_MAX_CONNECTION_AGE_MS | connection age before GOAWAY | 1800000 |
 * | GRPC_KEEPALIVE_TIME_MS, GRPC_KEEPALIVE_TIMEOUT_MS | server keepalive pings | 60000, 20000 |
 * | DRAIN_DEADLINE_MS | drain budget after SIGTERM | 20000 |
 * | FANOUT_METRICS | `emf` (CloudWatch EMF on stdout) or `off` | emf |
 */
import { readFileSync } from 'node:fs';
import type { RedisConnectionConfig } from '../adapters/redis/redis-connection';
import { cacheSettingsFromEnv, redisConfigFromEnv } from '../adapters/redis/redis-environment';
import type { CacheSettings } from '../core/versioned-cache';
import { DEFAULT_TENANT_CLAIM } from '../core/principal';
import type { ConnectionSettings } from './server';
import type { JwtVerifierSettings } from './token-verifier';
import type { WatchServiceSettings } from './watch-service';
import type { EventsServerSettings } from './events/events-server';

export class ConfigurationError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigurationError';
  }
}

export interface FanoutEnvironment {
  readonly host: string;
  readonly port: number;
  /** The events endpoint's port; absent: not served. */
  readonly eventsPort?: number;
  readonly events: Partial<EventsServerSettings>;
  readonly jwt: JwtVerifierSettings;
  readonly redis: RedisConnectionConfig;
  readonly cache: CacheSettings;
  readonly backends: { readonly tableName: string; readonly ssmRoot: string; readonly stage: string; readonly ssmKmsKeyId?: string };
  readonly watch: Partial<WatchServiceSettings>;
  readonly connection: Partial<ConnectionSettings>;
  readonly metrics: 'emf' | 'off';
  /** OpenTelemetry spans (fanout/tracing.ts): `otlp` exports them, `off` makes none. */
  readonly tracing: 'otlp' | 'off';
}

type Env = Readonly<Record<string, string | undefined>>;

const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;
const CLAIM_NAME = /^[A-Za-z0-9_:.-]{1,128}$/;

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function required(env: Env, name: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigurationError(name, 'is not set');
  return value;
}

function matching(name: string, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new ConfigurationError(name, `must be ${what}, got '${value.slice(0, 64)}'`);
  return value;
}

function integer(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || value < min || value > max) throw new ConfigurationError(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  return value;
}

function url(name: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('not http(s)');
    return value;
  } catch {
    throw new ConfigurationError(name, `must be an http(s) URL, got '${value.slice(0, 64)}'`);
  }
}

/** An origin exactly as browsers send it: scheme, host and port only, never `*` (the stream is read with a token). */
function origin(name: string, value: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.origin !== value) {
    throw new ConfigurationError(name, `must list origins such as https://console.example.com (scheme, host, port; no path), got '${value.slice(0, 64)}'`);
  }
  return value;
}

const HOUR_MS = 3_600_000;

export function readFanoutEnvironment(env: Env = process.env): FanoutEnvironment {
  const host = optional(env, 'GRPC_HOST') ?? '0.0.0.0';
  const port = integer(env, 'GRPC_PORT', 0, 65535) ?? 50051;
  const eventsPort = integer(env, 'EVENTS_PORT', 0, 65535);
  const allowedOrigins = (optional(env, 'EVENTS_ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0)
    .map((o) => origin('EVENTS_ALLOWED_ORIGINS', o));
  const tenantClaim = matching('TENANT_CLAIM', optional(env, 'TENANT_CLAIM') ?? DEFAULT_TENANT_CLAIM, CLAIM_NAME, 'a claim name');

  const issuer = url('JWT_ISSUER', required(env, 'JWT_ISSUER'));
  const audience = required(env, 'JWT_AUDIENCE')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  if (audience.length === 0) throw new ConfigurationError('JWT_AUDIENCE', 'names no app client id');
  const jwksUriRaw = optional(env, 'JWT_JWKS_URI');
  const jwksFile = optional(env, 'JWT_JWKS_FILE');
  let jwks: unknown;
  if (jwksFile) {
    try {
      jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
    } catch (e) {
      throw new ConfigurationError('JWT_JWKS_FILE', `cannot be read as JSON: ${(e as Error).message}`);
    }
  }
  const tokenUseRaw = optional(env, 'JWT_TOKEN_USE') ?? 'access';
  if (!['access', 'id', 'any'].includes(tokenUseRaw)) throw new ConfigurationError('JWT_TOKEN_USE', `must be access, id or any, got '${tokenUseRaw}'`);
  const tokenUse = tokenUseRaw === 'any' ? null : (tokenUseRaw as 'access' | 'id');

  // These two readers name the offending variable in their own errors.
  const redis = redisConfigFromEnv(env);
  if (!redis) throw new ConfigurationError('CACHE_REDIS_URL', 'is not set (nor CACHE_REDIS_HOST): the fanout reads the change log from Redis');
  const cache = cacheSettingsFromEnv(env);

  const backends = {
    tableName: matching('TABLE_NAME', required(env, 'TABLE_NAME'), /^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name'),
    ssmRoot: matching('SSM_ROOT', required(env, 'SSM_ROOT').replace(/^\/+|\/+$/g, ''), PATH_SEGMENT, 'one path segment of [A-Za-z0-9_.-]'),
    stage: matching('STAGE', required(env, 'STAGE'), PATH_SEGMENT, 'one path segment of [A-Za-z0-9_.-]'),
    ssmKmsKeyId: optional(env, 'SSM_KMS_KEY_ID'),
  };

  const metrics = optional(env, 'FANOUT_METRICS') ?? 'emf';
  if (metrics !== 'emf' && metrics !== 'off') throw new ConfigurationError('FANOUT_METRICS', `must be emf or off, got '${metrics}'`);

  // Off unless asked for: FANOUT_TRACING, or an OTLP endpoint in the environment.
  const otlpConfigured = optional(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || optional(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined;
  const tracing = optional(env, 'FANOUT_TRACING') ?? (otlpConfigured ? 'otlp' : 'off');
  if (tracing !== 'otlp' && tracing !== 'off') throw new ConfigurationError('FANOUT_TRACING', `must be otlp or off, got '${tracing}'`);

  return {
    host,
    port,
    ...(eventsPort === undefined ? {} : { eventsPort }),
    events: { allowedOrigins },
    jwt: { issuer, audience, jwksUri: jwksUriRaw ? url('JWT_JWKS_URI', jwksUriRaw) : undefined, jwks, tokenUse },
    redis,
    cache,
    backends,
    watch: stripUndefined({
      tenantClaim,
      heartbeatIntervalMs: integer(env, 'WATCH_HEARTBEAT_MS', 100, HOUR_MS),
      maxQueueEvents: integer(env, 'WATCH_MAX_QUEUE_EVENTS', 16, 1_000_000),
      maxStreamAgeMs: integer(env, 'WATCH_MAX_STREAM_AGE_MS', 0, 24 * HOUR_MS),
      maxStreamsPerConnection: integer(env, 'WATCH_MAX_STREAMS_PER_CONNECTION', 1, 10_000),
      maxStreamsPerIdentity: integer(env, 'WATCH_MAX_STREAMS_PER_IDENTITY', 1, 1_000_000),
      maxTenantsPerWatch: integer(env, 'WATCH_MAX_TENANTS', 1, 100_000),
      // Below 1 KiB pages are mostly overhead; above 4 MiB a page is as large as a client's default message limit.
      snapshotPageBytes: integer(env, 'WATCH_SNAPSHOT_PAGE_BYTES', 1024, 4 * 1024 * 1024),
      slowConsumerGraceMs: integer(env, 'WATCH_SLOW_CONSUMER_GRACE_MS', 0, 60_000),
    }),
    connection: stripUndefined({
      maxConnectionAgeMs: integer(env, 'GRPC_MAX_CONNECTION_AGE_MS', 1000, 24 * HOUR_MS),
      keepaliveTimeMs: integer(env, 'GRPC_KEEPALIVE_TIME_MS', 1000, HOUR_MS),
      keepaliveTimeoutMs: integer(env, 'GRPC_KEEPALIVE_TIMEOUT_MS', 1000, HOUR_MS),
      drainDeadlineMs: integer(env, 'DRAIN_DEADLINE_MS', 100, 10 * 60_000),
    }),
    metrics,
    tracing,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
