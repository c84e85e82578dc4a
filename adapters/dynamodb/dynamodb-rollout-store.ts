import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Page, PageRequest } from '../../core/backend-port';
import { ConflictError, InvalidPageTokenError, PreconditionFailedError } from '../../core/errors';
import type { Rollout } from '../../core/rollout';
import { ROLLOUT_ID_PATTERN } from '../../core/rollout-ids';
import type { RolloutStore } from '../../core/rollout-store';
import { translateSdkError } from '../sdk-errors';
import { TENANT_TABLE_KEYS as K } from './table-definition';

/**
 * The rollouts' partition in the tenant table: one row per rollout, sort key = its id (ids sort
 * by creation time, so newest first is one Query backwards). `_` cannot start a tenant id and
 * no id here is a `<tag>:` key, so these rows are nobody's configuration and the Pipe never
 * passes them to the cache refresh. The record is kept as JSON text, so any value (null, empty
 * strings, deep objects) comes back exactly as written; `revision` and `state` sit beside it
 * for the compare-and-set and the driver's filter.
 */
export const ROLLOUTS_PARTITION = '_rollouts';

export interface DynamoDbRolloutStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

export class DynamoDbRolloutStore implements RolloutStore {
  constructor(private readonly options: DynamoDbRolloutStoreOptions) {}

  async get(id: string): Promise<Rollout | undefined> {
    const out = await this.call('reading a rollout', () =>
      this.options.client.send(new GetItemCommand({ TableName: this.options.tableName, Key: keyOf(id), ConsistentRead: true })),
    );
    return out.Item ? decode(out.Item) : undefined;
  }

  async create(rollout: Rollout): Promise<void> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: encode(rollout),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': K.partitionKey },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new ConflictError(`rollout '${rollout.id}' exists already`);
      throw translateSdkError(e, 'DynamoDB', 'starting a rollout');
    }
  }

  async update(rollout: Rollout): Promise<void> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: encode(rollout),
          ConditionExpression: '#revision = :previous',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: { ':previous': { N: String(rollout.revision - 1) } },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        throw new PreconditionFailedError(`rollout '${rollout.id}' was changed by another request at the same time; read it again and retry`);
      }
      throw translateSdkError(e, 'DynamoDB', 'changing a rollout');
    }
  }

  async list(page: PageRequest): Promise<Page<Rollout>> {
    if (page.cursor !== undefined && !ROLLOUT_ID_PATTERN.test(page.cursor)) throw new InvalidPageTokenError('nextToken is not valid for this listing');
    const out = await this.query({ Limit: page.limit, ExclusiveStartKey: page.cursor ? keyOf(page.cursor) : undefined, ScanIndexForward: false });
    const items = (out.Items ?? []).map(decode);
    const last = out.LastEvaluatedKey?.[K.sortKey]?.S;
    return last && items.length > 0 ? { items, cursor: last } : { items };
  }

  /** Every row is read and the final ones filtered out: rollouts are few (operators start them), so one partition Query stays small. */
  async listActive(): Promise<Rollout[]> {
    const active: Rollout[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.query({
        ExclusiveStartKey: start,
        FilterExpression: '#state IN (:running, :paused) OR #settled = :no',
        ExpressionAttributeNames: { '#pk': K.partitionKey, '#state': 'state', '#settled': 'settled' },
        ExpressionAttributeValues: { ':p': { S: ROLLOUTS_PARTITION }, ':running': { S: 'in_progress' }, ':paused': { S: 'paused' }, ':no': { BOOL: false } },
      });
      active.push(...(out.Items ?? []).map(decode));
      start = out.LastEvaluatedKey;
    } while (start);
    return active;
  }

  private query(input: Partial<QueryCommandInput>) {
    return this.call('listing rollouts', () =>
      this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#pk = :p',
          ExpressionAttributeNames: { '#pk': K.partitionKey },
          ExpressionAttributeValues: { ':p': { S: ROLLOUTS_PARTITION } },
          ConsistentRead: true,
          ...input,
        }),
      ),
    );
  }

  private async call<T>(doing: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw translateSdkError(e, 'DynamoDB', doing);
    }
  }
}

const keyOf = (id: string): Record<string, AttributeValue> => ({ [K.partitionKey]: { S: ROLLOUTS_PARTITION }, [K.sortKey]: { S: id } });

function encode(r: Rollout): Record<string, AttributeValue> {
  return {
    ...keyOf(r.id),
    record: { S: JSON.stringify(r) },
    revision: { N: String(r.revision) },
    state: { S: r.state },
    settled: { BOOL: r.settled === true },
  };
}

function decode(row: Record<string, AttributeValue>): Rollout {
  return JSON.parse(row.record?.S ?? 'null') as Rollout;
}
