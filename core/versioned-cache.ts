import type { ConfigItem } from './item';
import type { TenantId } from './tenant';
import { MAX_SHARDS } from './change-log';

/**
 * The versioned cache: one entry per (tenant, key) holding a value or a versioned tombstone,
 * written only by changes newer than what it holds (see {@link judgeChange}). Every change
 * `apply` accepts is appended, in the same atomic step, to the change log.
 * Layout and rules: docs/cache-layout.md.
 */

/** A change observed at a backend, or made by the API itself. */
export interface CacheChange {
  readonly key: string;
  readonly version: number;
  readonly deleted: boolean;
  /** The value as JSON text; required unless `deleted`. */
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /**
   * Only for stores whose versions restart after a delete (Parameter Store): the store's instant
   * of the change in epoch ms. A value: its LastModifiedDate, the same for every reader of that
   * write. A delete: an instant at or after the deletion (when absence was observed, or the
   * event time rounded up). Leave it out for DynamoDB. See {@link judgeChange}.
   */
  readonly modifiedAtMs?: number;
}

export type CacheLookup =
  | { readonly kind: 'hit'; readonly item: ConfigItem }
  /** Known not to exist: a tombstone (with the deleted version) or a short-lived negative entry. */
  | { readonly kind: 'absent'; readonly reason: 'tombstone' | 'negative'; readonly version?: number }
  | { readonly kind: 'miss' };

export interface ApplyResult {
  /** The change was newer than anything logged for the key, and was appended to the log. */
  readonly applied: boolean;
  /** The log cursor of the appended change. */
  readonly cursor?: string;
}

export interface FillOptions {
  /** Lifetime of a negative entry; the cache's default when absent (e.g. the tag's `cache.negativeTtlSeconds`). */
  readonly negativeTtlMs?: number;
  /** Order the item by its `updatedAt` as store time (Parameter Store keys; see {@link changeFromItem}). */
  readonly withStoreTime?: boolean;
}

export interface VersionedCache {
  get(tenant: TenantId, key: string): Promise<CacheLookup>;
  /** The version-guarded write plus the log append, atomically. Duplicates and stale changes are no-ops. */
  apply(tenant: TenantId, change: CacheChange): Promise<ApplyResult>;
  /**
   * Read-through fill: version-guarded like `apply`, never logged. `undefined` stores a negative
   * entry, only where no entry exists. Resolves true when the cache changed.
   */
  fill(tenant: TenantId, key: string, item: ConfigItem | undefined, options?: FillOptions): Promise<boolean>;
  close(): Promise<void>;
}

/** The part of an entry (or of the log's memory of a key) that decides which change is newer. */
export interface VersionStamp {
  readonly kind: 'value' | 'tombstone';
  readonly version: number;
  readonly modifiedAtMs?: number;
}

/**
 * How a change meets what is held: `wins` replaces it (and is logged), `touch` only moves a
 * tombstone's deletion time later (a second delete of an absent key: nothing to tell anyone),
 * `loses` changes nothing.
 */
export type Verdict = 'wins' | 'touch' | 'loses';

/**
 * The ordering rule, once, in plain code (the Redis Lua script mirrors it line by line).
 * - Nothing held, or only a negative entry: the change wins.
 * - Both sides carry a store time (`modifiedAtMs`; only for stores whose versions restart after
 *   a delete, i.e. Parameter Store): the later time wins, because versions of different
 *   incarnations of a key cannot be compared. A delete at the same instant as the value beats
 *   it; a later delete of an already deleted key only touches the deletion time; equal times
 *   of two values fall back to versions.
 * - Otherwise the higher version wins, and at equal versions a tombstone beats a value (a
 *   delete carries the version it deleted). DynamoDB versions never go backwards across a delete.
 */
