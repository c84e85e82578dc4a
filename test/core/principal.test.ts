import fc from 'fast-check';
import { InvalidTenantError, UnauthenticatedError } from '../../core/errors';
import { ForbiddenError } from '../../core/errors';
import { principalFromClaims, SCOPES } from '../../core/principal';

const OPTIONS = { tenantClaim: 'tenant_id', adminGroup: 'config-admins' };
const access = (extra: Record<string, unknown> = {}) => ({ sub: 'u1', token_use: 'access', tenant_id: 'acme', ...extra });

describe('principalFromClaims: claims exactly as issued', () => {
  it('takes tenant, subject and admin membership from the claims', () => {
    expect(principalFromClaims(access({ 'cognito:groups': ['readers', 'config-admins'] }), OPTIONS)).toEqual({
      kind: 'tenant-admin',
      tenant: 'acme',
      subject: 'u1',
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
    expect(principalFromClaims(access({ 'cognito:groups': groups }), OPTIONS).kind).toBe('tenant-reader');
  });

  it('is not admin without a groups claim', () => {
    expect(principalFromClaims(access(), OPTIONS).kind).toBe('tenant-reader');
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
        expect(principal.kind).toBe(groups.includes('config-admins') ? 'tenant-admin' : 'tenant-reader');
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
    const principal = principalFromClaims(access({ 'custom:tenant_id': 'acme', tenant_id: 'wrong', 'cognito:groups': ['ops'] }), {
      tenantClaim: 'custom:tenant_id',
      adminGroup: 'ops',
    });

    expect(principal).toEqual({ kind: 'tenant-admin', tenant: 'acme', subject: 'u1' });
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

describe('principalFromClaims: services and operators', () => {
  /** A Cognito client-credentials access token: sub = client_id, no username, no groups, scopes. */
  const machine = (extra: Record<string, unknown> = {}) => ({ sub: 'billing', client_id: 'billing', token_use: 'access', scope: SCOPES.read, ...extra });

  it('a client-credentials token with the read scope and no tenant claim is a service', () => {
    expect(principalFromClaims(machine({ scope: `${SCOPES.read} ${SCOPES.readSecrets}` }), OPTIONS)).toEqual({
      kind: 'service',
      subject: 'billing',
      scopes: new Set([SCOPES.read, SCOPES.readSecrets]),
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['only other scopes', { scope: 'aws.cognito.signin.user.admin' }],
    ['only read-secrets', { scope: SCOPES.readSecrets }],
    ['a look-alike scope', { scope: 'tenant-config/read-all' }],
    ['the scope with a trailing character', { scope: `${SCOPES.read}x` }],
  ])('a client-credentials token with %s is refused (403), never a service', (_what, extra) => {
    expect(() => principalFromClaims(machine(extra), OPTIONS)).toThrow(ForbiddenError);
  });

  it("a user's token (it carries username) is never a service, whatever its scopes", () => {
    expect(() => principalFromClaims(machine({ username: 'mallory' }), OPTIONS)).toThrow(InvalidTenantError);
  });

  it('a scope claim that is not a string is refused', () => {
    expect(() => principalFromClaims(machine({ scope: [SCOPES.read] }), OPTIONS)).toThrow(UnauthenticatedError);
  });

  it('the operator group makes an operator, with or without a tenant claim', () => {
    const operator = { sub: 'alice', username: 'alice', token_use: 'access', 'cognito:groups': ['platform-operators'] };

    expect(principalFromClaims(operator, OPTIONS)).toEqual({ kind: 'operator', subject: 'alice' });
    expect(principalFromClaims({ ...operator, tenant_id: 'acme' }, OPTIONS).kind).toBe('operator');
  });

  it('operator membership is exact, as admin membership is', () => {
    const claims = { sub: 'eve', username: 'eve', token_use: 'access', 'cognito:groups': ['x platform-operators', 'platform-operators '] };

    expect(() => principalFromClaims(claims, OPTIONS)).toThrow(InvalidTenantError);
  });
});
