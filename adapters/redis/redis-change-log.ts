import {
  checkReadLimit,
  compareStreamIds,
  encodeCursor,
  isTrimmed,
  parseCursor,
  parseTenantCursor,
  collect,
  scanCount,
  type ChangeEvent,
  type ChangeLog,
  type ChangeLogFollower,
  type FollowOptions,
  type FollowStart,
  type ParsedCursor,
  type ReadAfterResult,
  type ShardLogState,
} from '../../core/change-log';
import type { TenantId } from '../../core/tenant';
import { resolveCacheSettings, type CacheSettings } from '../../core/versioned-cache';
import type { Cluster, Redis } from 'ioredis';
import { RedisKeyLayout } from './key-layout';
import { waitUntilReady, type RedisClient } from './redis-connection';
import { newEpoch } from './redis-versioned-cache';
import { cacheScripts, fieldsOf, type CacheScripts, type RawStreamEntry } from './scripts';

/** A log entry as stored; `marker` entries begin a log incarnation and carry no change. */
interface LogRecord {
  readonly id: string;
  readonly epoch: string;
  readonly marker: boolean;
  readonly tenant: string;
  readonly key: string;
  readonly version: number;
  readonly deleted: boolean;
  readonly valueJson?: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

function toRecord([id, raw]: RawStreamEntry): LogRecord {
  const f = fieldsOf(raw);
  return {
    id,
    epoch: f.e ?? '',
    marker: f.g !== undefined,
    tenant: f.t ?? '',
    key: f.k ?? '',
    version: Number(f.v),
    deleted: f.d === '1',
    valueJson: f.j,
    updatedAt: f.a ?? '',
    updatedBy: f.b ?? '',
  };
}

function toEvent(shard: number, r: LogRecord): ChangeEvent {
  const event: ChangeEvent = {
    cursor: encodeCursor(shard, r.epoch, r.id),
    tenant: r.tenant,
    key: r.key,
    version: r.version,
    deleted: r.deleted,
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
  };
  return r.valueJson === undefined ? event : { ...event, valueJson: r.valueJson };
}

export interface RedisChangeLogOptions {
  /**
   * Opens the connection one blocking reader uses (XREAD BLOCK holds its connection).
   * @default a duplicate of the client without the command timeout
   */
  readonly blockingConnection?: () => RedisClient;
}

/**
 * The change log in Redis Streams, one stream per log shard. Standalone Redis: one follower
 * connection reads every shard with one XREAD. Cluster mode: a multi-key XREAD must stay in
 * one slot, so each shard gets its own blocking reader (and connection).
 */
export class RedisChangeLog implements ChangeLog {
  readonly settings: CacheSettings;
  readonly layout: RedisKeyLayout;
  private readonly scripts: CacheScripts;
  private readonly followers = new Set<RedisFollower>();

  constructor(
    private readonly client: RedisClient,
    settings: Partial<CacheSettings> = {},
    private readonly options: RedisChangeLogOptions = {},
  ) {
    this.settings = resolveCacheSettings(settings);
    this.layout = new RedisKeyLayout(this.settings);
    this.scripts = cacheScripts(client);
  }

  get shardCount(): number {
    return this.settings.shards;
  }

  shardOf(tenant: string): number {
    return this.layout.shardOf(tenant);
  }

  async head(tenant: TenantId): Promise<string> {
    const shard = this.shardOf(tenant);
    const { state } = await this.read(shard, '', 0);
    return encodeCursor(shard, state.epoch, state.lastId);
  }

  async headOfShard(shard: number): Promise<string> {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.settings.shards) throw new RangeError(`no log shard ${shard}`);
    const { state } = await this.read(shard, '', 0);
    return encodeCursor(shard, state.epoch, state.lastId);
  }

  async readAfter(tenant: TenantId, cursorRaw: string, limit: number): Promise<ReadAfterResult> {
    parseTenantCursor(cursorRaw, tenant, this.settings.shards);
    return this.readShardAfter(cursorRaw, (t) => t === tenant, limit);
  }

  async readShardAfter(cursorRaw: string, accepts: (tenant: string) => boolean, limit: number): Promise<ReadAfterResult> {
    checkReadLimit(limit);
    const cursor = this.parseCursor(cursorRaw);
    const { state, records } = await this.read(cursor.shard, cursor.id, scanCount(limit));
    if (isTrimmed(cursor, state)) return { trimmed: true };
    const { events, lastScanned, cut } = collect(records, accepts, limit, (r) => toEvent(cursor.shard, r));
    const at = lastScanned ?? cursor.id;
    return { trimmed: false, events, cursor: encodeCursor(cursor.shard, state.epoch, at), more: cut || compareStreamIds(at, state.lastId) < 0 };
  }

  follow(start: FollowStart, onBatch: (events: readonly ChangeEvent[]) => void | Promise<void>, options: FollowOptions = {}): ChangeLogFollower {
    const starts = new Map<number, ParsedCursor>();
    if (start !== 'now') {
      for (const [shardText, raw] of Object.entries(start)) {
        const cursor = this.parseCursor(raw);
        if (cursor.shard !== Number(shardText)) throw new Error(`follow: the cursor given for shard ${shardText} belongs to shard ${cursor.shard}`);
        starts.set(cursor.shard, cursor);
      }
    }
    const shards = Array.from({ length: this.settings.shards }, (_, i) => i);
    const groups = this.client.isCluster ? shards.map((s) => [s]) : [shards];
    const follower = new RedisFollower(this, starts, onBatch, options, groups, () => this.blockingConnection());
    this.followers.add(follower);
    const forget = () => void this.followers.delete(follower);
    follower.done.then(forget, forget);
    return follower;
  }

