import { randomBytes } from 'node:crypto';
import {
  START_ID,
  checkReadLimit,
  collect,
  compareStreamIds,
  encodeCursor,
  isTrimmed,
  parseCursor,
  parseTenantCursor,
  scanCount,
  shardOf,
  type ChangeEvent,
  type ChangeLog,
  type ChangeLogFollower,
  type FollowOptions,
  type FollowStart,
  type ParsedCursor,
  type ReadAfterResult,
  type ShardLogState,
} from '../../core/change-log';
import type { ConfigItem, JsonValue } from '../../core/item';
import type { TenantId } from '../../core/tenant';
import {
  changeFromItem,
  judgeChange,
  checkChange,
  resolveCacheSettings,
  stampOf,
  type ApplyResult,
  type CacheChange,
  type CacheLookup,
  type CacheSettings,
  type FillOptions,
  type VersionStamp,
  type VersionedCache,
} from '../../core/versioned-cache';

interface CachedState {
  readonly stamp: VersionStamp;
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

interface Entry {
  /** Undefined for a negative entry. */
  cached?: CachedState;
  /** The newest change appended to the log for this key: the log's own guard, apart from fills. */
  logged?: VersionStamp;
  expiresAt?: number;
}

type LogRecord = Omit<ChangeEvent, 'cursor'> & { readonly id: string };

class ShardLog {
  private records: LogRecord[] = [];
  private start = 0;
  lastMs = 0;
  lastSeq = 0;
  removed = 0;

  get lastId(): string {
    return this.lastMs === 0 && this.lastSeq === 0 ? START_ID : `${this.lastMs}-${this.lastSeq}`;
  }

  get length(): number {
    return this.records.length - this.start;
  }

  /** Ids as Redis makes them: the clock's ms, or the last ms with the next sequence when the clock has not moved on. */
  append(nowMs: number, event: Omit<LogRecord, 'id'>, maxLen: number): LogRecord {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
      this.lastSeq = 0;
    } else {
      this.lastSeq += 1;
    }
    const record = { ...event, id: this.lastId };
    this.records.push(record);
    while (this.length > maxLen) {
      this.start += 1;
      this.removed += 1;
    }
    // Compact now and then instead of shifting the array on every trim.
    if (this.start > 1024 && this.start > this.records.length / 2) {
      this.records = this.records.slice(this.start);
      this.start = 0;
    }
    return record;
  }

  state(epoch: string): ShardLogState {
    return { epoch, lastId: this.lastId, firstId: this.length > 0 ? this.records[this.start].id : undefined, removed: this.removed };
  }

  /** Records with an id after `id`, oldest first, at most `max`. */
  after(id: string, max = Number.MAX_SAFE_INTEGER): LogRecord[] {
    let lo = this.start;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareStreamIds(this.records[mid].id, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return this.records.slice(lo, Math.min(this.records.length, lo + max));
  }
}

interface MemoryFollower {
  readonly queue: ChangeEvent[];
  readonly options: FollowOptions;
  readonly onBatch: (events: readonly ChangeEvent[]) => void | Promise<void>;
  readonly positions: Map<number, string>;
  draining: boolean;
  stopped: boolean;
  idle?: Promise<void>;
}

/**
 * The versioned cache and its change log in process memory, with the semantics of the Redis
 * implementation (one contract suite runs against both): for `npm start` on machines without
 * redis-server, and for fast tests. One instance is one cache; its log lives as long as it does.
 */
export class InMemoryVersionedCache implements VersionedCache, ChangeLog {
  readonly settings: CacheSettings;
  readonly epoch = randomBytes(6).toString('hex');
  private readonly entries = new Map<string, Entry>();
  private readonly logs: ShardLog[];
  private readonly followers = new Set<MemoryFollower>();
  private readonly now: () => number;
  private writesSinceSweep = 0;

