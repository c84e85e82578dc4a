/**
 * Builds the config-api's dependencies once per process: SDK clients, backends, the tag
 * router and the use cases. Nothing here runs per request.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { buildConfigBackends } from '../../adapters/config-backends';
import { ConfigService, type ItemReader } from '../../core/config-service';
import { PageTokenCodec } from '../../core/page-token';
import type { ConfigBackend } from '../../core/backend-port';
import { TagRegistry, type BackendKind } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import type { ConfigApiDeps } from './handler';
import { RedisConnector, waitUntilReady } from '../../adapters/redis/redis-connection';
import { cacheSettingsFromEnv, redisConfigFromEnv } from '../../adapters/redis/redis-environment';
import { RedisVersionedCache } from '../../adapters/redis/redis-versioned-cache';
import { CachedItemReader, readerPoliciesFromRegistry } from '../../core/cached-item-reader';
import { ConfigurationError, type ConfigApiEnvironment } from './environment';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { TenantSchema } from '../../core/tenant-attributes';
import type { TenantRegistry } from '../../core/tenant-registry';
import { TenantService } from '../../core/tenant-service';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarmStates } from '../../adapters/cloudwatch/cloudwatch-alarm-states';
import { DynamoDbRolloutStore } from '../../adapters/dynamodb/dynamodb-rollout-store';
import { RolloutService } from '../../core/rollout-service';
import type { AlarmStates } from '../../core/rollout-store';
import type { GenericLogger } from '../../core/logger';

/** SDK clients, injectable so tests and the local runtime can point them at local endpoints. */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly ssm: SSMClient;
}

/**
 * Clients for the Lambda: region, credentials and endpoints from the standard AWS
 * environment (so `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SSM` point them at local servers).
 */
export function defaultClients(): AwsClients {
  return { dynamodb: new DynamoDBClient({}), ssm: new SSMClient({}) };
}

export interface ConfigApiDepsOptions {
  readonly env: ConfigApiEnvironment;
  /** @default defaultClients() */
  readonly clients?: AwsClients;
  /** @default a Powertools Logger for service 'config-api' (POWERTOOLS_* variables apply) */
  readonly logger?: Logger;
  /** The registry the service routes with and the read path's policies come from. @default TagRegistry.default() */
  readonly registry?: TagRegistry;
  /** The read path, e.g. a versioned cache in front of the backends. @default direct backend reads */
  readonly reader?: ItemReader;
  /** Backends already built (the local system shares them with its fanout). @default built from `env` and `clients` */
  readonly backends?: Record<BackendKind, ConfigBackend>;
  /** The tenant registry. @default the DynamoDB registry in the tenant table (`env.tableName`) */
  readonly tenants?: TenantRegistry;
  /** The tenant attribute schema. @default TenantSchema.default() (registry/tenants.json) */
  readonly tenantSchema?: TenantSchema;
  /** Where rollouts read their alarms. @default CloudWatch (the standard AWS environment) */
  readonly alarms?: AlarmStates;
}

export function buildConfigApiDeps(options: ConfigApiDepsOptions): ConfigApiDeps {
  const { env, clients = defaultClients(), logger = new Logger({ serviceName: 'config-api' }), registry = TagRegistry.default() } = options;
  if (!env.pageTokenSecret) throw new ConfigurationError('PAGE_TOKEN_SECRET', 'is not resolved (see resolvePageTokenSecret)');
  const router = new TagRouter(registry, options.backends ?? buildConfigBackends(env, clients, registry));
  const pageTokens = new PageTokenCodec(env.pageTokenSecret);
  // The registry shares the tenant table (its own partition) and the read path with the keys.
  const tenants = options.tenants ?? new DynamoDbTenantRegistry({ client: clients.dynamodb, tableName: env.tableName });
  const schema = options.tenantSchema ?? TenantSchema.default();
  const service = new ConfigService(router, pageTokens, options.reader, { tenants, schema, requireRegistration: env.requireTenantRegistration });
  return {
    service,
    registry,
    principal: { tenantClaim: env.tenantClaim, adminGroup: env.adminGroup },
    logger,
    tenants: new TenantService(tenants, schema, pageTokens, options.reader),
    tenantSchema: schema,
    rollouts: buildRolloutService({ service, schema, dynamodb: clients.dynamodb, tableName: env.tableName, alarms: options.alarms, logger }),
    offboarding: { router, registry: tenants, reader: options.reader },
  };
}

