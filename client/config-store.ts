/**
 * The in-memory copy of the tenant's configuration, version-guarded: per key, nothing older
 * than what is held is ever applied, so duplicated or replayed events (a resume overlapping
 * what was already seen, a snapshot older than an HTTP load) can never move a key back in time.
 * A key's versions increase across a delete made through the API (both backends keep a tombstone).
 * Parameter Store restarts at version 1 when a parameter is deleted behind the API's back and
 * re-created: like the cache's guard, a value written after the delete (by `updatedAt`) then replaces
 * the tombstone even with a lower version, while a late copy of an older write still cannot.
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
}

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
  private readonly tombstones = new Map<string, { version: number; updatedAt: string }>();

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
    if (change.deleted) {
      // A delete carries the version it removed (or a later one): equal is a real delete.
      if (!held) {
        const known = this.tombstones.get(change.key);
        if (!known || change.version > known.version) this.tombstones.set(change.key, { version: change.version, updatedAt: change.updatedAt });
        return undefined;
      }
      if (change.version < held.version) return undefined;
      this.items.delete(change.key);
      this.tombstones.set(change.key, { version: change.version, updatedAt: change.updatedAt });
      return { key: change.key, value: undefined, version: change.version, deleted: true, previous: { value: held.value, version: held.version } };
    }
    if (held) {
      if (change.version <= held.version) return undefined;
    } else {
      const tombstone = this.tombstones.get(change.key);
      const recreatedAfter = tombstone !== undefined && Date.parse(change.updatedAt) > Date.parse(tombstone.updatedAt); // NaN → false
      if (tombstone && change.version <= tombstone.version && !recreatedAfter) return undefined;
    }
    const item: ClientItem = deepFreeze({
      key: change.key,
      value: change.value,
      version: change.version,
      updatedAt: change.updatedAt,
      updatedBy: change.updatedBy,
    });
    this.items.set(change.key, item);
    this.tombstones.delete(change.key);
    return {
      key: change.key,
      value: item.value,
      version: item.version,
      deleted: false,
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
        this.items.delete(key);
      }
    }
    // The listing is the truth about presence now; tombstones from before it say nothing more.
    this.tombstones.clear();
    for (const [key, item] of next) {
      const held = this.items.get(key);
      if (held && held.version >= item.version) continue;
      this.items.set(key, deepFreeze({ ...item }));
      changes.push({
        key,
        value: item.value,
        version: item.version,
        deleted: false,
        ...(held ? { previous: { value: held.value, version: held.version } } : {}),
      });
    }
    return changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
