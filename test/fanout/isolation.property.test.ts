/**
 * Tenant isolation on the Watch, as a property: for random tenants, keys, principals and tenant
 * lists, a stream never delivers an item or a change of a tenant the principal may not read,
 * nor of a secret tag it may not read; and every change of a followed tenant and readable tag
 * arrives, in order per key, with the right tenant_id. Real server; both ways in, each scenario
 * through each: a gRPC client, and `GET /v1/events` read as a browser reads it (SSE). The gRPC
 * client asks for the tenants' registry attributes (`include_attributes`): it gets those of the
 * followed tenants only, as registered before and after each move; SSE never gets any.
 */
import fc from 'fast-check';
import { SCOPES } from '../../core/principal';
import { SseRecorder } from '../support/sse-client';
import { startHarness, type FanoutHarness } from './harness';

type Kind = 'reader' | 'admin' | 'service' | 'service+secrets' | 'operator';
const TAGS = ['tenantconfig', 'secretconfig'] as const;
type Tag = (typeof TAGS)[number];
const TENANTS = 4;

const readsSecrets = (kind: Kind) => kind === 'admin' || kind === 'service+secrets' || kind === 'operator';

const write = fc.record({
  tenant: fc.integer({ min: 0, max: TENANTS - 1 }),
  tag: fc.constantFrom<Tag>(...TAGS),
  name: fc.constantFrom('a' as const, 'b' as const),
  value: fc.integer({ min: 0, max: 1000 }),
});

/** A principal and what it asks for; only requests the principal may make. */
const scenario = fc
  .record({
    kind: fc.constantFrom<Kind>('reader', 'admin', 'service', 'service+secrets', 'operator'),
    own: fc.integer({ min: 0, max: TENANTS - 1 }),
    askOwn: fc.boolean(),
    list: fc.uniqueArray(fc.integer({ min: 0, max: TENANTS - 1 }), { minLength: 1, maxLength: TENANTS }),
    all: fc.boolean(),
    before: fc.array(write, { maxLength: 8 }),
    live: fc.array(write, { maxLength: 10 }),
    /** Each tenant's plan in the registry before the stream (null: not registered). */
    plans: fc.array(fc.option(fc.constantFrom('gold', 'free'), { nil: null }), { minLength: TENANTS, maxLength: TENANTS }),
    /** Registry changes while the stream is live. */
    moves: fc.array(fc.record({ tenant: fc.integer({ min: 0, max: TENANTS - 1 }), plan: fc.constantFrom('gold', 'free', 'silver') }), { maxLength: 4 }),
  })
  .map((s) => ({ ...s, all: s.kind !== 'reader' && s.kind !== 'admin' && s.all }));

/** An item or change as either way in delivers it. */
interface Seen {
  readonly tenant: string;
  readonly key: string;
  readonly value: number;
}

