import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidTenantError } from '../../core/errors';
import { ADMIN_GROUP, LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner } from '../../local/dev-signer';

function decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown>; signingInput: string; signature: Buffer } {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(p, 'base64url').toString()),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

describe('dev signer', () => {
  // RSA key generation is the slow part: one key directory for the whole suite.
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('mints a Cognito-shaped admin access token signed with the key its JWKS publishes', () => {
    const signer = openDevSigner(dir);
    const before = Math.floor(Date.now() / 1000);

    const token = signer.signToken({ tenant: 'acme', admin: true, ttlSeconds: 600 });

    const { header, claims, signingInput, signature } = decode(token);
    expect(header).toEqual({ kid: signer.kid, alg: 'RS256' });
    expect(claims).toMatchObject({
      iss: LOCAL_ISSUER,
      token_use: 'access',
      client_id: LOCAL_CLIENT_ID,
      tenant_id: 'acme',
      sub: 'dev-acme-admin',
      username: 'dev-acme-admin',
      'cognito:groups': [ADMIN_GROUP],
    });
    expect(claims.aud).toBeUndefined(); // Cognito access tokens carry client_id, not aud
    expect(claims.exp).toBe((claims.iat as number) + 600);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.iat as number).toBeGreaterThanOrEqual(before);
    const jwk = signer.jwks.keys.find((k) => k.kid === header.kid)!;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    const publicKey = createPublicKey({ key: { ...jwk }, format: 'jwk' });
    expect(verify('RSA-SHA256', Buffer.from(signingInput), publicKey, signature)).toBe(true);
  });

  it('gives a reader token no groups and takes a chosen subject', () => {
    const token = openDevSigner(dir).signToken({ tenant: 'globex', subject: 'alice' });

    const { claims } = decode(token);
    expect(claims['cognito:groups']).toBeUndefined();
    expect(claims).toMatchObject({ sub: 'alice', tenant_id: 'globex' });
    expect(claims.exp).toBe((claims.iat as number) + 3600);
  });

  it('keeps its key on disk, private, and reuses it when opened again (tokens survive restarts)', () => {
    const first = openDevSigner(dir);
    const token = first.signToken({ tenant: 'acme' });

    const second = openDevSigner(dir);

    expect(second.kid).toBe(first.kid);
    expect(second.jwks).toEqual(first.jwks);
    expect(decode(token).header.kid).toBe(second.kid);
    expect(statSync(join(dir, 'signer', 'signing-key.json')).mode & 0o077).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'signer', 'jwks.json'), 'utf8'))).toEqual(first.jwks);
  });

  it('makes a different key in a different directory', () => {
    const other = mkdtempSync(join(tmpdir(), 'signer-'));
    try {
      expect(openDevSigner(other).kid).not.toBe(openDevSigner(dir).kid);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it.each(['', 'a/b', 'a#b', 'a:b', '-lead', 'x'.repeat(65)])('refuses the malformed tenant %j', (tenant) => {
    expect(() => openDevSigner(dir).signToken({ tenant })).toThrow(InvalidTenantError);
  });

  it.each([0, -5, 1.5, 86401])('refuses the ttl %p', (ttlSeconds) => {
    expect(() => openDevSigner(dir).signToken({ tenant: 'acme', ttlSeconds })).toThrow(RangeError);
  });

  it('signs arbitrary claims and headers for negative tests', () => {
    const token = openDevSigner(dir).signClaims({ iss: 'https://elsewhere' }, { alg: 'RS512' });

    expect(decode(token).header.alg).toBe('RS512');
    expect(decode(token).claims).toEqual({ iss: 'https://elsewhere' });
  });
});
