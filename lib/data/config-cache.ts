import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../common/nag';

/** Prefix of every cache key (CACHE_NAMESPACE); the cache user may touch nothing else. */
export const CACHE_NAMESPACE = 'tc';
/** The ACL user the services authenticate as. */
export const CACHE_USER_NAME = 'config-service';
/** ElastiCache Serverless: the primary endpoint's port (6380 is the reader endpoint, unused). */
export const CACHE_PORT = 6379;

export interface ConfigCacheProps {
  /** `tenant-config-<stage>`: names of the cache, its users and group, unique per account and region. */
  readonly name: string;
  /** Secrets Manager name of the cache user's credentials, e.g. `tenant-config/dev/cache-auth`. */
  readonly secretName: string;
  readonly vpc: ec2.IVpc;
  /** @default isolated subnets */
  readonly subnets?: ec2.SubnetSelection;
  /** @default 10 (GB) */
  readonly maxDataStorageGb?: number;
  /** @default 15000 */
  readonly maxEcpuPerSecond?: number;
  /** Days of daily snapshots. @default 1 */
  readonly snapshotRetentionDays?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * ElastiCache Serverless (Valkey 8): the versioned cache and the change log. Serverless keeps TLS
 * always on and spreads over the AZs by itself; access is two locks: a security group that admits
 * only members of {@link cacheClients}, and RBAC, with the default user switched off and one
 * password user whose credentials live in Secrets Manager (read by the services at start).
 */
export class ConfigCache extends Construct {
  readonly cache: elasticache.CfnServerlessCache;
  readonly securityGroup: ec2.SecurityGroup;
  /** Put this group on anything that talks to the cache. */
  readonly cacheClients: ec2.SecurityGroup;
  /** JSON `{ username, password }`. */
  readonly credentials: secretsmanager.Secret;
  readonly secretName: string;
  readonly endpointAddress: string;
  readonly endpointPort: string;

  constructor(scope: Construct, id: string, props: ConfigCacheProps) {
    super(scope, id);
    if (!/^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,39}$/.test(props.name)) {
      throw new Error(`ConfigCache: name '${props.name}' must be ≤ 40 lower-case letters, digits or single hyphens`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.secretName = props.secretName;

    this.cacheClients = new ec2.SecurityGroup(this, 'ClientGroup', {
      vpc: props.vpc,
      description: 'Members may connect to the tenant config cache',
      allowAllOutbound: true,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'CacheGroup', {
      vpc: props.vpc,
      description: 'Tenant config cache: TLS from cache clients only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(this.cacheClients, ec2.Port.tcp(CACHE_PORT), 'Valkey (TLS) from cache clients');

    this.credentials = new secretsmanager.Secret(this, 'Credentials', {
      secretName: props.secretName,
      description: `Password of the cache user '${CACHE_USER_NAME}' of ${props.name}`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: CACHE_USER_NAME }),
        generateStringKey: 'password',
        // ElastiCache passwords: 16-128 printable characters without spaces, quotes, '/' or '@'.
        excludePunctuation: true,
        passwordLength: 64,
      },
      removalPolicy,
    });
    acknowledge(
      this.credentials,
      'AwsSolutions-SMG4',
      'Rotating an ElastiCache RBAC password needs a rotation function that also calls ModifyUser; rotate with `aws secretsmanager put-secret-value` + a redeploy until one is added.',
    );

    // A user group must contain a user named 'default'; this one is switched off.
    const disabledDefault = new elasticache.CfnUser(this, 'DisabledDefaultUser', {
      engine: 'valkey',
      userId: `${props.name}-default`,
      userName: 'default',
      accessString: 'off -@all',
      authenticationMode: { Type: 'no-password-required' },
    });
    // Only the namespace's keys; no administrative or flush commands.
    const serviceUser = new elasticache.CfnUser(this, 'ServiceUser', {
      engine: 'valkey',
      userId: `${props.name}-service`,
      userName: CACHE_USER_NAME,
      accessString: `on ~${CACHE_NAMESPACE}:* &* +@all -@admin -flushall -flushdb`,
      authenticationMode: {
        Type: 'password',
        Passwords: [SecretValue.secretsManager(this.credentials.secretArn, { jsonField: 'password' }).unsafeUnwrap()],
      },
    });
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine: 'valkey',
      userGroupId: props.name,
      userIds: [disabledDefault.userId, serviceUser.userId],
    });
    userGroup.node.addDependency(disabledDefault, serviceUser);

    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      serverlessCacheName: props.name,
      description: 'Tenant config: versioned entries and the change log',
      engine: 'valkey',
      majorEngineVersion: '8',
      userGroupId: userGroup.userGroupId,
      securityGroupIds: [this.securityGroup.securityGroupId],
      subnetIds: props.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
      cacheUsageLimits: {
        dataStorage: { maximum: props.maxDataStorageGb ?? 10, unit: 'GB' },
        ecpuPerSecond: { maximum: props.maxEcpuPerSecond ?? 15000 },
      },
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 1,
    });
    this.cache.node.addDependency(userGroup);
    for (const resource of [disabledDefault, serviceUser, userGroup, this.cache]) resource.applyRemovalPolicy(removalPolicy);

    this.endpointAddress = this.cache.attrEndpointAddress;
    this.endpointPort = this.cache.attrEndpointPort;
  }

  /** The SSM name that reads the credentials secret through Parameter Store (CACHE_REDIS_PASSWORD_PARAMETER). */
  get passwordParameterName(): string {
    return `/aws/reference/secretsmanager/${this.secretName}`;
  }
}