describe('Watch isolation (property)', () => {
  let h: FanoutHarness;
  let runs = 0;
  beforeAll(async () => {
    h = await startHarness({ anyServiceClient: true, layers: true, watch: { heartbeatIntervalMs: 60_000 }, events: {} });
  });
  afterAll(() => h.close());

  it('delivers exactly the followed tenants’ readable items and changes, in order per key, with their tenant_id', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        runs += 1;
        const tenantIds = Array.from({ length: TENANTS }, (_, i) => `iso${runs}t${i}`);
        const tokenOf: Record<Kind, () => string> = {
          reader: () => h.signer.signToken({ tenant: tenantIds[s.own] }),
          admin: () => h.signer.signToken({ tenant: tenantIds[s.own], admin: true }),
          service: () => h.signer.signServiceToken({ service: 'svc' }),
          'service+secrets': () => h.signer.signServiceToken({ service: 'svc2', scopes: [SCOPES.read, SCOPES.readSecrets] }),
          operator: () => h.signer.signOperatorToken({ operator: 'op' }),
        };
        const tenantPrincipal = s.kind === 'reader' || s.kind === 'admin';
        const followed = new Set(tenantPrincipal ? [tenantIds[s.own]] : s.all ? tenantIds : s.list.map((i) => tenantIds[i]));
        const requested = tenantPrincipal ? (s.askOwn ? [tenantIds[s.own]] : []) : s.all ? ['*'] : s.list.map((i) => tenantIds[i]);
        const readable = (tag: string) => tag === 'tenantconfig' || readsSecrets(s.kind);
        const ours = (tenant: string) => tenantIds.includes(tenant);

        // Arrange: data before the stream, in every tenant of the run.
        const state = new Map<string, number>();
        for (const w of s.before) {
          await h.writer.put(tenantIds[w.tenant], `${w.tag}:${w.name}`, w.value);
          state.set(`${tenantIds[w.tenant]}/${w.tag}:${w.name}`, w.value);
        }
        const plans = new Map<string, string>();
        for (const [i, plan] of s.plans.entries()) {
          if (plan === null) continue;
          await h.writer.setAttributes(tenantIds[i], { plan });
          plans.set(tenantIds[i], plan);
        }
        const watch = h.watch(tokenOf[s.kind](), { tenants: requested, paged_snapshots: true, include_attributes: true });
        const query = requested.length > 0 ? `?tenants=${encodeURIComponent(requested.join(','))}` : '';
        const sse = new SseRecorder(`${h.eventsUrl}/v1/events${query}`, { token: tokenOf[s.kind]() });
        await watch.until((r) => r.snapshots.some((p) => !p.more), 5000, 'the snapshot');
        await sse.until((r) => r.snapshotDone, 5000, 'the SSE snapshot');

        // Act: writes to every tenant of the run, then an end marker per followed tenant.
        for (const w of s.live) await h.writer.put(tenantIds[w.tenant], `${w.tag}:${w.name}`, w.value);
        const moved = new Map<string, string>();
        for (const m of s.moves) {
          await h.writer.setAttributes(tenantIds[m.tenant], { plan: m.plan });
          moved.set(tenantIds[m.tenant], m.plan);
        }
        for (const t of followed) await h.writer.put(t, 'tenantconfig:zz-end', runs);
        const ended = (seen: Array<{ tenant: string; key: string }>) =>
          [...followed].every((t) => seen.some((c) => c.tenant === t && c.key === 'tenantconfig:zz-end'));
        await watch.until((r) => ended(r.changes.map((c) => ({ tenant: c.tenant_id, key: c.key }))), 5000, 'every end marker');
        await sse.until((r) => ended(r.changes.map((c) => ({ tenant: c.tenantId, key: c.key }))), 5000, 'every end marker over SSE');
        watch.cancel();
        sse.cancel();

        // Attributes: the followed tenants' only, over gRPC (asked for); none over SSE (never asked).
        const ATTRIBUTES = '@attributes';
        const attributeItems = watch.snapshots.flatMap((p) => p.items).filter((i) => i.key === ATTRIBUTES && ours(i.tenant_id));
        const attributeChanges = watch.changes.filter((c) => c.key === ATTRIBUTES && ours(c.tenant_id));
        for (const x of [...attributeItems, ...attributeChanges]) {
          expect({ tenant: x.tenant_id, followed: followed.has(x.tenant_id) }).toEqual({ tenant: x.tenant_id, followed: true });
        }
        expect(attributeItems.map((i) => `${i.tenant_id}=${i.value_json}`).sort()).toEqual(
          [...plans]
            .filter(([t]) => followed.has(t))
            .map(([t, plan]) => `${t}=${JSON.stringify({ plan })}`)
            .sort(),
        );
        const lastChange = new Map(attributeChanges.map((c) => [c.tenant_id, c.value_json]));
        expect(Object.fromEntries([...lastChange].sort())).toEqual(
          Object.fromEntries(
            [...moved]
              .filter(([t]) => followed.has(t))
              .map(([t, plan]) => [t, JSON.stringify({ plan })])
              .sort(),
          ),
        );
        expect([...sse.snapshotItems, ...sse.changes].filter((x) => x.key === ATTRIBUTES)).toEqual([]);

        // Assert, for each way in: nothing of another tenant of the run, nor of a tag it may not read.
        const received: Record<string, { items: Seen[]; changes: Seen[] }> = {
          grpc: {
            items: watch.snapshots.flatMap((p) => p.items).map((i) => ({ tenant: i.tenant_id, key: i.key, value: JSON.parse(i.value_json) as number })),
            changes: watch.changes.map((c) => ({ tenant: c.tenant_id, key: c.key, value: JSON.parse(c.value_json) as number })),
          },
          sse: {
            items: sse.snapshotItems.map((i) => ({ tenant: i.tenantId, key: i.key, value: i.value as number })),
            changes: sse.changes.map((c) => ({ tenant: c.tenantId, key: c.key, value: c.value as number })),
          },
        };
        // The snapshot is the followed, readable part of the state before the stream.
        const expectedSnapshot = [...state]
          .filter(([k]) => followed.has(k.split('/')[0]) && readable(k.split('/')[1].split(':')[0]))
          .map(([k, v]) => `${k}=${v}`)
          .sort();
        // Every live write of a followed tenant and readable tag, in order per key.
        const perKey = (list: Seen[]) => {
          const m = new Map<string, number[]>();
          for (const x of list) m.set(`${x.tenant}/${x.key}`, [...(m.get(`${x.tenant}/${x.key}`) ?? []), x.value]);
          return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
        };
        const expectedChanges = s.live
          .map((w) => ({ tenant: tenantIds[w.tenant], key: `${w.tag}:${w.name}`, value: w.value }))
          .filter((w) => followed.has(w.tenant) && readable(w.key.split(':')[0]));
        for (const [way, got] of Object.entries(received)) {
          const items = got.items.filter((i) => ours(i.tenant) && i.key !== '@attributes');
          const changes = got.changes.filter((c) => ours(c.tenant) && c.key !== 'tenantconfig:zz-end' && c.key !== '@attributes');
          for (const x of [...items, ...changes]) {
            expect({ way, tenant: x.tenant, followed: followed.has(x.tenant) }).toEqual({ way, tenant: x.tenant, followed: true });
            expect({ way, key: x.key, readable: readable(x.key.split(':')[0]) }).toEqual({ way, key: x.key, readable: true });
          }
          expect({ way, snapshot: items.map((i) => `${i.tenant}/${i.key}=${i.value}`).sort() }).toEqual({ way, snapshot: expectedSnapshot });
          expect({ way, changes: perKey(changes) }).toEqual({ way, changes: perKey(expectedChanges) });
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
