import { InvalidKeyError } from '../../../core/errors';
import { keyFromPath, matchRoute, ROUTE_KEYS } from '../../../lambda/config-api/routes';
import { EdgeProblem } from '../../../lambda/shared/problem';

const event = (routeKey: string, method: string, rawPath: string, extra: { stage?: string; key?: string } = {}) => ({
  routeKey,
  rawPath,
  pathParameters: extra.key === undefined ? undefined : { key: extra.key },
  requestContext: { stage: extra.stage ?? '$default', http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '', userAgent: '' } },
});

describe('config-api routes', () => {
  it('declares exactly the route keys of docs/design.md §4.1', () => {
    expect([...ROUTE_KEYS].sort()).toEqual(
      [
        'GET /v1/config',
        'GET /v1/config/{key+}',
        'PUT /v1/config/{key+}',
        'DELETE /v1/config/{key+}',
        'GET /v1/history/{key+}',
        'GET /v1/tenants/{tenantId}/config',
        'GET /v1/tenants/{tenantId}/config/{key+}',
        'PUT /v1/tenants/{tenantId}/config/{key+}',
        'DELETE /v1/tenants/{tenantId}/config/{key+}',
        'GET /v1/tenants/{tenantId}/history/{key+}',
      ].sort(),
    );
  });

  it('routes on a declared route key', () => {
    expect(matchRoute(event('PUT /v1/config/{key+}', 'PUT', '/v1/config/tenantconfig:a', { key: 'tenantconfig:a' }))).toEqual({
      name: 'putItem',
      routeKey: 'PUT /v1/config/{key+}',
      key: 'tenantconfig:a',
      basePath: '',
      familyPath: '/v1',
    });
  });

  it('routes a tenant-scoped twin, declared or not, to the same route with the tenant it names', () => {
    const declared = event('GET /v1/tenants/{tenantId}/config/{key+}', 'GET', '/v1/tenants/globex/config/paramconfig:db/max', { key: 'paramconfig:db/max' });
    const undeclared = event('$default', 'GET', '/v1/tenants/globex/config/paramconfig:db/max');

    for (const e of [{ ...declared, pathParameters: { key: 'paramconfig:db/max', tenantId: 'globex' } }, undeclared]) {
      expect(matchRoute(e)).toMatchObject({ name: 'getItem', key: 'paramconfig:db/max', tenant: 'globex', familyPath: '/v1/tenants/globex' });
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
    expect(() => matchRoute(event('$default', 'GET', '/v1/tenants/acme'))).toThrow(EdgeProblem);
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
