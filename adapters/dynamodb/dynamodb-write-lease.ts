import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../core/errors';
import type { ConfigKey } from '../../core/key';
import type { TenantId } from '../../core/tenant';
import { RESERVED_SORT_KEY_PREFIX, TENANT_TABLE_KEYS } from './table-definition';
import { isSdkError, translateSdkError } from '../sdk-errors';
import type { HeldLease, WriteLease } from '../ssm/write-lease';

/** Attributes of a lease row. `leaseExpiresAt` (epoch seconds) doubles as the table's TTL attribute. */
export const LEASE_ATTRIBUTES = {
  owner: 'leaseOwner',
  expiresAt: 'leaseExpiresAt',
} as const;

/** The lease row's sort key, in the reserved `#` space that listings and change routing skip. */
export const leaseSortKey = (key: ConfigKey): string => `${RESERVED_SORT_KEY_PREFIX}lease#${key.raw}`;

export interface DynamoDbWriteLeaseOptions {
  readonly client: DynamoDBClient;
  /** The tenant table (PK `tenantId`, SK `configKey`). */
  readonly tableName: string;
  /** How long a lease lasts unless released: far longer than one write, short enough that a crashed holder blocks briefly. @default 5000 */
  readonly leaseMs?: number;
  /** How long to wait for a lease somebody else holds before giving up with ConflictError. @default 1500 */
  readonly maxWaitMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The write lease as one conditional PutItem per key in the tenant table: the row
 * `(tenantId, #lease#<key>)` is created, or taken over once expired; it is released
 * by a DeleteItem conditioned on our owner token, so a late release never removes a
 * lease that has since passed to another writer. A crashed holder's lease expires by
 * itself (and TTL sweeps the row later).
 */
export class DynamoDbWriteLease implements WriteLease {
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;

  constructor(private readonly opts: DynamoDbWriteLeaseOptions) {
    this.leaseMs = opts.leaseMs ?? 5000;
    this.maxWaitMs = opts.maxWaitMs ?? 1500;
    if (this.leaseMs < 2000) throw new Error('DynamoDbWriteLease: leaseMs must be at least 2000 (expiry has one-second resolution)');
  }

  async run<T>(tenant: TenantId, key: ConfigKey, work: (held: HeldLease) => Promise<T>): Promise<T> {
    const { owner, acquiredAt } = await this.acquire(tenant, key);
    let validFrom = acquiredAt;
    const held: HeldLease = {
      remainingMs: () => validFrom + this.leaseMs - Date.now(),
      renew: async () => {
        validFrom = await this.renew(tenant, key, owner);
      },
    };
    try {
      return await work(held);
    } finally {
      await this.release(tenant, key, owner);
    }
  }

  private async acquire(tenant: TenantId, key: ConfigKey): Promise<{ owner: string; acquiredAt: number }> {
    const deadline = Date.now() + this.maxWaitMs;
    const owner = randomUUID();
    for (let attempt = 0; ; attempt++) {
      // Taken before the call, so the lease we count on never outlives the one stored.
      const acquiredAt = Date.now();
      try {
        await this.opts.client.send(
          new PutItemCommand({
            TableName: this.opts.tableName,
            Item: this.leaseItem(tenant, key, owner, acquiredAt),
            ConditionExpression: 'attribute_not_exists(#sk) OR #exp < :now',
            ExpressionAttributeNames: { '#sk': TENANT_TABLE_KEYS.sortKey, '#exp': LEASE_ATTRIBUTES.expiresAt },
            ExpressionAttributeValues: { ':now': { N: String(Math.floor(acquiredAt / 1000)) } },
          }),
        );
        return { owner, acquiredAt };
      } catch (e) {
        if (!isSdkError(e, 'ConditionalCheckFailedException')) throw translateSdkError(e, 'DynamoDB', `leasing '${key.raw}'`);
      }
      const pause = Math.min(20 * 2 ** attempt, 200) * (0.5 + Math.random() / 2);
      if (Date.now() + pause > deadline) {
        throw new ConflictError(`another writer is changing '${key.raw}' right now; retry in a moment`);
      }
      await sleep(pause);
    }
  }

  /** The lease row: who holds the key, until `fromMs` plus the lease time (whole seconds, rounded up). */
  private leaseItem(tenant: TenantId, key: ConfigKey, owner: string, fromMs: number) {
    return {
      [TENANT_TABLE_KEYS.partitionKey]: { S: tenant },
      [TENANT_TABLE_KEYS.sortKey]: { S: leaseSortKey(key) },
      [LEASE_ATTRIBUTES.owner]: { S: owner },
      [LEASE_ATTRIBUTES.expiresAt]: { N: String(Math.ceil((fromMs + this.leaseMs) / 1000)) },
    };
  }

  /** Pushes the expiry out again, only while the row is still ours. */
  private async renew(tenant: TenantId, key: ConfigKey, owner: string): Promise<number> {
    const renewedAt = Date.now();
    try {
      // A conditional PutItem rather than UpdateItem: the same one write, and no extra IAM action.
      await this.opts.client.send(
        new PutItemCommand({
          TableName: this.opts.tableName,
          Item: this.leaseItem(tenant, key, owner, renewedAt),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': LEASE_ATTRIBUTES.owner },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
      return renewedAt;
    } catch (e) {
      if (isSdkError(e, 'ConditionalCheckFailedException')) {
        throw new ConflictError(`the write lease on '${key.raw}' passed to another writer; retry`);
      }
      throw translateSdkError(e, 'DynamoDB', `renewing the lease on '${key.raw}'`);
    }
  }

  private async release(tenant: TenantId, key: ConfigKey, owner: string): Promise<void> {
    try {
      await this.opts.client.send(
        new DeleteItemCommand({
          TableName: this.opts.tableName,
          Key: {
            [TENANT_TABLE_KEYS.partitionKey]: { S: tenant },
            [TENANT_TABLE_KEYS.sortKey]: { S: leaseSortKey(key) },
          },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': LEASE_ATTRIBUTES.owner },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch {
      // Already expired and taken over (the condition failed), or DynamoDB is unreachable:
      // either way the lease ends by itself at leaseExpiresAt, and the write's own outcome stands.
    }
  }
}
