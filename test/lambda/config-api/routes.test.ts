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
      ['GET /v1/config', 'GET /v1/config/{key+}', 'PUT /v1/config/{key+}', 'DELETE /v1/config/{key+}', 'GET /v1/history/{key+}'].sort(),
    );
  });

  it('routes on a declared route key', () => {
    expect(matchRoute(event('PUT /v1/config/{key+}', 'PUT', '/v1/config/tenantconfig:a', { key: 'tenantconfig:a' }))).toEqual({
      name: 'putItem',
      routeKey: 'PUT /v1/config/{key+}',
      key: 'tenantconfig:a',
      basePath: '',
    });
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

    it('agrees with the gateway\'s decoded path parameter, or refuses', () => {
      expect(keyFromPath('tenantconfig%3Aa', 'tenantconfig:a')).toBe('tenantconfig:a');
      expect(() => keyFromPath('tenantconfig:%41', 'tenantconfig:%41')).toThrow(/ambiguous/);
    });
  });
});