/**
 * The rollouts' use cases over the service that writes the layers (so a wave is written like
 * any default, through the cache): records in the tenant table, alarms from CloudWatch. The
 * API and the rollout driver (lambda/rollout-driver) build it the same way.
 */
export function buildRolloutService(options: {
  service: ConfigService;
  schema: TenantSchema;
  dynamodb: DynamoDBClient;
  tableName: string;
  alarms?: AlarmStates;
  logger?: GenericLogger;
  clock?: () => Date;
}): RolloutService {
  return new RolloutService({
    store: new DynamoDbRolloutStore({ client: options.dynamodb, tableName: options.tableName }),
    alarms: options.alarms ?? new CloudWatchAlarmStates(new CloudWatchClient({})),
    config: options.service,
    schema: options.schema,
    logger: options.logger,
    clock: options.clock,
  });
}

/** Reads PAGE_TOKEN_SECRET_PARAMETER once (decrypted) when the secret is not given directly. */
export async function resolvePageTokenSecret(
  env: ConfigApiEnvironment,
  read: (name: string) => Promise<string | undefined> = (name) => getParameter(name, { decrypt: true, maxAge: 3600 }),
): Promise<ConfigApiEnvironment> {
  if (env.pageTokenSecret || !env.pageTokenSecretParameter) return env;
  let secret: string;
  try {
    secret = (await read(env.pageTokenSecretParameter))?.trim() ?? '';
  } catch (e) {
    throw new ConfigurationError('PAGE_TOKEN_SECRET_PARAMETER', `('${env.pageTokenSecretParameter}') could not be read: ${(e as Error).message}`);
  }
  if (secret.length < 16) throw new ConfigurationError('PAGE_TOKEN_SECRET_PARAMETER', 'names a secret shorter than 16 characters');
  return { ...env, pageTokenSecret: secret };
}

/**
 * The read path from the CACHE_* variables: a version-guarded Redis / ElastiCache cache in
 * front of the backends, or direct backend reads when no cache is configured. A cache that is
 * down at cold start is not fatal: the breaker sends reads to the backends until it answers.
 */
export async function connectReadPath(
  vars: Readonly<Record<string, string | undefined>>,
  registry: TagRegistry,
  logger: Logger,
): Promise<{ reader?: ItemReader; close(): Promise<void> }> {
  const config = redisConfigFromEnv(vars);
  if (!config) return { close: async () => undefined };
  const connector = await RedisConnector.create(config, { logger });
  const client = connector.connect('commands');
  await waitUntilReady(client, config.connectTimeoutMs).catch((e: Error) =>
    logger.warn('cache: not ready at start; reads go to the backends until it is', { error: e.message }),
  );
  return {
    reader: new CachedItemReader(new RedisVersionedCache(client, cacheSettingsFromEnv(vars)), { ...readerPoliciesFromRegistry(registry), logger }),
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Everything the Lambda needs, from its environment: secrets resolved, cache connected. */
export async function buildConfigApiDepsFromEnvironment(env: ConfigApiEnvironment, vars: Readonly<Record<string, string | undefined>>): Promise<ConfigApiDeps> {
  const logger = new Logger({ serviceName: 'config-api' });
  const registry = TagRegistry.default();
  const resolved = await resolvePageTokenSecret(env);
  const readPath = await connectReadPath(vars, registry, logger);
  return { ...buildConfigApiDeps({ env: resolved, logger, registry, reader: readPath.reader }), dispose: readPath.close };
}
