/**
 * ConfigClient options: every default in one place, checked once at construction so a
 * misconfigured service fails at boot with the option's name, not later at the first outage.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigClientOptionsError } from './errors';
import type { ConfigClientLogger, ConfigClientMetrics } from './types';
import type { UserTokenSettings } from './user-tokens';

/**
 * - `'all'`: every tenant of the fleet on one stream (a snapshot, then changes); needs a service token;
 * - `'on-demand'`: a tenant is followed from its first `forTenant`, at most `maxTenants` of them,
 *   the least recently used dropped.
 */
export type TenantsMode = 'all' | 'on-demand';

export interface ConfigClientOptions {
  /** The fanout's gRPC address, `host:port` (e.g. `127.0.0.1:50051`). */
  readonly grpcTarget: string;
  /**
   * The HTTP API's base URL (e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`). When set,
   * the state is loaded with `GET /v1/config` while the stream cannot be had.
   * @default no HTTP fallback
   */
  readonly httpBaseUrl?: string;
  /** Returns a current access token; called for every connection attempt and HTTP load. */
  readonly token: () => string | Promise<string>;
  /**
   * Key prefixes to follow, e.g. `['tenantconfig:', 'paramconfig:db/']`.
   * @default every key of the tenant
   */
  readonly prefixes?: readonly string[];
  /**
   * `true` for TLS with the system roots, `false` for plaintext, or credentials of your own.
   * @default false for a loopback target (127.0.0.1, localhost, [::1]), true otherwise, so a token never crosses a network in clear
   */
  readonly tls?: boolean | grpc.ChannelCredentials;
  /**
   * Grace: an outage longer than this turns the status from `interrupted` to `stale`.
   * Must be shorter than `backoffCapMs`, so a client waiting out a long backoff says so.
   * @default 30_000
   */
  readonly staleAfterMs?: number;
  /** @default 250 */
  readonly backoffBaseMs?: number;
  /** The longest wait between stream attempts while the HTTP fallback does not answer (or there is none). @default 60_000 */
  readonly backoffCapMs?: number;
  /**
   * The longest wait between stream attempts while the HTTP fallback's last load succeeded: the
   * service answers, so the stream is tried often enough to return promptly once the fanout does.
   * Never above `backoffCapMs`. One term of the recovery bound (see `recoveryBoundMs`).
   * @default 4_000
   */
  readonly backoffCapWhileHttpUpMs?: number;
  /**
   * A `reconnect` notice (server draining) is obeyed after a random delay in [0, this), so a
   * drained server's clients do not all land on the next one in the same millisecond.
   * @default 1_000
   */
  readonly reconnectJitterMs?: number;
  /**
   * A connection attempt that has neither connected nor been answered in this time counts as failed
   * (a black-holed address would otherwise hold the first attempt for the transport's own timeout).
   * @default 10_000
   */
  readonly connectTimeoutMs?: number;
  /**
   * UNAUTHENTICATED is retried at once with a fresh token this many times in a row; after that
   * it is an ordinary failure (backoff), and a pending `start()` rejects with ConfigClientAuthError.
   * @default 3
   */
  readonly maxAuthRetries?: number;
  /** How often the HTTP fallback reloads after a successful load, while the stream stays down. @default 30_000 */
  readonly httpRefreshMs?: number;
  /**
   * While the stream is down, an HTTP load that got no answer (or a 5xx) is retried after a
   * full-jitter delay growing from `backoffBaseMs` up to this, so the client learns within it that
   * the service is back, and retries the stream then. One term of the recovery bound.
   * @default 2_000
   */
  readonly httpRetryCapMs?: number;
  /** Per HTTP request. @default 5_000 */
  readonly httpTimeoutMs?: number;
  /**
   * Last-known-good state on disk: written after every snapshot (atomically), restored on a
   * cold start while the service is down. Holds values in clear (mode 0600).
   * @default no file
   */
  readonly snapshotFile?: string;
  /** At most one snapshot-file write per this interval while changes arrive. @default 1_000 */
  readonly snapshotFileIntervalMs?: number;
  /**
   * Many tenants on one connection, read through `forTenant(id)` / `forRequest(token)` views.
   * @default one tenant, the token's own (`get`, `keys`, `onChange` on the client itself)
   */
  readonly tenants?: TenantsMode;
  /** On-demand mode: how many tenants are held at most; the least recently used is dropped beyond. @default 1_000 */
  readonly maxTenants?: number;
  /**
   * How `forRequest` verifies an end user's access token (aws-jwt-verify): the user pool's
   * issuer, the app client id(s), the JWKS (default `<issuer>/.well-known/jwks.json`) and the
   * tenant claim (default `tenant_id`).
   * @default forRequest unavailable
   */
  readonly userTokens?: UserTokenSettings;
  /** @default debug/info dropped, warn/error to the console */
  readonly logger?: ConfigClientLogger;
  /** In [0, 1); for tests that need known jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * How long `start()` waits for a first state (stream, HTTP fallback or snapshot file) before it
   * rejects with ConfigClientStartTimeoutError, which says what was tried. `Infinity`: wait for
   * the service however long it takes. `start({ timeoutMs })` overrides it per call.
   * @default 30_000 (the grace after which a running client would call itself stale)
   */
  readonly startTimeoutMs?: number;
  /**
   * Values to serve before the service answers, `{ key: value }` (single tenant): a first state
   * like the snapshot file's (which wins when both are there). With `offline`, all there is.
   * @default none
   */
  readonly bootstrap?: Readonly<Record<string, unknown>>;
  /** Metrics hooks: status changes, change lag, reconnects. @default none */
  readonly metrics?: ConfigClientMetrics;
  /** See {@link OfflineConfigClientOptions}. */
  readonly offline?: false;
}

