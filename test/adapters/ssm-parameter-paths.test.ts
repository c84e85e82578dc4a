import fc from 'fast-check';
import { ParameterPaths } from '../../adapters/ssm/parameter-paths';
import { MAX_NAME_SEGMENTS, parseKey, parseKeyPrefix } from '../../core/key';
import { parseTenantId } from '../../core/tenant';

const paths = new ParameterPaths('/tenant-config/', 'prod');
const acme = parseTenantId('acme');

describe('ParameterPaths', () => {
  it('places a key at /<root>/<stage>/tenants/<tenant>/<tag>/<name>', () => {
    expect(paths.parameterName(acme, parseKey('paramconfig:db/pool/max'))).toBe('/tenant-config/prod/tenants/acme/paramconfig/db/pool/max');
    expect(paths.tenantsPath).toBe('/tenant-config/prod/tenants/');
  });

  it.each([
    ['paramconfig:', '/tenant-config/prod/tenants/acme/paramconfig', '/tenant-config/prod/tenants/acme/paramconfig/'],
    ['paramconfig:db', '/tenant-config/prod/tenants/acme/paramconfig', '/tenant-config/prod/tenants/acme/paramconfig/db'],
    ['paramconfig:db/', '/tenant-config/prod/tenants/acme/paramconfig/db', '/tenant-config/prod/tenants/acme/paramconfig/db/'],
    ['paramconfig:db/po', '/tenant-config/prod/tenants/acme/paramconfig/db', '/tenant-config/prod/tenants/acme/paramconfig/db/po'],
  ])('lists prefix %p under the deepest complete path %p, filtering by %p', (prefix, path, namePrefix) => {
    expect(paths.listScope(acme, parseKeyPrefix(prefix))).toEqual({ path, namePrefix });
  });

  it.each([
    '/other/prod/tenants/acme/paramconfig/x',
    '/tenant-config/dev/tenants/acme/paramconfig/x',
    '/tenant-config/prod/tenants/acme/paramconfig',
    '/tenant-config/prod/tenants/acme',
    '/tenant-config/prod/tenants/acme/paramconfig/a/../b',
    '/tenant-config/prod/tenants/acme/Bad-Tag/x',
  ])('locates nothing for %p', (name) => {
    expect(paths.locate(name)).toBeUndefined();
  });

  it('maps every valid key to a name within 15 levels and back (property)', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,11}$/);
    const name = fc.array(segment, { minLength: 1, maxLength: MAX_NAME_SEGMENTS }).map((s) => s.join('/'));
    const tenant = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/).map(parseTenantId);
    fc.assert(
      fc.property(tenant, fc.constantFrom('paramconfig', 'secretconfig'), name, (t, tag, n) => {
        const key = parseKey(`${tag}:${n}`);

        const parameterName = paths.parameterName(t, key);

        expect(parameterName.split('/').filter(Boolean).length).toBeLessThanOrEqual(15);
        expect(paths.locate(parameterName)).toEqual({ tenant: t, key });
        expect(paths.keyOf(t, tag, parameterName)).toEqual(key);
      }),
    );
  });
});