  parseCursor(raw: string): ParsedCursor {
    return parseCursor(raw, this.settings.shards);
  }

  /** Stops the followers; the command client belongs to whoever created it. */
  async close(): Promise<void> {
    await Promise.all([...this.followers].map((f) => f.stop()));
  }

  /** Entries after `afterId` (none for '') and the shard's state, read atomically. */
  async read(shard: number, afterId: string, count: number): Promise<{ state: ShardLogState; records: LogRecord[]; epochStartId: string }> {
    const [epoch, lastId, firstId, removed, entries, epochStartId] = await this.scripts.tcLogRead(
      this.layout.logKey(shard),
      this.layout.epochKey(shard),
      newEpoch(),
      String(this.settings.logMaxLen),
      afterId,
      String(count),
    );
    return { state: { epoch, lastId, firstId: firstId || undefined, removed: Number(removed) }, records: entries.map(toRecord), epochStartId };
  }

  private blockingConnection(): RedisClient {
    if (this.options.blockingConnection) return this.options.blockingConnection();
    if (this.client.isCluster) {
      return (this.client as Cluster).duplicate([], { redisOptions: { commandTimeout: undefined } });
    }
    return (this.client as Redis).duplicate({ commandTimeout: undefined });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class RedisFollower implements ChangeLogFollower {
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  private stopped = false;
  private readonly positions = new Map<number, { epoch: string; id: string }>();
  private readonly connections = new Set<RedisClient>();
  private readonly readyMarks: (() => void)[] = [];

  constructor(
    private readonly log: RedisChangeLog,
    private readonly starts: ReadonlyMap<number, ParsedCursor>,
    private readonly onBatch: (events: readonly ChangeEvent[]) => void | Promise<void>,
    private readonly options: FollowOptions,
    groups: readonly (readonly number[])[],
    private readonly connect: () => RedisClient,
  ) {
    this.ready = Promise.all(groups.map(() => new Promise<void>((resolve) => this.readyMarks.push(resolve)))).then(() => undefined);
    this.done = Promise.all(groups.map((g, i) => this.run(g, this.readyMarks[i]))).then(() => undefined);
  }

  position(shard: number): string | undefined {
    const p = this.positions.get(shard);
    return p && encodeCursor(shard, p.epoch, p.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const resolve of this.readyMarks) resolve();
    // Disconnecting ends a pending XREAD BLOCK at once.
    for (const c of this.connections) c.disconnect();
    await this.done;
  }

  private async run(shards: readonly number[], markReady: () => void): Promise<void> {
    const conn = this.connect();
    this.connections.add(conn);
    if (this.stopped) conn.disconnect();
    // A reconnect may reach a restarted (emptied) server: re-check every shard's log before reading on.
    let readies = 0;
    let located = false;
    conn.on('ready', () => {
      if (++readies > 1) located = false;
    });
    const keys = shards.map((s) => this.log.layout.logKey(s));
    const shardByKey = new Map(shards.map((s, i) => [keys[i], s]));
    const blockMs = this.options.blockMs ?? 5000;
    const batchSize = this.options.batchSize ?? 500;
    let backoff = 100;
    while (!this.stopped) {
      try {
        if (conn.status !== 'ready') await waitUntilReady(conn, 5000);
        if (!located) {
          await this.locate(shards);
          located = true;
          markReady();
        }
        const ids = shards.map((s) => this.positions.get(s)!.id);
        const reply = (await conn.call('XREAD', ['COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', ...keys, ...ids])) as [string, RawStreamEntry[]][] | null;
        backoff = 100;
        if (!reply) continue;
        const events: ChangeEvent[] = [];
        for (const [key, entries] of reply) {
          const shard = shardByKey.get(key)!;
          for (const raw of entries) {
            const record = toRecord(raw);
            const position = this.positions.get(shard)!;
            // A new epoch means the log was lost and re-created: entries of the old one may be missing.
            if (record.epoch !== position.epoch) this.options.onGap?.(shard);
            this.positions.set(shard, { epoch: record.epoch, id: record.id });
            if (!record.marker) events.push(toEvent(shard, record));
          }
        }
        if (events.length > 0) {
          try {
            await this.onBatch(events);
          } catch (e) {
            this.options.onError?.(e);
          }
        }
      } catch (e) {
        if (this.stopped) break;
        this.options.onError?.(e);
        located = false;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    // stop() has normally disconnected already; a second disconnect() would arm an ioredis timer that keeps the process alive.
    if (conn.status !== 'end') conn.disconnect();
  }

  /** Fixes where each shard is read from: at start from the start cursors, after a failure from where it was unless the log was re-created. */
  private async locate(shards: readonly number[]): Promise<void> {
    for (const shard of shards) {
      const { state, epochStartId } = await this.log.read(shard, '', 0);
      const current = this.positions.get(shard);
      const start = this.starts.get(shard);
      if (current) {
        if (current.epoch !== state.epoch) {
          // The new log is whole from its first entry: deliver all of it after the gap.
          this.options.onGap?.(shard);
          this.positions.set(shard, { epoch: state.epoch, id: epochStartId });
        }
      } else if (start && !isTrimmed(start, state)) {
        this.positions.set(shard, { epoch: start.epoch, id: start.id });
      } else {
        if (start) this.options.onGap?.(shard);
        this.positions.set(shard, { epoch: state.epoch, id: state.lastId });
      }
    }
  }
}