/**
 * A client that never connects (unit tests, local runs without the service, a kill switch):
 * it serves `bootstrap` (one tenant) or `bootstrapTenants` (`{ tenantId: { key: value } }`, with
 * `tenants`), `start()` resolves at once, the status is `live` with source `bootstrap`. The
 * connection options may stay as in production; they are not used.
 */
export interface OfflineConfigClientOptions extends Omit<Partial<ConfigClientOptions>, 'offline'> {
  readonly offline: true;
  /** Many tenants' values, read through `forTenant(id)` (needs `tenants`). @default none */
  readonly bootstrapTenants?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export type AnyConfigClientOptions = ConfigClientOptions | OfflineConfigClientOptions;

export interface ResolvedOptions {
  readonly grpcTarget: string;
  readonly httpBaseUrl?: URL;
  readonly token: () => string | Promise<string>;
  readonly prefixes: readonly string[];
  readonly credentials: grpc.ChannelCredentials;
  readonly staleAfterMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly backoffCapWhileHttpUpMs: number;
  readonly reconnectJitterMs: number;
  readonly connectTimeoutMs: number;
  readonly maxAuthRetries: number;
  readonly httpRefreshMs: number;
  readonly httpRetryCapMs: number;
  readonly httpTimeoutMs: number;
  readonly snapshotFile?: string;
  readonly snapshotFileIntervalMs: number;
  readonly tenants?: TenantsMode;
  readonly maxTenants: number;
  readonly userTokens?: UserTokenSettings;
  readonly logger: ConfigClientLogger;
  readonly random: () => number;
  readonly startTimeoutMs: number;
  readonly offline: boolean;
  readonly bootstrap?: Readonly<Record<string, unknown>>;
  readonly bootstrapTenants?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly metrics: ConfigClientMetrics;
}

export const DEFAULTS = {
  staleAfterMs: 30_000,
  backoffBaseMs: 250,
  backoffCapMs: 60_000,
  backoffCapWhileHttpUpMs: 4_000,
  reconnectJitterMs: 1_000,
  connectTimeoutMs: 10_000,
  maxAuthRetries: 3,
  httpRefreshMs: 30_000,
  httpRetryCapMs: 2_000,
  httpTimeoutMs: 5_000,
  snapshotFileIntervalMs: 1_000,
  maxTenants: 1_000,
  startTimeoutMs: 30_000,
} as const;

/** The target an offline client names in its reports; never dialled. */
export const OFFLINE_TARGET = 'offline';

const consoleLogger: ConfigClientLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, details) => console.warn(message, details ?? ''),
  error: (message, details) => console.error(message, details ?? ''),
};

