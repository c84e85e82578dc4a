/**
 * Rollouts end to end on the local system (docs/design.md §8.3): a platform default
 * rolled out in waves to 80 registered tenants followed by one SDK client over one stream; mid
 * wave the API and the stream agree, tenant by tenant, with the bucket rule; pause holds the
 * wave, the local alarm in ALARM rolls every tenant back within the stated bound; history and
 * the record say who did what; a completed rollout leaves every tenant on the new value; and
 * the routes refuse what they must.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigClient } from '../../client';
import { rolloutBucket } from '../../core/bucket';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { eventually } from './aws-cli';
import { LocalApi } from './local-api';

const KEY = 'tenantconfig:checkout';
const TENANTS = Array.from({ length: 80 }, (_, i) => `ro${String(i).padStart(2, '0')}`);
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** The stated bound from ALARM to every tenant back on the old value: one driver tick (250 ms) plus one default's propagation, with room for a loaded CI machine. */
const ROLLBACK_BOUND_MS = 5000;

describe('rollouts on the local system', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let operator: string;
  let client: ConfigClient;

  const setAlarm = (name: string, state: string) =>
    fetch(`${system.endpoints.http}/local/alarms/${name}`, { method: 'PUT', body: JSON.stringify({ state }), headers: { 'content-type': 'application/json' } });
  const servedByApi = async (tenant: string) => (await api.get(`/v1/tenants/${tenant}/config/${KEY}`, operator)).body?.value;
  const servedByStream = (tenant: string) => client.forTenant(tenant).get(KEY) as { flow?: string } | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-rollouts-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0, rolloutTickMs: 100 });
    api = new LocalApi(system.endpoints.http);
    operator = system.signer.signOperatorToken({ operator: 'alice' });
    for (const tenant of TENANTS)
      expect((await api.call('PUT', `/v1/tenants/${tenant}`, { token: operator, body: { attributes: { plan: 'free' } } })).status).toBe(201);
    expect((await api.put(`/v1/defaults/${KEY}`, operator, { flow: 'old' })).status).toBe(201);
    const token = system.signer.signServiceToken({ service: 'checkout' });
    client = new ConfigClient({ grpcTarget: system.endpoints.grpc, token: () => token, tenants: 'all', logger: quiet });
    await client.start();
    await eventually(async () => (TENANTS.every((t) => servedByStream(t)?.flow === 'old') ? true : undefined), 10_000, 'every tenant holds the old value');
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mid wave API and stream agree per tenant; pause holds; ALARM rolls every tenant back within the bound', async () => {
    const started = await api.call('POST', '/v1/rollouts', {
      token: operator,
      body: { key: KEY, layer: 'platform', value: { flow: 'new' }, waves: [25, 100], bakeSeconds: 3600, alarm: 'checkout-errors' },
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ state: 'in_progress', wave: 0, percent: 25, createdBy: 'alice' });
    expect(started.headers.get('location')).toBe(`/v1/rollouts/${started.body.id}`);
    const id: string = started.body.id;
    const expected = (t: string) => (rolloutBucket(KEY, t) < 25 ? 'new' : 'old');
    const onNew = TENANTS.filter((t) => expected(t) === 'new');
    expect(onNew.length).toBeGreaterThan(5);
    expect(onNew.length).toBeLessThan(TENANTS.length - 5);

    await eventually(
      async () => (TENANTS.every((t) => servedByStream(t)?.flow === expected(t)) ? true : undefined),
      10_000,
      'the stream serves the first wave',
    );
    for (const t of TENANTS) expect((await servedByApi(t)).flow).toBe(expected(t));
    // A direct write of the key under rollout is refused: the rollout owns it until it ends.
    const direct = await api.put(`/v1/defaults/${KEY}`, operator, { flow: 'other' });
    expect(direct.status).toBe(409);
    expect(direct.body.detail).toContain(id);

    expect((await api.call('POST', `/v1/rollouts/${id}/pause`, { token: operator })).body).toMatchObject({ state: 'paused', percent: 25 });
    await system.rollouts.tickNow();
    expect((await api.get(`/v1/rollouts/${id}`, operator)).body).toMatchObject({ state: 'paused', wave: 0 });

    const alarmAt = Date.now();
    expect((await setAlarm('checkout-errors', 'ALARM')).status).toBe(200);
    const { tookMs } = await eventually(
      async () => (TENANTS.every((t) => servedByStream(t)?.flow === 'old') ? true : undefined),
      ROLLBACK_BOUND_MS,
      'every stream back on the old value',
    );
    process.stdout.write(`rollback: ALARM to the last of ${TENANTS.length} tenants switched in ${Date.now() - alarmAt} ms (probe ${tookMs} ms)\n`);
    for (const t of TENANTS) expect((await servedByApi(t)).flow).toBe('old');

    const record = (await api.get(`/v1/rollouts/${id}`, operator)).body;
    expect(record).toMatchObject({ state: 'rolled_back', percent: 0 });
    expect(record.events.map((e: { action: string; by: string }) => [e.action, e.by])).toEqual([
      ['started', 'alice'],
      ['paused', 'alice'],
      ['rolled_back', 'alarm:checkout-errors'],
    ]);
    const history = (await api.get(`/v1/history/defaults/${KEY}`, operator)).body.items;
    expect(history[0]).toMatchObject({ value: { flow: 'old' }, updatedBy: 'alarm:checkout-errors' });
    expect(history[0].comment).toBe(`rollout ${id}: rolled back, by alarm:checkout-errors`);
    expect(history[1]).toMatchObject({ updatedBy: 'alice', comment: `rollout ${id}: wave 1 of 2 (25%), by alice` });
    // Final: the key is anyone's again, and a final rollout takes no command.
    expect((await api.call('POST', `/v1/rollouts/${id}/resume`, { token: operator })).status).toBe(409);
    await setAlarm('checkout-errors', 'OK');
  }, 60_000);

  it('a rollout whose waves bake in time completes with every tenant on the new value', async () => {
    const started = await api.call('POST', '/v1/rollouts', {
      token: operator,
      body: { key: KEY, layer: 'platform', value: { flow: 'v2' }, waves: [10, 50, 100], bakeSeconds: 0 },
    });
    expect(started.status).toBe(201);
    await eventually(
      async () => ((await api.get(`/v1/rollouts/${started.body.id}`, operator)).body.state === 'complete' ? true : undefined),
      10_000,
      'complete',
    );
    await eventually(async () => (TENANTS.every((t) => servedByStream(t)?.flow === 'v2') ? true : undefined), 10_000, 'every stream on v2');
    for (const t of TENANTS) expect((await servedByApi(t)).flow).toBe('v2');
    const record = (await api.get(`/v1/rollouts/${started.body.id}`, operator)).body;
    expect(record.events.map((e: { action: string; percent: number }) => [e.action, e.percent])).toEqual([
      ['started', 10],
      ['wave', 50],
      ['wave', 100],
      ['completed', 100],
    ]);
    expect((await api.get(`/v1/defaults/${KEY}`, operator)).body.value).toEqual({ flow: 'v2' });
    const listed = (await api.get('/v1/rollouts?limit=1', operator)).body;
    expect(listed.items.map((r: { id: string }) => r.id)).toEqual([started.body.id]);
    expect(typeof listed.nextToken).toBe('string');
  }, 60_000);

  it('refuses what it must: non-operators, bad bodies, unknown ids and commands, a second rollout of the same key', async () => {
    const admin = system.signer.signToken({ tenant: 'ro00', admin: true });
    const service = system.signer.signServiceToken({ service: 'billing' });
    const body = { key: KEY, layer: 'platform', value: 1, waves: [100], bakeSeconds: 60 };
    expect((await api.call('POST', '/v1/rollouts', { token: admin, body })).status).toBe(403);
    expect((await api.call('POST', '/v1/rollouts', { token: service, body })).status).toBe(403);
    expect((await api.get('/v1/rollouts', admin)).status).toBe(403);
    const bad = async (b: unknown) => (await api.call('POST', '/v1/rollouts', { token: operator, body: b })).body?.detail;
    expect(await bad({ ...body, waves: [50, 10, 100] })).toContain('increase');
    expect(await bad({ ...body, waves: [10, 50] })).toContain('last wave must be 100');
    expect(await bad({ ...body, bakeSeconds: -1 })).toContain('bakeSeconds');
    expect(await bad({ ...body, layer: 'segment:plan=platinum' })).toBeDefined();
    expect(await bad({ ...body, key: 'nope:x' })).toBeDefined();
    expect(await bad({ ...body, extra: 1 })).toContain('extra');
    expect(await bad({ ...body, value: { $rollout: { id: 'x', percent: 1, to: 1 } } })).toContain('reserved');
    expect((await api.call('POST', '/v1/rollouts', { token: operator, body: '[1]' })).status).toBe(400);
    expect((await api.get('/v1/rollouts/r-000000000-00000000', operator)).status).toBe(404);
    expect((await api.get('/v1/rollouts/..%2f..', operator)).status).toBe(404);
    expect((await api.call('POST', '/v1/rollouts/r-000000000-00000000/explode', { token: operator })).status).toBe(404);
    expect((await api.get('/v1/rollouts?nextToken=zzz', operator)).status).toBe(400);
    expect(
      (await api.call('PUT', '/v1/defaults/tenantconfig:x', { token: operator, body: { value: { $rollout: { id: 'x', percent: 1, to: 1 } } } })).status,
    ).toBe(400);

    // Old and new values must fit the tag's limit together: refused before anything is stored, so no stuck rollout is left behind.
    expect((await api.put('/v1/defaults/tenantconfig:big', operator, 'o'.repeat(5000))).status).toBe(201);
    const before = (await api.get('/v1/rollouts?limit=100', operator)).body.items.length;
    const tooBig = await api.call('POST', '/v1/rollouts', { token: operator, body: { ...body, key: 'tenantconfig:big', value: 'n'.repeat(5000) } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.detail).toContain('old and the new value together');
    expect((await api.get('/v1/rollouts?limit=100', operator)).body.items.length).toBe(before);
    expect((await api.put('/v1/defaults/tenantconfig:big', operator, 'still writable')).status).toBe(200);

    const first = await api.call('POST', '/v1/rollouts', {
      token: operator,
      body: { ...body, key: 'tenantconfig:second', bakeSeconds: 3600, waves: [1, 100] },
    });
    expect(first.status).toBe(201);
    const second = await api.call('POST', '/v1/rollouts', { token: operator, body: { ...body, key: 'tenantconfig:second' } });
    expect(second.status).toBe(409);
    expect((await api.call('POST', `/v1/rollouts/${first.body.id}/rollback`, { token: operator })).body.state).toBe('rolled_back');
    // Repeating a command that already holds is harmless.
    expect((await api.call('POST', `/v1/rollouts/${first.body.id}/rollback`, { token: operator })).status).toBe(200);
    expect((await api.get('/v1/defaults/tenantconfig:second', operator)).status).toBe(404);
  }, 60_000);
});
