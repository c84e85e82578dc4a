/**
 * Layers end to end on the local system (docs/design.md §8.2): 50 tenants' SDK clients, a
 * platform default written once through the HTTP API, exactly one change-log entry, every
 * tenant without an override (and outside the segment that overrides it) notified with the new
 * value and source `platform`, the others not at all; a tenant moved into the gold segment sees
 * the gold default; a restore of an earlier version of the default; comments in history; an
 * offboarded tenant's keys gone (it falls back to the defaults) and its writes refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigClient, type ConfigChange } from '../../client';
import { layerOwner, PLATFORM } from '../../core/layers';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { eventually } from './aws-cli';
import { LocalApi } from './local-api';

const KEY = 'tenantconfig:seats';
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const TENANTS = Array.from({ length: 50 }, (_, i) => `lay${String(i).padStart(2, '0')}`);
/** lay00–lay04 hold their own value; lay40–lay49 are gold, whose segment default wins over the platform's. */
const OVERRIDING = TENANTS.slice(0, 5);
const GOLD = TENANTS.slice(40);
const PLAIN = TENANTS.slice(5, 40);

describe('layers on the local system', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let operator: string;
  const clients = new Map<string, ConfigClient>();
  const seen = new Map<string, ConfigChange[]>();

  /** Every change-log entry appended, over every shard, while `act` runs. */
  async function logEntriesDuring(act: () => Promise<unknown>) {
    const log = system.changeLog;
    const shards = Array.from({ length: log.shardCount }, (_, i) => i);
    const heads = await Promise.all(shards.map((s) => log.headOfShard(s)));
    await act();
    const entries = [];
    for (const head of heads) {
      const page = await log.readShardAfter(head, () => true, 10_000);
      if (page.trimmed) throw new Error('the log was trimmed during the test');
      entries.push(...page.events);
    }
    return entries;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-layers-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    operator = system.signer.signOperatorToken({ operator: 'alice' });
    for (const tenant of TENANTS) {
      const plan = GOLD.includes(tenant) ? 'gold' : 'free';
      expect((await api.call('PUT', `/v1/tenants/${tenant}`, { token: operator, body: { attributes: { plan } } })).status).toBe(201);
    }
    expect((await api.put(`/v1/segments/plan=gold/${KEY}`, operator, 50)).status).toBe(201);
    for (const tenant of OVERRIDING) {
      expect((await api.put(`/v1/config/${KEY}`, system.signer.signToken({ tenant, admin: true }), 1000)).status).toBe(201);
    }
    await Promise.all(
      TENANTS.map(async (tenant) => {
        const client = new ConfigClient({ grpcTarget: system.endpoints.grpc, token: () => system.signer.signToken({ tenant }), logger: quiet });
        const changes: ConfigChange[] = [];
        client.onChange((c) => changes.push(c));
        clients.set(tenant, client);
        seen.set(tenant, changes);
        await client.start();
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const changesOf = (tenant: string) => seen.get(tenant)!.filter((c) => c.key === KEY);

  it('one platform default write is one change-log entry and reaches the 35 tenants it affects, and no one else', async () => {
    // Arrange
    for (const changes of seen.values()) changes.length = 0;

    // Act
    const entries = await logEntriesDuring(async () => {
      expect((await api.call('PUT', `/v1/defaults/${KEY}`, { token: operator, body: { value: 10, comment: 'ten seats for everyone' } })).status).toBe(201);
      await eventually(async () => (PLAIN.every((t) => clients.get(t)!.get(KEY) === 10) ? true : undefined), 5000, 'every plain tenant has the default');
    });
    // A later write of an overriding tenant marks the point by which anything else would have arrived.
    await api.put('/v1/config/tenantconfig:marker', system.signer.signToken({ tenant: OVERRIDING[0], admin: true }), true);
    await eventually(async () => (clients.get(OVERRIDING[0])!.get('tenantconfig:marker') === true ? true : undefined), 5000, 'the marker');

    // Assert
    expect(entries.map((e) => [e.tenant, e.key, e.version])).toEqual([[layerOwner(PLATFORM), KEY, 1]]);
    for (const t of PLAIN) {
      expect(changesOf(t).map((c) => [c.value, c.source])).toEqual([[10, 'platform']]);
      expect(clients.get(t)!.getItem(KEY)).toMatchObject({ value: 10, source: 'platform' });
    }
    for (const t of [...OVERRIDING, ...GOLD]) expect(changesOf(t)).toEqual([]);
    expect(clients.get(OVERRIDING[1])!.getItem(KEY)).toMatchObject({ value: 1000, source: 'tenant' });
    expect(clients.get(GOLD[0])!.getItem(KEY)).toMatchObject({ value: 50, source: 'segment:plan=gold' });
    const read = await api.get(`/v1/config/${KEY}`, system.signer.signToken({ tenant: PLAIN[0] }));
    expect(read.body).toMatchObject({ value: 10, source: 'platform', version: 1 });
  }, 30_000);

  it('a tenant moved into the gold segment is sent the gold default', async () => {
    const tenant = PLAIN[0];
    seen.get(tenant)!.length = 0;

    expect((await api.call('PUT', `/v1/tenants/${tenant}`, { token: operator, body: { attributes: { plan: 'gold' } } })).status).toBe(200);
    await eventually(async () => (clients.get(tenant)!.get(KEY) === 50 ? true : undefined), 5000, 'the gold default');

    expect(changesOf(tenant).map((c) => [c.value, c.source])).toEqual([[50, 'segment:plan=gold']]);
    expect((await api.get(`/v1/config/${KEY}`, system.signer.signToken({ tenant }))).body).toMatchObject({ value: 50, source: 'segment:plan=gold' });
  }, 30_000);

  it('restores an earlier version of a default as a new version, with comments kept in history', async () => {
    const tenant = PLAIN[1];
    expect((await api.call('PUT', `/v1/defaults/${KEY}`, { token: operator, body: { value: 20, comment: 'twenty' } })).status).toBe(200);
    await eventually(async () => (clients.get(tenant)!.get(KEY) === 20 ? true : undefined), 5000, 'version 2');

    const restored = await api.call('POST', `/v1/defaults/${KEY}/restore`, { token: operator, body: { version: 1 } });
    await eventually(async () => (clients.get(tenant)!.get(KEY) === 10 ? true : undefined), 5000, 'the restored value');
    const history = await api.get(`/v1/history/defaults/${KEY}`, operator);

    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ value: 10, version: 3, source: 'platform' });
    expect((history.body as { items: Array<{ version: number; value: unknown; comment?: string }> }).items.map((e) => [e.version, e.value, e.comment])).toEqual(
      [
        [3, 10, 'restore of version 1'],
        [2, 20, 'twenty'],
        [1, 10, 'ten seats for everyone'],
      ],
    );
  }, 30_000);

  it('offboarding deletes the tenant’s own keys (it falls back to the defaults) and refuses its writes until it registers again', async () => {
    const tenant = OVERRIDING[2];
    const admin = system.signer.signToken({ tenant, admin: true });
    expect((await api.put('/v1/config/paramconfig:db/pool', admin, { max: 5 })).status).toBe(201);
    await eventually(async () => (clients.get(tenant)!.get('paramconfig:db/pool') !== undefined ? true : undefined), 5000, 'the parameter');

    const first = await api.delete(`/v1/tenants/${tenant}`, operator);
    const again = await api.delete(`/v1/tenants/${tenant}`, operator);
    await eventually(
      async () => (clients.get(tenant)!.get(KEY) === 10 && clients.get(tenant)!.get('paramconfig:db/pool') === undefined ? true : undefined),
      5000,
      'the fall back',
    );
    const write = await api.put(`/v1/config/${KEY}`, admin, 7);
    const record = await api.get(`/v1/tenants/${tenant}`, operator);

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: 'complete' });
    expect(again.status).toBe(200);
    expect(clients.get(tenant)!.getItem(KEY)).toMatchObject({ value: 10, source: 'platform' });
    expect(write.status).toBe(409);
    expect(record.body).toMatchObject({ tenantId: tenant, offboarding: { state: 'complete' } });
    expect((await api.get(`/v1/config/${KEY}?layer=tenant`, admin)).status).toBe(404);
  }, 30_000);
});
