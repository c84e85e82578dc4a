/**
 * Builds the rollout driver's dependencies once per process: the same backends, cache read path
 * and tenant registry as the config-api (lambda/config-api/wiring.ts), so a wave's layer write
 * goes through the cache and its change log exactly like an operator's PUT of a default; the
 * rollout records in the tenant table; the alarms from CloudWatch. Nothing here runs per event.
 */
import { randomBytes } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CloudWatchAlarmStates } from '../../adapters/cloudwatch/cloudwatch-alarm-states';
import { buildConfigBackends } from '../../adapters/config-backends';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import type { ConfigBackend } from '../../core/backend-port';
import { ConfigService, type ItemReader } from '../../core/config-service';
import type { GenericLogger } from '../../core/logger';
import { PageTokenCodec } from '../../core/page-token';
import type { RolloutService } from '../../core/rollout-service';
import { buildRolloutService } from '../config-api/wiring';
import type { AlarmStates } from '../../core/rollout-store';
import { TagRegistry, type BackendKind } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import { TenantSchema } from '../../core/tenant-attributes';
import type { RolloutDriverEnvironment } from './environment';

/** SDK clients, injectable so tests point them at local servers (dynalite, moto_server). */
export interface RolloutDriverClients {
  readonly dynamodb: DynamoDBClient;
  readonly ssm: SSMClient;
  readonly cloudwatch: CloudWatchClient;
}

/** Region, credentials and endpoints (AWS_ENDPOINT_URL_*) from the standard AWS environment. */
export function defaultDriverClients(): RolloutDriverClients {
  return { dynamodb: new DynamoDBClient({}), ssm: new SSMClient({}), cloudwatch: new CloudWatchClient({}) };
}

export interface RolloutDriverOptions {
  readonly env: RolloutDriverEnvironment;
  /** @default defaultDriverClients() */
  readonly clients?: RolloutDriverClients;
  /** The read path the layer writes go through (a versioned cache). @default direct backend reads */
  readonly reader?: ItemReader;
  /** @default TagRegistry.default() */
  readonly registry?: TagRegistry;
  /** @default TenantSchema.default() (registry/tenants.json): the segments a layer may name */
  readonly tenantSchema?: TenantSchema;
  /** @default built from `env` and `clients` */
  readonly backends?: Record<BackendKind, ConfigBackend>;
  /** @default CloudWatch through `clients.cloudwatch` */
  readonly alarms?: AlarmStates;
  readonly logger?: GenericLogger;
  /** @default the wall clock */
  readonly clock?: () => Date;
}

export function buildRolloutDriver(options: RolloutDriverOptions): RolloutService {
  const { env, clients = defaultDriverClients(), registry = TagRegistry.default() } = options;
  const schema = options.tenantSchema ?? TenantSchema.default();
  const router = new TagRouter(registry, options.backends ?? buildConfigBackends(env, clients, registry));
  // The driver never lists, so it never issues or reads a nextToken: a per-process key keeps the page-token secret out of its reach.
  const pageTokens = new PageTokenCodec(randomBytes(24).toString('base64url'));
  const tenants = new DynamoDbTenantRegistry({ client: clients.dynamodb, tableName: env.tableName });
  const config = new ConfigService(router, pageTokens, options.reader, { tenants, schema, requireRegistration: false });
  return buildRolloutService({
    service: config,
    schema,
    dynamodb: clients.dynamodb,
    tableName: env.tableName,
    alarms: options.alarms ?? new CloudWatchAlarmStates(clients.cloudwatch),
    logger: options.logger,
    clock: options.clock,
  });
}
