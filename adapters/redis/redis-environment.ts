/**
 * The cache's settings from the CACHE_* environment variables, shared by every runtime that
 * talks to the cache (both Lambdas and the fanout). All optional; a malformed one fails fast
 * with its name.
 */
import { readFileSync } from 'node:fs';
import {
  ConfigurationError,
  getBooleanFromEnv,
  getIntegerFromEnv,
  getOptionalIntegerFromEnv,
  getOptionalStringFromEnv,
  type Env,
} from '../environment/env-vars';
import { resolveCacheSettings, type CacheSettings } from '../../core/versioned-cache';
import { REDIS_CONFIG_DEFAULTS, type RedisConnectionConfig } from './redis-connection';

/** Timeouts and delays, in milliseconds: 1 ms to about 18 hours. */
const MAX_MS = 65535 * 1000;

/**
 * The connection settings:
 * CACHE_REDIS_URL (`redis://` or `rediss://`, user and password allowed) or CACHE_REDIS_HOST + CACHE_REDIS_PORT;
 * CACHE_REDIS_TLS, CACHE_REDIS_CLUSTER (`true`/`false`); CACHE_REDIS_USERNAME; CACHE_REDIS_PASSWORD (local only);
 * CACHE_REDIS_PASSWORD_PARAMETER; CACHE_REDIS_TLS_CA_FILE; CACHE_REDIS_CONNECT_TIMEOUT_MS;
 * CACHE_REDIS_COMMAND_TIMEOUT_MS; CACHE_REDIS_MAX_RECONNECT_DELAY_MS.
 * Returns undefined when neither URL nor host is set (no cache configured).
 */
export function redisConfigFromEnv(env: Env): RedisConnectionConfig | undefined {
  const url = getOptionalStringFromEnv(env, { key: 'CACHE_REDIS_URL' });
  const hostVar = getOptionalStringFromEnv(env, { key: 'CACHE_REDIS_HOST' });
  if (!url && !hostVar) return undefined;
  if (url && hostVar)
    throw new ConfigurationError('CACHE_REDIS_URL', 'and CACHE_REDIS_HOST are both set: set either CACHE_REDIS_URL or CACHE_REDIS_HOST, not both');
  const ms = (key: string, defaultValue: number) => getIntegerFromEnv(env, { key, min: 1, max: MAX_MS, defaultValue });
  let host = hostVar ?? '';
  let port = getIntegerFromEnv(env, { key: 'CACHE_REDIS_PORT', min: 1, max: 65535, defaultValue: REDIS_CONFIG_DEFAULTS.port });
  let tlsFromUrl = false;
  let username = getOptionalStringFromEnv(env, { key: 'CACHE_REDIS_USERNAME' });
  let password = env.CACHE_REDIS_PASSWORD || undefined;
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigurationError('CACHE_REDIS_URL', 'is not a URL');
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigurationError('CACHE_REDIS_URL', 'must start with redis:// or rediss://');
    host = parsed.hostname;
    port = parsed.port ? Number(parsed.port) : REDIS_CONFIG_DEFAULTS.port;
    tlsFromUrl = parsed.protocol === 'rediss:';
    username = decodeURIComponent(parsed.username) || username;
    password = decodeURIComponent(parsed.password) || password;
  }
  const caFile = getOptionalStringFromEnv(env, { key: 'CACHE_REDIS_TLS_CA_FILE' });
  return {
    host,
    port,
    tls: getBooleanFromEnv(env, { key: 'CACHE_REDIS_TLS', defaultValue: tlsFromUrl }),
    tlsCa: caFile ? readFileSync(caFile, 'utf8') : undefined,
    cluster: getBooleanFromEnv(env, { key: 'CACHE_REDIS_CLUSTER', defaultValue: false }),
    username,
    password,
    passwordParameter: getOptionalStringFromEnv(env, { key: 'CACHE_REDIS_PASSWORD_PARAMETER' }),
    connectTimeoutMs: ms('CACHE_REDIS_CONNECT_TIMEOUT_MS', REDIS_CONFIG_DEFAULTS.connectTimeoutMs),
    commandTimeoutMs: ms('CACHE_REDIS_COMMAND_TIMEOUT_MS', REDIS_CONFIG_DEFAULTS.commandTimeoutMs),
    maxReconnectDelayMs: ms('CACHE_REDIS_MAX_RECONNECT_DELAY_MS', REDIS_CONFIG_DEFAULTS.maxReconnectDelayMs),
  };
}

/**
 * The cache layout settings: CACHE_LOG_SHARDS, CACHE_LOG_MAX_LEN, CACHE_TOMBSTONE_TTL_SECONDS,
 * CACHE_NEGATIVE_TTL_SECONDS, CACHE_NAMESPACE. Ranges are checked by resolveCacheSettings.
 */
export function cacheSettingsFromEnv(env: Env): CacheSettings {
  const int = (key: string) => getOptionalIntegerFromEnv(env, { key, min: 0, max: Number.MAX_SAFE_INTEGER });
  const seconds = (key: string) => {
    const v = int(key);
    return v === undefined ? undefined : v * 1000;
  };
  return resolveCacheSettings({
    shards: int('CACHE_LOG_SHARDS'),
    logMaxLen: int('CACHE_LOG_MAX_LEN'),
    tombstoneTtlMs: seconds('CACHE_TOMBSTONE_TTL_SECONDS'),
    negativeTtlMs: seconds('CACHE_NEGATIVE_TTL_SECONDS'),
    namespace: getOptionalStringFromEnv(env, { key: 'CACHE_NAMESPACE' }),
  });
}
