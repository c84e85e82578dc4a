/**
 * Tenant isolation on the Watch, as a property: for random tenants, keys, principals and tenant
 * lists, a stream never delivers an item or a change of a tenant the principal may not read,
 * nor of a secret tag it may not read; and every change of a followed tenant and readable tag
 * arrives, in order per key, with the right tenant_id. Real server and gRPC clients.
 */
import fc from 'fast-check';
import { SCOPES } from '../../core/principal';
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
  })
  .map((s) => ({ ...s, all: s.kind !== 'reader' && s.kind !== 'admin' && s.all }));

describe('Watch isolation (property)', () => {
  let h: FanoutHarness;
  let runs = 0;
  beforeAll(async () => {
    h = await startHarness({ anyServiceClient: true, watch: { heartbeatIntervalMs: 60_000 } });
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
        const watch = h.watch(tokenOf[s.kind](), { tenants: requested, paged_snapshots: true });
        await watch.until((r) => r.snapshots.some((p) => !p.more), 5000, 'the snapshot');

        // Act: writes to every tenant of the run, then an end marker per followed tenant.
        for (const w of s.live) await h.writer.put(tenantIds[w.tenant], `${w.tag}:${w.name}`, w.value);
        for (const t of followed) await h.writer.put(t, 'tenantconfig:zz-end', runs);
        await watch.until(
          (r) => [...followed].every((t) => r.changes.some((c) => c.tenant_id === t && c.key === 'tenantconfig:zz-end')),
          5000,
          'every end marker',
        );
        watch.cancel();

        // Assert: nothing of another tenant of the run, nor of a tag it may not read.
        const items = watch.snapshots.flatMap((p) => p.items).filter((i) => ours(i.tenant_id));
        const changes = watch.changes.filter((c) => ours(c.tenant_id) && c.key !== 'tenantconfig:zz-end');
        for (const x of [...items, ...changes]) {
          expect(followed.has(x.tenant_id)).toBe(true);
          expect(readable(x.key.split(':')[0])).toBe(true);
        }
        // The snapshot is the followed, readable part of the state before the stream.
        const expectedSnapshot = [...state]
          .filter(([k]) => followed.has(k.split('/')[0]) && readable(k.split('/')[1].split(':')[0]))
          .map(([k, v]) => `${k}=${v}`)
          .sort();
        expect(items.map((i) => `${i.tenant_id}/${i.key}=${JSON.parse(i.value_json)}`).sort()).toEqual(expectedSnapshot);
        // Every live write of a followed tenant and readable tag, in order per key.
        const perKey = (list: Array<{ tenant: string; key: string; value: number }>) => {
          const m = new Map<string, number[]>();
          for (const x of list) m.set(`${x.tenant}/${x.key}`, [...(m.get(`${x.tenant}/${x.key}`) ?? []), x.value]);
          return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
        };
        const expectedChanges = s.live
          .map((w) => ({ tenant: tenantIds[w.tenant], key: `${w.tag}:${w.name}`, value: w.value }))
          .filter((w) => followed.has(w.tenant) && readable(w.key.split(':')[0]));
        expect(perKey(changes.map((c) => ({ tenant: c.tenant_id, key: c.key, value: JSON.parse(c.value_json) as number })))).toEqual(perKey(expectedChanges));
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
