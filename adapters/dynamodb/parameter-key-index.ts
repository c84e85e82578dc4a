import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { ConfigKey, KeyPrefix } from '../../core/key';
import type { TenantId } from '../../core/tenant';
import { translateSdkError } from '../sdk-errors';
import type { IndexedKey, ParameterKeyIndex } from '../ssm/key-index';
import { RESERVED_SORT_KEY_PREFIX, TENANT_TABLE_KEYS } from './table-definition';

/** Sort-key prefix of index rows: `#pskey#<tag>:<name>`, in the reserved space listings and change routing skip. */
export const PARAMETER_KEY_PREFIX = `${RESERVED_SORT_KEY_PREFIX}pskey#`;
/** The row saying a tenant's tag is fully indexed: `#psindexed#<tag>`. */
export const indexedMarkerKey = (tag: string): string => `${RESERVED_SORT_KEY_PREFIX}psindexed#${tag}`;
const INDEXED_AT = 'indexedAt';
const BATCH = 25;
const FILL_CONCURRENCY = 4;
/** Markers never go away, so a seen one is remembered; the bound only caps memory. */
const MAX_REMEMBERED_MARKERS = 10_000;

export interface DynamoDbParameterKeyIndexOptions {
  readonly client: DynamoDBClient;
  /** The tenant table (PK `tenantId`, SK `configKey`). */
  readonly tableName: string;
  /** @default () => Date.now() */
  readonly now?: () => number;
}

/**
 * The Parameter Store key index as rows of the tenant table, one per key, in the tenant's
 * partition: a page of keys is one strongly consistent Query, in key order. A tenant's tag
 * gets a marker row once its existing parameters have been recorded (the first listing does
 * it); until then listings walk Parameter Store as they always did.
 */
export class DynamoDbParameterKeyIndex implements ParameterKeyIndex {
  private readonly now: () => number;
  private readonly indexedTags = new Set<string>();

  constructor(private readonly opts: DynamoDbParameterKeyIndexOptions) {
    this.now = opts.now ?? (() => Date.now());
  }

  async add(tenant: TenantId, key: ConfigKey): Promise<void> {
    await this.call(`indexing '${key.raw}'`, () =>
      this.opts.client.send(new PutItemCommand({ TableName: this.opts.tableName, Item: this.row(tenant, key.raw) })),
    );
  }

  async remove(tenant: TenantId, key: ConfigKey): Promise<void> {
    await this.call(`unindexing '${key.raw}'`, () =>
      this.opts.client.send(new DeleteItemCommand({ TableName: this.opts.tableName, Key: rowKey(tenant, `${PARAMETER_KEY_PREFIX}${key.raw}`) })),
    );
  }

  async keys(tenant: TenantId, prefix: KeyPrefix, after: string | undefined, limit: number): Promise<{ keys: IndexedKey[]; more: boolean } | undefined> {
    if (!(await this.isIndexed(tenant, prefix.tag))) return undefined;
    const out = await this.call('listing indexed keys', () =>
      this.opts.client.send(
        new QueryCommand({
          TableName: this.opts.tableName,
          KeyConditionExpression: '#pk = :tenant AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': TENANT_TABLE_KEYS.partitionKey, '#sk': TENANT_TABLE_KEYS.sortKey, '#at': INDEXED_AT },
          ExpressionAttributeValues: { ':tenant': { S: tenant }, ':prefix': { S: `${PARAMETER_KEY_PREFIX}${prefix.raw}` } },
          ProjectionExpression: '#sk, #at',
          ExclusiveStartKey: after === undefined ? undefined : rowKey(tenant, `${PARAMETER_KEY_PREFIX}${after}`),
          Limit: limit,
          ConsistentRead: true,
        }),
      ),
    );
    const keys = (out.Items ?? []).map((item) => ({
      key: String(item[TENANT_TABLE_KEYS.sortKey].S).slice(PARAMETER_KEY_PREFIX.length),
      indexedAt: Number(item[INDEXED_AT]?.N ?? 0),
    }));
    return { keys, more: out.LastEvaluatedKey !== undefined };
  }

  async fill(tenant: TenantId, tag: string, keys: readonly string[]): Promise<void> {
    const requests: WriteRequest[] = keys.map((k) => ({ PutRequest: { Item: this.row(tenant, k) } }));
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        let pending: WriteRequest[] | undefined = requests.slice(next, next + BATCH);
        next += BATCH;
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
          const out = await this.call('indexing existing parameters', () =>
            this.opts.client.send(new BatchWriteItemCommand({ RequestItems: { [this.opts.tableName]: pending! } })),
          );
          pending = out.UnprocessedItems?.[this.opts.tableName];
        }
      }
    };
    await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
    // Only once every key is in: a marker before that would let a listing miss the rest.
    await this.call('marking the tag indexed', () =>
      this.opts.client.send(
        new PutItemCommand({
          TableName: this.opts.tableName,
          Item: { ...rowKey(tenant, indexedMarkerKey(tag)), [INDEXED_AT]: { N: String(this.now()) } },
        }),
      ),
    );
    this.remember(tenant, tag);
  }

  async prune(tenant: TenantId, entry: IndexedKey): Promise<void> {
    try {
      await this.opts.client.send(
        new DeleteItemCommand({
          TableName: this.opts.tableName,
          Key: rowKey(tenant, `${PARAMETER_KEY_PREFIX}${entry.key}`),
          ConditionExpression: '#at = :seen',
          ExpressionAttributeNames: { '#at': INDEXED_AT },
          ExpressionAttributeValues: { ':seen': { N: String(entry.indexedAt) } },
        }),
      );
    } catch (e) {
      // Recorded again meanwhile (a writer is creating it): the row is right, keep it.
      if (e instanceof ConditionalCheckFailedException) return;
      throw translateSdkError(e, 'DynamoDB', `unindexing '${entry.key}'`);
    }
  }

  private async isIndexed(tenant: TenantId, tag: string): Promise<boolean> {
    if (this.indexedTags.has(`${tenant}\n${tag}`)) return true;
    const out = await this.call('reading the index marker', () =>
      this.opts.client.send(new GetItemCommand({ TableName: this.opts.tableName, Key: rowKey(tenant, indexedMarkerKey(tag)), ConsistentRead: true })),
    );
    if (!out.Item) return false;
    this.remember(tenant, tag);
    return true;
  }

  private remember(tenant: TenantId, tag: string): void {
    if (this.indexedTags.size >= MAX_REMEMBERED_MARKERS) this.indexedTags.clear();
    this.indexedTags.add(`${tenant}\n${tag}`);
  }

  private row(tenant: TenantId, key: string): Record<string, AttributeValue> {
    return { ...rowKey(tenant, `${PARAMETER_KEY_PREFIX}${key}`), [INDEXED_AT]: { N: String(this.now()) } };
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw translateSdkError(e, 'DynamoDB', doing);
    }
  }
}

function rowKey(tenant: string, sortKey: string): Record<string, AttributeValue> {
  return { [TENANT_TABLE_KEYS.partitionKey]: { S: tenant }, [TENANT_TABLE_KEYS.sortKey]: { S: sortKey } };
}
