import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { changeEventPatterns, DEFAULT_EVENT_PATTERNS } from '../config/change-event-patterns';
import { resourcePrefix, ssmTenantsPath, type StageConfig } from '../config/stage-config';
import { DEFAULT_TAG_REGISTRY, storeNeeds, type TagRegistryDocument } from '../config/tag-registry-data';
import { CACHE_NAMESPACE, CACHE_USER_NAME } from '../data/config-cache';
import type { TenantConfigData } from '../data/tenant-config-data';
import { ADMIN_GROUP, TENANT_CLAIM } from '../data/tenant-user-pool';
import type { ServiceSubnets } from '../network/config-network';
import { AdminConsole } from '../console/admin-console';
import { CacheConnection } from './cache-connection';
import { ChangeEvents } from './change-events';
import { ConfigApi } from './config-api';
import { FanoutService } from './fanout-service';
import { Monitoring } from './monitoring';
import { grantDescribeAlarms, RolloutDriver } from './rollout-driver';
import { StoreAccess } from './store-access';

export interface TenantConfigRuntimeProps {
  /** The stage's settings (`readStageConfig`). */
  readonly config: StageConfig;
  /** The stateful part: table, parameters, cache, user pool. Another stack's is fine (cross-stack references). */
  readonly data: Pick<TenantConfigData, 'tenantTable' | 'parameters' | 'cache' | 'users'>;
  readonly vpc: ec2.IVpc;
  /** The VPC's CIDR as a literal, for readable security group rules. @default vpc.vpcCidrBlock */
  readonly vpcCidr?: string;
  /** @default functions in isolated subnets, the fanout in private subnets with egress (as ConfigNetwork builds them) */
  readonly subnets?: ServiceSubnets;
  /** The tag registry the grants and the Pipe filter derive from. @default registry/tags.json */
  readonly tagRegistry?: TagRegistryDocument;
  /** The change-event patterns. @default registry/event-patterns.json */
  readonly eventPatterns?: unknown;
  /** The fanout's Dockerfile, relative to the repository root. @default 'fanout/Dockerfile' */
  readonly fanoutDockerfile?: string;
  /** OTLP/HTTP endpoint the fanout exports its spans to (OTEL_EXPORTER_OTLP_ENDPOINT). @default no spans exported */
  readonly otlpEndpoint?: string;
  /**
   * The admin console (S3 + CloudFront + a PKCE app client), built from `console/dist`; false for
   * none. It needs the pool's Cognito domain for its hosted UI, so a brought pool without one gets none.
   * @default true
   */
  readonly console?: boolean;
}

/**
 * The stateless part: functions, API, change routing, fanout, alarms. It takes the stateful
 * part's resources as objects, never as names. The repository's Service stack holds it as its
 * `Default` child, so logical ids are those of the stack before.
 */
export class TenantConfigRuntime extends Construct {
  readonly api: ConfigApi;
  readonly changes: ChangeEvents;
  readonly fanout: FanoutService;
  readonly monitoring: Monitoring;
  readonly rollouts: RolloutDriver;
  readonly storeAccess: StoreAccess;
  /** Absent with `console: false`, or without a Cognito domain. */
  readonly console?: AdminConsole;

