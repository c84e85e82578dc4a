import { ConfigurationError } from '../../../adapters/environment/env-vars';
import { cacheSettingsFromEnv, redisConfigFromEnv } from '../../../adapters/redis/redis-environment';
import { resolveCacheSettings } from '../../../core/versioned-cache';

describe('redisConfigFromEnv', () => {
  it('returns undefined when no cache is configured', () => {
    expect(redisConfigFromEnv({})).toBeUndefined();
  });

  it('reads a rediss:// URL with user and password as TLS with credentials', () => {
    expect(redisConfigFromEnv({ CACHE_REDIS_URL: 'rediss://app:p%40ss@cache.example.com:6380', CACHE_REDIS_CLUSTER: 'true' })).toEqual({
      host: 'cache.example.com',
      port: 6380,
      tls: true,
      tlsCa: undefined,
      cluster: true,
      username: 'app',
      password: 'p@ss',
      passwordParameter: undefined,
      connectTimeoutMs: 2000,
      commandTimeoutMs: 500,
      maxReconnectDelayMs: 2000,
    });
  });

  it('reads host, port, the password parameter and timeouts', () => {
    expect(
      redisConfigFromEnv({
        CACHE_REDIS_HOST: 'my-cache.serverless.use1.cache.amazonaws.com',
        CACHE_REDIS_TLS: 'true',
        CACHE_REDIS_PASSWORD_PARAMETER: '/aws/reference/secretsmanager/cache-auth',
        CACHE_REDIS_COMMAND_TIMEOUT_MS: '150',
      }),
    ).toMatchObject({
      host: 'my-cache.serverless.use1.cache.amazonaws.com',
      port: 6379,
      tls: true,
      cluster: false,
      passwordParameter: '/aws/reference/secretsmanager/cache-auth',
      commandTimeoutMs: 150,
    });
  });

  it.each([
    [{ CACHE_REDIS_HOST: 'h', CACHE_REDIS_TLS: 'yes' }, /CACHE_REDIS_TLS/],
    [{ CACHE_REDIS_HOST: 'h', CACHE_REDIS_PORT: '70000' }, /CACHE_REDIS_PORT/],
    [{ CACHE_REDIS_HOST: 'h', CACHE_REDIS_COMMAND_TIMEOUT_MS: '-5' }, /CACHE_REDIS_COMMAND_TIMEOUT_MS/],
    [{ CACHE_REDIS_URL: 'http://h:1' }, /CACHE_REDIS_URL/],
    [{ CACHE_REDIS_URL: 'not a url' }, /CACHE_REDIS_URL/],
    [{ CACHE_REDIS_URL: 'redis://h', CACHE_REDIS_HOST: 'h' }, /CACHE_REDIS_URL or CACHE_REDIS_HOST/],
  ])('fails fast, naming the setting, for %j', (env, message) => {
    expect(() => redisConfigFromEnv(env)).toThrow(message);
  });
});

describe('cache settings', () => {
  it('defaults to 16 shards, 100000 log entries, 24 h tombstones, 5 s negative entries', () => {
    expect(cacheSettingsFromEnv({})).toEqual({ shards: 16, logMaxLen: 100_000, tombstoneTtlMs: 86_400_000, negativeTtlMs: 5000, namespace: 'tc' });
  });

  it('reads the environment', () => {
    expect(
      cacheSettingsFromEnv({
        CACHE_LOG_SHARDS: '64',
        CACHE_LOG_MAX_LEN: '5000',
        CACHE_TOMBSTONE_TTL_SECONDS: '60',
        CACHE_NEGATIVE_TTL_SECONDS: '2',
        CACHE_NAMESPACE: 'tc-dev',
      }),
    ).toEqual({
      shards: 64,
      logMaxLen: 5000,
      tombstoneTtlMs: 60_000,
      negativeTtlMs: 2000,
      namespace: 'tc-dev',
    });
  });

  it.each([
    [{ CACHE_LOG_SHARDS: '0' }, /shards/],
    [{ CACHE_LOG_SHARDS: '2000' }, /shards/],
    [{ CACHE_LOG_MAX_LEN: 'lots' }, /CACHE_LOG_MAX_LEN/],
    [{ CACHE_NAMESPACE: 'has{brace}' }, /namespace/],
  ])('fails fast on %j', (env, message) => {
    expect(() => cacheSettingsFromEnv(env)).toThrow(message);
  });

  it('refuses a namespace that could break the hash tag', () => {
    expect(() => resolveCacheSettings({ namespace: 'a:b' })).toThrow(/namespace/);
  });
});

describe('cache environment errors', () => {
  it('are ConfigurationErrors that name the variable', () => {
    expect(() => redisConfigFromEnv({ CACHE_REDIS_HOST: 'h', CACHE_REDIS_TLS: 'yes' })).toThrow(ConfigurationError);
    expect(() => cacheSettingsFromEnv({ CACHE_LOG_MAX_LEN: 'lots' })).toThrow(ConfigurationError);
  });
});
