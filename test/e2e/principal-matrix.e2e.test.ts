/**
 * The principal × route × tag matrix over real HTTP: every kind of principal, with dev tokens
 * shaped as Cognito issues them, on the own-tenant routes and their /v1/tenants/{tenantId}
 * twins, against a plain and a secret tag. Every cell is written out: the table is the spec.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCOPES } from '../../core/principal';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { LocalApi } from './local-api';

type Who = 'acme reader' | 'acme admin' | 'service' | 'service+secrets' | 'service without scope' | 'operator';
type Family = 'own' | 'acme' | 'globex';
type Action = 'read plain' | 'read secret' | 'history plain' | 'list' | 'list secret' | 'write plain' | 'write secret' | 'delete plain';
const ACTIONS: readonly Action[] = ['read plain', 'read secret', 'history plain', 'list', 'list secret', 'write plain', 'write secret', 'delete plain'];

/** Expected status per action, in ACTIONS order. 404 on delete means allowed (the key is not there). */
const NOTHING = [403, 403, 403, 403, 403, 403, 403, 403];
const READ_PLAIN = [200, 403, 200, 200, 403, 403, 403, 403];
const READ_ALL = [200, 200, 200, 200, 200, 403, 403, 403];
const EVERYTHING = [200, 200, 200, 200, 200, 200, 200, 404];

const MATRIX: Record<Who, Record<Family, readonly number[]>> = {
  'acme reader': { own: READ_PLAIN, acme: READ_PLAIN, globex: NOTHING },
  'acme admin': { own: EVERYTHING, acme: EVERYTHING, globex: NOTHING },
  service: { own: NOTHING, acme: READ_PLAIN, globex: READ_PLAIN },
  'service+secrets': { own: NOTHING, acme: READ_ALL, globex: READ_ALL },
  'service without scope': { own: NOTHING, acme: NOTHING, globex: NOTHING },
  operator: { own: NOTHING, acme: EVERYTHING, globex: EVERYTHING },
};

/** The routes of docs/design.md §8.2, which name no tenant of the caller's (or a fixed one), per principal. */
type LayerAction =
  | 'read default'
  | 'read secret default'
  | 'list defaults'
  | 'default history'
  | 'read segment'
  | 'list segment'
  | 'write default'
  | 'write segment'
  | 'restore acme key'
  | 'put registry'
  | 'get registry'
  | 'list registry'
  | 'offboard';
