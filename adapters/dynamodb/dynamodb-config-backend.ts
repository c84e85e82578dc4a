import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { ConfigBackend, Page, PageRequest } from '../../core/backend-port';
import { ConflictError, InvalidPageTokenError, NotFoundError, PreconditionFailedError, ValueTooLargeError } from '../../core/errors';
import type { ConfigItem, DeleteCommand, ExpectedVersion, HistoryEntry, PutCommand, PutResult } from '../../core/item';
import type { ConfigKey, KeyPrefix } from '../../core/key';
import type { TagRegistry } from '../../core/tag-registry';
import { TENANT_ID_PATTERN, type TenantId } from '../../core/tenant';
import { translateSdkError } from '../sdk-errors';
import { commentIn, currentVersionOf, decodeStoredItem, encodeStoredItem, historyOf, toConfigItem, type StoredItem, type StoredVersion } from './item-codec';
import { ITEM_ATTRIBUTES as A, RESERVED_SORT_KEY_PREFIX, TENANT_TABLE_KEYS } from './table-definition';

export const DEFAULT_HISTORY_DEPTH = 10;
/** DynamoDB's item limit is 400 KB; the estimate below over-counts, so this leaves a margin. */
const ITEM_BYTE_BUDGET = 380 * 1024;
/** Queries read at least this many rows, so a run of tombstones does not cost one round trip each. */
const MIN_QUERY_LIMIT = 25;

/** Every attribute but the history list, which is most of a row's bytes; `value` is a hand-written row's native value. */
const LIVE_ROW_PROJECTION = {
  expression: '#pk, #sk, #version, #valueJson, #updatedAt, #updatedBy, #comment, #deleted, #value',
  names: {
    '#pk': TENANT_TABLE_KEYS.partitionKey,
    '#sk': TENANT_TABLE_KEYS.sortKey,
    '#version': A.version,
    '#valueJson': A.valueJson,
    '#updatedAt': A.updatedAt,
    '#updatedBy': A.updatedBy,
    '#comment': A.comment,
    '#deleted': A.deleted,
    '#value': 'value',
  },
} as const;

export interface DynamoDbConfigBackendOptions {
  /** Created once per process and shared. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Where each tag's `historyDepth` comes from. */
  readonly registry: TagRegistry;
  /** Attempts of one read-modify-write before a busy key is reported as {@link ConflictError}. @default 25 */
  readonly maxWriteAttempts?: number;
  /** Strongly consistent reads, so a writer reads its own write. @default true */
  readonly consistentReads?: boolean;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

/**
 * Config items in the tenant table: one partition per tenant, one row per key.
 *
 * Every write is a read-modify-write: read the row, check the caller's precondition
 * against it, then PutItem the whole new row (value, version+1, history with the
 * previous version pushed in) on the condition that the row is still the one read.
 * One conditional PutItem keeps value, version and history atomic on AWS, moto and
 * dynalite alike (dynalite has no TransactWriteItems). A lost race re-reads and tries
 * again, so unconditional writers lose no update; conditional ones get
 * PreconditionFailedError once the version moved.
 *
 * Delete writes a tombstone (deleted, version+1, history kept), so versions never go
 * backwards, a re-created key continues the sequence, and the stream carries a
 * versioned delete that a version-guarded cache accepts.
 */
export class DynamoDbConfigBackend implements ConfigBackend {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly tags: TagRegistry;
  private readonly maxWriteAttempts: number;
  private readonly consistentReads: boolean;
  private readonly clock: () => Date;

  constructor(options: DynamoDbConfigBackendOptions) {
    if (!options.tableName) throw new Error('DynamoDbConfigBackend: tableName is required');
    this.client = options.client;
    this.tableName = options.tableName;
    this.tags = options.registry;
    this.maxWriteAttempts = options.maxWriteAttempts ?? 25;
    this.consistentReads = options.consistentReads ?? true;
    this.clock = options.clock ?? (() => new Date());
  }

