import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource, WILDCARD_RESOURCE } from '../common/nag';
import type { StoreNeeds } from '../config/tag-registry-data';

/** The components that touch the configuration stores. */
export type StoreConsumer = 'config-api' | 'cache-refresh' | 'fanout' | 'rollout-driver';

/**
 * What each component does with each kind of store, as the runtime code calls them
 * (adapters/dynamodb, adapters/ssm). Applied only for the backends the registry uses.
 */
interface ConsumerProfile {
  /** On the tenant table, when some tag uses DynamoDB. */
  readonly dynamodbActions: readonly string[];
  /** On `parameter/<root>/<stage>/tenants/*`, when some tag uses Parameter Store. */
  readonly ssmActions: readonly string[];
  /**
   * On the tenant table, when some tag uses Parameter Store: writes take a per-key lease row,
   * and listings read the keys in order from the key-index rows (which writes maintain).
   */
  readonly parameterTableActions: readonly string[];
  /** What it asks of the SecureString key when some Parameter Store tag is secret. */
  readonly parameterKeyActions: readonly string[];
  /** On the tenant table whatever the registry holds: the rollout records (`_rollouts` partition). */
  readonly rolloutActions: readonly string[];
}

const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:DeleteItem'];
/** The first listing of a tenant's Parameter Store tag records its existing keys, 25 per call. */
const INDEX_FILL = ['dynamodb:BatchWriteItem'];
const KEY_DECRYPT = ['kms:Decrypt'];
const KEY_ENCRYPT = ['kms:Encrypt', 'kms:GenerateDataKey'];
/** Read, create and compare-and-set one record; list them (adapters/dynamodb/dynamodb-rollout-store.ts). */
const ROLLOUT_RECORDS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'];

export const CONSUMER_PROFILES: Readonly<Record<StoreConsumer, ConsumerProfile>> = {
  // Reads, lists, writes, deletes and history of its tenant's keys.
  'config-api': {
    dynamodbActions: [...TABLE_READ, ...TABLE_WRITE],
    ssmActions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory', 'ssm:PutParameter', 'ssm:DeleteParameter'],
    parameterTableActions: [...TABLE_READ, ...TABLE_WRITE, ...INDEX_FILL],
    parameterKeyActions: [...KEY_DECRYPT, ...KEY_ENCRYPT],
    rolloutActions: ROLLOUT_RECORDS,
  },
  // DynamoDB changes arrive with their new image: only Parameter Store changes are read back.
  'cache-refresh': {
    dynamodbActions: [],
    ssmActions: ['ssm:GetParameter'],
    parameterTableActions: [],
    parameterKeyActions: KEY_DECRYPT,
    rolloutActions: [],
  },
  // Snapshots: reads and listings only (a listing before the config-api's first one walks instead of indexing).
  // A Watch of every tenant ('*') finds the tenants holding data with a Scan of the partition keys.
  fanout: {
    dynamodbActions: [...TABLE_READ, 'dynamodb:Scan'],
    ssmActions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
    parameterTableActions: TABLE_READ,
    parameterKeyActions: KEY_DECRYPT,
    rolloutActions: [],
  },
  // Each wave writes (or, rolling back to nothing, deletes) one layer key, as an operator's PUT of a default does,
  // and reads the tenant registry through ConfigService; it never lists keys, reads history or indexes a tenant.
  'rollout-driver': {
    dynamodbActions: [...TABLE_READ, ...TABLE_WRITE],
    ssmActions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
    parameterTableActions: [...TABLE_READ, ...TABLE_WRITE],
    parameterKeyActions: [...KEY_DECRYPT, ...KEY_ENCRYPT],
    rolloutActions: ROLLOUT_RECORDS,
  },
};

/** One grant, as data: what `grant()` turns into a policy statement (and what tests inspect). */
export interface StoreGrant {
  readonly store: 'table' | 'tableKey' | 'parameters' | 'parameterMetadata' | 'parameterKey';
  readonly actions: readonly string[];
}

