/**
 * The contract of the VersionedCache and ChangeLog ports (core/versioned-cache.ts,
 * core/change-log.ts), run against every implementation: in memory, Redis, Redis Cluster.
 * Each test makes a fresh cache (its own namespace on a shared server) through `make`.
 */
import fc from 'fast-check';
import { InvalidCursorError, encodeCursor, shardOf, type ChangeEvent, type ChangeLog } from '../../core/change-log';
import type { ConfigItem } from '../../core/item';
import { parseTenantId, type TenantId } from '../../core/tenant';
import type { CacheChange, CacheSettings, VersionedCache } from '../../core/versioned-cache';

export interface CacheSubject {
  readonly cache: VersionedCache;
  readonly log: ChangeLog;
  /** Loses the log and its entries, as a cache restart without persistence does. */
  loseLog?(): Promise<void>;
  close(): Promise<void>;
}

export type MakeCache = (settings?: Partial<CacheSettings>) => Promise<CacheSubject>;

const T = parseTenantId('acme');
const KEY = 'tenantconfig:plan';

export function value(version: number, extra: Partial<CacheChange> = {}): CacheChange {
  return {
    key: KEY,
    version,
    deleted: false,
    valueJson: JSON.stringify({ v: version }),
    updatedAt: `2026-01-01T00:00:0${version % 10}.000Z`,
    updatedBy: 'writer',
    ...extra,
  };
}

export function tombstone(version: number, extra: Partial<CacheChange> = {}): CacheChange {
  return { key: KEY, version, deleted: true, updatedAt: '2026-01-02T00:00:00.000Z', updatedBy: 'deleter', ...extra };
}

