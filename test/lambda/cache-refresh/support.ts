import fc from 'fast-check';
import type { TenantId } from '../../../core/tenant';
import type { VersionedCache } from '../../../core/versioned-cache';
import type { CacheRefresher, RefreshMetrics } from '../../../lambda/cache-refresh/refresh';
import { pipeEvent, writeEvent } from '../../events/support/change-events';
import type { GenericLogger } from '../../../core/logger';

/** Collects what the refresher reports: the metrics it adds and every log line with its attributes. */
export class Recorder implements RefreshMetrics, GenericLogger {
  readonly metrics: Array<{ name: string; unit: string; value: number }> = [];
  readonly lines: Array<{ level: 'info' | 'warn' | 'error'; message: string; attributes: Record<string, unknown> }> = [];

  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): void {
    this.metrics.push({ name, unit, value });
  }

  info(message: string, ...attributes: Record<string, unknown>[]): void {
    this.lines.push({ level: 'info', message, attributes: Object.assign({}, ...attributes) });
  }

  warn(message: string, ...attributes: Record<string, unknown>[]): void {
    this.lines.push({ level: 'warn', message, attributes: Object.assign({}, ...attributes) });
  }

  error(message: string, ...attributes: Record<string, unknown>[]): void {
    this.lines.push({ level: 'error', message, attributes: Object.assign({}, ...attributes) });
  }

  debug(): void {}

  count(name: string): number {
    return this.metrics.filter((m) => m.name === name).reduce((n, m) => n + m.value, 0);
  }

  /** Everything logged, as one string: for checks that no value ever reaches a log. */
  logText(): string {
    return JSON.stringify(this.lines);
  }
}

export interface KeyChange {
  readonly version: number;
  readonly deleted: boolean;
  readonly event: Record<string, unknown>;
}

/**
 * The change events of one key's history, versions 1..n as the DynamoDB backend writes them:
 * values, API deletes (tombstones that keep counting), and possibly a final hand REMOVE.
 */
export function keyHistory(key: string): fc.Arbitrary<KeyChange[]> {
  return fc
    .record({ n: fc.integer({ min: 1, max: 8 }), deletes: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), endsRemoved: fc.boolean() })
    .map(({ n, deletes, endsRemoved }) => {
      const events: KeyChange[] = Array.from({ length: n }, (_, i) => {
        const version = i + 1;
        const previous = version > 1 ? { version: version - 1, value: `v${version - 1}` } : undefined;
        return deletes[i] && version > 1
          ? { version, deleted: true, event: pipeEvent({ eventName: 'MODIFY', key, newRow: { version, deleted: true }, oldRow: previous }) }
          : { version, deleted: false, event: writeEvent(version, `v${version}`, key) };
      });
      const last = events[events.length - 1];
      if (endsRemoved && !last.deleted) {
        events.push({
          version: last.version,
          deleted: true,
          event: pipeEvent({ eventName: 'REMOVE', key, oldRow: { version: last.version, value: `v${last.version}` } }),
        });
      }
      return events;
    });
}

/** A history, and its events delivered shuffled, each at least twice, some a third time. */
export function deliveries(key: string): fc.Arbitrary<{ history: KeyChange[]; delivered: KeyChange[] }> {
  return keyHistory(key).chain((history) =>
    fc
      .tuple(fc.shuffledSubarray([...history, ...history], { minLength: history.length * 2 }), fc.array(fc.nat(history.length - 1), { maxLength: 4 }))
      .map(([shuffled, extra]) => ({ history, delivered: [...shuffled, ...extra.map((i) => history[i])] })),
  );
}

/** What the cache holds for a key, reduced to kind, version and value. */
export async function cachedState(cache: VersionedCache, tenant: TenantId, key: string): Promise<{ kind: string; version?: number; value?: unknown }> {
  const found = await cache.get(tenant, key);
  if (found.kind === 'hit') return { kind: 'value', version: found.item.version, value: found.item.value };
  if (found.kind === 'absent') return { kind: found.reason, version: found.version };
  return { kind: 'miss' };
}

/**
 * Delivers the events one by one and checks, after each, that the cache never went back
 * (a tombstone ranks above a value of the same version: it carries the version it deleted);
 * then that it ends at the newest change.
 */
export async function deliverAndCheck(
  refresher: CacheRefresher,
  cache: VersionedCache,
  tenant: TenantId,
  key: string,
  run: { history: KeyChange[]; delivered: KeyChange[] },
): Promise<void> {
  let seen = { version: 0, rank: 0 };
  for (const { event } of run.delivered) {
    const outcome = await refresher.refresh(event);
    if (outcome.outcome === 'dropped') throw new Error(`a valid event was dropped: ${outcome.reason}`);
    const now = await cachedState(cache, tenant, key);
    const current = { version: now.version ?? 0, rank: now.kind === 'tombstone' ? 1 : 0 };
    if (current.version < seen.version || (current.version === seen.version && current.rank < seen.rank)) {
      throw new Error(`the cache went back from ${JSON.stringify(seen)} to ${JSON.stringify(current)}`);
    }
    seen = current;
  }
  const newest = run.history[run.history.length - 1];
  const expected = newest.deleted ? { kind: 'tombstone', version: newest.version } : { kind: 'value', version: newest.version, value: `v${newest.version}` };
  const final = await cachedState(cache, tenant, key);
  if (JSON.stringify(final) !== JSON.stringify(expected)) throw new Error(`the cache ended at ${JSON.stringify(final)}, not ${JSON.stringify(expected)}`);
}