  async get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined> {
    const stored = await this.read(tenant, key.raw, false);
    return stored && toConfigItem(stored);
  }

  async history(tenant: TenantId, key: ConfigKey, limit: number): Promise<readonly HistoryEntry[]> {
    const stored = await this.read(tenant, key.raw, true);
    return stored ? historyOf(stored).slice(0, limit) : [];
  }

  async list(tenant: TenantId, prefix: KeyPrefix, page: PageRequest): Promise<Page<ConfigItem>> {
    let startKey = page.cursor === undefined ? undefined : this.decodeCursor(tenant, prefix, page.cursor);
    const items: ConfigItem[] = [];
    for (;;) {
      // Limit counts rows read before the tombstone filter: keep reading until the page is full.
      const result = await this.call('listing items', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :tenant AND begins_with(#sk, :prefix)',
            FilterExpression: 'attribute_not_exists(#deleted) OR #deleted = :false',
            ProjectionExpression: LIVE_ROW_PROJECTION.expression,
            ExpressionAttributeNames: LIVE_ROW_PROJECTION.names,
            ExpressionAttributeValues: { ':tenant': { S: tenant }, ':prefix': { S: prefix.raw }, ':false': { BOOL: false } },
            ExclusiveStartKey: startKey,
            Limit: Math.max(page.limit - items.length, MIN_QUERY_LIMIT),
            ConsistentRead: this.consistentReads,
          }),
        ),
      );
      for (const row of result.Items ?? []) {
        const item = toConfigItem(decodeStoredItem(row));
        if (!item) continue;
        if (items.length === page.limit) {
          // More live rows than the page holds: continue after the last one returned.
          return { items, cursor: encodeCursor(items[items.length - 1].key) };
        }
        items.push(item);
      }
      if (!result.LastEvaluatedKey) return { items };
      startKey = result.LastEvaluatedKey;
      if (items.length === page.limit) return { items, cursor: encodeCursor(String(startKey[TENANT_TABLE_KEYS.sortKey].S)) };
    }
  }

  /**
   * A Scan of the partition keys (projection `tenantId`, reserved rows and tombstones filtered):
   * it reads every row of the table, so it is the stopgap until a tenant registry lists tenants.
   * A tenant's rows are contiguous in a Scan, so duplicates only occur across page boundaries.
   */
  async listTenants(page: PageRequest): Promise<Page<TenantId>> {
    const result = await this.call('listing tenants', () =>
      this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ProjectionExpression: '#pk',
          FilterExpression: 'NOT begins_with(#sk, :reserved) AND (attribute_not_exists(#deleted) OR #deleted = :false)',
          ExpressionAttributeNames: { '#pk': TENANT_TABLE_KEYS.partitionKey, '#sk': TENANT_TABLE_KEYS.sortKey, '#deleted': A.deleted },
          ExpressionAttributeValues: { ':reserved': { S: RESERVED_SORT_KEY_PREFIX }, ':false': { BOOL: false } },
          ExclusiveStartKey: page.cursor === undefined ? undefined : decodeScanCursor(page.cursor),
          Limit: Math.max(page.limit, MIN_QUERY_LIMIT),
        }),
      ),
    );
    const tenants = new Set<TenantId>();
    for (const row of result.Items ?? []) {
      const id = row[TENANT_TABLE_KEYS.partitionKey]?.S;
      if (id !== undefined && TENANT_ID_PATTERN.test(id)) tenants.add(id as TenantId);
    }
    const last = result.LastEvaluatedKey;
    return last ? { items: [...tenants], cursor: encodeScanCursor(last) } : { items: [...tenants] };
  }

  async put(tenant: TenantId, command: PutCommand): Promise<PutResult> {
    const depth = this.tags.resolve(command.key).historyDepth ?? DEFAULT_HISTORY_DEPTH;
    const valueJson = JSON.stringify(command.value);
    return this.readModifyWrite(tenant, command.key.raw, (current) => {
      const live = current && !current.deleted ? current : undefined;
      checkPutPrecondition(command.key.raw, command.expectedVersion, live);
      // The previous version keeps its comment in the history; the new one has only its own (none if the write gave none).
      const previous: StoredVersion[] = live ? [currentVersionOf(live)] : [];
      const next: StoredItem = {
        tenantId: tenant,
        configKey: command.key.raw,
        version: (current?.version ?? 0) + 1,
        deleted: false,
        valueJson,
        updatedAt: this.clock().toISOString(),
        updatedBy: command.updatedBy,
        ...commentIn(command.comment),
        history: [...previous, ...(current?.history ?? [])].slice(0, depth),
        hasVersionAttribute: true,
      };
      return {
        next,
        result: (): PutResult => ({ item: toConfigItem(next)!, created: !live }),
      };
    });
  }

  async delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }> {
    const depth = this.tags.resolve(command.key).historyDepth ?? DEFAULT_HISTORY_DEPTH;
    return this.readModifyWrite(tenant, command.key.raw, (current) => {
      if (!current || current.deleted) throw new NotFoundError(`key '${command.key.raw}' does not exist`);
      if (command.expectedVersion !== undefined && command.expectedVersion !== current.version) {
        throw new PreconditionFailedError(`key '${command.key.raw}' is at version ${current.version}, not ${command.expectedVersion}`, current.version);
      }
      const deletedVersion = currentVersionOf(current);
      const tombstone: StoredItem = {
        tenantId: tenant,
        configKey: command.key.raw,
        version: current.version + 1,
        deleted: true,
        updatedAt: this.clock().toISOString(),
        updatedBy: command.deletedBy,
        history: [deletedVersion, ...current.history].slice(0, depth),
        hasVersionAttribute: true,
      };
      return { next: tombstone, result: () => ({ version: current.version }) };
    });
  }

  /**
   * Reads the row, lets `decide` check preconditions and build the next row, and writes it
   * only if the row is unchanged since the read; on a lost race, `decide` runs again on
   * the newer row. `decide` throws domain errors to stop without writing.
   */
  private async readModifyWrite<R>(
    tenant: TenantId,
    configKey: string,
    decide: (current: StoredItem | undefined) => { next: StoredItem; result: () => R },
  ): Promise<R> {
    let current = await this.read(tenant, configKey, true);
    for (let attempt = 1; ; attempt++) {
      const { next, result } = decide(current);
      const item = fitIntoItemLimit(next, configKey);
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ...unchangedSince(current),
            // AWS and moto return the row that failed the check, saving a read; dynalite does not.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return result();
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw translateSdkError(e, 'DynamoDB', `writing '${configKey}'`);
        if (attempt >= this.maxWriteAttempts) {
          throw new ConflictError(`key '${configKey}' is being written by others right now; retry`, { cause: e });
        }
        await backoff(attempt);
        current = e.Item ? decodeStoredItem(e.Item) : await this.read(tenant, configKey, true);
      }
    }
  }

  private async read(tenant: TenantId, configKey: string, withHistory: boolean): Promise<StoredItem | undefined> {
    const result = await this.call(`reading '${configKey}'`, () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: rowKey(tenant, configKey),
          ConsistentRead: this.consistentReads,
          ...(withHistory ? {} : { ProjectionExpression: LIVE_ROW_PROJECTION.expression, ExpressionAttributeNames: LIVE_ROW_PROJECTION.names }),
        }),
      ),
    );
    return result.Item ? decodeStoredItem(result.Item) : undefined;
  }

  private decodeCursor(tenant: TenantId, prefix: KeyPrefix, cursor: string): Record<string, AttributeValue> {
    let configKey: unknown;
    try {
      configKey = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown }).k;
    } catch {
      configKey = undefined;
    }
    // The tenant never comes from the cursor, and a cursor cannot jump outside the prefix.
    if (typeof configKey !== 'string' || !configKey.startsWith(prefix.raw)) {
      throw new InvalidPageTokenError('the page cursor does not belong to this listing');
    }
    return rowKey(tenant, configKey);
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw translateSdkError(e, 'DynamoDB', doing);
    }
  }
}

