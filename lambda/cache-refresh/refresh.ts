import type { ConfigBackend } from '../../core/backend-port';
import { parseChangeEvent, type AttributesChange, type ChangeEventContext, type ParameterChangeNotice, type TableChange } from '../../core/change-events';
import { ATTRIBUTES_KEY } from '../../core/tenant-registry';
import type { TenantId } from '../../core/tenant';
import { changeFromItem, type ApplyResult, type CacheChange, type VersionedCache } from '../../core/versioned-cache';
import type { GenericLogger } from '../../core/logger';
import { changeOriginOf, type ChangeOrigin } from '../shared/write-trace';

/**
 * The cache-refresh use case: one change event in, at most one cache change out.
 *
 * - DynamoDB stream record: the image carries the value and its version, so the change
 *   goes straight to the cache, with no store read.
 * - Parameter Store Change: the event names the parameter only, so the value and
 *   version come from one read through the SSM backend (absent → tombstone).
 * - A tenant registry row: the tenant's `@attributes` entry, from the image like a table row.
 *
 * Duplicated, late and out-of-order events are harmless: the cache takes a change only
 * if it is newer than what it holds. Malformed or foreign events are logged (never with
 * values) and dropped; a failing cache or store throws, so the caller's retry policy and
 * DLQ take over.
 */

/** Powertools' Metrics fits (units are CloudWatch's: 'Count', 'Milliseconds'). */
export interface RefreshMetrics {
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): unknown;
}

export const REFRESH_METRICS = {
  lag: 'RefreshLagMs',
  applied: 'Applied',
  ignored: 'Ignored',
  dropped: 'Dropped',
} as const;

export interface CacheRefreshDependencies {
  readonly cache: VersionedCache;
  /** Reads a Parameter Store key (the SSM backend); secret tags come back decrypted. */
  readonly parameters: Pick<ConfigBackend, 'get'>;
  readonly events: ChangeEventContext;
  readonly logger: GenericLogger;
  readonly metrics: RefreshMetrics;
  /** @default Date.now */
  readonly now?: () => number;
}

export type RefreshOutcome =
  | {
      readonly outcome: 'applied';
      readonly source: 'dynamodb' | 'ssm';
      readonly tenant: string;
      readonly key: string;
      readonly version: number;
      readonly deleted: boolean;
      readonly cursor?: string;
      readonly lagMs: number;
    }
  | {
      readonly outcome: 'ignored';
      readonly source: 'dynamodb' | 'ssm';
      readonly tenant: string;
      readonly key: string;
      readonly version: number;
      readonly deleted: boolean;
    }
  | { readonly outcome: 'dropped'; readonly kind: 'foreign' | 'malformed'; readonly reason: string };

/** Who deleted a parameter is not in the event; the cache entry still needs a writer. */
const UNKNOWN_WRITER = 'unknown';

export class CacheRefresher {
  private readonly now: () => number;

  constructor(private readonly deps: CacheRefreshDependencies) {
    this.now = deps.now ?? Date.now;
  }

  async refresh(event: unknown): Promise<RefreshOutcome> {
    const parsed = parseChangeEvent(event, this.deps.events);
    // Every line about this change names the write's trace (DynamoDB) or the event (both).
    const origin = changeOriginOf(event);
    switch (parsed.kind) {
      case 'table-change':
        return this.fromTable(parsed, origin);
      case 'parameter-change':
        return this.fromParameterStore(parsed, origin);
      case 'attributes-change':
        return this.fromRegistry(parsed, origin);
      default: {
        this.deps.metrics.addMetric(REFRESH_METRICS.dropped, 'Count', 1);
        this.deps.logger.warn('change event dropped', { kind: parsed.kind, reason: parsed.reason, ...eventIdentity(event) });
        return { outcome: 'dropped', kind: parsed.kind, reason: parsed.reason };
      }
    }
  }

