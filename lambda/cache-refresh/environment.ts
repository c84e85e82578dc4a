/**
 * The cache-refresh function's own settings, read once per process; a missing one
 * fails with its name. The cache's settings are the CACHE_* variables
 * (adapters/redis/redis-connection.ts, core/versioned-cache.ts).
 */
import { getPathSegmentFromEnv, type Env } from '../../adapters/environment/env-vars';

export interface CacheRefreshEnvironment {
  /** First level of every parameter: `/<ssmRoot>/<stage>/tenants/...`. */
  readonly ssmRoot: string;
  readonly stage: string;
}

export function readCacheRefreshEnvironment(env: Env = process.env): CacheRefreshEnvironment {
  return { ssmRoot: getPathSegmentFromEnv(env, 'SSM_ROOT'), stage: getPathSegmentFromEnv(env, 'STAGE') };
}
