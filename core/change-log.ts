import { createHash } from 'node:crypto';
import { InvalidRequestError } from './errors';
import type { TenantId } from './tenant';

/**
 * The change log: every change the versioned cache accepts, in order, per log shard.
 * A tenant's changes all land in one shard (see {@link shardOf}), so a cursor is
 * per tenant; one reader per process follows every shard and fans out in memory.
 * Layout, ordering rules and the cursor format: docs/cache-layout.md.
 */

/** One accepted change, as the fanout sends it. */
export interface ChangeEvent {
  /** Where this event sits in its shard's log; resume after it with {@link ChangeLog.readAfter}. */
  readonly cursor: string;
  readonly tenant: string;
  readonly key: string;
  readonly version: number;
  readonly deleted: boolean;
  /** The value as JSON text; absent for deletes. */
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** A cursor that passed {@link parseCursor}. */
export interface ParsedCursor {
  readonly raw: string;
  readonly shard: number;
  /** Names one incarnation of the shard's log; a log that was lost and re-created gets a new epoch. */
  readonly epoch: string;
  /** The stream entry id `<ms>-<seq>`, `0-0` for "before the first entry". */
  readonly id: string;
}

/** A cursor that is not one we issued: bad syntax, an unknown shard, or the shard of another tenant. Maps to 400 / INVALID_ARGUMENT. */
export class InvalidCursorError extends InvalidRequestError {}

export type ReadAfterResult =
  | {
      readonly trimmed: false;
      /** The tenant's events after the cursor, oldest first. */
      readonly events: readonly ChangeEvent[];
      /** Where the read stopped (possibly past other tenants' entries): resume or heartbeat from here. */
      readonly cursor: string;
      /** True when the log holds more entries after `cursor`. */
      readonly more: boolean;
    }
  /** Entries after the cursor were trimmed away or lost: the caller must take a fresh snapshot. */
  | { readonly trimmed: true };

/** Where a follower starts: the newest entry of every shard, or a cursor per shard. */
export type FollowStart = 'now' | Readonly<Record<number, string>>;

export interface FollowOptions {
  /** How long one blocking read waits for new entries. @default 5000 */
  readonly blockMs?: number;
  /** Most entries fetched per read and shard. @default 500 */
  readonly batchSize?: number;
  /**
   * Entries of this shard may have been missed: its log was lost and re-created (cache restart),
   * or a start cursor was already trimmed. Subscribers of tenants in the shard must resync.
   */
  readonly onGap?: (shard: number) => void;
  /** A read failed; the follower keeps retrying with a capped backoff. */
  readonly onError?: (error: unknown) => void;
}

export interface ChangeLogFollower {
  /** Resolves once the start positions are fixed: every change appended after that is delivered. */
  readonly ready: Promise<void>;
  /** The cursor of the newest entry read from a shard: what an idle subscriber's heartbeat carries. */
  position(shard: number): string | undefined;
  stop(): Promise<void>;
}

export interface ChangeLog {
  readonly shardCount: number;
  shardOf(tenant: string): number;
  /**
   * The cursor of the newest entry in the tenant's shard (or of its beginning). A snapshot
   * taken after this call already holds every change up to the cursor.
   */
  head(tenant: TenantId): Promise<string>;
  /** The tenant's events after `cursor`, at most `limit`; or `{trimmed: true}` when some may be gone. */
  readAfter(tenant: TenantId, cursor: string, limit: number): Promise<ReadAfterResult>;
  /** The cursor of the newest entry of `shard` (or of its beginning): {@link head} for a stream of many tenants. */
  headOfShard(shard: number): Promise<string>;
  /**
   * {@link readAfter} for the tenants `accepts` admits, in the shard of `cursor` (any shard):
   * how a stream of many tenants catches up, one shard at a time.
   */
  readShardAfter(cursor: string, accepts: (tenant: string) => boolean, limit: number): Promise<ReadAfterResult>;
  /**
   * Follows every shard: `onBatch` gets each batch of new events (all tenants), in log order
   * per shard; the next read waits for a returned promise (backpressure).
   */
  follow(start: FollowStart, onBatch: (events: readonly ChangeEvent[]) => void | Promise<void>, options?: FollowOptions): ChangeLogFollower;
  /** Throws {@link InvalidCursorError} for anything but a well-formed cursor of a known shard. */
  parseCursor(raw: string): ParsedCursor;
  close(): Promise<void>;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The log shard of a tenant: 32-bit FNV-1a of the UTF-8 tenant id, modulo the shard count.
 * Writers and readers must use the same shard count; other languages can reproduce it exactly.
 */
export function shardOf(tenant: string, shards: number): number {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(tenant, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash % shards;
}

export const MAX_SHARDS = 1024;
export const CURSOR_VERSION = 'c1';
const CURSOR_PATTERN = /^c1\.(0|[1-9][0-9]{0,3})\.([0-9a-f]{12})\.(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const MAX_CURSOR_LENGTH = 64;
const MAX_U64 = (1n << 64n) - 1n;
export const START_ID = '0-0';

export function encodeCursor(shard: number, epoch: string, id: string): string {
  return `${CURSOR_VERSION}.${shard}.${epoch}.${id}`;
}

/** Strict parse of `c1.<shard>.<epoch>.<ms>-<seq>`; never throws anything but {@link InvalidCursorError}. */
export function parseCursor(raw: unknown, shards: number): ParsedCursor {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidCursorError('cursor is empty');
  if (raw.length > MAX_CURSOR_LENGTH) throw new InvalidCursorError(`cursor is ${raw.length} characters long; a cursor has at most ${MAX_CURSOR_LENGTH}`);
  const match = CURSOR_PATTERN.exec(raw);
  if (!match) throw new InvalidCursorError("cursor is malformed: expected a cursor returned by this service ('c1.<shard>.<epoch>.<ms>-<seq>')");
  const [, shardText, epoch, ms, seq] = match;
  const shard = Number(shardText);
  if (shard >= shards) throw new InvalidCursorError(`cursor names log shard ${shard}; this service has ${shards} shards`);
  if (BigInt(ms) > MAX_U64 || BigInt(seq) > MAX_U64) throw new InvalidCursorError('cursor position is out of range');
  return { raw, shard, epoch, id: `${ms}-${seq}` };
}

/** Orders stream ids `<ms>-<seq>` numerically (they exceed 2^53 only when forged, hence BigInt). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Checks a readAfter limit: a programming error, not bad input, when wrong. */
export function checkReadLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`readAfter limit must be a positive integer, got ${limit}`);
}

/** Checks a tenant's cursor: it must belong to the tenant's shard. */
export function parseTenantCursor(raw: string, tenant: string, shards: number): ParsedCursor {
  const cursor = parseCursor(raw, shards);
  if (cursor.shard !== shardOf(tenant, shards)) throw new InvalidCursorError('cursor belongs to another log shard than this tenant');
  return cursor;
}

/**
 * The resume cursor of a stream that follows several tenants (a list, or every tenant):
 * `m1.<set>.<position>~<position>...`, one position per log shard the tenants live in, each
 * position a `c1` cursor without its `c1.` (`<shard>.<epoch>.<ms>-<seq>`), in shard order. A
 * shard keeps its own epoch, since each shard's log is lost and re-created on its own.
 * `<set>` names the tenant set (`all`, or a hash of the sorted ids), so a cursor is refused
 * for another set: resuming one tenant from positions taken while it was not followed would
 * skip its changes in between. Single-tenant streams keep the `c1` cursor.
 */
export const MULTI_CURSOR_VERSION = 'm1';
const SET_ID_PATTERN = /^(all|[0-9a-f]{16})$/;
const POSITION_PATTERN = /^(0|[1-9][0-9]{0,3})\.([0-9a-f]{12})\.(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;

/** Names a tenant set inside a multi-tenant cursor: `all` for every tenant, else 16 hex digits of SHA-256 of the sorted ids. */
export function tenantSetId(tenants: readonly string[] | '*'): string {
  if (tenants === '*') return 'all';
  const sorted = [...new Set(tenants)].sort();
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 16);
}

/** `positions`: one cursor per shard, any order (they are written in shard order). */
export function encodeMultiCursor(setId: string, positions: Iterable<ParsedCursor>): string {
  const sorted = [...positions].sort((a, b) => a.shard - b.shard);
  return `${MULTI_CURSOR_VERSION}.${setId}.${sorted.map((p) => p.raw.slice(CURSOR_VERSION.length + 1)).join('~')}`;
}

/**
 * Strict parse of a multi-tenant cursor for the tenant set `setId`, whose tenants live in
 * exactly `shards`; throws {@link InvalidCursorError} for anything else (a `c1` cursor, another
 * set, a missing or extra shard). The positions come back as `c1` cursors.
 */
export function parseMultiCursor(raw: unknown, setId: string, shards: readonly number[], shardCount: number): Map<number, ParsedCursor> {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidCursorError('cursor is empty');
  const maxLength = 4 + 17 + shards.length * MAX_CURSOR_LENGTH;
  if (raw.length > maxLength) throw new InvalidCursorError(`cursor is ${raw.length} characters long; this Watch's cursors have at most ${maxLength}`);
  const parts = raw.split('.');
  if (parts[0] !== MULTI_CURSOR_VERSION) {
    throw new InvalidCursorError(
      `this Watch follows several tenants: resume it with the cursor of one of its own events ('${MULTI_CURSOR_VERSION}.…'), not a single tenant's cursor`,
    );
  }
  const head = `${MULTI_CURSOR_VERSION}.`;
  const dot = raw.indexOf('.', head.length);
  const set = dot < 0 ? '' : raw.slice(head.length, dot);
  if (!SET_ID_PATTERN.test(set)) throw new InvalidCursorError(`cursor is malformed: expected '${MULTI_CURSOR_VERSION}.<set>.<position>~…'`);
  if (set !== setId)
    throw new InvalidCursorError('cursor belongs to a Watch of another set of tenants; resume with the same tenants, or start without a cursor');
  const positions = new Map<number, ParsedCursor>();
  for (const position of raw.slice(dot + 1).split('~')) {
    const match = POSITION_PATTERN.exec(position);
    if (!match) throw new InvalidCursorError('cursor is malformed: a position is not <shard>.<epoch>.<ms>-<seq>');
    const cursor = parseCursor(`${CURSOR_VERSION}.${position}`, shardCount);
    if (positions.has(cursor.shard)) throw new InvalidCursorError(`cursor names log shard ${cursor.shard} twice`);
    positions.set(cursor.shard, cursor);
  }
  const expected = new Set(shards);
  if (positions.size !== expected.size || [...positions.keys()].some((s) => !expected.has(s))) {
    throw new InvalidCursorError("cursor does not cover exactly the log shards of this Watch's tenants");
  }
  return positions;
}

/**
 * What the log knows about one shard, read atomically with a range of entries.
 * The trimming rule lives here once so the Redis and in-memory logs agree.
 */
export interface ShardLogState {
  readonly epoch: string;
  /** Id of the newest entry ever added (`0-0` before the first). */
  readonly lastId: string;
  /** Id of the oldest entry still held, if any. */
  readonly firstId?: string;
  /** Entries removed by trimming since the log's incarnation began. */
  readonly removed: number;
}

/**
 * Whether the entries after `cursor` are all still in the log. Trimming removes the oldest
 * entries, so nothing after the cursor is gone while the cursor is at or after the first
 * entry held. When the cursor itself was trimmed the answer is conservatively "trimmed":
 * the subscriber resnapshots instead of risking a silent gap.
 */
export function isTrimmed(cursor: ParsedCursor, state: ShardLogState): boolean {
  if (cursor.epoch !== state.epoch) return true;
  if (compareStreamIds(cursor.id, state.lastId) > 0) return true;
  if (state.removed === 0) return false;
  return state.firstId === undefined || compareStreamIds(state.firstId, cursor.id) > 0;
}

/** How many log entries one readAfter call looks at: enough to skip other tenants' entries, bounded. */
export function scanCount(limit: number): number {
  return Math.min(10_000, Math.max(limit, 1000));
}

/** Picks the events of a tenant (or of the tenants a predicate admits) from scanned entries, stopping at `limit`. */
export function collect<R extends { readonly id: string; readonly tenant: string }>(
  scanned: readonly R[],
  tenant: string | ((tenant: string) => boolean),
  limit: number,
  toEvent: (r: R) => ChangeEvent,
): { events: ChangeEvent[]; lastScanned?: string; cut: boolean } {
  const accepts = typeof tenant === 'string' ? (t: string) => t === tenant : tenant;
  const events: ChangeEvent[] = [];
  let lastScanned: string | undefined;
  for (let i = 0; i < scanned.length; i++) {
    const r = scanned[i];
    lastScanned = r.id;
    if (accepts(r.tenant)) {
      events.push(toEvent(r));
      if (events.length >= limit) return { events, lastScanned, cut: i < scanned.length - 1 };
    }
  }
  return { events, lastScanned, cut: false };
}
