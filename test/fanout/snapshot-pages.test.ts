/**
 * Snapshots in bounded pages, read on demand: a client that asks gets pages (the cursor on the
 * last only), one that does not gets one message as before; a stream nobody reads holds one
 * page and reads no further; cancel or a dropped connection stops the snapshot's reads.
 */
import { tenant as tenantId, rawWatch, sleep, startHarness, waitFor, type FanoutHarness } from './harness';

const PAGE_BYTES = 16 * 1024;

describe('snapshot pages', () => {
  let h: FanoutHarness;
  const lists = new Map<string, number>();
  // Tenants whose `list` calls wait until released.
  const held = new Set<string>();
  let waiting: Array<() => void> = [];
  const release = (t: string) => {
    held.delete(t);
    for (const w of waiting) w();
    waiting = [];
  };
  const stats = (t: string) => h.server.stats().streams.find((s) => s.tenant === t);

  beforeAll(async () => {
    h = await startHarness({
      watch: { heartbeatIntervalMs: 60_000, snapshotPageBytes: PAGE_BYTES, maxQueueEvents: 256 },
      onList: async (t) => {
        lists.set(t, (lists.get(t) ?? 0) + 1);
        while (held.has(t)) await new Promise<void>((resolve) => waiting.push(resolve));
      },
    });
  });
  afterAll(() => h.close());

  async function fill(t: string, count: number, valueBytes: number): Promise<void> {
    for (let i = 0; i < count; i++) await h.writer.put(t, `tenantconfig:k${String(i).padStart(4, '0')}`, { i, pad: 'p'.repeat(valueBytes) });
  }

  it('sends pages to a client that asks: every item once, in key order, the cursor on the last page only; one message to a client that does not', async () => {
    // Arrange
    await fill('paged', 40, 2000);
    const head = await h.log.head(tenantId('paged'));

    // Act
    const paged = h.watch(h.token('paged'), { paged_snapshots: true });
    await paged.until((r) => r.snapshots.some((s) => !s.more), 5000, 'the last page');
    const whole = h.watch(h.token('paged'));
    await whole.until((r) => r.snapshots.length === 1, 5000, 'the one-message snapshot');
    await h.writer.put('paged', 'tenantconfig:after', 1);
    await paged.until((r) => r.changes.length === 1, 5000, 'the change after the snapshot');

    // Assert
    const pages = paged.snapshots;
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(pages.slice(0, -1).every((p) => p.more && p.cursor === '' && p.reason === 'INITIAL')).toBe(true);
    expect(pages.at(-1)).toMatchObject({ more: false, cursor: head, reason: 'INITIAL' });
    for (const p of pages) expect(p.items.reduce((n, i) => n + i.key.length + i.value_json.length, 0)).toBeLessThanOrEqual(PAGE_BYTES);
    const keys = pages.flatMap((p) => p.items.map((i) => i.key));
    expect(keys).toEqual(Array.from({ length: 40 }, (_, i) => `tenantconfig:k${String(i).padStart(4, '0')}`));
    expect(whole.snapshots).toHaveLength(1);
    expect(whole.snapshots[0]).toMatchObject({ more: false, cursor: head });
    expect(whole.snapshots[0].items.map((i) => i.key)).toEqual(keys);
    expect(paged.events.findIndex((e) => e.event === 'change')).toBe(pages.length);
    paged.cancel();
    whole.cancel();
  });

  it('sends one empty last page for an empty snapshot', async () => {
    const paged = h.watch(h.token('paged-empty'), { paged_snapshots: true });
    await paged.until((r) => r.snapshots.length === 1);
    expect(paged.snapshots[0]).toMatchObject({ items: [], more: false });
    expect(paged.snapshots[0].cursor).not.toBe('');
    paged.cancel();
  });

  it('holds at most one page for a stream that is not read, reads no further, and stops reading once it is gone', async () => {
    // Arrange: 400 keys of 8 KB (3.2 MB), far more than a page.
    await fill('stalled', 400, 8000);
    const listsBefore = lists.get('stalled') ?? 0;

    // Act
    const stuck = rawWatch(h.address, h.token('stalled'), { pagedSnapshots: true });
    const stalled = () => {
      const s = stats('stalled');
      return s !== undefined && s.waitingForFlush && s.inFlightWrites > 0;
    };
    await waitFor(stalled, 'the stream to wait for a page to be taken');
    // Give it every chance to read ahead, then look again once it is waiting.
    await sleep(300);
    await waitFor(stalled, 'the stream to wait again');
    const atStall = stats('stalled')!;
    // Thousands of changes while it does not read: held back, bounded, never queued for the socket.
    for (let i = 0; i < 1000; i++) {
      await h.writer.put('stalled', `tenantconfig:hot${i % 10}`, i);
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    const afterChanges = stats('stalled')!;
    stuck.close();
    await waitFor(() => h.server.stats().streamsOf('tenant:stalled') === 0, 'the stream to end with its connection');
    const listsAtClose = lists.get('stalled')!;
    await sleep(100);

    // Assert
    expect(atStall.state).toBe('starting');
    expect(atStall.inFlightWrites).toBe(1);
    expect(atStall.inFlightBytes).toBeLessThanOrEqual(PAGE_BYTES + 1024);
    expect(atStall.queued).toBe(0);
    // Pages taken by the client's 64 KiB HTTP/2 window, plus the one waiting: nowhere near 400 items.
    expect(atStall.snapshotItemsRead).toBeLessThanOrEqual(24);
    expect(listsAtClose - listsBefore).toBe(atStall.snapshotReads);
    expect(afterChanges.queued).toBe(0);
    expect(afterChanges.pending).toBeLessThanOrEqual(256);
    expect(afterChanges.snapshotItemsRead).toBe(atStall.snapshotItemsRead);
    expect(lists.get('stalled')).toBe(listsAtClose);
  });

  it.each([
    ['the client cancels', 'cancel'],
    ['its connection closes', 'close'],
  ])('stops reading a one-message snapshot when %s', async (_what, how) => {
    // Arrange: 250 keys, three `list` pages; the first one is held until the stream is gone.
    const t = `gone-${how}`;
    await fill(t, 250, 10);
    held.add(t);
    lists.set(t, 0);

    // Act
    const end =
      how === 'cancel'
        ? (() => {
            const w = h.watch(h.token(t));
            return () => w.cancel();
          })()
        : (() => {
            const raw = rawWatch(h.address, h.token(t));
            return () => raw.close();
          })();
    await waitFor(() => lists.get(t) === 1, 'the first list call');
    end();
    await waitFor(() => h.server.stats().streamsOf(`tenant:${t}`) === 0, 'the stream to end');
    release(t);
    // Whatever would follow the held read runs now; give it time to show.
    await sleep(200);

    // Assert
    expect(lists.get(t)).toBe(1);
  });
});
