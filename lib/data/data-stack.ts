import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { servicePascalName } from '../config/principals-data';
import { resourcePrefix, type StageConfig } from '../config/stage-config';
import { ConfigCache } from './config-cache';
import { ParameterStoreRoot } from './parameter-store-root';
import { TenantTable } from './tenant-table';
import { TenantUserPool } from './tenant-user-pool';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
}

/**
 * Everything that holds state: the tenant table, the Parameter Store root and its key, the
 * cache, and the user pool with its app clients. Termination-protected, and every stateful resource is RETAINed,
 * so deleting the stack by mistake loses nothing.
 */
export class DataStack extends Stack {
  readonly tenantTable: TenantTable;
  readonly parameters: ParameterStoreRoot;
  readonly cache: ConfigCache;
  readonly users: TenantUserPool;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    const { config } = props;
    const prefix = resourcePrefix(config);
    const removalPolicy = RemovalPolicy.RETAIN;

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
      snapshotRetentionDays: config.production ? 7 : 1,
      removalPolicy,
    });
    this.users = new TenantUserPool(this, 'Users', {
      name: prefix,
      requireMfa: config.production,
      logRetention: config.production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH,
      removalPolicy,
      services: config.services,
      domainPrefix: config.authDomainPrefix,
    });

    new CfnOutput(this, 'TableName', { value: this.tenantTable.table.tableName });
    new CfnOutput(this, 'UserPoolId', { value: this.users.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.users.client.userPoolClientId });
    new CfnOutput(this, 'TenantParametersPath', { value: this.parameters.tenantsPath });
    new CfnOutput(this, 'TokenEndpoint', {
      value: this.users.tokenEndpoint,
      description: 'OAuth token endpoint: client_credentials grants of the service clients',
    });
    // Ids only: a client's secret is read with `aws cognito-idp describe-user-pool-client`, never output.
    for (const service of this.users.serviceClients) {
      new CfnOutput(this, `ServiceClientId${servicePascalName(service.name)}`, {
        value: service.client.userPoolClientId,
        description: `App client of service '${service.name}' (scopes: ${service.scopes.join(', ')})`,
      });
    }
  }
}
