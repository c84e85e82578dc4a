/**
 * Watch serves effective values (docs/design.md §8.2): a tenant without a value of its own sees
 * the default of its first matching segment, else the platform default, each with its source.
 * One default change is one log entry, and every fanout stream it affects gets exactly one
 * change; tenants with an override, or a segment default that wins, get nothing. Deleting an
 * override falls back to the default; moving a tenant between segments sends what changed; a
 * resumed stream gets the defaults it missed. Real server, real gRPC clients, in-memory stores.
 */
import { layerOwner, PLATFORM, segmentLayer } from '../../core/layers';
import { harnessPerSuite, WatchRecorder, type FanoutHarness } from './harness';

const gold = segmentLayer({ attribute: 'plan', value: 'gold' });
const live = (r: WatchRecorder) => r.snapshots.some((s) => !s.more);
const changesOf = (r: WatchRecorder, key: string) => r.changes.filter((c) => c.key === key);
const value = (json: string): unknown => JSON.parse(json);

describe('Watch with layers of defaults', () => {
  let harness: FanoutHarness;
  harnessPerSuite({ layers: true, anyServiceClient: true, watch: { snapshotPageBytes: 1024 } }, (started) => (harness = started));
  const h = () => harness;

  /** Log entries appended to the shard of `owner` while `act` runs. */
  async function logEntriesDuring(owner: string, act: () => Promise<unknown>): Promise<number> {
    const shard = h().log.shardOf(owner);
    const before = await h().log.headOfShard(shard);
    await act();
    const after = await h().log.readShardAfter(before, () => true, 10_000);
    if (after.trimmed) throw new Error('log trimmed during the test');
    return after.events.length;
  }

  it('snapshots the platform default with source "platform", and a tenant override with source "tenant"', async () => {
    // Arrange
    await h().writer.putDefault(PLATFORM, 'tenantconfig:snap/limit', 10);
    await h().writer.put('snap-own', 'tenantconfig:snap/limit', 99);

    // Act
    const plain = h().watch(h().token('snap-plain'), { prefixes: ['tenantconfig:snap/'] });
    const own = h().watch(h().token('snap-own'), { prefixes: ['tenantconfig:snap/'] });
    await Promise.all([plain.until(live), own.until(live)]);

    // Assert
    expect(plain.snapshots[0].items.map((i) => [i.key, value(i.value_json), i.source, i.tenant_id])).toEqual([
      ['tenantconfig:snap/limit', 10, 'platform', 'snap-plain'],
    ]);
    expect(own.snapshots[0].items.map((i) => [i.key, value(i.value_json), i.source])).toEqual([['tenantconfig:snap/limit', 99, 'tenant']]);
    plain.cancel();
    own.cancel();
  });

  it('one platform default change is one log entry and reaches each of 50 tenants once; the 10 with an override get nothing', async () => {
    // Arrange: 50 plain tenants, 10 with their own value.
    const plain = Array.from({ length: 50 }, (_, i) => `fan-${i}`);
    const overriding = Array.from({ length: 10 }, (_, i) => `fan-own-${i}`);
    for (const t of overriding) await h().writer.put(t, 'tenantconfig:fan/seats', 1000);
    const client = h().client();
    const watches = new Map([...plain, ...overriding].map((t) => [t, new WatchRecorder(client, h().token(t), { prefixes: ['tenantconfig:fan/'] })]));
    await Promise.all([...watches.values()].map((w) => w.until(live)));

    // Act
    const entries = await logEntriesDuring(layerOwner(PLATFORM), () => h().writer.putDefault(PLATFORM, 'tenantconfig:fan/seats', 5));
    await Promise.all(plain.map((t) => watches.get(t)!.until((r) => changesOf(r, 'tenantconfig:fan/seats').length > 0, 5000, `${t} gets the default`)));
    // A later change of another tenant marks the point by which anything else would have arrived.
    await h().writer.put(overriding[0], 'tenantconfig:fan/marker', true);
    await watches.get(overriding[0])!.until((r) => changesOf(r, 'tenantconfig:fan/marker').length > 0);

    // Assert
    expect(entries).toBe(1);
    for (const t of plain) {
      const got = changesOf(watches.get(t)!, 'tenantconfig:fan/seats');
      expect(got.map((c) => [value(c.value_json), c.source, c.tenant_id])).toEqual([[5, 'platform', t]]);
    }
    for (const t of overriding) expect(changesOf(watches.get(t)!, 'tenantconfig:fan/seats')).toEqual([]);
    for (const w of watches.values()) w.cancel();
  });

  it('deleting an override falls back to the default (a change with the default value, not a delete)', async () => {
    // Arrange
    await h().writer.putDefault(PLATFORM, 'tenantconfig:fb/timeout', 30);
    await h().writer.put('fb-t', 'tenantconfig:fb/timeout', 5);
    const watch = h().watch(h().token('fb-t'), { prefixes: ['tenantconfig:fb/'] });
    await watch.until(live);

    // Act
    await h().writer.remove('fb-t', 'tenantconfig:fb/timeout');
    await watch.until((r) => r.changes.length > 0);

    // Assert
    expect(watch.changes.map((c) => [c.key, c.deleted, value(c.value_json), c.source])).toEqual([['tenantconfig:fb/timeout', false, 30, 'platform']]);
    watch.cancel();
  });

  it('a segment default beats the platform default; the platform change passes over the segment’s tenants; moving segments sends the new values', async () => {
    // Arrange
    await h().writer.setAttributes('seg-gold', { plan: 'gold' });
    await h().writer.putDefault(PLATFORM, 'tenantconfig:seg/seats', 5);
    await h().writer.putDefault(gold, 'tenantconfig:seg/seats', 50);
    await h().writer.putDefault(gold, 'tenantconfig:seg/support', 'priority');
    const watch = h().watch(h().token('seg-gold'), { prefixes: ['tenantconfig:seg/'] });
    await watch.until(live);
    const snapshot = watch.snapshots[0].items.map((i) => [i.key, value(i.value_json), i.source]).sort();

    // Act 1: a platform change the gold segment overrides.
    await h().writer.putDefault(PLATFORM, 'tenantconfig:seg/seats', 6);
    // Act 2: the tenant leaves the gold plan.
    await h().writer.setAttributes('seg-gold', { plan: 'free' });
    await watch.until((r) => r.changes.length >= 2, 5000, 'the move to free');

    // Assert
    expect(snapshot).toEqual([
      ['tenantconfig:seg/seats', 50, 'segment:plan=gold'],
      ['tenantconfig:seg/support', 'priority', 'segment:plan=gold'],
    ]);
    const moved = watch.changes.map((c) => [c.key, c.deleted, c.deleted ? null : value(c.value_json), c.source]).sort();
    expect(moved).toEqual([
      ['tenantconfig:seg/seats', false, 6, 'platform'],
      ['tenantconfig:seg/support', true, null, 'segment:plan=gold'],
    ]);
    watch.cancel();
  });

  it('a stream resumed with its cursor gets the default changes it missed', async () => {
    // Arrange
    await h().writer.putDefault(PLATFORM, 'tenantconfig:rs/mode', 'a');
    const first = h().watch(h().token('rs-t'), { prefixes: ['tenantconfig:rs/'] });
    await first.until(live);
    const cursor = first.lastCursor!;
    first.cancel();

    // Act: the default changes while the stream is away.
    await h().writer.putDefault(PLATFORM, 'tenantconfig:rs/mode', 'b');
    await h().writer.putDefault(PLATFORM, 'tenantconfig:rs/extra', 1);
    const resumed = h().watch(h().token('rs-t'), { prefixes: ['tenantconfig:rs/'], resume_cursor: cursor });
    await resumed.until((r) => r.changes.length >= 2, 5000, 'the missed defaults');

    // Assert
    expect(resumed.snapshots).toEqual([]);
    const got = new Map(resumed.changes.map((c) => [c.key, [value(c.value_json), c.source]]));
    expect(got.get('tenantconfig:rs/mode')).toEqual(['b', 'platform']);
    expect(got.get('tenantconfig:rs/extra')).toEqual([1, 'platform']);
    resumed.cancel();
  });

  it('a service watching a list of tenants gets one change per tenant the default reaches, each with its tenant_id', async () => {
    // Arrange
    const tenants = ['ml-a', 'ml-b', 'ml-c'];
    await h().writer.put('ml-c', 'tenantconfig:ml/flag', false);
    const service = h().signer.signServiceToken({ service: 'billing' });
    const watch = h().watch(service, { tenants, prefixes: ['tenantconfig:ml/'], paged_snapshots: true });
    await watch.until(live);

    // Act
    await h().writer.putDefault(PLATFORM, 'tenantconfig:ml/flag', true);
    await watch.until((r) => r.changes.length >= 2);
    // A later change of ml-c marks the point by which a change for it would have arrived.
    await h().writer.put('ml-c', 'tenantconfig:ml/marker', 1);
    await watch.until((r) => r.changes.some((c) => c.key === 'tenantconfig:ml/marker'));

    // Assert
    expect(
      changesOf(watch, 'tenantconfig:ml/flag')
        .map((c) => [c.tenant_id, value(c.value_json), c.source])
        .sort(),
    ).toEqual([
      ['ml-a', true, 'platform'],
      ['ml-b', true, 'platform'],
    ]);
    expect(watch.changes.every((c) => c.cursor.startsWith('m1.'))).toBe(true);
    watch.cancel();
  });
});

