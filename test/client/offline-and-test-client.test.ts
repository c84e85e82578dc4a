/**
 * The offline mode (`offline: true` + `bootstrap`) never connects and serves what it was given;
 * the test double (`createTestClient` / TestConfigClient) is that client with `set`, `delete` and
 * `setStatus`, firing the same listeners, for a consuming service's unit tests — one tenant or many.
 */
import { ConfigClient, ConfigClientOptionsError, TestConfigClient, createTestClient, type ConfigChange, type ConfigClientStatus } from '../../client';
import { type ScriptedWatchServer, scriptedServerPerTest } from './support/scripted-watch-server';
import { sleep } from './support/wait';

let server: ScriptedWatchServer;
const clients: ConfigClient[] = [];
scriptedServerPerTest(clients, (s) => (server = s));

describe('offline mode', () => {
  it('never connects, even with production options; serves bootstrap at once, live from source bootstrap', async () => {
    const client = new ConfigClient({
      offline: true,
      grpcTarget: server.target,
      httpBaseUrl: 'http://127.0.0.1:9',
      token: () => 'never asked',
      bootstrap: { 'tenantconfig:plan': 'gold', 'tenantconfig:seats': 3 },
    });
    clients.push(client);

    expect(client.get('tenantconfig:plan')).toBe('gold'); // before start(), too
    await client.start();
    await sleep(100);

    expect(server.watches).toHaveLength(0);
    expect(client.statusReport).toMatchObject({ status: 'live', source: 'bootstrap' });
    expect(client.getNumber('tenantconfig:seats', 0)).toBe(3);
    expect(client.getItem('tenantconfig:plan')).toMatchObject({ value: 'gold', version: 1, updatedBy: 'bootstrap' });
    expect(client.keys()).toEqual(['tenantconfig:plan', 'tenantconfig:seats']);
  });

  it('needs no grpcTarget nor token; many tenants with bootstrapTenants; option mistakes are named', async () => {
    const client = new ConfigClient({ offline: true, tenants: 'on-demand', bootstrapTenants: { acme: { 'tenantconfig:plan': 'gold' } } });
    clients.push(client);
    await client.start();

    expect((await client.forTenantReady('acme')).get('tenantconfig:plan')).toBe('gold');
    expect((await client.forTenantReady('globex')).get('tenantconfig:plan', 'free')).toBe('free');
    expect(() => new ConfigClient({ grpcTarget: '127.0.0.1:1', token: () => '', bootstrap: [] as never })).toThrow(ConfigClientOptionsError);
    expect(() => new ConfigClient({ offline: true, bootstrapTenants: { acme: {} } })).toThrow(/bootstrapTenants needs tenants/);
    expect(() => new ConfigClient({ offline: true, tenants: 'all', bootstrap: {} })).toThrow(/bootstrap holds one tenant/);
    expect(() => new ConfigClient({ token: () => '' } as never)).toThrow(/grpcTarget is required .*unless offline: true/);
  });
});

describe('createTestClient', () => {
  it('is a ConfigClient: set and delete fire onChange (with previous and prefix filter), getters read the new values', async () => {
    const config = createTestClient({ 'tenantconfig:plan': 'gold' });
    const seen: ConfigChange[] = [];
    const onlyPlan: ConfigChange[] = [];
    config.onChange((c) => seen.push(c));
    config.onChange((c) => onlyPlan.push(c), { prefix: 'tenantconfig:plan' });

    expect(config).toBeInstanceOf(ConfigClient);
    await config.start();
    config.set('tenantconfig:plan', 'platinum').set('tenantconfig:seats', 10);
    expect(config.delete('tenantconfig:seats')).toBe(true);
    expect(config.delete('tenantconfig:never')).toBe(false);

    expect(config.get('tenantconfig:plan')).toBe('platinum');
    expect(config.getNumber('tenantconfig:seats', 1)).toBe(1);
    expect(seen.map((c) => [c.key, c.value, c.deleted, c.previous?.value])).toEqual([
      ['tenantconfig:plan', 'platinum', false, 'gold'],
      ['tenantconfig:seats', 10, false, undefined],
      ['tenantconfig:seats', undefined, true, 10],
    ]);
    expect(onlyPlan).toHaveLength(1);
    config.set('tenantconfig:seats', 11); // re-created after its delete
    expect(config.getItem('tenantconfig:seats')?.version).toBeGreaterThan(seen[2].version);
    await config.close();
    expect(() => config.set('tenantconfig:plan', 'x')).toThrow(/closed/);
  });

  it('setStatus drives onStatus listeners and the report, for health-check tests', () => {
    const config = new TestConfigClient();
    const statuses: ConfigClientStatus[] = [];
    config.onStatus((s) => statuses.push(s));

    expect(config.status).toBe('live');
    config.setStatus('stale', 'fanout unreachable');
    expect(config.statusReport).toMatchObject({ status: 'stale', lastError: 'fanout unreachable' });
    config.setStatus('live');

    expect(statuses).toEqual(['stale', 'live']);
    expect(config.statusReport.lastError).toBeUndefined();
  });

  it('many tenants: forTenant views, per-tenant listeners, a tenant born by set', async () => {
    const config = createTestClient({}, { tenants: { acme: { 'tenantconfig:plan': 'gold' }, globex: { 'tenantconfig:plan': 'free' } } });
    const acme = config.forTenant('acme');
    const acmeSeen: ConfigChange[] = [];
    const allSeen: ConfigChange[] = [];
    acme.onChange((c) => acmeSeen.push(c));
    config.onChange((c) => allSeen.push(c));

    config.set('tenantconfig:plan', 'platinum', 'acme');
    config.set('tenantconfig:plan', 'gold', 'initech');

    expect(acme.loaded).toBe(true);
    expect(acme.get('tenantconfig:plan')).toBe('platinum');
    expect(config.forTenant('globex').get('tenantconfig:plan')).toBe('free');
    expect((await config.forTenantReady('initech')).getString('tenantconfig:plan')).toBe('gold');
    expect(acmeSeen.map((c) => [c.tenantId, c.value])).toEqual([['acme', 'platinum']]);
    expect(allSeen.map((c) => c.tenantId)).toEqual(['acme', 'initech']);
    expect(config.heldTenants().sort()).toEqual(['acme', 'globex', 'initech']);
    expect(() => config.set('tenantconfig:plan', 'x')).toThrow(/name the tenant/);
    expect(() => config.get('tenantconfig:plan')).toThrow(/forTenant/);
    await config.close();
  });
});