  constructor(settings: Partial<CacheSettings> = {}, options: { now?: () => number } = {}) {
    this.settings = resolveCacheSettings(settings);
    this.now = options.now ?? Date.now;
    this.logs = Array.from({ length: this.settings.shards }, () => new ShardLog());
  }

  get shardCount(): number {
    return this.settings.shards;
  }

  shardOf(tenant: string): number {
    return shardOf(tenant, this.settings.shards);
  }

  async get(tenant: TenantId, key: string): Promise<CacheLookup> {
    const entry = this.live(tenant, key);
    if (!entry) return { kind: 'miss' };
    const cached = entry.cached;
    if (!cached) return { kind: 'absent', reason: 'negative' };
    if (cached.stamp.kind === 'tombstone') return { kind: 'absent', reason: 'tombstone', version: cached.stamp.version };
    const item: ConfigItem = {
      key,
      value: JSON.parse(cached.valueJson as string) as JsonValue,
      version: cached.stamp.version,
      updatedAt: cached.updatedAt,
      updatedBy: cached.updatedBy,
    };
    return { kind: 'hit', item };
  }

  async apply(tenant: TenantId, change: CacheChange): Promise<ApplyResult> {
    checkChange(change);
    const entry = this.live(tenant, change.key) ?? {};
    const stamp = stampOf(change);
    const forCache = judgeChange(entry.cached?.stamp, stamp);
    const forLog = judgeChange(entry.logged, stamp);
    if (forCache !== 'loses') this.setCached(entry, change);
    if (forLog !== 'loses') entry.logged = stamp;
    const cursor = forLog === 'wins' ? this.append(tenant, change) : undefined;
    if (forCache !== 'loses' || forLog !== 'loses') this.store(tenant, change.key, entry);
    return { applied: forLog === 'wins', cursor };
  }

  async fill(tenant: TenantId, key: string, item: ConfigItem | undefined, options: FillOptions = {}): Promise<boolean> {
    const existing = this.live(tenant, key);
    if (!item) {
      if (existing) return false;
      this.store(tenant, key, { expiresAt: this.now() + (options.negativeTtlMs ?? this.settings.negativeTtlMs) });
      return true;
    }
    const change = changeFromItem(item, options.withStoreTime ?? false);
    const entry = existing ?? {};
    if (judgeChange(entry.cached?.stamp, stampOf(change)) === 'loses') return false;
    this.setCached(entry, change);
    this.store(tenant, key, entry);
    return true;
  }

  async head(tenant: TenantId): Promise<string> {
    const shard = this.shardOf(tenant);
    return encodeCursor(shard, this.epoch, this.logs[shard].lastId);
  }

  async headOfShard(shard: number): Promise<string> {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.settings.shards) throw new RangeError(`no log shard ${shard}`);
    return encodeCursor(shard, this.epoch, this.logs[shard].lastId);
  }

  async readAfter(tenant: TenantId, cursorRaw: string, limit: number): Promise<ReadAfterResult> {
    parseTenantCursor(cursorRaw, tenant, this.settings.shards);
    return this.readShardAfter(cursorRaw, (t) => t === tenant, limit);
  }

  async readShardAfter(cursorRaw: string, accepts: (tenant: string) => boolean, limit: number): Promise<ReadAfterResult> {
    checkReadLimit(limit);
    const cursor = this.parseCursor(cursorRaw);
    const log = this.logs[cursor.shard];
    if (isTrimmed(cursor, log.state(this.epoch))) return { trimmed: true };
    const scan = log.after(cursor.id, scanCount(limit));
    const { events, lastScanned, cut } = collect(scan, accepts, limit, (r) => this.toEvent(cursor.shard, r));
    const more = cut || compareStreamIds(lastScanned ?? cursor.id, log.lastId) < 0;
    return { trimmed: false, events, cursor: encodeCursor(cursor.shard, this.epoch, lastScanned ?? cursor.id), more };
  }