function checkPutPrecondition(configKey: string, expected: ExpectedVersion, live: StoredItem | undefined): void {
  if (expected === 'absent' && live) {
    throw new PreconditionFailedError(`key '${configKey}' already exists (version ${live.version})`, live.version);
  }
  if (typeof expected === 'number' && !live) {
    throw new PreconditionFailedError(`key '${configKey}' does not exist, so it is not at version ${expected}`);
  }
  if (typeof expected === 'number' && live && live.version !== expected) {
    throw new PreconditionFailedError(`key '${configKey}' is at version ${live.version}, not ${expected}`, live.version);
  }
}

/** The write condition: the row is exactly as read (same version, or still absent). */
function unchangedSince(
  current: StoredItem | undefined,
): Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  if (!current) {
    return {
      ConditionExpression: 'attribute_not_exists(#sk)',
      ExpressionAttributeNames: { '#sk': TENANT_TABLE_KEYS.sortKey },
    };
  }
  if (!current.hasVersionAttribute) {
    return {
      ConditionExpression: 'attribute_exists(#sk) AND attribute_not_exists(#version)',
      ExpressionAttributeNames: { '#sk': TENANT_TABLE_KEYS.sortKey, '#version': A.version },
    };
  }
  return {
    ConditionExpression: '#version = :read',
    ExpressionAttributeNames: { '#version': A.version },
    ExpressionAttributeValues: { ':read': { N: String(current.version) } },
  };
}

