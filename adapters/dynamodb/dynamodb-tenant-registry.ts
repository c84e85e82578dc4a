import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Page, PageRequest } from '../../core/backend-port';
import { InvalidPageTokenError, NotFoundError, PreconditionFailedError } from '../../core/errors';
import { TENANT_ID_PATTERN, type TenantId } from '../../core/tenant';
import type { PutTenantCommand, TenantRecord, TenantRegistry } from '../../core/tenant-registry';
import { translateSdkError } from '../sdk-errors';
import type { DecodedRegistryRow } from '../../core/change-events';
import { attributesItem } from '../../core/layer-reads';
import { TENANT_TABLE_KEYS as K } from './table-definition';

/**
 * The registry's partition in the tenant table: one row per tenant, sort key = tenant id, so the
 * list is one Query in id order. `_` cannot start a tenant id, so no tenant's partition is this one
 * (and no registry row is a config key: the Pipe passes only `<tag>:` sort keys). A single
 * partition serves 3,000 reads and 1,000 writes a second, far above an operator's rate of change.
 */
export const REGISTRY_PARTITION = '_registry';

export interface DynamoDbTenantRegistryOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

export class DynamoDbTenantRegistry implements TenantRegistry {
  private readonly clock: () => Date;

  constructor(private readonly options: DynamoDbTenantRegistryOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  async get(tenant: TenantId): Promise<TenantRecord | undefined> {
    const out = await this.call('reading a tenant', () =>
      this.options.client.send(new GetItemCommand({ TableName: this.options.tableName, Key: this.keyOf(tenant), ConsistentRead: true })),
    );
    return out.Item ? decode(out.Item) : undefined;
  }

  async put(tenant: TenantId, command: PutTenantCommand): Promise<{ record: TenantRecord; created: boolean }> {
    const current = await this.get(tenant);
    const expected = command.expectedVersion;
    if (expected === 'absent' && current) throw new PreconditionFailedError(`tenant '${tenant}' is already registered`, current.version);
    if (typeof expected === 'number' && current?.version !== expected) {
      throw new PreconditionFailedError(
        current ? `tenant '${tenant}' is at version ${current.version}, not ${expected}` : `tenant '${tenant}' is not registered`,
        current?.version,
      );
    }
    const now = this.clock().toISOString();
    const offboarding = command.offboarding === null ? undefined : (command.offboarding ?? current?.offboarding);
    const record: TenantRecord = {
      tenantId: tenant,
      attributes: command.attributes,
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      updatedBy: command.updatedBy,
      ...(offboarding ? { offboarding } : {}),
    };
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: { ...this.keyOf(tenant), ...marshall({ record }, { removeUndefinedValues: true }) },
          // The row is still the one read: a concurrent writer makes this attempt fail, not overwrite.
          ConditionExpression: current ? '#record.#version = :version' : 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: current ? { '#record': 'record', '#version': 'version' } : { '#pk': K.partitionKey },
          ExpressionAttributeValues: current ? { ':version': { N: String(current.version) } } : undefined,
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        throw new PreconditionFailedError(`tenant '${tenant}' was changed by another request at the same time; read it again and retry`);
      }
      throw translateSdkError(e, 'DynamoDB', 'writing a tenant');
    }
    return { record, created: !current };
  }

  async delete(tenant: TenantId): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: this.keyOf(tenant),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': K.partitionKey },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new NotFoundError(`tenant '${tenant}' is not registered`);
      throw translateSdkError(e, 'DynamoDB', 'deleting a tenant');
    }
  }

  async list(page: PageRequest): Promise<Page<TenantRecord>> {
    let start: Record<string, AttributeValue> | undefined;
    if (page.cursor !== undefined) {
      if (!TENANT_ID_PATTERN.test(page.cursor)) throw new InvalidPageTokenError('nextToken is not valid for this listing');
      start = this.keyOf(page.cursor as TenantId);
    }
    const out = await this.call('listing tenants', () =>
      this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#pk = :registry',
          ExpressionAttributeNames: { '#pk': K.partitionKey },
          ExpressionAttributeValues: { ':registry': { S: REGISTRY_PARTITION } },
          ExclusiveStartKey: start,
          Limit: page.limit,
          ConsistentRead: true,
        }),
      ),
    );
    const items = (out.Items ?? []).map(decode);
    const last = out.LastEvaluatedKey?.[K.sortKey]?.S;
    return last && items.length > 0 ? { items, cursor: last } : { items };
  }

  private keyOf(tenant: TenantId): Record<string, AttributeValue> {
    return { [K.partitionKey]: { S: REGISTRY_PARTITION }, [K.sortKey]: { S: tenant } };
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw translateSdkError(e, 'DynamoDB', doing);
    }
  }
}

/** A registry row of a stream image, as the cache refresh logs it (the tenant's `@attributes` entry). */
export function decodeRegistryRow(image: Record<string, AttributeValue>): DecodedRegistryRow {
  const tenantId = image[K.sortKey]?.S;
  if (!tenantId || !image.record) throw new Error('not a registry row: no tenant id or record');
  const record = decode(image);
  if (record.tenantId !== tenantId) throw new Error('the record names another tenant than its sort key');
  const item = attributesItem(record);
  return { tenantId, version: item.version, updatedAt: item.updatedAt, updatedBy: item.updatedBy, valueJson: JSON.stringify(item.value) };
}

function decode(row: Record<string, AttributeValue>): TenantRecord {
  const { record } = unmarshall(row) as { record: TenantRecord };
  return { ...record, attributes: Object.freeze({ ...(record.attributes ?? {}) }) };
}