/** Another tenant whose changes land in the same log shard as `tenant`. */
export function sameShardTenant(tenant: string, shards: number): TenantId {
  for (let i = 0; ; i++) {
    const candidate = `other-${i}`;
    if (shardOf(candidate, shards) === shardOf(tenant, shards)) return parseTenantId(candidate);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function versionOf(cache: VersionedCache, tenant: TenantId = T, key = KEY): Promise<string> {
  const l = await cache.get(tenant, key);
  if (l.kind === 'hit') return `v${l.item.version}`;
  if (l.kind === 'absent') return l.reason === 'tombstone' ? `t${l.version}` : 'negative';
  return 'miss';
}

async function allEvents(log: ChangeLog, tenant: TenantId, from: string): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  let cursor = from;
  for (;;) {
    const page = await log.readAfter(tenant, cursor, 100);
    if (page.trimmed) throw new Error('log unexpectedly trimmed');
    out.push(...page.events);
    cursor = page.cursor;
    if (!page.more) return out;
  }
}

export interface ContractOptions {
  /** The implementation can lose its log while the cache object lives on (Redis restarted or evicted). */
  readonly canLoseLog: boolean;
}

export function versionedCacheContract(make: MakeCache, options: ContractOptions): void {
  let subjects: CacheSubject[] = [];
  const fresh = async (settings?: Partial<CacheSettings>) => {
    const s = await make(settings);
    subjects.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(subjects.map((s) => s.close()));
    subjects = [];
  });

  describe('version guard', () => {
    it('misses a key it never saw', async () => {
      const { cache } = await fresh();
      expect(await cache.get(T, KEY)).toEqual({ kind: 'miss' });
    });

    it('returns the item of an applied change', async () => {
      const { cache } = await fresh();
      const result = await cache.apply(T, value(3, { valueJson: '{"tier":"gold","limits":[1,2.5,null]}' }));
      expect(result.applied).toBe(true);
      expect(await cache.get(T, KEY)).toEqual({
        kind: 'hit',
        item: { key: KEY, value: { tier: 'gold', limits: [1, 2.5, null] }, version: 3, updatedAt: '2026-01-01T00:00:03.000Z', updatedBy: 'writer' },
      });
    });

    it('ignores older and duplicate versions, takes newer ones', async () => {
      const { cache } = await fresh();
      await cache.apply(T, value(5));
      expect((await cache.apply(T, value(4))).applied).toBe(false);
      expect((await cache.apply(T, value(5))).applied).toBe(false);
      expect(await versionOf(cache)).toBe('v5');
      expect((await cache.apply(T, value(6))).applied).toBe(true);
      expect(await versionOf(cache)).toBe('v6');
    });

    it('lets a tombstone beat a value of the same version, and only a newer value replace it', async () => {
      const { cache } = await fresh();
      await cache.apply(T, value(2));
      expect((await cache.apply(T, tombstone(2))).applied).toBe(true);
      expect(await cache.get(T, KEY)).toEqual({ kind: 'absent', reason: 'tombstone', version: 2 });
      expect((await cache.apply(T, value(2))).applied).toBe(false);
      expect((await cache.apply(T, tombstone(1))).applied).toBe(false);
      expect(await versionOf(cache)).toBe('t2');
      expect((await cache.apply(T, value(3))).applied).toBe(true);
      expect(await versionOf(cache)).toBe('v3');
    });

    it('lets a re-created value with a restarted version replace a tombstone only when it is later', async () => {
      const { cache } = await fresh();
      await cache.apply(T, value(7, { modifiedAtMs: 1_000 }));
      await cache.apply(T, tombstone(7, { modifiedAtMs: 2_000 }));
      expect((await cache.apply(T, value(1, { modifiedAtMs: 1_500 }))).applied).toBe(false);
      expect((await cache.apply(T, value(1))).applied).toBe(false);
      expect(await versionOf(cache)).toBe('t7');
      expect((await cache.apply(T, value(1, { modifiedAtMs: 3_000 }))).applied).toBe(true);
      expect(await versionOf(cache)).toBe('v1');
    });

    it('orders changes that carry store times by time, across incarnations of a key', async () => {
      const { cache, log } = await fresh();
      const head = await log.head(T);
      await cache.apply(T, value(5, { modifiedAtMs: 1_000 }));
      // Re-created (the delete in between not seen yet): version 1, but later.
      expect((await cache.apply(T, value(1, { modifiedAtMs: 2_000 }))).applied).toBe(true);
      expect((await cache.apply(T, tombstone(5, { modifiedAtMs: 1_500 }))).applied).toBe(false);
      expect((await cache.apply(T, value(5, { modifiedAtMs: 1_000 }))).applied).toBe(false);
      expect(await versionOf(cache)).toBe('v1');
      expect((await cache.apply(T, tombstone(1, { modifiedAtMs: 2_500 }))).applied).toBe(true);
      // A later delete of the deleted key moves the deletion time on, without a log entry...
      expect((await cache.apply(T, tombstone(1, { modifiedAtMs: 3_000 }))).applied).toBe(false);
      // ...so a value written before that second delete cannot come back.
      expect((await cache.apply(T, value(1, { modifiedAtMs: 2_800 }))).applied).toBe(false);
      expect(await versionOf(cache)).toBe('t1');
      expect((await allEvents(log, T, head)).map((e) => `${e.deleted ? 't' : 'v'}${e.version}`)).toEqual(['v5', 'v1', 't1']);
    });

    it('without store times, never replaces a value with a lower version', async () => {
      const { cache } = await fresh();
      await cache.apply(T, value(5, { modifiedAtMs: 1_000 }));
      expect((await cache.apply(T, value(1))).applied).toBe(false);
      await cache.apply(T, value(6));
      expect((await cache.apply(T, value(2, { modifiedAtMs: 9_000 }))).applied).toBe(false);
      expect(await versionOf(cache)).toBe('v6');
    });

    it('keeps tenants and keys apart', async () => {
      const { cache } = await fresh();
      const other = sameShardTenant('acme', 16);
      await cache.apply(T, value(1));
      await cache.apply(other, value(9));
      await cache.apply(T, value(4, { key: 'tenantconfig:limits' }));
      expect(await versionOf(cache, T)).toBe('v1');
      expect(await versionOf(cache, other)).toBe('v9');
      expect(await versionOf(cache, T, 'tenantconfig:limits')).toBe('v4');
    });

    it('forgets a tombstone after its TTL', async () => {
      const { cache } = await fresh({ tombstoneTtlMs: 250 });
      await cache.apply(T, tombstone(4));
      expect(await versionOf(cache)).toBe('t4');
      await sleep(400);
      expect(await versionOf(cache)).toBe('miss');
    });

    it('keeps a value after a tombstone is replaced by it (no TTL on values)', async () => {
      const { cache } = await fresh({ tombstoneTtlMs: 200 });
      await cache.apply(T, tombstone(4));
      await cache.apply(T, value(5));
      await sleep(350);
      expect(await versionOf(cache)).toBe('v5');
    });
  });

  describe('read-through fill and negative entries', () => {
    const item = (version: number): ConfigItem => ({ key: KEY, value: { v: version }, version, updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'w' });

    it('fills a missing entry without touching the log', async () => {
      const { cache, log } = await fresh();
      const head = await log.head(T);
      expect(await cache.fill(T, KEY, item(3))).toBe(true);
      expect(await versionOf(cache)).toBe('v3');
      expect(await log.head(T)).toBe(head);
    });

    it('fills with the item time as store time when asked (Parameter Store keys)', async () => {
      const { cache } = await fresh();
      await cache.apply(T, tombstone(9, { modifiedAtMs: Date.parse('2026-01-01T00:00:00.000Z') - 1 }));
      expect(await cache.fill(T, KEY, item(1))).toBe(false);
      expect(await cache.fill(T, KEY, item(1), { withStoreTime: true })).toBe(true);
      expect(await versionOf(cache)).toBe('v1');
    });

    it('never fills over a newer version or a tombstone of the same version', async () => {
      const { cache } = await fresh();
      await cache.apply(T, value(5));
      expect(await cache.fill(T, KEY, item(4))).toBe(false);
      await cache.apply(T, tombstone(5));
      expect(await cache.fill(T, KEY, item(5))).toBe(false);
      expect(await versionOf(cache)).toBe('t5');
    });

    it('still logs the change event of a version a fill put in first', async () => {
      const { cache, log } = await fresh();
      const head = await log.head(T);
      await cache.fill(T, KEY, item(3));
      const result = await cache.apply(T, value(3));
      expect(result.applied).toBe(true);
      expect((await allEvents(log, T, head)).map((e) => e.version)).toEqual([3]);
      expect((await cache.apply(T, value(3))).applied).toBe(false);
    });

    it('stores a negative entry only where no entry exists, and lets it expire', async () => {
      const { cache, log } = await fresh({ negativeTtlMs: 200 });
      const head = await log.head(T);
      expect(await cache.fill(T, KEY, undefined)).toBe(true);
      expect(await cache.get(T, KEY)).toEqual({ kind: 'absent', reason: 'negative' });
      expect(await log.head(T)).toBe(head);
      await sleep(320);
      expect(await versionOf(cache)).toBe('miss');
      await cache.apply(T, value(1));
      expect(await cache.fill(T, KEY, undefined)).toBe(false);
      expect(await versionOf(cache)).toBe('v1');
    });

    it('honours a per-fill negative TTL', async () => {
      const { cache } = await fresh({ negativeTtlMs: 60_000 });
      await cache.fill(T, KEY, undefined, { negativeTtlMs: 150 });
      await sleep(280);
      expect(await versionOf(cache)).toBe('miss');
    });

    it('replaces a negative entry with any applied change, which is logged', async () => {
      const { cache, log } = await fresh();
      const head = await log.head(T);
      await cache.fill(T, KEY, undefined);
      expect((await cache.apply(T, value(1))).applied).toBe(true);
      expect(await versionOf(cache)).toBe('v1');
      expect((await allEvents(log, T, head)).map((e) => e.version)).toEqual([1]);
    });
  });

  describe('change log', () => {
    it('starts at a beginning cursor and moves its head with every applied change', async () => {
      const { cache, log } = await fresh();
      const beginRaw = await log.head(T);
      expect(log.parseCursor(beginRaw).shard).toBe(log.shardOf(T));
      expect(await log.readAfter(T, beginRaw, 10)).toMatchObject({ trimmed: false, events: [], more: false });
      const { cursor } = await cache.apply(T, value(1));
      expect(await log.head(T)).toBe(cursor);
      await cache.apply(T, value(1));
      expect(await log.head(T)).toBe(cursor);
    });

    it('holds each accepted change once, in order, with its fields', async () => {
      const { cache, log } = await fresh();
      const head = await log.head(T);
      const cursors: string[] = [];
      for (const change of [value(1), value(1), value(3), value(2), tombstone(3), tombstone(3), value(4, { key: 'flags:beta', valueJson: 'true' })]) {
        const r = await cache.apply(T, change);
        if (r.cursor) cursors.push(r.cursor);
      }
      const events = await allEvents(log, T, head);
      expect(events.map((e) => e.cursor)).toEqual(cursors);
      expect(events.map(({ key, version, deleted, valueJson }) => ({ key, version, deleted, valueJson }))).toEqual([
        { key: KEY, version: 1, deleted: false, valueJson: '{"v":1}' },
        { key: KEY, version: 3, deleted: false, valueJson: '{"v":3}' },
        { key: KEY, version: 3, deleted: true, valueJson: undefined },
        { key: 'flags:beta', version: 4, deleted: false, valueJson: 'true' },
      ]);
      expect(events[0]).toMatchObject({ tenant: 'acme', updatedAt: '2026-01-01T00:00:01.000Z', updatedBy: 'writer' });
      expect(events[2]).toMatchObject({ updatedBy: 'deleter' });
    });

    it("returns only the tenant's events, and a cursor past other tenants' entries", async () => {
      const { cache, log } = await fresh();
      const other = sameShardTenant('acme', log.shardCount);
      const head = await log.head(T);
      await cache.apply(T, value(1));
      const last = await cache.apply(other, value(1));
      const page = await log.readAfter(T, head, 10);
      if (page.trimmed) throw new Error('trimmed');
      expect(page.events.map((e) => e.tenant)).toEqual(['acme']);
      expect(page.cursor).toBe(last.cursor);
      expect(page.more).toBe(false);
      const rest = await log.readAfter(T, page.cursor, 10);
      expect(rest).toMatchObject({ trimmed: false, events: [], more: false });
    });

    it('pages with limit and continues from the returned cursor', async () => {
      const { cache, log } = await fresh();
      const head = await log.head(T);
      for (let v = 1; v <= 7; v++) await cache.apply(T, value(v));
      const first = await log.readAfter(T, head, 3);
      if (first.trimmed) throw new Error('trimmed');
      expect(first.events.map((e) => e.version)).toEqual([1, 2, 3]);
      expect(first.more).toBe(true);
      expect(first.cursor).toBe(first.events[2].cursor);
      expect((await allEvents(log, T, first.cursor)).map((e) => e.version)).toEqual([4, 5, 6, 7]);
    });

    it('says trimmed once entries after a cursor were trimmed away, not for a recent cursor', async () => {
      const { cache, log } = await fresh({ logMaxLen: 20 });
      const head = await log.head(T);
      const cursors: string[] = [];
      // Redis trims whole stream nodes (100 entries by default): write enough to drop one.
      for (let v = 1; v <= 320; v++) cursors.push((await cache.apply(T, value(v))).cursor!);
      expect(await log.readAfter(T, head, 10)).toEqual({ trimmed: true });
      expect(await log.readAfter(T, cursors[0], 10)).toEqual({ trimmed: true });
      const recent = await log.readAfter(T, cursors[cursors.length - 5], 10);
      expect(recent.trimmed).toBe(false);
      expect(!recent.trimmed && recent.events.map((e) => e.version)).toEqual([317, 318, 319, 320]);
    });

    it('treats a cursor of another log incarnation or from the future as trimmed', async () => {
      const { cache, log } = await fresh();
      const { cursor } = await cache.apply(T, value(1));
      const parsed = log.parseCursor(cursor!);
      const otherEpoch = encodeCursor(parsed.shard, parsed.epoch === 'aaaaaaaaaaaa' ? 'bbbbbbbbbbbb' : 'aaaaaaaaaaaa', parsed.id);
      expect(await log.readAfter(T, otherEpoch, 10)).toEqual({ trimmed: true });
      const future = encodeCursor(parsed.shard, parsed.epoch, '18446744073709551615-18446744073709551615');
      expect(await log.readAfter(T, future, 10)).toEqual({ trimmed: true });
    });

    it("refuses a malformed cursor or another shard's cursor with InvalidCursorError", async () => {
      const { log } = await fresh();
      const otherShard = (log.shardOf(T) + 1) % log.shardCount;
      const head = log.parseCursor(await log.head(T));
      await expect(log.readAfter(T, 'garbage', 10)).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(log.readAfter(T, encodeCursor(otherShard, head.epoch, '1-0'), 10)).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(log.readAfter(T, encodeCursor(log.shardCount, head.epoch, '1-0'), 10)).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('parses only its own cursors: random strings never crash it, valid cursors round-trip', async () => {
      const { log } = await fresh();
      fc.assert(
        fc.property(fc.string({ maxLength: 80, unit: 'grapheme-ascii' }), (raw) => {
          try {
            const c = log.parseCursor(raw);
            expect(encodeCursor(c.shard, c.epoch, c.id)).toBe(raw);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidCursorError);
          }
        }),
        { numRuns: 300 },
      );
      fc.assert(
        fc.property(
          fc.nat({ max: log.shardCount - 1 }),
          fc.stringMatching(/^[0-9a-f]{12}$/),
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          (shard, epoch, ms, seq) => {
            const raw = encodeCursor(shard, epoch, `${ms}-${seq}`);
            expect(log.parseCursor(raw)).toEqual({ raw, shard, epoch, id: `${ms}-${seq}` });
          },
        ),
        { numRuns: 200 },
      );
    });

    it('follows every shard from now: later changes arrive in order, with heartbeat positions', async () => {
      const { cache, log } = await fresh();
      await cache.apply(T, value(1));
      const seen: ChangeEvent[] = [];
      const follower = log.follow(
        'now',
        (events) => {
          seen.push(...events);
        },
        { blockMs: 200 },
      );
      await follower.ready;
      const other = parseTenantId('globex');
      await cache.apply(T, value(2));
      await cache.apply(other, value(1, { key: 'flags:x', valueJson: 'false' }));
      await cache.apply(T, tombstone(2));
      await cache.apply(T, tombstone(2));
      await eventually(() => seen.length >= 3);
      await sleep(100);
      await follower.stop();
      // Order holds within a shard (a tenant); shards are independent streams.
      const acme = seen.filter((e) => e.tenant === 'acme');
      expect(acme.map((e) => `${e.key}@${e.version}${e.deleted ? 'x' : ''}`)).toEqual(['tenantconfig:plan@2', 'tenantconfig:plan@2x']);
      expect(seen.filter((e) => e.tenant === 'globex').map((e) => `${e.key}@${e.version}`)).toEqual(['flags:x@1']);
      expect(follower.position(log.shardOf(T))).toBe(acme[acme.length - 1].cursor);
    });

    it('follows from given cursors, replaying what came after them', async () => {
      const { cache, log } = await fresh();
      const shard = log.shardOf(T);
      const { cursor } = await cache.apply(T, value(1));
      await cache.apply(T, value(2));
      await cache.apply(T, value(3));
      const seen: number[] = [];
      const follower = log.follow(
        { [shard]: cursor! },
        (events) => {
          for (const e of events) if (e.tenant === 'acme') seen.push(e.version);
        },
        { blockMs: 200 },
      );
      await follower.ready;
      await cache.apply(T, value(4));
      await eventually(() => seen.length >= 3);
      await follower.stop();
      expect(seen).toEqual([2, 3, 4]);
    });

    it('reports a gap when a start cursor was trimmed, and goes on from the newest entry', async () => {
      const { cache, log } = await fresh({ logMaxLen: 10 });
      const shard = log.shardOf(T);
      const head = await log.head(T);
      for (let v = 1; v <= 250; v++) await cache.apply(T, value(v));
      const gaps: number[] = [];
      const seen: number[] = [];
      const follower = log.follow(
        { [shard]: head },
        (events) => {
          for (const e of events) seen.push(e.version);
        },
        { blockMs: 200, onGap: (s) => gaps.push(s) },
      );
      await follower.ready;
      await cache.apply(T, value(251));
      await eventually(() => seen.length >= 1);
      await follower.stop();
      expect(gaps).toEqual([shard]);
      expect(seen).toEqual([251]);
    });

    it('stops delivering after stop()', async () => {
      const { cache, log } = await fresh();
      const seen: ChangeEvent[] = [];
      const follower = log.follow(
        'now',
        (events) => {
          seen.push(...events);
        },
        { blockMs: 200 },
      );
      await follower.ready;
      await follower.stop();
      await cache.apply(T, value(1));
      await sleep(150);
      expect(seen).toEqual([]);
    });

    // Only where the log can vanish under a live cache object (a Redis restart); the in-memory log cannot.
    if (options.canLoseLog) {
      it('calls a lost log trimmed and tells followers about the gap', async () => {
        const subject = await fresh();
        const { cache, log } = subject;
        const { cursor } = await cache.apply(T, value(1));
        const gaps: number[] = [];
        const seen: number[] = [];
        const follower = log.follow(
          'now',
          (events) => {
            for (const e of events) seen.push(e.version);
          },
          { blockMs: 200, onGap: (s) => gaps.push(s) },
        );
        await follower.ready;
        await subject.loseLog!();
        await cache.apply(T, value(2));
        await eventually(() => seen.length >= 1);
        await follower.stop();
        expect(seen).toEqual([2]);
        expect(gaps).toContain(log.shardOf(T));
        expect(await log.readAfter(T, cursor!, 10)).toEqual({ trimmed: true });
      });
    }
  });
}
