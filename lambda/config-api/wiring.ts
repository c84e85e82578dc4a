/**
 * Builds the config-api's dependencies once per process: SDK clients, backends, the tag
 * router and the use cases. Nothing here runs per request.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDbConfigBackend } from '../../adapters/dynamodb/dynamodb-config-backend';
import { DynamoDbWriteLease } from '../../adapters/ssm/dynamodb-write-lease';
import { SsmConfigBackend } from '../../adapters/ssm/ssm-config-backend';
import type { ConfigBackend } from '../../core/backend-port';
import { ConfigService, type ItemReader } from '../../core/config-service';
import { PageTokenCodec } from '../../core/page-token';
import { TagRegistry, type BackendKind } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import type { ConfigApiDeps } from './handler';
import type { ConfigApiEnvironment } from './environment';

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

/**
 * One backend per kind the registry names. Parameter Store writes take their per-key
 * lease in the tenant table, so both backends share the DynamoDB client and table.
 */
export function buildBackends(env: ConfigApiEnvironment, clients: AwsClients, registry: TagRegistry): Record<BackendKind, ConfigBackend> {
  const dynamodb = new DynamoDbConfigBackend({ client: clients.dynamodb, tableName: env.tableName, tags: registry });
  const ssm = new SsmConfigBackend({
    ssm: clients.ssm,
    lease: new DynamoDbWriteLease({ client: clients.dynamodb, tableName: env.tableName }),
    registry,
    root: env.ssmRoot,
    stage: env.stage,
    kmsKeyId: env.ssmKmsKeyId,
  });
  return { dynamodb, ssm };
}

/**
 * @param clients @default defaultClients()
 * @param logger @default a Powertools Logger for service 'config-api' (POWERTOOLS_* variables apply)
 * @param reader the read path, e.g. a versioned cache in front of the backends; @default direct backend reads
 */
export function buildConfigApiDeps(
  env: ConfigApiEnvironment,
  clients: AwsClients = defaultClients(),
  logger: Logger = new Logger({ serviceName: 'config-api' }),
  reader?: ItemReader,
): ConfigApiDeps {
  const registry = TagRegistry.default();
  const router = new TagRouter(registry, buildBackends(env, clients, registry));
  const service = new ConfigService(router, new PageTokenCodec(env.pageTokenSecret), reader);
  return { service, registry, principal: { tenantClaim: env.tenantClaim, adminGroup: env.adminGroup }, logger };
}
