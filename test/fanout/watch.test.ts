/**
 * ConfigWatch.Watch against a real server and real gRPC clients, over the in-memory
 * backend and change log: snapshot and order, isolation, resume, trimmed and bad cursors,
 * heartbeats, maximum stream age.
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { encodeCursor } from '../../core/change-log';
import { harnessPerSuite, startHarness, sleep, tenant, type FanoutHarness } from './harness';

describe('Watch: snapshot, changes, resume', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { heartbeatIntervalMs: 60_000 } }, (x) => (h = x));

  it('sends a snapshot consistent with its cursor, then every change in log order', async () => {
    // Arrange
    await h.writer.put('acme', 'tenantconfig:plan', 'gold');
    await h.writer.put('acme', 'flags:beta', true);
    const watch = h.watch(h.token('acme'));
    await watch.until((r) => r.snapshots.length === 1, 5000, 'the snapshot');
    const headAtSnapshot = await h.log.head(tenant('acme'));

    // Act
    await h.writer.put('acme', 'tenantconfig:plan', 'platinum');
    await h.writer.remove('acme', 'flags:beta');
    await h.writer.put('acme', 'tenantconfig:limits/rps', 100);
    await watch.until((r) => r.changes.length === 3, 5000, 'three changes');

    // Assert
    const [snapshot] = watch.snapshots;
    expect(watch.events[0].event).toBe('snapshot');
    expect(snapshot.reason).toBe('INITIAL');
    expect(snapshot.cursor).toBe(headAtSnapshot);
    expect(snapshot.items.map((i) => [i.key, JSON.parse(i.value_json), i.version])).toEqual([
      ['flags:beta', true, 1],
      ['tenantconfig:plan', 'gold', 1],
    ]);
    expect(watch.changes.map((c) => [c.key, c.version, c.deleted, c.deleted ? c.value_json : JSON.parse(c.value_json)])).toEqual([
      ['tenantconfig:plan', 2, false, 'platinum'],
      ['flags:beta', 1, true, ''],
      ['tenantconfig:limits/rps', 1, false, 100],
    ]);
    const cursors = watch.changes.map((c) => c.cursor);
    expect(new Set(cursors).size).toBe(3);
    expect(cursors.every((c) => c.length > 0 && c !== snapshot.cursor)).toBe(true);
    watch.cancel();
  });

  it('keeps tenants apart: a stream sees only its own tenant, even for the same key names', async () => {
    // Arrange
    const acme = h.watch(h.token('acme-iso'));
    const globex = h.watch(h.token('globex-iso'));
    await Promise.all([acme.until((r) => r.snapshots.length === 1), globex.until((r) => r.snapshots.length === 1)]);

    // Act
    await h.writer.put('globex-iso', 'tenantconfig:plan', 'globex-secret');
    await h.writer.put('acme-iso', 'tenantconfig:plan', 'acme-value');
    await acme.until((r) => r.changes.length === 1);
    await globex.until((r) => r.changes.length === 1);
    await sleep(50);

    // Assert
    expect(acme.changes.map((c) => c.value_json)).toEqual(['"acme-value"']);
    expect(globex.changes.map((c) => c.value_json)).toEqual(['"globex-secret"']);
    acme.cancel();
    globex.cancel();
  });

  it('keeps prefixes apart: snapshot and changes only for the watched prefixes', async () => {
    // Arrange
    await h.writer.put('pfx', 'tenantconfig:db/pool', 5);
    await h.writer.put('pfx', 'tenantconfig:plan', 'gold');
    await h.writer.put('pfx', 'flags:beta', true);
    const watch = h.watch(h.token('pfx'), { prefixes: ['tenantconfig:db/', 'flags:'] });
    await watch.until((r) => r.snapshots.length === 1);

    // Act
    await h.writer.put('pfx', 'tenantconfig:plan', 'silver');
    await h.writer.put('pfx', 'tenantconfig:db/pool', 6);
    await h.writer.put('pfx', 'flags:beta', false);
    await h.writer.put('pfx', 'tenantconfig:dbx', 1);
    await watch.until((r) => r.changes.length === 2);
    await sleep(50);

    // Assert
    expect(watch.snapshots[0].items.map((i) => i.key)).toEqual(['flags:beta', 'tenantconfig:db/pool']);
    expect(watch.changes.map((c) => [c.key, c.version])).toEqual([
      ['tenantconfig:db/pool', 2],
      ['flags:beta', 2],
    ]);
    watch.cancel();
  });

  it('resumes from a cursor with exactly the changes missed, and no snapshot', async () => {
    // Arrange
    const first = h.watch(h.token('resume'));
    await first.until((r) => r.snapshots.length === 1);
    await h.writer.put('resume', 'tenantconfig:a', 1);
    await first.until((r) => r.changes.length === 1);
    const cursor = first.lastCursor!;
    first.cancel();
    await first.status;
    await h.writer.put('resume', 'tenantconfig:a', 2);
    await h.writer.put('resume', 'tenantconfig:b', 1);
    await h.writer.remove('resume', 'tenantconfig:a');

    // Act
    const second = h.watch(h.token('resume'), { resume_cursor: cursor });
    await second.until((r) => r.changes.length === 3);
    await h.writer.put('resume', 'tenantconfig:b', 2);
    await second.until((r) => r.changes.length === 4);
    await sleep(50);

    // Assert
    expect(second.snapshots).toHaveLength(0);
    expect(second.changes.map((c) => [c.key, c.version, c.deleted])).toEqual([
      ['tenantconfig:a', 2, false],
      ['tenantconfig:b', 1, false],
      ['tenantconfig:a', 2, true],
      ['tenantconfig:b', 2, false],
    ]);
    second.cancel();
  });

  it('forgets a stream once its client cancels', async () => {
    // Arrange: earlier tests' cancelled streams are gone first.
    for (let i = 0; i < 50 && h.metrics.streamsOpen > 0; i++) await sleep(20);
    const before = h.metrics.streamsOpen;
    const watch = h.watch(h.token('leaver'));
    await watch.until((r) => r.snapshots.length === 1);
    const during = h.metrics.streamsOpen;

    // Act
    watch.cancel();
    await watch.status;
    await sleep(50);
    await h.writer.put('leaver', 'tenantconfig:a', 1);
    await sleep(50);

    // Assert
    expect(before).toBe(0);
    expect(during).toBe(1);
    expect(h.metrics.streamsOpen).toBe(before);
    expect(watch.changes).toHaveLength(0);
  });

  it('refuses a malformed cursor with INVALID_ARGUMENT', async () => {
    // Arrange
    const token = h.token('acme');

    // Act
    const watch = h.watch(token, { resume_cursor: 'not-a-cursor' });
    const status = await watch.status;

    // Assert
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/cursor/);
    expect(watch.events).toHaveLength(0);
  });

  it('refuses any string that is not a cursor this service issued (property)', async () => {
    const token = h.token('acme');
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 80 }).filter((s) => !s.startsWith('c1.')),
        async (raw) => {
          const watch = h.watch(token, { resume_cursor: raw });
          const status = await watch.status;
          expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
          expect(watch.events).toHaveLength(0);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("refuses a well-formed cursor of another tenant's shard with INVALID_ARGUMENT", async () => {
    // Arrange
    const own = h.log.parseCursor(await h.log.head(tenant('acme')));
    const other = (own.shard + 1) % h.log.shardCount;
    const cursor = encodeCursor(other, own.epoch, '1-0');

    // Act
    const status = await h.watch(h.token('acme'), { resume_cursor: cursor }).status;

    // Assert
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/shard/);
  });

  it.each([
    ['no tag', 'plan'],
    ['a bad name', 'tenantconfig:a//b'],
    ['an unknown tag', 'nosuchtag:'],
  ])('refuses a prefix with %s with INVALID_ARGUMENT', async (_what, prefix) => {
    const status = await h.watch(h.token('acme'), { prefixes: [prefix] }).status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('Watch: trimmed cursors', () => {
  let h: FanoutHarness;
  harnessPerSuite({ cache: { shards: 1, logMaxLen: 5 } }, (x) => (h = x));

  it('answers a cursor trimmed from the log with a CURSOR_EXPIRED snapshot, then the changes after it', async () => {
    // Arrange
    await h.writer.put('trim', 'tenantconfig:a', 1);
    const first = h.watch(h.token('trim'));
    await first.until((r) => r.snapshots.length === 1);
    const cursor = first.lastCursor!;
    first.cancel();
    for (let i = 0; i < 10; i++) await h.writer.put('trim', `tenantconfig:k${i}`, i);

    // Act
    const second = h.watch(h.token('trim'), { resume_cursor: cursor });
    await second.until((r) => r.snapshots.length === 1);
    await h.writer.put('trim', 'tenantconfig:a', 2);
    await second.until((r) => r.changes.length === 1);

    // Assert
    expect(second.events[0].event).toBe('snapshot');
    expect(second.snapshots[0].reason).toBe('CURSOR_EXPIRED');
    expect(second.snapshots[0].items).toHaveLength(11);
    expect(second.changes.map((c) => [c.key, c.version])).toEqual([['tenantconfig:a', 2]]);
    second.cancel();
  });
});

describe('Watch: heartbeats and stream age', () => {
  let h: FanoutHarness;
  beforeAll(async () => {
    // One shard: every tenant's changes advance the same log.
    h = await startHarness({ cache: { shards: 1 }, watch: { heartbeatIntervalMs: 150, maxStreamAgeMs: 0 } });
  });
  afterAll(() => h.close());

  it("sends heartbeats when idle, carrying the newest cursor passed, also past other tenants' changes", async () => {
    // Arrange
    const watch = h.watch(h.token('quiet'));
    await watch.until((r) => r.snapshots.length === 1);
    const snapshotCursor = watch.snapshots[0].cursor;
    await watch.until((r) => r.events.some((e) => e.event === 'heartbeat'), 2000, 'a heartbeat');
    const firstBeat = watch.events.find((e) => e.event === 'heartbeat')!.heartbeat!.cursor;

    // Act
    await h.writer.put('noisy', 'tenantconfig:x', 1);
    const noisyCursor = await h.log.head(tenant('noisy'));
    await watch.until((r) => r.events.some((e) => e.heartbeat?.cursor === noisyCursor), 2000, 'a heartbeat past the other tenant');

    // Assert
    expect(firstBeat).toBe(snapshotCursor);
    expect(watch.changes).toHaveLength(0);
    // Resuming from the heartbeat's cursor misses nothing of our own.
    await h.writer.put('quiet', 'tenantconfig:y', 1);
    await watch.until((r) => r.changes.length === 1);
    watch.cancel();
    const resumed = h.watch(h.token('quiet'), { resume_cursor: noisyCursor });
    await resumed.until((r) => r.changes.length === 1);
    expect(resumed.changes[0].key).toBe('tenantconfig:y');
    resumed.cancel();
  });
});

describe('Watch: maximum stream age', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { maxStreamAgeMs: 400, streamAgeSpread: 0.5 } }, (x) => (h = x));

  it('ends each stream with reconnect and OK before its maximum age, at spread-out times', async () => {
    // Arrange
    const started = Date.now();
    const watches = Array.from({ length: 6 }, () => h.watch(h.token('aged')));

    // Act
    const endedAfter = await Promise.all(watches.map((w) => w.status.then(() => Date.now() - started)));
    const statuses = await Promise.all(watches.map((w) => w.status));

    // Assert
    for (const [i, w] of watches.entries()) {
      expect(statuses[i].code).toBe(grpc.status.OK);
      expect(w.events.at(-1)?.event).toBe('reconnect');
      expect(w.events.at(-1)?.reconnect?.reason).toMatch(/maximum stream age/);
    }
    expect(Math.max(...endedAfter)).toBeLessThan(2000);
    expect(new Set(endedAfter.map((t) => Math.round(t / 10))).size).toBeGreaterThan(1);
  });
});
