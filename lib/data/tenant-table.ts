import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The table's shape as the runtime uses it (adapters/dynamodb/table-definition.ts and
 * adapters/dynamodb/dynamodb-write-lease.ts). Repeated here as data because lib/ imports no
 * runtime code; test/cdk checks the two agree.
 */
export const TENANT_TABLE_SCHEMA = {
  partitionKey: 'tenantId',
  sortKey: 'configKey',
  /** Epoch seconds on Parameter Store write-lease rows (`#lease#<key>`); DynamoDB TTL sweeps expired ones. */
  timeToLiveAttribute: 'leaseExpiresAt',
} as const;

export interface TenantTableProps {
  /** Alias of the table's customer-managed key. */
  readonly keyAlias: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The tenant table: one partition per tenant, sort key = the config key. On-demand, point-in-time
 * recovery, encrypted with its own customer-managed key (rotated yearly), a NEW_AND_OLD_IMAGES
 * stream (the source of the DynamoDB change events), TTL for lease rows, and deletion protection.
 */
export class TenantTable extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: TenantTableProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = new kms.Key(this, 'Key', {
      description: 'Tenant configuration table and its stream',
      alias: props.keyAlias,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TENANT_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TENANT_TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TENANT_TABLE_SCHEMA.timeToLiveAttribute,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
  }
}
