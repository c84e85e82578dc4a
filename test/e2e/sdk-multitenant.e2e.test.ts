/**
 * One SDK, one service token, one connection for many tenants, against the real local system:
 * `tenants: 'all'` holds three tenants' values and sees their changes; on demand a tenant is
 * followed from its first forTenant and the least recently used is dropped; forRequest verifies
 * end users' tokens against the pool named in endpoints.json (its JWKS served by the local front)
 * and refuses every token that must not pass; a view never returns another tenant's value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigClient, UserTokenError, type ConfigChange, type ConfigClientOptions } from '../../client';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { eventually } from './aws-cli';
import { LocalApi } from './local-api';

const PROPAGATION_MS = 2000;
const TENANTS = ['acme', 'globex', 'initech'];
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('SDK for many tenants against the local system', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  const clients: ConfigClient[] = [];
  const admin: Record<string, string> = {};

  const newClient = (options: Partial<ConfigClientOptions>) => {
    const serviceToken = system.signer.signServiceToken({ service: 'billing' });
    const client = new ConfigClient({
      grpcTarget: system.endpoints.grpc,
      token: () => serviceToken,
      logger: quiet,
      userTokens: { issuer: system.endpoints.issuer, clientId: system.endpoints.clientId, jwksUri: system.endpoints.jwksUri },
      ...options,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-sdk-mt-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    for (const tenant of TENANTS) {
      admin[tenant] = system.signer.signToken({ tenant, admin: true });
      expect((await api.put('/v1/config/tenantconfig:plan', admin[tenant], `${tenant}-plan`)).status).toBe(201);
      expect((await api.put('/v1/config/paramconfig:db/pool', admin[tenant], { owner: tenant })).status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("'all': one stream holds every tenant's values, then their changes", async () => {
    const client = newClient({ tenants: 'all' });
    const seen: ConfigChange[] = [];
    client.onChange((c) => seen.push(c));

    await client.start();

    expect(client.status).toBe('live');
    for (const tenant of TENANTS) {
      const view = client.forTenant(tenant);
      expect(view.keys()).toEqual(['paramconfig:db/pool', 'tenantconfig:plan']);
      expect(view.get('tenantconfig:plan')).toBe(`${tenant}-plan`);
      expect(view.get('paramconfig:db/pool')).toEqual({ owner: tenant });
    }
    expect(client.forTenant('nobody').get('tenantconfig:plan', 'fallback')).toBe('fallback');

    for (const tenant of TENANTS) expect((await api.put('/v1/config/tenantconfig:plan', admin[tenant], `${tenant}-gold`)).status).toBe(200);
    await eventually(async () => (seen.length >= 3 ? seen : undefined), PROPAGATION_MS, 'three changes at the SDK');

    expect(seen.map((c) => [c.tenantId, c.key, c.value]).sort()).toEqual(TENANTS.map((t) => [t, 'tenantconfig:plan', `${t}-gold`]));
    for (const tenant of TENANTS) expect(client.forTenant(tenant).get('tenantconfig:plan')).toBe(`${tenant}-gold`);
  }, 30_000);

  it("a tenant token asking for 'all' is refused with a typed error", async () => {
    const client = newClient({ tenants: 'all', token: () => system.signer.signToken({ tenant: 'acme' }) });

    await expect(client.start()).rejects.toMatchObject({ name: 'ConfigClientPermissionError' });
  });

  it("'on-demand': follows a tenant from its first forTenant and drops the least recently used", async () => {
    const client = newClient({ tenants: 'on-demand', maxTenants: 2 });
    await client.start();

    const acme = client.forTenant('acme');
    expect(acme.get('tenantconfig:plan', 'not yet')).toBe('not yet');
    await acme.ready();
    expect(acme.get('tenantconfig:plan')).toMatch(/^acme-/);
    await client.forTenantReady('globex');
    acme.get('tenantconfig:plan'); // acme is now the most recently used
    const initech = await client.forTenantReady('initech');

    expect(initech.get('paramconfig:db/pool')).toEqual({ owner: 'initech' });
    await eventually(async () => (client.heldTenants().length === 2 ? true : undefined), PROPAGATION_MS, 'globex dropped');
    expect(client.heldTenants().sort()).toEqual(['acme', 'initech']);

    // The widened stream carries the joined tenant's changes.
    expect((await api.put('/v1/config/tenantconfig:seats', admin.initech, 7)).status).toBe(201);
    await eventually(async () => initech.get('tenantconfig:seats'), PROPAGATION_MS, "initech's change at the SDK");
    expect(client.status).toBe('live');
  }, 30_000);

  describe('forRequest', () => {
    let client: ConfigClient;
    beforeAll(async () => {
      client = newClient({ tenants: 'all' });
      await client.start();
    });

    it("returns the view of the user token's tenant", async () => {
      const view = await client.forRequest(system.signer.signToken({ tenant: 'globex' }));

      expect(view.tenantId).toBe('globex');
      expect(view.get('paramconfig:db/pool')).toEqual({ owner: 'globex' });
    });

    const now = () => Math.floor(Date.now() / 1000);
    const base = () => ({
      sub: 'u1',
      iss: system.endpoints.issuer,
      client_id: system.endpoints.clientId,
      token_use: 'access',
      iat: now(),
      exp: now() + 600,
      tenant_id: 'acme',
    });
    it.each([
      ['an expired token', () => system.signer.signClaims({ ...base(), iat: now() - 700, exp: now() - 60 }), 'expired'],
      ['an ID token', () => system.signer.signClaims({ ...base(), token_use: 'id', aud: system.endpoints.clientId }), 'token-use'],
      [
        'a token of another issuer',
        () => system.signer.signClaims({ ...base(), iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other' }),
        'issuer',
      ],
      ['a token of another client', () => system.signer.signClaims({ ...base(), client_id: 'another-app' }), 'client'],
      ['a token with a non-string tenant', () => system.signer.signClaims({ ...base(), tenant_id: 7 }), 'tenant'],
    ])('refuses %s', async (_what, token, reason) => {
      const error: unknown = await client.forRequest(token()).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(UserTokenError);
      expect((error as UserTokenError).reason).toBe(reason);
    });

    it("isolation: a forTenant(a) or forRequest(tokenOf(a)) view never returns another tenant's value", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TENANTS),
          fc.boolean(),
          fc.constantFrom('tenantconfig:plan', 'paramconfig:db/pool'),
          async (tenant, viaToken, key) => {
            const view = viaToken ? await client.forRequest(system.signer.signToken({ tenant })) : client.forTenant(tenant);
            const value = view.get<unknown>(key);
            expect(view.tenantId).toBe(tenant);
            expect(JSON.stringify(value)).toContain(tenant);
            for (const other of TENANTS.filter((t) => t !== tenant)) expect(JSON.stringify(value)).not.toContain(other);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
});