  constructor(scope: Construct, id: string, props: TenantConfigRuntimeProps) {
    super(scope, id);
    const { config, data } = props;
    const prefix = resourcePrefix(config);
    const needs = storeNeeds(props.tagRegistry ?? DEFAULT_TAG_REGISTRY);
    const patterns = changeEventPatterns(
      { ssmTenantsPath: ssmTenantsPath(config), dynamodbTag: needs.dynamodbTags },
      props.eventPatterns ?? DEFAULT_EVENT_PATTERNS,
    );
    const logRetention = config.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;
    const subnets = props.subnets ?? { functions: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, fanout: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };

    this.storeAccess = new StoreAccess(this, 'StoreAccess', {
      needs,
      table: data.tenantTable.table,
      tableKey: data.tenantTable.key,
      tenantParametersArn: data.parameters.tenantParametersArn(this),
      parameterKey: data.parameters.key,
    });
    const cache = new CacheConnection({
      endpointAddress: data.cache.endpointAddress,
      endpointPort: data.cache.endpointPort,
      username: CACHE_USER_NAME,
      namespace: CACHE_NAMESPACE,
      credentials: data.cache.credentials,
      secretName: data.cache.secretName,
      clientSecurityGroup: data.cache.cacheClients,
    });
    const issuer = data.users.issuer;
    // The user app client and every service's: API Gateway and the fanout match an access
    // token's `client_id` against this list (client-credentials tokens carry no `aud`).
    const domain = data.users.domain;
    // Before the API: it takes the console's client id as an audience and its origin for CORS.
    this.console =
      (props.console ?? true) && domain
        ? new AdminConsole(this, 'Console', {
            name: prefix,
            userPool: data.users.userPool,
            authDomain: domain,
            apiDomainName: config.domainName && config.certificateArn ? config.domainName : undefined,
          })
        : undefined;
    const audience = [...data.users.acceptedClientIds, ...(this.console ? [this.console.client.userPoolClientId] : [])];

    // What both functions that write configuration (the API and the rollout driver) are given alike.
    const writer = {
      name: prefix,
      stage: config.stage,
      ssmRoot: config.ssmRoot,
      tableName: data.tenantTable.table.tableName,
      parameterKeyId: needs.secretParameters ? data.parameters.key.keyArn : undefined,
      storeAccess: this.storeAccess,
      cache,
      vpc: props.vpc,
      vpcSubnets: subnets.functions,
      logRetention,
    };
    this.api = new ConfigApi(this, 'ConfigApi', {
      ...writer,
      issuer,
      audience,
      tenantClaim: TENANT_CLAIM,
      adminGroup: ADMIN_GROUP,
      requireTenantRegistration: config.requireTenantRegistration,
      pageTokenSecretName: `tenant-config/${config.stage}/page-token`,
      domain: config.domainName && config.certificateArn ? { name: config.domainName, certificateArn: config.certificateArn } : undefined,
      corsAllowOrigins: this.console ? [this.console.origin] : undefined,
    });
    // Starting a rollout that names an alarm checks that the alarm exists.
    grantDescribeAlarms(this.api.handler.role);

    this.rollouts = new RolloutDriver(this, 'Rollouts', writer);

    this.changes = new ChangeEvents(this, 'ChangeEvents', {
      name: prefix,
      stage: config.stage,
      ssmRoot: config.ssmRoot,
      patterns,
      routeTableChanges: needs.dynamodbTags.length > 0,
      routeParameterChanges: needs.ssmTags.length > 0,
      table: data.tenantTable.table,
      tableKey: data.tenantTable.key,
      storeAccess: this.storeAccess,
      cache,
      vpc: props.vpc,
      vpcSubnets: subnets.functions,
      logRetention,
    });

    this.fanout = new FanoutService(this, 'Fanout', {
      name: prefix,
      stage: config.stage,
      ssmRoot: config.ssmRoot,
      tableName: data.tenantTable.table.tableName,
      issuer,
      audience,
      tenantClaim: TENANT_CLAIM,
      parameterKeyId: needs.secretParameters ? data.parameters.key.keyArn : undefined,
      storeAccess: this.storeAccess,
      cache,
      vpc: props.vpc,
      vpcCidr: props.vpcCidr ?? props.vpc.vpcCidrBlock,
      taskSubnets: subnets.fanout,
      certificateArn: config.certificateArn,
      // The console reads the events from its own distribution (a VPC origin: cloudFrontEvents),
      // same-origin; its origin stays allowed for CORS, which a page on it needs only if pointed
      // at the fanout's own endpoint.
      cloudFrontEvents: this.console !== undefined,
      eventsAllowedOrigins: this.console ? [this.console.origin] : undefined,
      dockerfile: props.fanoutDockerfile,
      minTasks: 2,
      otlpEndpoint: props.otlpEndpoint,
      logRetention,
    });

    if (this.console) {
      if (this.fanout.eventsVpcOrigin) this.console.serveEvents(this.fanout.eventsVpcOrigin);
      // config.json's eventsUrl is then the distribution's own origin.
      this.console.publish({ apiUrl: this.api.url });
    }

    const dlqs = this.changes.deadLetterQueues;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: prefix,
      api: this.api.api,
      functions: {
        ConfigApi: this.api.handler.function,
        CacheRefresh: this.changes.refresh.function,
        RolloutDriver: this.rollouts.handler.function,
        PreTokenGeneration: data.users.preTokenGeneration.function,
      },
      deadLetterQueues: {
        ...(dlqs.pipe ? { Pipe: dlqs.pipe } : {}),
        ...(dlqs.tableChangeRule ? { TableChangeRule: dlqs.tableChangeRule } : {}),
        ...(dlqs.parameterChangeRule ? { ParameterChangeRule: dlqs.parameterChangeRule } : {}),
        RefreshFailures: dlqs.refreshFailures,
      },
      fanoutTargets: this.fanout.targetGroup,
      fanoutStreams: this.fanout.openStreamsMetric(),
      alarmEmail: config.alarmEmail,
    });
  }

  get url(): string {
    return this.api.url;
  }
}