export function judgeChange(held: VersionStamp | undefined, incoming: VersionStamp): Verdict {
  if (!held) return 'wins';
  const m = incoming.modifiedAtMs;
  const hm = held.modifiedAtMs;
  if (m !== undefined && hm !== undefined) {
    if (held.kind === 'tombstone' && incoming.kind === 'tombstone') return m > hm ? 'touch' : 'loses';
    if (held.kind === 'value' && incoming.kind === 'tombstone') return m >= hm ? 'wins' : 'loses';
    if (m !== hm) return m > hm ? 'wins' : 'loses';
  }
  if (incoming.version > held.version) return 'wins';
  return incoming.version === held.version && incoming.kind === 'tombstone' && held.kind === 'value' ? 'wins' : 'loses';
}

export function stampOf(change: CacheChange): VersionStamp {
  return { kind: change.deleted ? 'tombstone' : 'value', version: change.version, modifiedAtMs: change.modifiedAtMs };
}

/**
 * The change that puts an item into the cache. `withStoreTime` carries its `updatedAt` as the
 * store time: right for Parameter Store (LastModifiedDate, the store's own clock), wrong for a
 * store whose `updatedAt` comes from many writers' clocks (DynamoDB), which has no need of it.
 */
export function changeFromItem(item: ConfigItem, withStoreTime: boolean): CacheChange {
  const modifiedAtMs = withStoreTime ? Date.parse(item.updatedAt) : Number.NaN;
  return {
    key: item.key,
    version: item.version,
    deleted: false,
    valueJson: JSON.stringify(item.value),
    updatedAt: item.updatedAt,
    updatedBy: item.updatedBy,
    modifiedAtMs: Number.isFinite(modifiedAtMs) ? modifiedAtMs : undefined,
  };
}

/** Throws when a change is not well-formed; both implementations call it before writing. */
export function checkChange(change: CacheChange): void {
  if (!Number.isSafeInteger(change.version) || change.version < 0) throw new Error(`cache change for '${change.key}': version must be a non-negative integer`);
  if (!change.deleted && typeof change.valueJson !== 'string') throw new Error(`cache change for '${change.key}': a value change needs valueJson`);
  if (change.modifiedAtMs !== undefined && !Number.isSafeInteger(change.modifiedAtMs))
    throw new Error(`cache change for '${change.key}': modifiedAtMs must be an integer (epoch ms)`);
}

/** Settings writers and readers must share (shards and namespace) plus the entry lifetimes. */
export interface CacheSettings {
  /** Log shards; the same for every writer and reader. @default 16 */
  readonly shards: number;
  /** Entries kept per shard's log (approximate trimming in Redis). @default 100000 */
  readonly logMaxLen: number;
  /** How long a tombstone is kept. @default 24 h */
  readonly tombstoneTtlMs: number;
  /** How long a negative ("known absent") entry is kept, unless the fill says otherwise. @default 5 s */
  readonly negativeTtlMs: number;
  /** Prefix of every Redis key; lets stages share one cache. @default 'tc' */
  readonly namespace: string;
}

export const DEFAULT_CACHE_SETTINGS: CacheSettings = {
  shards: 16,
  logMaxLen: 100_000,
  tombstoneTtlMs: 24 * 3600 * 1000,
  negativeTtlMs: 5000,
  namespace: 'tc',
};

const NAMESPACE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;

/** Fills defaults and checks ranges; a bad setting fails fast with its name. */
export function resolveCacheSettings(partial: Partial<CacheSettings> = {}): CacheSettings {
  const s = { ...DEFAULT_CACHE_SETTINGS, ...stripUndefined(partial) };
  const positiveInt = (name: string, v: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new Error(`cache setting ${name} must be an integer from 1 to ${max}, got ${v}`);
  };
  positiveInt('shards', s.shards, MAX_SHARDS);
  positiveInt('logMaxLen', s.logMaxLen);
  positiveInt('tombstoneTtlMs', s.tombstoneTtlMs);
  positiveInt('negativeTtlMs', s.negativeTtlMs);
  if (!NAMESPACE_PATTERN.test(s.namespace)) throw new Error(`cache setting namespace must match ${NAMESPACE_PATTERN}, got '${s.namespace}'`);
  return s;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