describe('a default change on a stream of every tenant', () => {
  let harness: FanoutHarness;
  // A small queue bound: one default change means one change per tenant, far more than the bound.
  harnessPerSuite({ layers: true, anyServiceClient: true, watch: { maxQueueEvents: 64, snapshotPageBytes: 16 * 1024 } }, (started) => (harness = started));

  it('sends one change per tenant, past the queue bound, without cutting off a consumer that reads', async () => {
    // Arrange: 600 tenants that hold a key of their own elsewhere, so a Watch of every tenant knows them.
    const tenants = Array.from({ length: 600 }, (_, i) => `all-${String(i).padStart(3, '0')}`);
    for (const t of tenants) await harness.writer.put(t, 'tenantconfig:all/own', t);
    const service = harness.signer.signServiceToken({ service: 'billing' });
    const watch = harness.watch(service, { tenants: ['*'], prefixes: ['tenantconfig:all/'], paged_snapshots: true });
    await watch.until(live, 10_000, 'the snapshot of every tenant');

    // Act
    await harness.writer.putDefault(PLATFORM, 'tenantconfig:all/limit', 3);
    await watch.until((r) => changesOf(r, 'tenantconfig:all/limit').length >= tenants.length, 10_000, 'a change per tenant');

    // Assert
    expect(watch.done).toBeUndefined();
    expect(new Set(changesOf(watch, 'tenantconfig:all/limit').map((c) => c.tenant_id))).toEqual(new Set(tenants));
    expect(harness.metrics.slowConsumersCut).toBe(0);
    watch.cancel();
  });
});
