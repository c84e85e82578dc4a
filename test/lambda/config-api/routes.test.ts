import { InvalidKeyError } from '../../../core/errors';
import { keyFromPath, matchRoute, ROUTE_KEYS } from '../../../lambda/config-api/routes';
import { EdgeProblem } from '../../../lambda/shared/problem';

const event = (routeKey: string, method: string, rawPath: string, extra: { stage?: string; key?: string; params?: Record<string, string> } = {}) => ({
  routeKey,
  rawPath,
  pathParameters: extra.params ?? (extra.key === undefined ? undefined : { key: extra.key }),
  requestContext: { stage: extra.stage ?? '$default', http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '', userAgent: '' } },
});

describe('config-api routes', () => {
  it('declares exactly the route keys of docs/design.md §4.1, §8.2 and §8.3', () => {
    expect([...ROUTE_KEYS].sort()).toEqual(
      [
        'GET /v1/config',
        'GET /v1/config/{key+}',
        'PUT /v1/config/{key+}',
        'DELETE /v1/config/{key+}',
        'POST /v1/config/{key+}',
        'GET /v1/history/{key+}',
        'GET /v1/tenants/{tenantId}/config',
        'GET /v1/tenants/{tenantId}/config/{key+}',
        'PUT /v1/tenants/{tenantId}/config/{key+}',
        'DELETE /v1/tenants/{tenantId}/config/{key+}',
        'POST /v1/tenants/{tenantId}/config/{key+}',
        'GET /v1/tenants/{tenantId}/history/{key+}',
        'GET /v1/flags/{key+}',
        'GET /v1/tenants/{tenantId}/flags/{key+}',
        'GET /v1/defaults',
        'GET /v1/defaults/{key+}',
        'PUT /v1/defaults/{key+}',
        'DELETE /v1/defaults/{key+}',
        'POST /v1/defaults/{key+}',
        'GET /v1/history/defaults/{key+}',
        'GET /v1/segments/{segment}',
        'GET /v1/segments/{segment}/{key+}',
        'PUT /v1/segments/{segment}/{key+}',
        'DELETE /v1/segments/{segment}/{key+}',
        'POST /v1/segments/{segment}/{key+}',
        'GET /v1/history/segments/{segment}/{key+}',
        'GET /v1/tenants',
        'GET /v1/tenants/{tenantId}',
        'PUT /v1/tenants/{tenantId}',
        'DELETE /v1/tenants/{tenantId}',
        'GET /v1/rollouts',
        'POST /v1/rollouts',
        'GET /v1/rollouts/{rolloutId}',
        'POST /v1/rollouts/{rolloutId}/{command}',
      ].sort(),
    );
  });

  it('routes the rollouts: the id and the command from the path, an unknown command 404', () => {
    expect(
      matchRoute(event('POST /v1/rollouts/{rolloutId}/{command}', 'POST', '/v1/rollouts/r-1/pause', { params: { rolloutId: 'r-1', command: 'pause' } })),
    ).toMatchObject({
      name: 'commandRollout',
      family: 'rollouts',
      rolloutId: 'r-1',
      command: 'pause',
    });
    expect(matchRoute(event('GET /v1/rollouts/{rolloutId}', 'GET', '/v1/rollouts/r-1', { params: { rolloutId: 'r-1' } }))).toMatchObject({
      name: 'getRollout',
      rolloutId: 'r-1',
    });
    expect(() =>
      matchRoute(event('POST /v1/rollouts/{rolloutId}/{command}', 'POST', '/v1/rollouts/r-1/explode', { params: { rolloutId: 'r-1', command: 'explode' } })),
    ).toThrow(/pause, resume, rollback/);
    // The same path with another template's parameters is ambiguous, never a different rollout.
    expect(() => matchRoute(event('GET /v1/rollouts/{rolloutId}', 'GET', '/v1/rollouts/r-1', { params: { rolloutId: 'r-2' } }))).toThrow(/ambiguous/);
  });

  it('routes on a declared route key', () => {
    expect(matchRoute(event('PUT /v1/config/{key+}', 'PUT', '/v1/config/tenantconfig:a', { key: 'tenantconfig:a' }))).toEqual({
      name: 'putItem',
      family: 'own',
      routeKey: 'PUT /v1/config/{key+}',
      key: 'tenantconfig:a',
      basePath: '',
      itemsPath: '/v1/config',
    });
  });

  it('routes a tenant-scoped twin, declared or not, to the same route with the tenant it names', () => {
    const declared = event('GET /v1/tenants/{tenantId}/config/{key+}', 'GET', '/v1/tenants/globex/config/paramconfig:db/max', { key: 'paramconfig:db/max' });
    const undeclared = event('$default', 'GET', '/v1/tenants/globex/config/paramconfig:db/max');

    for (const e of [{ ...declared, pathParameters: { key: 'paramconfig:db/max', tenantId: 'globex' } }, undeclared]) {
      expect(matchRoute(e)).toMatchObject({
        name: 'getItem',
        key: 'paramconfig:db/max',
        tenant: 'globex',
        family: 'tenant',
        itemsPath: '/v1/tenants/globex/config',
      });
    }
    expect(matchRoute(event('$default', 'GET', '/v1/tenants/globex/config')).name).toBe('listItems');
    expect(matchRoute(event('$default', 'GET', '/v1/tenants/globex/history/tenantconfig:a')).name).toBe('getHistory');
    expect(matchRoute(event('$default', 'GET', '/v1/config/tenantconfig:a')).tenant).toBeUndefined();
  });

  it.each([
    ['an empty tenant', '/v1/tenants//config'],
    ['a tenant with a colon', '/v1/tenants/a:b/config'],
    ['an encoded slash', '/v1/tenants/a%2Fb/config'],
    ['broken percent-encoding', '/v1/tenants/a%zz/config'],
    ['65 characters', `/v1/tenants/${'a'.repeat(65)}/config`],
  ])('a tenant-scoped path with %s is a 400 that says the tenant id is malformed', (_what, path) => {
    expect(() => matchRoute(event('$default', 'GET', path))).toThrow(/tenant id in the path/);
  });

  it('a tenant-scoped path that names no route is a 404', () => {
    expect(() => matchRoute(event('$default', 'GET', '/v1/tenants/acme/secrets'))).toThrow(EdgeProblem);
    expect(() => matchRoute(event('$default', 'GET', '/v1/tenants/acme/config/'))).not.toThrow(EdgeProblem);
  });

  describe('layers, restore and the registry', () => {
    it.each([
      ['GET', '/v1/defaults', 'listItems', 'platform', undefined],
      ['PUT', '/v1/defaults/tenantconfig:limits', 'putItem', 'platform', 'tenantconfig:limits'],
      ['GET', '/v1/history/defaults/tenantconfig:limits', 'getHistory', 'platform', 'tenantconfig:limits'],
      ['POST', '/v1/defaults/tenantconfig:limits/restore', 'restoreItem', 'platform', 'tenantconfig:limits'],
      ['GET', '/v1/segments/plan=gold', 'listItems', 'segment', undefined],
      ['DELETE', '/v1/segments/plan=gold/paramconfig:db/max', 'deleteItem', 'segment', 'paramconfig:db/max'],
      ['GET', '/v1/history/segments/plan=gold/paramconfig:db/max', 'getHistory', 'segment', 'paramconfig:db/max'],
      ['POST', '/v1/segments/plan=gold/paramconfig:db/max/restore', 'restoreItem', 'segment', 'paramconfig:db/max'],
      ['POST', '/v1/config/tenantconfig:a/restore', 'restoreItem', 'own', 'tenantconfig:a'],
      ['POST', '/v1/tenants/globex/config/tenantconfig:a/restore', 'restoreItem', 'tenant', 'tenantconfig:a'],
      ['GET', '/v1/history/tenantconfig:a', 'getHistory', 'own', 'tenantconfig:a'],
      ['GET', '/v1/tenants', 'listTenants', 'registry', undefined],
      ['PUT', '/v1/tenants/globex', 'putTenant', 'registry', undefined],
      ['DELETE', '/v1/tenants/globex', 'deleteTenant', 'registry', undefined],
    ] as const)('%s %s → %s on the %s family', (method, path, name, family, key) => {
      const matched = matchRoute(event('$default', method, path));
      expect(matched).toMatchObject({ name, family });
      expect(matched.key).toBe(key);
    });

    it('a key ending in /restore is an ordinary key for GET, PUT and DELETE; POST restores it with one more /restore', () => {
      expect(matchRoute(event('$default', 'GET', '/v1/config/tenantconfig:a/restore'))).toMatchObject({ name: 'getItem', key: 'tenantconfig:a/restore' });
      expect(matchRoute(event('$default', 'PUT', '/v1/defaults/tenantconfig:a/restore'))).toMatchObject({ name: 'putItem', key: 'tenantconfig:a/restore' });
      expect(matchRoute(event('$default', 'POST', '/v1/config/tenantconfig:a/restore/restore'))).toMatchObject({
        name: 'restoreItem',
        key: 'tenantconfig:a/restore',
      });
    });

    it('a declared POST route strips /restore from the path and from the gateway path parameter alike', () => {
      const declared = event('POST /v1/config/{key+}', 'POST', '/v1/config/tenantconfig:a/restore', { key: 'tenantconfig:a/restore' });
      expect(matchRoute(declared)).toMatchObject({ name: 'restoreItem', key: 'tenantconfig:a' });
      const noSuffix = event('POST /v1/config/{key+}', 'POST', '/v1/config/tenantconfig:a', { key: 'tenantconfig:a' });
      expect(() => matchRoute(noSuffix)).toThrow(expect.objectContaining({ kind: 'route-not-found' }));
    });

    it('names the segment and the tenant of declared routes, checked against the gateway parameters', () => {
      const seg = event('GET /v1/segments/{segment}/{key+}', 'GET', '/v1/segments/plan=gold/tenantconfig:a', {
        params: { segment: 'plan=gold', key: 'tenantconfig:a' },
      });
      expect(matchRoute(seg)).toMatchObject({ segment: 'plan=gold', itemsPath: '/v1/segments/plan=gold' });
      const rec = event('GET /v1/tenants/{tenantId}', 'GET', '/v1/tenants/globex', { params: { tenantId: 'globex' } });
      expect(matchRoute(rec)).toMatchObject({ name: 'getTenant', tenant: 'globex' });
      const liar = event('GET /v1/tenants/{tenantId}', 'GET', '/v1/tenants/globex', { params: { tenantId: 'acme' } });
      expect(() => matchRoute(liar)).toThrow(/ambiguous/);
    });

    it('the registry record does not swallow the twins, nor the twins the record', () => {
      expect(matchRoute(event('$default', 'GET', '/v1/tenants/acme')).name).toBe('getTenant');
      expect(matchRoute(event('$default', 'GET', '/v1/tenants/acme/config')).name).toBe('listItems');
      expect(() => matchRoute(event('GET /v1/tenants/{tenantId}', 'GET', '/v1/tenants/acme/config'))).toThrow(EdgeProblem);
    });

    it('a layer history path is never read as a key of /v1/history/{key+}', () => {
      expect(matchRoute(event('$default', 'GET', '/v1/history/defaults/tenantconfig:a'))).toMatchObject({ family: 'platform', key: 'tenantconfig:a' });
      expect(matchRoute(event('$default', 'GET', '/v1/history/segments/region=eu/tenantconfig:a'))).toMatchObject({
        family: 'segment',
        segment: 'region=eu',
      });
    });
  });

  it('a declared twin whose path lacks the tenant prefix is a 404, not a guess', () => {
    expect(() => matchRoute(event('GET /v1/tenants/{tenantId}/config', 'GET', '/v1/config'))).toThrow(EdgeProblem);
    expect(() => matchRoute(event('GET /v1/config', 'GET', '/v1/tenants/acme/config'))).toThrow(EdgeProblem);
  });

  it.each(['$default', 'ANY /{proxy+}', 'ANY /v1/config/{key+}'])('falls back to method and path for %p', (routeKey) => {
    expect(matchRoute(event(routeKey, 'DELETE', '/v1/config/tenantconfig:a')).name).toBe('deleteItem');
    expect(matchRoute(event(routeKey, 'GET', '/v1/config')).name).toBe('listItems');
    expect(matchRoute(event(routeKey, 'GET', '/v1/history/tenantconfig:a')).name).toBe('getHistory');
  });

  it('strips a named stage from rawPath and keeps it for Location', () => {
    const matched = matchRoute(event('GET /v1/config/{key+}', 'GET', '/prod/v1/config/tenantconfig:a', { stage: 'prod', key: 'tenantconfig:a' }));
    expect(matched).toMatchObject({ key: 'tenantconfig:a', basePath: '/prod' });
  });

  it('finds the key after a custom-domain base path when the route key is declared', () => {
    expect(matchRoute(event('GET /v1/config/{key+}', 'GET', '/config-api/v1/config/tenantconfig:a', { key: 'tenantconfig:a' })).key).toBe('tenantconfig:a');
  });

  it('405 names the allowed methods; 404 for unknown paths', () => {
    const notAllowed = (() => {
      try {
        matchRoute(event('$default', 'POST', '/v1/config'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(notAllowed).toBeInstanceOf(EdgeProblem);
    expect(notAllowed).toMatchObject({ kind: 'method-not-allowed', headers: { allow: 'GET' } });
    expect(() => matchRoute(event('$default', 'GET', '/v1/other'))).toThrow(expect.objectContaining({ kind: 'route-not-found' }));
  });

  describe('keyFromPath', () => {
    it('decodes exactly once', () => {
      expect(keyFromPath('paramconfig%3Adb/max', undefined)).toBe('paramconfig:db/max');
      expect(keyFromPath('tenantconfig:a%2541', undefined)).toBe('tenantconfig:a%41');
    });

    it.each(['a%2Fb', 'a%2fb', '%2F'])('refuses an encoded slash in %p', (raw) => {
      expect(() => keyFromPath(raw, undefined)).toThrow(InvalidKeyError);
    });

    it('refuses broken percent-encoding', () => {
      expect(() => keyFromPath('a%E0%A4%A', undefined)).toThrow(/percent-encoding/);
    });

    it("agrees with the gateway's decoded path parameter, or refuses", () => {
      expect(keyFromPath('tenantconfig%3Aa', 'tenantconfig:a')).toBe('tenantconfig:a');
      expect(() => keyFromPath('tenantconfig:%41', 'tenantconfig:%41')).toThrow(/ambiguous/);
    });
  });
});
