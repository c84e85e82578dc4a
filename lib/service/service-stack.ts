import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { changeEventPatterns, DEFAULT_EVENT_PATTERNS } from '../config/change-event-patterns';
import { resourcePrefix, ssmTenantsPath, type StageConfig } from '../config/stage-config';
import { DEFAULT_TAG_REGISTRY, storeNeeds, type TagRegistryDocument } from '../config/tag-registry-data';
import { CACHE_NAMESPACE, CACHE_USER_NAME } from '../data/config-cache';
import type { DataStack } from '../data/data-stack';
import { ADMIN_GROUP, TENANT_CLAIM } from '../data/tenant-user-pool';
import type { NetworkStack } from '../network/network-stack';
import { CacheConnection } from './cache-connection';
import { ChangeEvents } from './change-events';
import { ConfigApi } from './config-api';
import { FanoutService } from './fanout-service';
import { Monitoring } from './monitoring';
import { StoreAccess } from './store-access';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
  readonly network: NetworkStack;
  readonly data: DataStack;
  /** The tag registry the grants and the Pipe filter derive from. @default registry/tags.json */
  readonly tagRegistry?: TagRegistryDocument;
  /** The change-event patterns. @default registry/event-patterns.json */
  readonly eventPatterns?: unknown;
  /** The fanout's Dockerfile, relative to the repository root. @default 'fanout/Dockerfile' */
  readonly fanoutDockerfile?: string;
}

/**
 * The stateless part: functions, API, change routing, fanout, alarms. It can be destroyed and
 * redeployed at will; it takes the data stack's resources as objects, never as names.
 */
export class ServiceStack extends Stack {
  readonly api: ConfigApi;
  readonly changes: ChangeEvents;
  readonly fanout: FanoutService;
  readonly monitoring: Monitoring;
  readonly storeAccess: StoreAccess;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, data, network } = props;
    const prefix = resourcePrefix(config);
    const needs = storeNeeds(props.tagRegistry ?? DEFAULT_TAG_REGISTRY);
    const patterns = changeEventPatterns(
      { ssmTenantsPath: ssmTenantsPath(config), dynamodbTag: needs.dynamodbTags },
      props.eventPatterns ?? DEFAULT_EVENT_PATTERNS,
    );
    const logRetention = config.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

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
    const audience = data.users.acceptedClientIds;

    this.api = new ConfigApi(this, 'ConfigApi', {
      name: prefix,
      stage: config.stage,
      ssmRoot: config.ssmRoot,
      tableName: data.tenantTable.table.tableName,
      parameterKeyId: needs.secretParameters ? data.parameters.key.keyArn : undefined,
      issuer,
      audience,
      tenantClaim: TENANT_CLAIM,
      adminGroup: ADMIN_GROUP,
      requireTenantRegistration: config.requireTenantRegistration,
      storeAccess: this.storeAccess,
      cache,
      vpc: network.vpc,
      vpcSubnets: isolated,
      pageTokenSecretName: `tenant-config/${config.stage}/page-token`,
      domain: config.domainName && config.certificateArn ? { name: config.domainName, certificateArn: config.certificateArn } : undefined,
      logRetention,
    });

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
      vpc: network.vpc,
      vpcSubnets: isolated,
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
      vpc: network.vpc,
      vpcCidr: network.vpcCidr,
      taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      certificateArn: config.certificateArn,
      dockerfile: props.fanoutDockerfile,
      minTasks: 2,
      logRetention,
    });

    const dlqs = this.changes.deadLetterQueues;
    this.monitoring = new Monitoring(this, 'Monitoring', {
      name: prefix,
      api: this.api.api,
      functions: {
        ConfigApi: this.api.handler.function,
        CacheRefresh: this.changes.refresh.function,
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

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'FanoutEndpoint', { value: this.fanout.endpoint });
  }
}
