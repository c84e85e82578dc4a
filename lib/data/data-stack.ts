import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { servicePascalName } from '../config/principals-data';
import type { StageConfig } from '../config/stage-config';
import type { ConfigCache } from './config-cache';
import type { ParameterStoreRoot } from './parameter-store-root';
import { TenantConfigData } from './tenant-config-data';
import type { TenantTable } from './tenant-table';
import type { TenantUserPool } from './tenant-user-pool';

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
    // `Default` adds nothing to logical ids: the resources keep the ids they had as direct children of the stack.
    const data = new TenantConfigData(this, 'Default', { config: props.config, vpc: props.vpc, removalPolicy: RemovalPolicy.RETAIN });
    this.tenantTable = data.tenantTable;
    this.parameters = data.parameters;
    this.cache = data.cache;
    this.users = data.users;

    new CfnOutput(this, 'TableName', { value: this.tenantTable.table.tableName });
    new CfnOutput(this, 'UserPoolId', { value: this.users.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.users.client.userPoolClientId });
    new CfnOutput(this, 'TenantParametersPath', { value: this.parameters.tenantsPath });
    if (this.users.tokenEndpoint) {
      new CfnOutput(this, 'TokenEndpoint', {
        value: this.users.tokenEndpoint,
        description: 'OAuth token endpoint: client_credentials grants of the service clients',
      });
    }
    // Ids only: a client's secret is read with `aws cognito-idp describe-user-pool-client`, never output.
    for (const service of this.users.serviceClients) {
      new CfnOutput(this, `ServiceClientId${servicePascalName(service.name)}`, {
        value: service.client.userPoolClientId,
        description: `App client of service '${service.name}' (scopes: ${service.scopes.join(', ')})`,
      });
    }
  }
}