  follow(start: FollowStart, onBatch: (events: readonly ChangeEvent[]) => void | Promise<void>, options: FollowOptions = {}): ChangeLogFollower {
    const follower: MemoryFollower = { queue: [], options, onBatch, positions: new Map(), draining: false, stopped: false };
    const gaps: number[] = [];
    for (let shard = 0; shard < this.settings.shards; shard++) {
      const log = this.logs[shard];
      let from = log.lastId;
      if (start !== 'now' && start[shard] !== undefined) {
        const cursor = this.parseCursor(start[shard]);
        if (cursor.shard !== shard || isTrimmed(cursor, log.state(this.epoch))) gaps.push(shard);
        else from = cursor.id;
      }
      follower.positions.set(shard, encodeCursor(shard, this.epoch, from));
      follower.queue.push(...log.after(from).map((r) => this.toEvent(shard, r)));
    }
    this.followers.add(follower);
    queueMicrotask(() => {
      for (const shard of gaps) options.onGap?.(shard);
      this.drain(follower);
    });
    return {
      ready: Promise.resolve(),
      position: (shard) => follower.positions.get(shard),
      stop: async () => {
        follower.stopped = true;
        this.followers.delete(follower);
        await follower.idle;
      },
    };
  }

  parseCursor(raw: string): ParsedCursor {
    return parseCursor(raw, this.settings.shards);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.followers].map(async (f) => {
        f.stopped = true;
        await f.idle;
      }),
    );
    this.followers.clear();
  }

  private append(tenant: TenantId, change: CacheChange): string {
    const shard = this.shardOf(tenant);
    const record = this.logs[shard].append(
      this.now(),
      {
        tenant,
        key: change.key,
        version: change.version,
        deleted: change.deleted,
        valueJson: change.deleted ? undefined : change.valueJson,
        updatedAt: change.updatedAt,
        updatedBy: change.updatedBy,
      },
      this.settings.logMaxLen,
    );
    const event = this.toEvent(shard, record);
    for (const f of this.followers) {
      f.queue.push(event);
      this.drain(f);
    }
    return event.cursor;
  }

  private drain(f: MemoryFollower): void {
    if (f.draining || f.stopped) return;
    f.draining = true;
    f.idle = (async () => {
      // Deliver asynchronously, as a network reader would, never inside the writer's call.
      await new Promise((r) => setImmediate(r));
      while (f.queue.length > 0 && !f.stopped) {
        const batch = f.queue.splice(0, f.options.batchSize ?? 500);
        for (const e of batch) f.positions.set(this.parseCursor(e.cursor).shard, e.cursor);
        try {
          await f.onBatch(batch);
        } catch (e) {
          f.options.onError?.(e);
        }
      }
      f.draining = false;
    })();
  }

  private toEvent(shard: number, record: LogRecord): ChangeEvent {
    const { id, ...rest } = record;
    return { cursor: encodeCursor(shard, this.epoch, id), ...rest };
  }

  private setCached(entry: Entry, change: CacheChange): void {
    entry.cached = {
      stamp: stampOf(change),
      valueJson: change.deleted ? undefined : change.valueJson,
      updatedAt: change.updatedAt,
      updatedBy: change.updatedBy,
    };
    entry.expiresAt = change.deleted ? this.now() + this.settings.tombstoneTtlMs : undefined;
  }

  private live(tenant: string, key: string): Entry | undefined {
    const id = entryId(tenant, key);
    const entry = this.entries.get(id);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  private store(tenant: string, key: string, entry: Entry): void {
    this.entries.set(entryId(tenant, key), entry);
    // Expired entries nobody reads again would otherwise stay forever.
    if (++this.writesSinceSweep >= 10_000) {
      this.writesSinceSweep = 0;
      const now = this.now();
      for (const [id, e] of this.entries) if (e.expiresAt !== undefined && e.expiresAt <= now) this.entries.delete(id);
    }
  }
}

const entryId = (tenant: string, key: string) => `${tenant}\u0000${key}`;