function fail(message: string): never {
  throw new ConfigClientOptionsError(`ConfigClient: ${message}`);
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    fail(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`);
  }
  return v;
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i;

/** `Infinity` allowed: wait for ever. */
function timeout(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (v === Number.POSITIVE_INFINITY) return v;
  return positive(name, v, fallback);
}

function valuesObject(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) fail(`${name} must be an object of { key: value }`);
}

export function resolveStartTimeout(value: number | undefined, fallback: number): number {
  return timeout('start({ timeoutMs })', value, fallback);
}

export function resolveOptions(input: AnyConfigClientOptions): ResolvedOptions {
  if (typeof input !== 'object' || input === null) fail('options are required');
  const offline = input.offline === true;
  if (input.offline !== undefined && typeof input.offline !== 'boolean') fail('offline must be a boolean');
  const options: ConfigClientOptions = offline
    ? { ...input, offline: false, grpcTarget: input.grpcTarget ?? OFFLINE_TARGET, token: input.token ?? (() => '') }
    : (input as ConfigClientOptions);
  const { grpcTarget } = options;
  if (typeof grpcTarget !== 'string' || grpcTarget.trim() === '') fail('grpcTarget is required (host:port of the fanout), unless offline: true');
  if (typeof options.token !== 'function') fail('token must be a function returning the access token');
  valuesObject('bootstrap', options.bootstrap);
  const bootstrapTenants = offline ? (input as OfflineConfigClientOptions).bootstrapTenants : undefined;
  if (!offline && (input as { bootstrapTenants?: unknown }).bootstrapTenants !== undefined) fail('bootstrapTenants needs offline: true');
  valuesObject('bootstrapTenants', bootstrapTenants);
  for (const [id, values] of Object.entries(bootstrapTenants ?? {})) valuesObject(`bootstrapTenants.${id}`, values);
  if (options.tenants !== undefined && options.bootstrap !== undefined) fail('bootstrap holds one tenant; with tenants, use bootstrapTenants (offline)');
  if (options.tenants === undefined && bootstrapTenants !== undefined) fail("bootstrapTenants needs tenants: 'all' or 'on-demand'");
  const metrics = options.metrics ?? {};
  if (typeof metrics !== 'object' || metrics === null) fail('metrics must be { onStatus?, onLag?, onReconnect? }');
  for (const hook of ['onStatus', 'onLag', 'onReconnect'] as const) {
    if (metrics[hook] !== undefined && typeof metrics[hook] !== 'function') fail(`metrics.${hook} must be a function`);
  }

  let httpBaseUrl: URL | undefined;
  if (options.httpBaseUrl !== undefined) {
    try {
      httpBaseUrl = new URL(options.httpBaseUrl);
    } catch {
      fail(`httpBaseUrl is not a URL: '${options.httpBaseUrl}'`);
    }
    if (httpBaseUrl.protocol !== 'http:' && httpBaseUrl.protocol !== 'https:') fail(`httpBaseUrl must be http(s), got '${options.httpBaseUrl}'`);
  }

  const prefixes = options.prefixes ?? [];
  if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string')) fail('prefixes must be an array of strings');

  const backoffBaseMs = positive('backoffBaseMs', options.backoffBaseMs, DEFAULTS.backoffBaseMs);
  const backoffCapMs = positive('backoffCapMs', options.backoffCapMs, DEFAULTS.backoffCapMs);
  const staleAfterMs = positive('staleAfterMs', options.staleAfterMs, DEFAULTS.staleAfterMs);
  if (backoffCapMs < backoffBaseMs) fail(`backoffCapMs (${backoffCapMs}) must not be below backoffBaseMs (${backoffBaseMs})`);
  if (staleAfterMs >= backoffCapMs) {
    fail(
      `staleAfterMs (${staleAfterMs}) must be shorter than backoffCapMs (${backoffCapMs}): ` +
        'a client waiting out its longest backoff must already report stale',
    );
  }

  const maxAuthRetries = options.maxAuthRetries ?? DEFAULTS.maxAuthRetries;
  if (!Number.isInteger(maxAuthRetries) || maxAuthRetries < 0) fail(`maxAuthRetries must be a non-negative integer, got ${String(maxAuthRetries)}`);
  if (options.snapshotFile !== undefined && (typeof options.snapshotFile !== 'string' || options.snapshotFile === '')) {
    fail('snapshotFile must be a file path');
  }
  if (options.random !== undefined && typeof options.random !== 'function') fail('random must be a function returning [0, 1)');

  const tenants = options.tenants;
  if (tenants !== undefined && tenants !== 'all' && tenants !== 'on-demand') fail(`tenants must be 'all' or 'on-demand', got ${String(tenants)}`);
  if (tenants !== undefined && httpBaseUrl) fail('httpBaseUrl (the HTTP fallback) follows one tenant; it is not available with tenants');
  if (tenants !== undefined && options.snapshotFile !== undefined) fail('snapshotFile holds one tenant; it is not available with tenants');
  const maxTenants = options.maxTenants ?? DEFAULTS.maxTenants;
  if (!Number.isInteger(maxTenants) || maxTenants < 1) fail(`maxTenants must be a positive integer, got ${String(options.maxTenants)}`);
  const userTokens = options.userTokens;
  if (userTokens !== undefined) {
    if (typeof userTokens !== 'object' || userTokens === null) fail('userTokens must be { issuer, clientId, jwksUri? }');
    if (typeof userTokens.issuer !== 'string' || !/^https?:\/\//.test(userTokens.issuer)) fail('userTokens.issuer must be the user pool issuer URL');
    const ids: unknown[] = typeof userTokens.clientId === 'string' ? [userTokens.clientId] : Array.isArray(userTokens.clientId) ? [...userTokens.clientId] : [];
    if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || id === ''))
      fail('userTokens.clientId must be the app client id (or a non-empty list of them)');
    if (userTokens.jwksUri !== undefined && (typeof userTokens.jwksUri !== 'string' || !/^https?:\/\//.test(userTokens.jwksUri)))
      fail('userTokens.jwksUri must be an http(s) URL');
    if (userTokens.tenantClaim !== undefined && (typeof userTokens.tenantClaim !== 'string' || userTokens.tenantClaim === ''))
      fail('userTokens.tenantClaim must be a claim name');
    if (tenants === undefined) fail("userTokens (forRequest) needs tenants: 'all' or 'on-demand'");
  }

  let credentials: grpc.ChannelCredentials;
  if (options.tls instanceof grpc.ChannelCredentials) credentials = options.tls;
  else if (options.tls ?? !LOOPBACK_HOST.test(grpcTarget)) credentials = grpc.credentials.createSsl();
  else credentials = grpc.credentials.createInsecure();

  return {
    grpcTarget,
    httpBaseUrl,
    token: options.token,
    prefixes: [...new Set(prefixes)],
    credentials,
    staleAfterMs,
    backoffBaseMs,
    backoffCapMs,
    backoffCapWhileHttpUpMs: Math.min(positive('backoffCapWhileHttpUpMs', options.backoffCapWhileHttpUpMs, DEFAULTS.backoffCapWhileHttpUpMs), backoffCapMs),
    reconnectJitterMs: positive('reconnectJitterMs', options.reconnectJitterMs, DEFAULTS.reconnectJitterMs, true),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, DEFAULTS.connectTimeoutMs),
    maxAuthRetries,
    httpRefreshMs: positive('httpRefreshMs', options.httpRefreshMs, DEFAULTS.httpRefreshMs),
    httpRetryCapMs: positive('httpRetryCapMs', options.httpRetryCapMs, DEFAULTS.httpRetryCapMs),
    httpTimeoutMs: positive('httpTimeoutMs', options.httpTimeoutMs, DEFAULTS.httpTimeoutMs),
    snapshotFile: options.snapshotFile,
    snapshotFileIntervalMs: positive('snapshotFileIntervalMs', options.snapshotFileIntervalMs, DEFAULTS.snapshotFileIntervalMs, true),
    tenants,
    maxTenants,
    userTokens,
    logger: options.logger ?? consoleLogger,
    random: options.random ?? Math.random,
    startTimeoutMs: timeout('startTimeoutMs', options.startTimeoutMs, DEFAULTS.startTimeoutMs),
    offline,
    bootstrap: options.bootstrap,
    bootstrapTenants,
    metrics,
  };
}
