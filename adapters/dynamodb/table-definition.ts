import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The tenant table's shape, in one place for the backend, the stream consumer and
 * local/test set-up. One partition per tenant; the sort key is the raw config key
 * `<tag>:<name>`, so a prefix listing is one Query with `begins_with`.
 */
export const TENANT_TABLE_KEYS = {
  partitionKey: 'tenantId',
  sortKey: 'configKey',
} as const;

/** Attribute names of a config item (see item-codec.ts for their meaning). */
export const ITEM_ATTRIBUTES = {
  tenantId: 'tenantId',
  configKey: 'configKey',
  /** The value as JSON text (S). */
  valueJson: 'valueJson',
  /** Integer (N), +1 on every write and on delete. */
  version: 'version',
  updatedAt: 'updatedAt',
  updatedBy: 'updatedBy',
  /** Tombstone (BOOL): the key is deleted, its version and history stay. */
  deleted: 'deleted',
  /** The writer's comment on the current version (S); absent when the write gave none. */
  comment: 'comment',
  /** Earlier versions (L of M), newest first, bounded by the tag's historyDepth. */
  history: 'history',
} as const;

/**
 * Sort keys starting with this character are not config keys (tags start with a
 * letter): other parts of the system keep their own rows in the tenant partition,
 * e.g. Parameter Store write leases under `#lease#<key>`. Listings never return them.
 */
export const RESERVED_SORT_KEY_PREFIX = '#';

export const isReservedSortKey = (sortKey: string): boolean => sortKey.startsWith(RESERVED_SORT_KEY_PREFIX);

/** CreateTable input for local and test use; on AWS the table comes from the CDK data stack. */
export function createTenantTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TENANT_TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: TENANT_TABLE_KEYS.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TENANT_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TENANT_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    // dynalite drops this silently; moto and AWS honour it (the change events come from here).
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}
