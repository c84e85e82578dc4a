/**
 * Watch delivery of rollouts (docs/design.md §8.3): a layer's item holding `{"$rollout":
 * {id, percent, to, from?}}` serves each tenant the value of its bucket, and a wave, a rollback
 * or the rollout's first write sends a change to exactly the tenants whose value it moves —
 * nothing to the others, nothing to a tenant with its own value, nothing to a tenant whose
 * segment default wins. Without `from`, tenants outside the wave fall through to the layers
 * under the rolled-out one (or hold no value). The same per-tenant outcome on single-tenant
 * streams, on a stream of a list of tenants and on a stream of every tenant ("*").
 * Real server, real gRPC clients, in-memory stores.
 */
import { rolloutBucket } from '../../core/bucket';
import { PLATFORM, segmentLayer, type Layer } from '../../core/layers';
import type { JsonValue } from '../../core/item';
import { rolloutValue } from '../../core/rollout-value';
import { harnessPerSuite, WatchRecorder, type FanoutHarness } from './harness';

const gold = segmentLayer({ attribute: 'plan', value: 'gold' });
const live = (r: WatchRecorder) => r.snapshots.some((s) => !s.more);
/** What a change or a snapshot item says a tenant sees: [value (null = the key is gone), source]. */
type Seen = [unknown, string];
const STREAMS_PER_CLIENT = 50;

interface Fleet {
  /** One stream per tenant, keyed by tenant. */
  readonly single: Map<string, WatchRecorder>;
  /** A service's stream of the list of all the tenants. */
  readonly list: WatchRecorder;
  /** A service's stream of every tenant ("*"): it sees the other tests' tenants too, filtered out. */
  readonly all: WatchRecorder;
}

