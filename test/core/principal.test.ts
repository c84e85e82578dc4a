import fc from 'fast-check';
import { InvalidTenantError, UnauthenticatedError } from '../../core/errors';
import { principalFromClaims } from '../../core/principal';

const OPTIONS = { tenantClaim: 'tenant_id', adminGroup: 'config-admins' };
const access = (extra: Record<string, unknown> = {}) => ({ sub: 'u1', token_use: 'access', tenant_id: 'acme', ...extra });

describe('principalFromClaims: claims exactly as issued', () => {
  it('takes tenant, subject and admin membership from the claims', () => {
    expect(principalFromClaims(access({ 'cognito:groups': ['readers', 'config-admins'] }), OPTIONS)).toEqual({
      tenant: 'acme',
      subject: 'u1',
      isAdmin: true,
    });
  });

  it.each<[string, unknown]>([
    ['a different group', ['readers']],
    ['a prefix of the name', ['config-admin']],
    ['a longer name', ['config-admins-x']],
    ['the name in quotes', ['"config-admins"']],
    ['the name after a space', ['x config-admins']],
    ['the name after a newline', ['a\nconfig-admins']],
    ['the name after a no-break space', ['readers\u00a0config-admins']],
    ['the name with a trailing space', ['config-admins ']],
    ['no groups', []],
  ])('is not admin for %s', (_what, groups) => {
    expect(principalFromClaims(access({ 'cognito:groups': groups }), OPTIONS).isAdmin).toBe(false);
  });

  it('is not admin without a groups claim', () => {
    expect(principalFromClaims(access(), OPTIONS).isAdmin).toBe(false);
  });

  it.each<[string, unknown]>([
    ["API Gateway's flattened string", '[config-admins]'],
    ['a JSON array string', '["config-admins"]'],
    ['a bare string', 'config-admins'],
    ['an array holding a non-string', ['config-admins', 7]],
    ['a number', 7],
  ])('refuses a groups claim that is %s, rather than guess what it means', (_what, groups) => {
    expect(() => principalFromClaims(access({ 'cognito:groups': groups }), OPTIONS)).toThrow(UnauthenticatedError);
  });

  it('grants admin only to a group equal to the admin group, for any list of names (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }), (groups) => {
        const principal = principalFromClaims(access({ 'cognito:groups': groups }), OPTIONS);
        expect(principal.isAdmin).toBe(groups.includes('config-admins'));
      }),
    );
  });

  it.each<[string, Record<string, unknown>]>([
    ['an ID token', { token_use: 'id' }],
    ['a token with no token_use', { token_use: undefined }],
    ['a token_use of another case', { token_use: 'Access' }],
    ['a token_use that is not a string', { token_use: ['access'] }],
  ])('refuses %s: only access tokens are accepted', (_what, extra) => {
    expect(() => principalFromClaims(access(extra), OPTIONS)).toThrow(/only access tokens/);
  });

  it('reads the configured claim names, e.g. a Cognito custom attribute', () => {
    const principal = principalFromClaims(
      access({ 'custom:tenant_id': 'acme', tenant_id: 'wrong', 'cognito:groups': ['ops'] }),
      { tenantClaim: 'custom:tenant_id', adminGroup: 'ops' },
    );

    expect(principal).toEqual({ tenant: 'acme', subject: 'u1', isAdmin: true });
  });

  it('subject is sub, else username, else client_id', () => {
    expect(principalFromClaims(access({ sub: undefined, username: 'svc', client_id: 'c' }), OPTIONS).subject).toBe('svc');
    expect(principalFromClaims(access({ sub: undefined, client_id: 'c' }), OPTIONS).subject).toBe('c');
  });

  it.each<[string, unknown]>([
    ['no claims', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an array', ['sub']],
    ['a string', 'sub=u1'],
  ])('%s → UnauthenticatedError', (_what, claims) => {
    expect(() => principalFromClaims(claims, OPTIONS)).toThrow(UnauthenticatedError);
  });

  it.each<[string, unknown]>([
    ['control characters', 'a\nb'],
    ['a number', 42],
    ['an empty string', ''],
    ['300 characters', 'x'.repeat(300)],
  ])('a subject with %s → UnauthenticatedError', (_what, sub) => {
    expect(() => principalFromClaims(access({ sub }), OPTIONS)).toThrow(UnauthenticatedError);
  });

  it('a token with no subject claim at all → UnauthenticatedError', () => {
    expect(() => principalFromClaims(access({ sub: undefined }), OPTIONS)).toThrow(/names no subject/);
  });

  it.each<unknown>([undefined, '', 'a/b', 'a#b', 'a:b', true, 12, 123, ['acme'], { id: 'acme' }, null])(
    'tenant claim %p → InvalidTenantError (never a string made of it)',
    (tenant) => {
      expect(() => principalFromClaims(access({ tenant_id: tenant }), OPTIONS)).toThrow(InvalidTenantError);
    },
  );
});
