import { RemovalPolicy } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { resourcePrefix, type StageConfig } from '../config/stage-config';
import { ConfigCache } from './config-cache';
import { ParameterStoreRoot } from './parameter-store-root';
import { TenantTable } from './tenant-table';
import { TenantUserPool } from './tenant-user-pool';

export interface TenantConfigDataProps {
  /** The stage's settings (`readStageConfig`): names, MFA, retention, service clients. */
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
  /** Subnets of the cache. @default isolated subnets */
  readonly cacheSubnets?: ec2.SubnetSelection;
  /**
   * A user pool of the embedding app. The construct then adds only what lives inside a pool
   * (resource server, app clients, groups, and a domain if `config.authDomainPrefix` is set) and
   * leaves the pool's own settings (the `custom:tenant_id` attribute, the pre-token-generation
   * trigger, the feature plan) to its owner: docs/embedding.md.
   * @default a user pool of its own
   */
  readonly userPool?: cognito.IUserPool;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Everything that holds state: the tenant table, the Parameter Store root and its key, the cache,
 * and the user pool with its app clients. The repository's Data stack holds it as its `Default`
 * child, so the logical ids of the table, the pool and the cache are those of the stack before.
 */
export class TenantConfigData extends Construct {
  readonly tenantTable: TenantTable;
  readonly parameters: ParameterStoreRoot;
  readonly cache: ConfigCache;
  readonly users: TenantUserPool;

  constructor(scope: Construct, id: string, props: TenantConfigDataProps) {
    super(scope, id);
    const { config } = props;
    const prefix = resourcePrefix(config);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = config.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;

    this.tenantTable = new TenantTable(this, 'TenantTable', { keyAlias: `alias/${prefix}/table`, removalPolicy });
    this.parameters = new ParameterStoreRoot(this, 'Parameters', {
      root: config.ssmRoot,
      stage: config.stage,
      keyAlias: `alias/${prefix}/parameters`,
      removalPolicy,
    });
    this.cache = new ConfigCache(this, 'Cache', {
      name: prefix,
      secretName: `tenant-config/${config.stage}/cache-auth`,
      vpc: props.vpc,
      subnets: props.cacheSubnets,
      snapshotRetentionDays: config.production ? 7 : 1,
      removalPolicy,
    });
    this.users = new TenantUserPool(this, 'Users', {
      name: prefix,
      userPool: props.userPool,
      requireMfa: config.production,
      logRetention,
      removalPolicy,
      services: config.services,
      domainPrefix: config.authDomainPrefix,
    });
  }
}