const LAYER_ACTIONS: readonly LayerAction[] = [
  'read default',
  'read secret default',
  'list defaults',
  'default history',
  'read segment',
  'list segment',
  'write default',
  'write segment',
  'restore acme key',
  'put registry',
  'get registry',
  'list registry',
  'offboard',
];
/** Expected status per action, in LAYER_ACTIONS order (201 counts as 200). */
const LAYER_MATRIX: Record<Who, readonly number[]> = {
  'acme reader': [200, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403],
  'acme admin': [200, 200, 200, 200, 200, 200, 403, 403, 200, 403, 403, 403, 403],
  service: [200, 403, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403],
  'service+secrets': [200, 200, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403],
  'service without scope': [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
  operator: [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
};

describe('principal × route × tag matrix (HTTP, local system)', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  const tokens = {} as Record<Who, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-matrix-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    const s = system.signer;
    tokens['acme reader'] = s.signToken({ tenant: 'acme' });
    tokens['acme admin'] = s.signToken({ tenant: 'acme', admin: true });
    tokens.service = s.signServiceToken({ service: 'billing' });
    tokens['service+secrets'] = s.signServiceToken({ service: 'billing', scopes: [SCOPES.read, SCOPES.readSecrets] });
    tokens['service without scope'] = s.signServiceToken({ service: 'billing', scopes: ['other/read'] });
    tokens.operator = s.signOperatorToken({ operator: 'alice' });
    for (const tenant of ['acme', 'globex']) {
      const admin = s.signToken({ tenant, admin: true });
      for (const key of ['tenantconfig:plan', 'secretconfig:db-password'])
        expect((await api.put(`/v1/config/${key}`, admin, `${tenant}-value`)).status).toBe(201);
    }
    expect((await api.put('/v1/defaults/tenantconfig:matrix-default', tokens.operator, 'platform-value')).status).toBe(201);
    expect((await api.put('/v1/defaults/secretconfig:matrix-secret', tokens.operator, 'secret-default')).status).toBe(201);
    expect((await api.put('/v1/segments/plan=gold/tenantconfig:matrix-segment', tokens.operator, 'gold-value')).status).toBe(201);
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = (family: Family) => (family === 'own' ? '/v1' : `/v1/tenants/${family}`);

  async function statusOf(who: Who, family: Family, action: Action): Promise<number> {
    const token = tokens[who];
    const b = base(family);
    switch (action) {
      case 'read plain':
        return (await api.get(`${b}/config/tenantconfig:plan`, token)).status;
      case 'read secret':
        return (await api.get(`${b}/config/secretconfig:db-password`, token)).status;
      case 'history plain':
        return (await api.get(`${b}/history/tenantconfig:plan`, token)).status;
      case 'list':
        return (await api.get(`${b}/config`, token)).status;
      case 'list secret':
        return (await api.get(`${b}/config?prefix=secretconfig:`, token)).status;
      case 'write plain':
        return (await api.put(`${b}/config/tenantconfig:plan`, token, 'rewritten')).status;
      case 'write secret':
        return (await api.put(`${b}/config/secretconfig:db-password`, token, 'rewritten')).status;
      case 'delete plain':
        return (await api.delete(`${b}/config/tenantconfig:never-written`, token)).status;
    }
  }

  const cells = (Object.keys(MATRIX) as Who[]).flatMap((who) =>
    (['own', 'acme', 'globex'] as const).flatMap((family) => ACTIONS.map((action, i) => [who, family, action, MATRIX[who][family][i]] as const)),
  );

  it.each(cells)('%s on %s routes: %s → %i', async (who, family, action, expected) => {
    expect(await statusOf(who, family, action)).toBe(expected);
  });

  async function layerStatusOf(who: Who, action: LayerAction): Promise<number> {
    const token = tokens[who];
    const status = async (p: Promise<{ status: number }>) => ((await p).status === 201 ? 200 : (await p).status);
    switch (action) {
      case 'read default':
        return status(api.get('/v1/defaults/tenantconfig:matrix-default', token));
      case 'read secret default':
        return status(api.get('/v1/defaults/secretconfig:matrix-secret', token));
      case 'list defaults':
        return status(api.get('/v1/defaults', token));
      case 'default history':
        return status(api.get('/v1/history/defaults/tenantconfig:matrix-default', token));
      case 'read segment':
        return status(api.get('/v1/segments/plan=gold/tenantconfig:matrix-segment', token));
      case 'list segment':
        return status(api.get('/v1/segments/plan=gold', token));
      case 'write default':
        return status(api.put('/v1/defaults/tenantconfig:matrix-written', token, who));
      case 'write segment':
        return status(api.put('/v1/segments/region=eu/tenantconfig:matrix-written', token, who));
      case 'restore acme key':
        return status(api.call('POST', '/v1/tenants/acme/config/tenantconfig:plan/restore', { token, body: { version: 1 } }));
      // The registry cells use a tenant of their own: offboarding deletes every key of it.
      case 'put registry':
        return status(api.call('PUT', '/v1/tenants/initech', { token, body: { attributes: { plan: 'gold' } } }));
      case 'get registry':
        return status(api.get('/v1/tenants/initech', token));
      case 'list registry':
        return status(api.get('/v1/tenants', token));
      case 'offboard':
        return status(api.delete('/v1/tenants/initech', token));
    }
  }

  const layerCells = (Object.keys(LAYER_MATRIX) as Who[]).flatMap((who) => LAYER_ACTIONS.map((action, i) => [who, action, LAYER_MATRIX[who][i]] as const));

  it.each(layerCells)('%s: %s → %i', async (who, action, expected) => {
    expect(await layerStatusOf(who, action)).toBe(expected);
  });

  it('a tenant reads a default as its effective value with source platform, and ?layer=tenant finds no override', async () => {
    const effective = await api.get('/v1/config/tenantconfig:matrix-default', tokens['acme reader']);
    expect(effective.status).toBe(200);
    expect(effective.body).toMatchObject({ value: 'platform-value', source: 'platform' });
    expect((await api.get('/v1/config/tenantconfig:matrix-default?layer=tenant', tokens['acme reader'])).status).toBe(404);
    expect((await api.get('/v1/tenants/globex/config/tenantconfig:matrix-default', tokens.service)).body).toMatchObject({ source: 'platform' });
  });

  it("a tenant principal's listing on its own routes and its twin holds only its own tenant's values", async () => {
    for (const path of ['/v1/config', '/v1/tenants/acme/config']) {
      const listed = await api.get(path, tokens['acme admin']);
      expect(listed.body.items.length).toBeGreaterThan(0);
      for (const item of listed.body.items) {
        // Its own values, or the defaults (which are no tenant's).
        if (item.source === 'tenant') expect(item.value === 'rewritten' || item.value === 'acme-value').toBe(true);
        else expect(['platform-value', 'secret-default', 'operator']).toContain(item.value);
        expect(item.value).not.toBe('globex-value');
      }
    }
  });

  it("an operator's write records the operator as updatedBy", async () => {
    const written = await api.put('/v1/tenants/globex/config/tenantconfig:audited', tokens.operator, 1);

    expect(written.status).toBe(201);
    expect(written.body.updatedBy).toBe('alice');
    expect(written.headers.get('location')).toBe('/v1/tenants/globex/config/tenantconfig:audited');
    const history = await api.get('/v1/tenants/globex/history/tenantconfig:audited', tokens.operator);
    expect(history.body.items[0].updatedBy).toBe('alice');
  });
});