/** The grants a consumer needs for what the registry holds; pure, so tests can check the rules. */
export function storeGrants(consumer: StoreConsumer, needs: StoreNeeds): StoreGrant[] {
  const profile = CONSUMER_PROFILES[consumer];
  const usesSsm = needs.ssmTags.length > 0;
  const tableActions = [
    ...(needs.dynamodbTags.length > 0 ? profile.dynamodbActions : []),
    ...(usesSsm ? profile.parameterTableActions : []),
    ...profile.rolloutActions,
  ];
  const grants: StoreGrant[] = [];
  const uniqueTableActions = [...new Set(tableActions)];
  if (uniqueTableActions.length > 0) {
    grants.push({ store: 'table', actions: uniqueTableActions });
    const writes = uniqueTableActions.some((a) => TABLE_WRITE.includes(a));
    grants.push({ store: 'tableKey', actions: writes ? [...KEY_DECRYPT, ...KEY_ENCRYPT, 'kms:DescribeKey'] : [...KEY_DECRYPT, 'kms:DescribeKey'] });
  }
  if (usesSsm && profile.ssmActions.length > 0) {
    grants.push({ store: 'parameters', actions: profile.ssmActions });
    // The backend reads each parameter's writer note (Description) with DescribeParameters.
    grants.push({ store: 'parameterMetadata', actions: ['ssm:DescribeParameters'] });
    if (needs.secretParameters) grants.push({ store: 'parameterKey', actions: profile.parameterKeyActions });
  }
  return grants;
}

export interface StoreAccessProps {
  readonly needs: StoreNeeds;
  readonly table: dynamodb.ITable;
  readonly tableKey: kms.IKey;
  /** `arn:…:parameter/<root>/<stage>/tenants/*`, built in this stack. */
  readonly tenantParametersArn: string;
  readonly parameterKey: kms.IKey;
}

/**
 * Grants to the configuration stores, derived from the tag registry: a component gets the
 * table only if some tag lives in DynamoDB, the tenant parameter subtree only if some tag lives
 * in Parameter Store, the SecureString key only if some such tag is secret, and write actions
 * only if it is the config-api. Keys are usable only through their service (`kms:ViaService`),
 * and the SecureString key only for this stage's tenant parameters (encryption context).
 */
export class StoreAccess extends Construct {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: StoreAccessProps,
  ) {
    super(scope, id);
  }

  grant(role: iam.IRole & iam.IGrantable, consumer: StoreConsumer): StoreGrant[] {
    const grants = storeGrants(consumer, this.props.needs);
    const stack = Stack.of(this);
    for (const grant of grants) {
      role.addToPrincipalPolicy(this.statement(grant, stack));
    }
    if (grants.some((g) => g.store === 'parameters')) {
      acknowledgeWildcardResource(
        role,
        this.props.tenantParametersArn,
        "The tenant subtree of this stage's Parameter Store root: tenant ids are data, not known at deploy time; the tenant comes from the verified token at run time.",
      );
    }
    if (grants.some((g) => g.store === 'parameterMetadata')) {
      acknowledge(
        role,
        WILDCARD_RESOURCE,
        'ssm:DescribeParameters has no resource-level permissions (it returns metadata, never values); the values stay limited to the tenant subtree.',
      );
    }
    return grants;
  }

  private statement(grant: StoreGrant, stack: Stack): iam.PolicyStatement {
    const actions = [...grant.actions];
    switch (grant.store) {
      case 'table':
        return new iam.PolicyStatement({ sid: 'TenantTable', actions, resources: [this.props.table.tableArn] });
      case 'tableKey':
        return new iam.PolicyStatement({
          sid: 'TenantTableKey',
          actions,
          resources: [this.props.tableKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.${stack.urlSuffix}` } },
        });
      case 'parameters':
        return new iam.PolicyStatement({ sid: 'TenantParameters', actions, resources: [this.props.tenantParametersArn] });
      case 'parameterMetadata':
        return new iam.PolicyStatement({ sid: 'ParameterMetadata', actions, resources: ['*'] });
      case 'parameterKey':
        return new iam.PolicyStatement({
          sid: 'SecureStringKey',
          actions,
          resources: [this.props.parameterKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `ssm.${stack.region}.${stack.urlSuffix}` },
            StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': this.props.tenantParametersArn },
          },
        });
    }
  }
}
