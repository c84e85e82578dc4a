/**
 * The in-memory copy of the tenant's configuration, version-guarded: per key, nothing older
 * than what is held is ever applied, so duplicated or replayed events (a resume overlapping
 * what was already seen, a snapshot older than an HTTP load) can never move a key back in time.
 * A key's versions increase across a delete made through the API (both backends keep a tombstone).
 * Parameter Store restarts at version 1 when a parameter is deleted behind the API's back and
 * re-created: like the cache's guard, a value written after the delete (by `updatedAt`) then replaces
 * the tombstone even with a lower version, while a late copy of an older write still cannot.
 *
 * Layers (docs/design.md §8.2): an item's `source` says which layer its value comes from, and
 * versions only compare within one source — a tenant's own value at version 7 gives way to the
 * platform default at version 2 when the override is deleted. The stream sends such a switch in
 * order, so a change from another source is applied as it comes. Items from a layer (defaults)
 * are interned in a {@link SharedItems} the stores of one client share: a client following
 * thousands of tenants holds each default's value once, not once per tenant.
 */
import type { ClientItem, ConfigChange } from './types';

/** A change as it arrives from the stream, value already decoded. */
export interface IncomingChange {
  readonly key: string;
  readonly value?: unknown;
  readonly version: number;
  readonly deleted: boolean;
  readonly updatedAt: string;
  readonly updatedBy: string;
  readonly source?: string;
}

/** Frozen default items shared by the stores of one client, counted so a replaced version is let go. */
export class SharedItems {
  private readonly items = new Map<string, { item: ClientItem; refs: number }>();

  get size(): number {
    return this.items.size;
  }

  take(item: ClientItem): ClientItem {
    const id = idOf(item);
    const held = this.items.get(id);
    if (held) {
      held.refs += 1;
      return held.item;
    }
    const frozen = deepFreeze({ ...item });
    this.items.set(id, { item: frozen, refs: 1 });
    return frozen;
  }

  release(item: ClientItem): void {
    const id = idOf(item);
    const held = this.items.get(id);
    if (held && held.item === item && --held.refs === 0) this.items.delete(id);
  }
}

const idOf = (item: ClientItem) => `${item.source ?? ''}\n${item.key}\n${item.version}`;
const isShared = (item: ClientItem) => item.source !== undefined && item.source !== 'tenant';
/** Whether versions of the two may be compared: only within one source. */
const sameSource = (a: { source?: string }, b: { source?: string }) => (a.source ?? 'tenant') === (b.source ?? 'tenant');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}

export class ConfigStore {
  private readonly items = new Map<string, ClientItem>();
  /** Each key deleted by a change, so a late duplicate of an older write stays ignored. */
  private readonly tombstones = new Map<string, { version: number; updatedAt: string; source?: string }>();

  constructor(private readonly shared?: SharedItems) {}

  get size(): number {
    return this.items.size;
  }

  get(key: string): ClientItem | undefined {
    return this.items.get(key);
  }

  keys(prefix = ''): string[] {
    return [...this.items.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  all(): ClientItem[] {
    return this.keys().map((k) => this.items.get(k) as ClientItem);
  }

  /** Applies one change if it is newer than what is held; returns what changed, or undefined. */
  apply(change: IncomingChange): ConfigChange | undefined {
    const held = this.items.get(change.key);
    const source = change.source === undefined ? {} : { source: change.source };
    if (change.deleted) {
      // A delete carries the version it removed (or a later one): equal is a real delete.
      if (!held) {
        const known = this.tombstones.get(change.key);
        if (!known || !sameSource(known, change) || change.version > known.version) {
          this.tombstones.set(change.key, { version: change.version, updatedAt: change.updatedAt, ...source });
        }
        return undefined;
      }
      if (sameSource(held, change) && change.version < held.version) return undefined;
      this.drop(change.key, held);
      this.tombstones.set(change.key, { version: change.version, updatedAt: change.updatedAt, ...source });
      return { key: change.key, value: undefined, version: change.version, deleted: true, ...source, previous: { value: held.value, version: held.version } };
    }
    if (held) {
      if (sameSource(held, change) && change.version <= held.version) return undefined;
    } else {
      const tombstone = this.tombstones.get(change.key);
      const recreatedAfter = tombstone !== undefined && Date.parse(change.updatedAt) > Date.parse(tombstone.updatedAt); // NaN → false
      if (tombstone && sameSource(tombstone, change) && change.version <= tombstone.version && !recreatedAfter) return undefined;
    }
    const item = this.hold({
      key: change.key,
      value: change.value,
      version: change.version,
      updatedAt: change.updatedAt,
      updatedBy: change.updatedBy,
      ...source,
    });
    if (held) this.drop(change.key, held);
    this.items.set(change.key, item);
    this.tombstones.delete(change.key);
    return {
      key: change.key,
      value: item.value,
      version: item.version,
      deleted: false,
      ...source,
      ...(held ? { previous: { value: held.value, version: held.version } } : {}),
    };
  }

  /**
   * Replaces the whole state with a complete listing (a snapshot, an HTTP load, the snapshot file)
   * and returns the differences, deletions included, in key order. A key held at a newer version
   * than the listing keeps the newer one; the changes that led there will follow as duplicates.
   */
  replaceAll(listing: readonly ClientItem[]): ConfigChange[] {
    const next = new Map<string, ClientItem>();
    for (const item of listing) {
      const seen = next.get(item.key);
      if (!seen || item.version > seen.version) next.set(item.key, item);
    }
    const changes: ConfigChange[] = [];
    for (const [key, held] of this.items) {
      if (!next.has(key)) {
        changes.push({ key, value: undefined, version: held.version, deleted: true, previous: { value: held.value, version: held.version } });
        this.drop(key, held);
      }
    }
    // The listing is the truth about presence now; tombstones from before it say nothing more.
    this.tombstones.clear();
    for (const [key, item] of next) {
      const held = this.items.get(key);
      if (held && sameSource(held, item) && held.version >= item.version) continue;
      if (held) this.drop(key, held);
      const kept = this.hold(item);
      this.items.set(key, kept);
      changes.push({
        key,
        value: kept.value,
        version: kept.version,
        deleted: false,
        ...(kept.source === undefined ? {} : { source: kept.source }),
        ...(held ? { previous: { value: held.value, version: held.version } } : {}),
      });
    }
    return changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Empties the store, letting go of its shared items (a tenant dropped by its client). */
  clear(): void {
    for (const [key, held] of this.items) this.drop(key, held);
    this.tombstones.clear();
  }

  private hold(item: ClientItem): ClientItem {
    return this.shared && isShared(item) ? this.shared.take(item) : deepFreeze({ ...item });
  }

  private drop(key: string, held: ClientItem): void {
    this.items.delete(key);
    if (this.shared && isShared(held)) this.shared.release(held);
  }
}
