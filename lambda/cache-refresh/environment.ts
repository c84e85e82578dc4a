/**
 * The cache-refresh function's own settings, read once per process; a missing one
 * fails with its name. The cache's settings are the CACHE_* variables
 * (adapters/redis/redis-connection.ts, core/versioned-cache.ts).
 */
export interface CacheRefreshEnvironment {
  /** First level of every parameter: `/<ssmRoot>/<stage>/tenants/...`. */
  readonly ssmRoot: string;
  readonly stage: string;
}

const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;

export function readCacheRefreshEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): CacheRefreshEnvironment {
  const segment = (name: string): string => {
    const raw = env[name]?.trim().replace(/^\/+|\/+$/g, '');
    if (!raw) throw new Error(`${name} is not set`);
    if (!PATH_SEGMENT.test(raw)) throw new Error(`${name} must be one path segment of [A-Za-z0-9_.-], got '${raw.slice(0, 64)}'`);
    return raw;
  };
  return { ssmRoot: segment('SSM_ROOT'), stage: segment('STAGE') };
}
