import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner, type DevSigner } from '../../local/dev-signer';
import { createJwtAuthorizer, type AuthorizationResult, type JwtAuthorizer } from '../../local/jwt-authorizer';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

function rejection(result: AuthorizationResult): string {
  if (result.authorized) throw new Error('expected the token to be refused');
  return result.wwwAuthenticate;
}

describe('JWT authorizer (API Gateway HTTP API semantics)', () => {
  let dir: string;
  let otherDir: string;
  let signer: DevSigner;
  let stranger: DevSigner;
  let authorizer: JwtAuthorizer;
  const now = () => Math.floor(Date.now() / 1000);
  const base = () => ({ iss: LOCAL_ISSUER, client_id: LOCAL_CLIENT_ID, token_use: 'access', sub: 'u', tenant_id: 'acme', iat: now(), exp: now() + 300 });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authz-'));
    otherDir = mkdtempSync(join(tmpdir(), 'authz-other-'));
    signer = openDevSigner(dir);
    stranger = openDevSigner(otherDir);
    authorizer = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  });

  it('accepts a dev token after "Bearer " and returns its claims', async () => {
    const result = await authorizer.authorize(`Bearer ${signer.signToken({ tenant: 'acme', admin: true })}`);

    expect(result.authorized).toBe(true);
    expect(result.authorized && result.claims).toMatchObject({ tenant_id: 'acme', 'cognito:groups': ['config-admins'] });
  });

  it('accepts the bare token too, as API Gateway does', async () => {
    expect((await authorizer.authorize(signer.signToken({ tenant: 'acme' }))).authorized).toBe(true);
  });

  it('checks aud when present and client_id only when aud is absent', async () => {
    const audOk = signer.signClaims({ ...base(), client_id: 'other', aud: LOCAL_CLIENT_ID });
    const audWrong = signer.signClaims({ ...base(), aud: 'other' });
    const audListOk = signer.signClaims({ ...base(), client_id: undefined, aud: ['x', LOCAL_CLIENT_ID] });

    expect((await authorizer.authorize(`Bearer ${audOk}`)).authorized).toBe(true);
    expect(rejection(await authorizer.authorize(`Bearer ${audWrong}`))).toContain('valid audience');
    expect((await authorizer.authorize(`Bearer ${audListOk}`)).authorized).toBe(true);
  });

  it('answers a missing token with a bare Bearer challenge', async () => {
    expect(rejection(await authorizer.authorize(undefined))).toBe('Bearer');
    expect(rejection(await authorizer.authorize('Bearer   '))).toBe('Bearer');
  });

  const bad: Array<[string, () => string, string | RegExp]> = [
    ['malformed', () => 'not.a.jwt', 'malformed'],
    ['garbage', () => 'abc', 'malformed'],
    ['signed by another key with the same kid', () => stranger.signClaims(base(), { kid: signer.kid }), 'signature is invalid'],
    ['signed by an unknown key', () => stranger.signToken({ tenant: 'acme' }), 'not signed by a known key'],
    [
      'tampered payload',
      () => {
        const [h, , s] = signer.signToken({ tenant: 'acme' }).split('.');
        return `${h}.${b64({ ...base(), tenant_id: 'globex' })}.${s}`;
      },
      'signature is invalid',
    ],
    ['alg none', () => `${b64({ alg: 'none', kid: signer.kid })}.${b64(base())}.`, /algorithm|malformed/],
    ['alg HS256', () => `${b64({ alg: 'HS256', kid: signer.kid })}.${b64(base())}.c2ln`, 'algorithm'],
    ['expired', () => signer.signClaims({ ...base(), iat: now() - 600, exp: now() - 60 }), 'expired'],
    ['no exp', () => signer.signClaims({ ...base(), exp: undefined }), 'no expiry'],
    ['not yet valid', () => signer.signClaims({ ...base(), nbf: now() + 600 }), 'not valid yet'],
    ['issued in the future', () => signer.signClaims({ ...base(), iat: now() + 600 }), 'future'],
    ['wrong issuer', () => signer.signClaims({ ...base(), iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other' }), 'valid issuer'],
    ['wrong client_id', () => signer.signClaims({ ...base(), client_id: 'someone-else' }), 'valid audience'],
    ['neither aud nor client_id', () => signer.signClaims({ ...base(), client_id: undefined }), 'valid audience'],
  ];
  it.each(bad)('refuses a %s token with invalid_token', async (_name, make, why) => {
    const challenge = rejection(await authorizer.authorize(`Bearer ${make()}`));

    expect(challenge).toMatch(/^Bearer scope="" error="invalid_token" error_description="[^"]+"$/);
    expect(challenge).toMatch(why);
  });

  it('never authorizes, and never throws, for arbitrary header text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (header) => {
        const result = await authorizer.authorize(header);
        expect(result.authorized).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to be built without an audience', () => {
    expect(() => createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [], jwks: signer.jwks })).toThrow(/audience/);
  });

  describe('verified-token cache', () => {
    it('refuses a remembered token once its exp has passed', async () => {
      const cached = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks });
      const exp = now() + 1;
      const token = signer.signClaims({ ...base(), exp });

      const first = await cached.authorize(`Bearer ${token}`);
      const remembered = await cached.authorize(`Bearer ${token}`);
      await new Promise((r) => setTimeout(r, (exp + 1) * 1000 - Date.now() + 50));
      const expired = await cached.authorize(`Bearer ${token}`);

      expect([first.authorized, remembered.authorized]).toEqual([true, true]);
      expect(remembered.authorized && remembered.claims).toEqual(first.authorized && first.claims);
      expect(rejection(expired)).toContain('expired');
    });

    it('never remembers a refused token: a forged copy of a remembered one is still refused', async () => {
      const cached = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks });
      const token = signer.signToken({ tenant: 'acme' });
      const [header, , signature] = token.split('.');
      const forged = `${header}.${b64({ ...base(), tenant_id: 'globex' })}.${signature}`;

      expect((await cached.authorize(`Bearer ${token}`)).authorized).toBe(true);
      expect(rejection(await cached.authorize(`Bearer ${forged}`))).toContain('signature');
      expect(rejection(await cached.authorize(`Bearer ${forged}`))).toContain('signature');
    });

    it('keeps at most its capacity, oldest out first, and still verifies what it dropped', async () => {
      const cached = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks, verifiedTokenCacheSize: 2 });
      const tokens = ['a', 'b', 'c'].map((t) => signer.signToken({ tenant: t }));

      for (const t of tokens) expect((await cached.authorize(`Bearer ${t}`)).authorized).toBe(true);

      expect((await cached.authorize(`Bearer ${tokens[0]}`)).authorized).toBe(true);
    });
  });
  describe('anyServiceClient (the local pool, whose dev signer mints service tokens for any name)', () => {
    it('accepts a client-credentials token of an unlisted client only when asked to', async () => {
      const token = signer.signServiceToken({ service: 'billing' });
      const strict = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks });
      const local = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], anyServiceClient: true, jwks: signer.jwks });

      expect(rejection(await strict.authorize(`Bearer ${token}`))).toContain('audience');
      expect((await local.authorize(`Bearer ${token}`)).authorized).toBe(true);
    });

    it("still refuses a user's token (it has a username) of an unlisted client", async () => {
      const local = createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], anyServiceClient: true, jwks: signer.jwks });
      const token = signer.signClaims({ ...base(), username: 'mallory', client_id: 'another-app' });

      expect(rejection(await local.authorize(`Bearer ${token}`))).toContain('audience');
    });
  });
});
