/**
 * Builds the cache-refresh function's dependencies once per process: the event
 * context (registry, patterns, the SSM layout backwards, the table's item codec),
 * the Parameter Store reader and the cache. Nothing here runs per event.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SSMClient } from '@aws-sdk/client-ssm';
import { decodeStoredItem } from '../../adapters/dynamodb/item-codec';
import { isReservedSortKey } from '../../adapters/dynamodb/table-definition';
import { decodeRegistryRow, REGISTRY_PARTITION } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { RedisConnector, waitUntilReady } from '../../adapters/redis/redis-connection';
import { cacheSettingsFromEnv, redisConfigFromEnv } from '../../adapters/redis/redis-environment';
import { RedisVersionedCache } from '../../adapters/redis/redis-versioned-cache';
import { ParameterPaths } from '../../adapters/ssm/parameter-paths';
import { SsmConfigBackend } from '../../adapters/ssm/ssm-config-backend';
import type { WriteLease } from '../../adapters/ssm/write-lease';
import type { ChangeEventContext } from '../../core/change-events';
import { eventPatternVariables, resolveChangeEventPatterns, type ChangeEventPatterns } from '../../core/event-patterns';
import { TagRegistry } from '../../core/tag-registry';
import type { TenantId } from '../../core/tenant';
import type { VersionedCache } from '../../core/versioned-cache';
import type { CacheRefreshEnvironment } from './environment';
import { CacheRefresher, type RefreshMetrics } from './refresh';
import type { GenericLogger } from '../../core/logger';

/** The SSM hierarchy of one stage, read backwards: parameter name → tenant and key. */
export interface ParameterLayout {
  /** `/<root>/<stage>/tenants/`: the prefix the Parameter Store rule filters on. */
  readonly tenantsPath: string;
  keyOfParameter(name: string): { tenant: string; key: string } | undefined;
}

export function parameterLayout(root: string, stage: string): ParameterLayout {
  const paths = new ParameterPaths(root, stage);
  // ParameterPaths owns the layout; a probe tenant reveals its tenants prefix without repeating it.
  const probe = paths.tenantPath('x' as TenantId);
  const tenantsPath = probe.slice(0, -1);
  return {
    tenantsPath,
    keyOfParameter(name) {
      if (!name.startsWith(tenantsPath)) return undefined;
      const [tenant, tag] = name.slice(tenantsPath.length).split('/', 2);
      if (!tenant || !tag) return undefined;
      // keyOf only builds a path from the tenant; parseChangeEvent checks the tenant itself.
      const key = paths.keyOf(tenant as TenantId, tag, name);
      return key ? { tenant, key: key.raw } : undefined;
    },
  };
}

/** The change-event context for one stage. */
export function changeEventContext(options: { registry: TagRegistry; layout: ParameterLayout }): {
  context: ChangeEventContext;
  patterns: ChangeEventPatterns;
} {
  const patterns = resolveChangeEventPatterns(eventPatternVariables({ ssmTenantsPath: options.layout.tenantsPath, registry: options.registry }));
  const context: ChangeEventContext = {
    registry: options.registry,
    pipeSource: patterns.dynamodbPipe.source,
    pipeDetailType: patterns.dynamodbPipe.detailType,
    decodeRow: (image) => decodeStoredItem(image as Parameters<typeof decodeStoredItem>[0]),
    isReservedSortKey,
    keyOfParameter: (name) => options.layout.keyOfParameter(name),
    tenantRegistry: { partition: REGISTRY_PARTITION, decode: (image) => decodeRegistryRow(image as Parameters<typeof decodeRegistryRow>[0]) },
  };
  return { context, patterns };
}

/** The refresh only reads Parameter Store; a write through this backend would be a bug. */
const readOnlyLease: WriteLease = {
  run() {
    return Promise.reject(new Error('cache-refresh never writes to Parameter Store'));
  },
};

export interface CacheRefresherOptions {
  readonly environment: CacheRefreshEnvironment;
  readonly cache: VersionedCache;
  /** @default new SSMClient({}) (region, credentials and AWS_ENDPOINT_URL_SSM from the environment) */
  readonly ssm?: SSMClient;
  readonly registry?: TagRegistry;
  readonly logger?: GenericLogger;
  readonly metrics?: RefreshMetrics;
  readonly now?: () => number;
}

/** The refresher for any runtime: the Lambda below, or the local system with its own cache. */
export function buildCacheRefresher(options: CacheRefresherOptions): CacheRefresher {
  const registry = options.registry ?? TagRegistry.default();
  const { ssmRoot, stage } = options.environment;
  const layout = parameterLayout(ssmRoot, stage);
  const parameters = new SsmConfigBackend({ client: options.ssm ?? new SSMClient({}), lease: readOnlyLease, registry, root: ssmRoot, stage });
  return new CacheRefresher({
    cache: options.cache,
    parameters,
    events: changeEventContext({ registry, layout }).context,
    logger: options.logger ?? new Logger({ serviceName: 'cache-refresh' }),
    metrics: options.metrics ?? new Metrics({ serviceName: 'cache-refresh', namespace: 'TenantConfig' }),
    now: options.now,
  });
}

/** The Lambda's cache: Redis / ElastiCache from the CACHE_* variables; it must be configured. */
export async function connectCacheFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  logger: GenericLogger,
): Promise<{ cache: VersionedCache; disconnect: () => Promise<void> }> {
  const config = redisConfigFromEnv(env);
  if (!config) throw new Error('CACHE_REDIS_URL or CACHE_REDIS_HOST is not set: cache-refresh has no cache to refresh');
  const settings = cacheSettingsFromEnv(env);
  const connector = await RedisConnector.create(config, { logger });
  const client = connector.connect('commands');
  try {
    await waitUntilReady(client, config.connectTimeoutMs);
  } catch (e) {
    client.disconnect();
    throw e;
  }
  return {
    cache: new RedisVersionedCache(client, settings),
    disconnect: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