/**
 * Drops the oldest history entries until the row fits DynamoDB's 400 KB item limit,
 * so a deep history of large values shortens instead of failing the write. Only a
 * value that cannot fit even alone is refused.
 */
function fitIntoItemLimit(next: StoredItem, configKey: string): Record<string, AttributeValue> {
  let candidate = next;
  for (;;) {
    const item = encodeStoredItem(candidate);
    // JSON of the marshalled row over-counts the real item size (type tags, quotes), never under-counts.
    if (Buffer.byteLength(JSON.stringify(item), 'utf8') <= ITEM_BYTE_BUDGET) return item;
    if (candidate.history.length === 0) {
      throw new ValueTooLargeError(`the value of '${configKey}' is too large for a DynamoDB item`);
    }
    candidate = { ...candidate, history: candidate.history.slice(0, -1) };
  }
}

function rowKey(tenant: string, configKey: string): Record<string, AttributeValue> {
  return { [TENANT_TABLE_KEYS.partitionKey]: { S: tenant }, [TENANT_TABLE_KEYS.sortKey]: { S: configKey } };
}

function encodeScanCursor(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify({ t: key[TENANT_TABLE_KEYS.partitionKey]?.S, k: key[TENANT_TABLE_KEYS.sortKey]?.S }), 'utf8').toString('base64url');
}

function decodeScanCursor(cursor: string): Record<string, AttributeValue> {
  let parsed: { t?: unknown; k?: unknown } | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; k?: unknown };
  } catch {
    parsed = undefined;
  }
  if (typeof parsed?.t !== 'string' || typeof parsed.k !== 'string') throw new InvalidPageTokenError('the tenant listing cursor is malformed');
  return { [TENANT_TABLE_KEYS.partitionKey]: { S: parsed.t }, [TENANT_TABLE_KEYS.sortKey]: { S: parsed.k } };
}

function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
}

/** Jittered, growing pause between attempts on a contended key (5 ms .. ~100 ms). */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(100, 5 * 2 ** Math.min(attempt, 5));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