  private async fromTable(change: TableChange, origin: ChangeOrigin): Promise<RefreshOutcome> {
    // No modifiedAtMs: the table's versions never go backwards (deletes are versioned
    // tombstones), so the version alone orders its changes, free of clock skew.
    const result = await this.deps.cache.apply(change.tenant, {
      key: change.key.raw,
      version: change.version,
      deleted: change.deleted,
      valueJson: change.valueJson,
      updatedAt: change.updatedAt,
      updatedBy: change.updatedBy,
    });
    return this.report('dynamodb', change.tenant, change.key.raw, change.version, change.deleted, change.modifiedAtMs, result, origin);
  }

  /** A registry row: the tenant's `@attributes` entry, ordered by the record's version like a table row. */
  private async fromRegistry(change: AttributesChange, origin: ChangeOrigin): Promise<RefreshOutcome> {
    const result = await this.deps.cache.apply(change.tenant, {
      key: ATTRIBUTES_KEY,
      version: change.version,
      deleted: change.deleted,
      valueJson: change.valueJson,
      updatedAt: change.updatedAt,
      updatedBy: change.updatedBy,
    });
    return this.report('dynamodb', change.tenant, ATTRIBUTES_KEY, change.version, change.deleted, change.modifiedAtMs, result, origin);
  }

  private async fromParameterStore(notice: ParameterChangeNotice, origin: ChangeOrigin): Promise<RefreshOutcome> {
    const { tenant, key } = notice;
    // If the read finds nothing, this is the tombstone's time: absence held at some instant
    // during the read, and the send time can never be later than a re-creation the read
    // missed, so such a re-created value always wins over the tombstone.
    const readSentAtMs = this.now();
    const item = await this.deps.parameters.get(tenant, key);
    if (item) {
      // Store time (LastModifiedDate) orders it: Parameter Store restarts versions after a delete.
      const result = await this.apply(tenant, changeFromItem(item, true));
      return this.report('ssm', tenant, key.raw, item.version, false, notice.modifiedAtMs, result, origin);
    }
    // A delete carries the version it deleted; the store no longer knows it, the cache may.
    const held = await this.deps.cache.get(tenant, key.raw);
    const deletedVersion = held.kind === 'hit' ? held.item.version : held.kind === 'absent' ? (held.version ?? 0) : 0;
    const result = await this.apply(tenant, this.tombstone(key.raw, deletedVersion, readSentAtMs));
    return this.report('ssm', tenant, key.raw, deletedVersion, true, notice.modifiedAtMs, result, origin);
  }

  /** A tombstone with the instant absence was seen (the cache orders Parameter Store deletes by it). */
  private tombstone(key: string, version: number, atMs: number): CacheChange {
    return { key, version, deleted: true, updatedAt: new Date(atMs).toISOString(), updatedBy: UNKNOWN_WRITER, modifiedAtMs: atMs };
  }

  private apply(tenant: TenantId, change: CacheChange): Promise<ApplyResult> {
    return this.deps.cache.apply(tenant, change);
  }

  private report(
    source: 'dynamodb' | 'ssm',
    tenant: string,
    key: string,
    version: number,
    deleted: boolean,
    changedAtMs: number,
    result: ApplyResult,
    origin: ChangeOrigin,
  ): RefreshOutcome {
    const { metrics, logger } = this.deps;
    if (!result.applied) {
      metrics.addMetric(REFRESH_METRICS.ignored, 'Count', 1);
      logger.info('change already in the cache or older than it', { source, tenant, key, version, deleted, ...origin });
      return { outcome: 'ignored', source, tenant, key, version, deleted };
    }
    const lagMs = Math.max(0, this.now() - changedAtMs);
    metrics.addMetric(REFRESH_METRICS.applied, 'Count', 1);
    metrics.addMetric(REFRESH_METRICS.lag, 'Milliseconds', lagMs);
    logger.info('cache refreshed', { source, tenant, key, version, deleted, lagMs, cursor: result.cursor, ...origin });
    return { outcome: 'applied', source, tenant, key, version, deleted, cursor: result.cursor, lagMs };
  }
}

/** What identifies an event in a log line: never its detail, which may hold values. */
function eventIdentity(event: unknown): Record<string, unknown> {
  if (typeof event !== 'object' || event === null) return { eventType: typeof event };
  const e = event as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : undefined);
  return { eventId: text(e.id), source: text(e.source), detailType: text(e['detail-type']) };
}
