/**
 * Flow control: a consumer that stops reading is cut off with RESOURCE_EXHAUSTED (and told
 * to resync) while a normal one on the same tenant keeps receiving; changes that pile up
 * while a stream is still starting are never lost.
 */
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { ChangeLog } from '../../core/change-log';
import { rawWatch, startHarness, sleep, waitFor, type FanoutHarness } from './harness';

describe('slow consumers', () => {
  let h: FanoutHarness;
  beforeAll(async () => {
    // A long grace: these consumers read again, and then get the status with its explanation.
    h = await startHarness({ watch: { maxQueueEvents: 64, heartbeatIntervalMs: 60_000, slowConsumerGraceMs: 60_000 } });
  });
  afterAll(() => h.close());

  it('cuts off a consumer that stops reading, and the others keep receiving on time', async () => {
    // Arrange
    const slow = h.watch(h.token('busy'));
    const normal = h.watch(h.token('busy'));
    await Promise.all([slow.until((r) => r.snapshots.length === 1), normal.until((r) => r.snapshots.length === 1)]);
    slow.call.pause();
    const padding = 'x'.repeat(4000);
    const total = 400;

    // Act
    const lateness: number[] = [];
    for (let i = 0; i < total; i++) {
      await h.writer.put('busy', `tenantconfig:k${i % 10}`, { i, padding });
      // Each write is a round trip in production; let I/O happen between them here too.
      await new Promise((r) => setImmediate(r));
      // The normal consumer must keep up with the writer, not wait for the slow one.
      if (i % 50 === 49) {
        const t0 = Date.now();
        await normal.until((r) => r.changes.length === i + 1, 2000, `change ${i + 1} at the normal consumer`);
        lateness.push(Date.now() - t0);
      }
    }
    await normal.until((r) => r.changes.length === total);
    const cutBeforeResume = h.metrics.slowConsumersCut;
    slow.call.resume();
    const status = await slow.status;

    // Assert
    expect(cutBeforeResume).toBe(1);
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/resume_cursor/);
    expect(slow.changes.length).toBeLessThan(total);
    expect(normal.done).toBeUndefined();
    expect(normal.changes.map((c) => JSON.parse(c.value_json).i)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(Math.max(...lateness)).toBeLessThan(1000);
    normal.cancel();
  });

  it('lets the cut-off consumer resync from its last cursor with nothing missing', async () => {
    // Arrange
    const slow = h.watch(h.token('resync'));
    await slow.until((r) => r.snapshots.length === 1);
    slow.call.pause();
    const padding = 'y'.repeat(4000);
    for (let i = 0; i < 300; i++) {
      await h.writer.put('resync', `tenantconfig:k${i % 5}`, { i, padding });
      await new Promise((r) => setImmediate(r));
    }
    slow.call.resume();
    await slow.status;
    const applied = slow.changes.map((c) => JSON.parse(c.value_json).i as number);

    // Act
    const again = h.watch(h.token('resync'), { resume_cursor: slow.lastCursor });
    await again.until((r) => applied.length + r.changes.length === 300);

    // Assert
    expect(slow.done?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(again.snapshots).toHaveLength(0);
    expect([...applied, ...again.changes.map((c) => JSON.parse(c.value_json).i as number)]).toEqual(Array.from({ length: 300 }, (_, i) => i));
    again.cancel();
  });
});

describe('a consumer that stops reading for good', () => {
  let h: FanoutHarness;
  beforeAll(async () => {
    // The default queue bound (1024 events); a short grace so the test does not wait a second.
    h = await startHarness({ watch: { heartbeatIntervalMs: 60_000, slowConsumerGraceMs: 100 } });
  });
  afterAll(() => h.close());

  it('is cut off while thousands of changes are written, and the RESOURCE_EXHAUSTED reaches it although it still does not read', async () => {
    // Arrange
    const slow = h.watch(h.token('frozen'));
    await slow.until((r) => r.snapshots.length === 1);
    slow.call.pause();
    const total = 3000;

    // Act
    for (let i = 0; i < total; i++) {
      await h.writer.put('frozen', `tenantconfig:k${i % 10}`, { i, padding: 'f'.repeat(200) });
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    // Never resumed: the status has to get past the data queued in front of it.
    const status = await slow.status;
    await waitFor(() => h.server.stats().streamsOf('tenant:frozen') === 0, 'the stream to be forgotten');
    const applied = slow.changes.map((c) => JSON.parse(c.value_json).i as number);
    const again = h.watch(h.token('frozen'), { resume_cursor: slow.lastCursor });
    await again.until((r) => applied.length + r.changes.length === total, 10_000, 'every change after the resume');

    // Assert
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(h.metrics.slowConsumersCut).toBe(1);
    expect(again.snapshots).toHaveLength(0);
    expect([...applied, ...again.changes.map((c) => JSON.parse(c.value_json).i as number)]).toEqual(Array.from({ length: total }, (_, i) => i));
    again.cancel();
  }, 60_000);

  it.each([
    ['a small snapshot', 'mute-small', 1],
    ['a one-message snapshot of 800 KB stuck in front of everything', 'mute-large', 100],
  ])(
    'gets the RESOURCE_EXHAUSTED (or a reset gRPC reads as it) when it never reads at all, after %s',
    async (_what, t, keys) => {
      // Arrange: a bare HTTP/2 client that never gives back any flow-control window.
      for (let i = 0; i < keys; i++) await h.writer.put(t, `tenantconfig:big${i}`, { pad: 'b'.repeat(8000) });
      const cutBefore = h.metrics.slowConsumersCut;
      const stuck = rawWatch(h.address, h.token(t));

      // Act
      for (let i = 0; i < 5000 && h.metrics.slowConsumersCut === cutBefore; i++) {
        await h.writer.put(t, `tenantconfig:k${i % 10}`, { i, padding: 'm'.repeat(200) });
        if (i % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => stuck.ended() !== undefined, 'the stream to end at the client', 20_000);

      // Assert
      expect(h.metrics.slowConsumersCut).toBe(cutBefore + 1);
      const ended = stuck.ended()!;
      expect(ended.grpcStatus === grpc.status.RESOURCE_EXHAUSTED || ended.rstCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM).toBe(true);
      stuck.close();
      await stuck.closed;
    },
    60_000,
  );
});

describe('changes arriving while a stream starts', () => {
  let h: FanoutHarness;
  // Snapshots wait while `holding`; release() lets them all through from then on.
  let holding = true;
  let waiting: Array<() => void> = [];
  const release = () => {
    holding = false;
    for (const w of waiting) w();
    waiting = [];
  };
  let followers = 0;
  beforeAll(async () => {
    h = await startHarness({
      watch: { maxQueueEvents: 8, heartbeatIntervalMs: 60_000 },
      // A snapshot that waits for the test: changes pile up meanwhile.
      snapshots: (inner) => ({
        open(t, p, signal, principal) {
          const reader = inner.open(t, p, signal, principal);
          return {
            async next(limit) {
              const page = await reader.next(limit);
              if (holding) await new Promise<void>((resolve) => waiting.push(resolve));
              return page;
            },
          };
        },
      }),
      changeLog: (inner: ChangeLog) =>
        new Proxy(inner, {
          get(target, prop, receiver) {
            if (prop === 'follow') {
              return (...args: Parameters<ChangeLog['follow']>) => {
                followers += 1;
                return target.follow(...args);
              };
            }
            const value = Reflect.get(target, prop, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
  });
  afterAll(() => h.close());

  it('delivers them after the snapshot, without gaps or duplicates, even past the queue bound', async () => {
    // Arrange
    await h.writer.put('starting', 'tenantconfig:a', 0);
    const watch = h.watch(h.token('starting'));
    await sleep(100);

    // Act: 40 changes (five times the queue bound) while the snapshot is held back.
    for (let i = 1; i <= 40; i++) await h.writer.put('starting', `tenantconfig:${i % 2 === 0 ? 'a' : 'b'}`, i);
    await sleep(50);
    release();
    await watch.until(
      (r) => r.changes.some((c) => c.key === 'tenantconfig:a' && c.version === 21) && r.changes.some((c) => c.key === 'tenantconfig:b' && c.version === 20),
    );
    await sleep(100);

    // Assert: the snapshot is older than the changes; from it on, every version once and in order.
    const [snapshot] = watch.snapshots;
    const a = [
      snapshot.items.find((i) => i.key === 'tenantconfig:a')?.version ?? 0,
      ...watch.changes.filter((c) => c.key === 'tenantconfig:a').map((c) => c.version),
    ];
    const b = [
      snapshot.items.find((i) => i.key === 'tenantconfig:b')?.version ?? 0,
      ...watch.changes.filter((c) => c.key === 'tenantconfig:b').map((c) => c.version),
    ];
    expect(a).toEqual(Array.from({ length: a.length }, (_, i) => a[0] + i));
    expect(b).toEqual(Array.from({ length: b.length }, (_, i) => b[0] + i));
    expect(a.at(-1)).toBe(21);
    expect(b.at(-1)).toBe(20);
    expect(watch.done).toBeUndefined();
    watch.cancel();
  });

  it('reads the change log with one follower for the whole process, however many streams', async () => {
    // Arrange
    const watches = Array.from({ length: 5 }, (_, i) => h.watch(h.token(`many-${i}`)));

    // Act
    await Promise.all(watches.map((w) => w.until((r) => r.snapshots.length === 1)));
    await h.writer.put('many-0', 'tenantconfig:x', 1);
    await watches[0].until((r) => r.changes.length === 1);

    // Assert
    expect(followers).toBe(1);
    for (const w of watches) w.cancel();
  });
});
