import fc from 'fast-check';
import { InvalidTenantError, UnauthenticatedError } from '../../../core/errors';
import { parseGroups, principalFromClaims } from '../../../lambda/shared/jwt-principal';

const OPTIONS = { tenantClaim: 'tenant_id', adminGroup: 'config-admins' };

describe('parseGroups: cognito:groups in every form it arrives in', () => {
  it.each<[string, Parameters<typeof parseGroups>[0], string[]]>([
    ['HTTP API flattened', '[config-admins readers]', ['config-admins', 'readers']],
    ['flattened, one group', '[config-admins]', ['config-admins']],
    ['flattened, empty', '[]', []],
    ['a real array', ['config-admins', 'readers'], ['config-admins', 'readers']],
    ['a JSON array string', '["config-admins","readers"]', ['config-admins', 'readers']],
    ['a plain string', 'config-admins', ['config-admins']],
    ['extra whitespace', '  [ a   b ]  ', ['a', 'b']],
    ['absent', undefined, []],
    ['a number', 7, []],
  ])('%s', (_what, claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });

  it('reads a flattened list of names that look like JSON scalars as names', () => {
    expect(parseGroups('[0]')).toEqual(['0']);
    expect(parseGroups('[true null]')).toEqual(['true', 'null']);
  });

  it('keeps punctuation inside group names (Cognito allows it), including commas', () => {
    expect(parseGroups('[a,b c:d]')).toEqual(['a,b', 'c:d']);
  });

  it('round-trips any list of whitespace-free names through the flattened form (property)', () => {
    const group = fc.stringMatching(/^[A-Za-z0-9_.,:@+=-]{1,20}$/).filter((g) => !g.startsWith('[') && !g.startsWith('"'));
    fc.assert(
      fc.property(fc.array(group, { maxLength: 6 }), (groups) => {
        // A lone quoted name is the one ambiguous case (`["a"]` is also JSON); the generator leaves quotes out.
        expect(parseGroups(`[${groups.join(' ')}]`)).toEqual(groups);
      }),
    );
  });
});

describe('principalFromClaims', () => {
  it('takes tenant, subject and admin membership from the claims', () => {
    expect(principalFromClaims({ sub: 'u1', tenant_id: 'acme', 'cognito:groups': '[config-admins]' }, OPTIONS)).toEqual({
      tenant: 'acme',
      subject: 'u1',
      isAdmin: true,
    });
  });

  it('is not admin for a different group, a prefix of the name or no groups', () => {
    for (const groups of ['[readers]', '[config-admin]', '[config-admins-x]', undefined]) {
      const claims = { sub: 'u1', tenant_id: 'acme', ...(groups ? { 'cognito:groups': groups } : {}) };
      expect(principalFromClaims(claims, OPTIONS).isAdmin).toBe(false);
    }
  });

  it('reads the configured claim names, e.g. a Cognito custom attribute', () => {
    const principal = principalFromClaims(
      { sub: 'u1', 'custom:tenant_id': 'acme', tenant_id: 'wrong', 'cognito:groups': ['ops'] },
      { tenantClaim: 'custom:tenant_id', adminGroup: 'ops' },
    );

    expect(principal).toEqual({ tenant: 'acme', subject: 'u1', isAdmin: true });
  });

  it('subject falls back to username, then client_id', () => {
    expect(principalFromClaims({ username: 'svc', client_id: 'c', tenant_id: 'acme' }, OPTIONS).subject).toBe('svc');
    expect(principalFromClaims({ client_id: 'c', tenant_id: 'acme' }, OPTIONS).subject).toBe('c');
  });

  it('no claims, or an empty claims object → UnauthenticatedError', () => {
    expect(() => principalFromClaims(undefined, OPTIONS)).toThrow(UnauthenticatedError);
    expect(() => principalFromClaims({}, OPTIONS)).toThrow(UnauthenticatedError);
  });

  it('a subject with control characters → UnauthenticatedError', () => {
    expect(() => principalFromClaims({ sub: 'a\nb', tenant_id: 'acme' }, OPTIONS)).toThrow(UnauthenticatedError);
  });

  it.each([undefined, '', 'a/b', 'a#b', 'a:b', true, 12])('tenant claim %p → InvalidTenantError', (tenant) => {
    const claims: Record<string, string | number | boolean> = { sub: 'u1' };
    if (tenant !== undefined) claims.tenant_id = tenant;
    expect(() => principalFromClaims(claims, OPTIONS)).toThrow(InvalidTenantError);
  });
});