describe('Watch delivery of rollouts', () => {
  let harness: FanoutHarness;
  harnessPerSuite({ layers: true, anyServiceClient: true, watch: { snapshotPageBytes: 16 * 1024, maxQueueEvents: 4096 } }, (h) => (harness = h));
  const h = () => harness;

  /** Registers the tenants (so "*" knows them) with their plan, then opens every stream and waits for their snapshots. */
  async function openFleet(tenants: readonly string[], prefix: string, planOf: (i: number) => string): Promise<Fleet> {
    for (const [i, t] of tenants.entries()) await h().writer.setAttributes(t, { plan: planOf(i) });
    const single = new Map<string, WatchRecorder>();
    let client = h().client();
    for (const [i, t] of tenants.entries()) {
      if (i > 0 && i % STREAMS_PER_CLIENT === 0) client = h().client();
      single.set(t, new WatchRecorder(client, h().token(t), { prefixes: [prefix] }));
    }
    const service = h().signer.signServiceToken({ service: 'rollout-watcher' });
    const list = h().watch(service, { tenants: [...tenants], prefixes: [prefix], paged_snapshots: true });
    const all = h().watch(service, { tenants: ['*'], prefixes: [prefix], paged_snapshots: true });
    await Promise.all([...single.values(), list, all].map((r) => r.until(live, 15_000, 'the snapshot')));
    return { single, list, all };
  }

  const closeFleet = (f: Fleet) => [...f.single.values(), f.list, f.all].forEach((r) => r.cancel());

  /** What each of `tenants` sees of `key` in the snapshots of a stream. */
  function snapshotOf(r: WatchRecorder, key: string, tenants: ReadonlySet<string>): Map<string, Seen> {
    const seen = new Map<string, Seen>();
    for (const page of r.snapshots) {
      for (const i of page.items) if (i.key === key && tenants.has(i.tenant_id)) seen.set(i.tenant_id, [JSON.parse(i.value_json), i.source]);
    }
    return seen;
  }

  let markers = 0;

  /**
   * Runs `act` (writes of `key`'s layer items), then writes a platform default of `<prefix>marker`
   * that every tenant inherits: the log of the platform is one shard, so once a stream has the
   * marker for every tenant it follows, whatever `act` sent it has arrived. Answers, per kind of
   * stream, the changes of `key` each tenant got meanwhile.
   */
  async function step(fleet: Fleet, prefix: string, key: string, act: () => Promise<unknown>): Promise<Record<'single' | 'list' | 'all', Map<string, Seen[]>>> {
    const tenants = new Set(fleet.single.keys());
    const marks = new Map([...fleet.single.values(), fleet.list, fleet.all].map((r) => [r, r.changes.length]));
    await act();
    const marker = `${prefix}marker`;
    const n = ++markers;
    await h().writer.putDefault(PLATFORM, marker, n);
    const hasMarker = (r: WatchRecorder, want: ReadonlySet<string>) => {
      const got = new Set(
        r.changes
          .slice(marks.get(r))
          .filter((c) => c.key === marker && JSON.parse(c.value_json) === n)
          .map((c) => c.tenant_id),
      );
      return [...want].every((t) => got.has(t));
    };
    await Promise.all([...fleet.single].map(([t, r]) => r.until((x) => hasMarker(x, new Set([t])), 10_000, `${t}'s marker ${n}`)));
    await Promise.all([fleet.list, fleet.all].map((r) => r.until((x) => hasMarker(x, tenants), 10_000, `every tenant's marker ${n}`)));
    const collect = (recorders: WatchRecorder[]) => {
      const got = new Map<string, Seen[]>();
      for (const r of recorders) {
        for (const c of r.changes.slice(marks.get(r))) {
          if (c.key !== key || !tenants.has(c.tenant_id)) continue;
          const list = got.get(c.tenant_id) ?? [];
          list.push([c.deleted ? null : JSON.parse(c.value_json), c.source]);
          got.set(c.tenant_id, list);
        }
      }
      return got;
    };
    return { single: collect([...fleet.single.values()]), list: collect([fleet.list]), all: collect([fleet.all]) };
  }

  /** Every kind of stream got exactly `expected` (one change per tenant listed, nothing for the others). */
  function expectDelivered(got: Awaited<ReturnType<typeof step>>, expected: Map<string, Seen>): void {
    const want = new Map([...expected].map(([t, seen]) => [t, [seen]]));
    const sorted = (m: Map<string, Seen[]>) => [...m].sort(([a], [b]) => a.localeCompare(b));
    expect(sorted(got.single)).toEqual(sorted(want));
    expect(sorted(got.list)).toEqual(sorted(want));
    expect(sorted(got.all)).toEqual(sorted(want));
  }

  const rollout = (percent: number, to: JsonValue, from?: JsonValue) => rolloutValue({ id: 'r-1', percent, to, ...(from !== undefined ? { from } : {}) });
  const expected = (tenants: readonly string[], seen: (t: string) => Seen | undefined) =>
    new Map(tenants.flatMap((t) => (seen(t) ? [[t, seen(t)!] as const] : [])));
  const put = (layer: Layer, key: string, value: JsonValue) => () => h().writer.putDefault(layer, key, value);

  it('waves of 20 % and 50 % move exactly their new buckets; the rollback moves exactly the buckets under 50; overriding tenants get nothing', async () => {
    // Arrange: 200 tenants, every 10th with its own value; the platform default 'old'.
    const prefix = 'tenantconfig:rod/';
    const key = `${prefix}mode`;
    const tenants = Array.from({ length: 200 }, (_, i) => `rod-${String(i).padStart(3, '0')}`);
    const overriding = new Set(tenants.filter((_, i) => i % 10 === 0));
    for (const t of overriding) await h().writer.put(t, key, 'mine');
    await h().writer.putDefault(PLATFORM, key, 'old');
    const fleet = await openFleet(tenants, prefix, () => 'free');
    const bucket = (t: string) => rolloutBucket(key, t);
    const plain = tenants.filter((t) => !overriding.has(t));
    // The sample spans every range the test tells apart.
    expect(plain.filter((t) => bucket(t) < 20).length).toBeGreaterThan(10);
    expect(plain.filter((t) => bucket(t) >= 20 && bucket(t) < 50).length).toBeGreaterThan(10);
    expect(plain.filter((t) => bucket(t) >= 50).length).toBeGreaterThan(10);
    const all = new Set(tenants);
    const snapshot = expected(tenants, (t) => (overriding.has(t) ? ['mine', 'tenant'] : ['old', 'platform']));
    for (const [t, r] of fleet.single) expect(snapshotOf(r, key, all)).toEqual(new Map([[t, snapshot.get(t)]]));
    expect(snapshotOf(fleet.list, key, all)).toEqual(snapshot);
    expect(snapshotOf(fleet.all, key, all)).toEqual(snapshot);

    // Act + Assert: the first wave.
    const wave1 = await step(fleet, prefix, key, put(PLATFORM, key, rollout(20, 'new', 'old')));
    expectDelivered(
      wave1,
      expected(plain, (t) => (bucket(t) < 20 ? ['new', 'platform'] : undefined)),
    );

    // Act + Assert: the second wave moves buckets 20-49 only.
    const wave2 = await step(fleet, prefix, key, put(PLATFORM, key, rollout(50, 'new', 'old')));
    expectDelivered(
      wave2,
      expected(plain, (t) => (bucket(t) >= 20 && bucket(t) < 50 ? ['new', 'platform'] : undefined)),
    );

    // Act + Assert: the rollback (the old value, plain) moves every bucket under 50 back.
    const back = await step(fleet, prefix, key, put(PLATFORM, key, 'old'));
    expectDelivered(
      back,
      expected(plain, (t) => (bucket(t) < 50 ? ['old', 'platform'] : undefined)),
    );
    closeFleet(fleet);
  }, 60_000);

  it('without "from": outside the wave tenants fall through to the layers under it or hold no value; a winning segment and an override get nothing', async () => {
    // Arrange: 200 tenants, a quarter on the gold plan (a segment default of the key), every 10th with its own value; no platform value.
    const prefix = 'tenantconfig:ros/';
    const key = `${prefix}tier`;
    const tenants = Array.from({ length: 200 }, (_, i) => `ros-${String(i).padStart(3, '0')}`);
    const isGold = new Set(tenants.filter((_, i) => i % 4 === 0));
    const overriding = new Set(tenants.filter((_, i) => i % 10 === 0));
    for (const t of overriding) await h().writer.put(t, key, 'mine');
    await h().writer.putDefault(gold, key, 'gold');
    const fleet = await openFleet(tenants, prefix, (i) => (i % 4 === 0 ? 'gold' : 'free'));
    const bucket = (t: string) => rolloutBucket(key, t);
    const free = tenants.filter((t) => !overriding.has(t) && !isGold.has(t));
    const goldPlain = tenants.filter((t) => !overriding.has(t) && isGold.has(t));
    expect(goldPlain.filter((t) => bucket(t) < 40).length).toBeGreaterThan(5);
    expect(goldPlain.filter((t) => bucket(t) >= 40).length).toBeGreaterThan(5);
    expect(snapshotOf(fleet.all, key, new Set(tenants))).toEqual(
      expected(tenants, (t) => (overriding.has(t) ? ['mine', 'tenant'] : isGold.has(t) ? ['gold', 'segment:plan=gold'] : undefined)),
    );

    // A platform rollout with no "from": free tenants in the wave get the new value, the rest of them still hold none; gold tenants keep their segment's.
    const wave1 = await step(fleet, prefix, key, put(PLATFORM, key, rollout(30, 'new')));
    expectDelivered(
      wave1,
      expected(free, (t) => (bucket(t) < 30 ? ['new', 'platform'] : undefined)),
    );
    const wave2 = await step(fleet, prefix, key, put(PLATFORM, key, rollout(60, 'new')));
    expectDelivered(
      wave2,
      expected(free, (t) => (bucket(t) >= 30 && bucket(t) < 60 ? ['new', 'platform'] : undefined)),
    );

    // Its rollback (the layer held no value: the item goes): the key's end for the free tenants in the wave.
    const back = await step(fleet, prefix, key, () => h().writer.removeDefault(PLATFORM, key));
    expectDelivered(
      back,
      expected(free, (t) => (bucket(t) < 60 ? [null, 'platform'] : undefined)),
    );

    // A platform value under the gold segment, and the segment's own value gone: every plain tenant now sees the platform's.
    const platform = await step(fleet, prefix, key, put(PLATFORM, key, 'plat'));
    expectDelivered(
      platform,
      expected(free, () => ['plat', 'platform']),
    );
    const ungold = await step(fleet, prefix, key, () => h().writer.removeDefault(gold, key));
    expectDelivered(
      ungold,
      expected(goldPlain, () => ['plat', 'platform']),
    );

    // A gold segment rollout with no "from": its wave gets the segment's new value; outside it gold tenants fall through to the platform, unchanged.
    const segmentWave = await step(fleet, prefix, key, put(gold, key, rollout(40, 'gnew')));
    expectDelivered(
      segmentWave,
      expected(goldPlain, (t) => (bucket(t) < 40 ? ['gnew', 'segment:plan=gold'] : undefined)),
    );

    // Its rollback: the wave falls through to the platform's value.
    const segmentBack = await step(fleet, prefix, key, () => h().writer.removeDefault(gold, key));
    expectDelivered(
      segmentBack,
      expected(goldPlain, (t) => (bucket(t) < 40 ? ['plat', 'platform'] : undefined)),
    );
    closeFleet(fleet);
  }, 60_000);
});
