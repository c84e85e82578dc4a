/**
 * Who may watch: the Bearer JWT in `authorization` metadata, verified by the server itself;
 * the tenant from its claim only. Real dev-signer tokens, real gRPC calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner, type DevSigner } from '../../local/dev-signer';
import { startHarness, watchClient, type FanoutHarness } from './harness';

describe('Watch authentication', () => {
  let h: FanoutHarness;
  let otherPool: DevSigner;
  let otherDir: string;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'u1',
    iss: LOCAL_ISSUER,
    client_id: LOCAL_CLIENT_ID,
    token_use: 'access',
    tenant_id: 'acme',
    iat: now(),
    exp: now() + 600,
    ...extra,
  });

  beforeAll(async () => {
    h = await startHarness();
    otherDir = mkdtempSync(join(tmpdir(), 'other-pool-'));
    otherPool = openDevSigner(otherDir);
  });
  afterAll(async () => {
    await h.close();
    rmSync(otherDir, { recursive: true, force: true });
  });

  it('accepts a valid dev token and answers with a snapshot', async () => {
    const watch = h.watch(h.token('acme'));
    await watch.until((r) => r.snapshots.length === 1);
    expect(watch.snapshots[0].reason).toBe('INITIAL');
    watch.cancel();
  });

  it.each<[string, () => string | undefined]>([
    ['no token', () => undefined],
    ['a token that is not a JWT', () => 'garbage'],
    ['an expired token', () => h.signer.signClaims(claims({ iat: now() - 7200, exp: now() - 3600 }))],
    ['a token of another issuer', () => h.signer.signClaims(claims({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other' }))],
    ["a token signed by another pool's key", () => otherPool.signToken({ tenant: 'acme' })],
    ['a token for another app client', () => h.signer.signClaims(claims({ client_id: 'someone-else' }))],
    ['an id token instead of an access token', () => h.signer.signClaims(claims({ token_use: 'id' }))],
    [
      'a token with alg none',
      () => {
        const [, payload] = h.signer.signClaims(claims()).split('.');
        return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      },
    ],
    [
      'a token whose signature was tampered with',
      () => {
        const [header, , signature] = h.signer.signClaims(claims()).split('.');
        return `${header}.${Buffer.from(JSON.stringify(claims({ tenant_id: 'globex' }))).toString('base64url')}.${signature}`;
      },
    ],
  ])('refuses %s with UNAUTHENTICATED', async (_what, makeToken) => {
    const watch = h.watch(makeToken());
    const status = await watch.status;
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(watch.events).toHaveLength(0);
  });

  it('refuses authorization metadata that is not a Bearer token with UNAUTHENTICATED', async () => {
    const client = watchClient(h.address);
    const md = new grpc.Metadata();
    md.set('authorization', `Basic ${Buffer.from('a:b').toString('base64')}`);
    const call = client.Watch({}, md);
    call.on('error', () => undefined);
    const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    client.close();
  });

  it.each([
    ['no tenant claim', { tenant_id: undefined }],
    ['an empty tenant claim', { tenant_id: '' }],
    ['a tenant with a slash', { tenant_id: 'a/b' }],
    ['a tenant with a colon', { tenant_id: 'a:b' }],
    ['a tenant that is not a string', { tenant_id: 42 }],
  ])('refuses a valid token with %s with PERMISSION_DENIED', async (_what, extra) => {
    const status = await h.watch(h.signer.signClaims(claims(extra))).status;
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('ends a stream with UNAUTHENTICATED when its token expires', async () => {
    // Arrange: a token valid for about two more seconds.
    const token = h.signer.signClaims(claims({ tenant_id: 'short', exp: now() + 2 }));

    // Act
    const watch = h.watch(token);
    await watch.until((r) => r.snapshots.length === 1);
    const status = await watch.status;

    // Assert
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(status.details).toMatch(/expired/);
  });

  it('takes the tenant from the token, never from the request', async () => {
    // Arrange
    await h.writer.put('globex', 'tenantconfig:secret', 'globex-only');
    await h.writer.put('acme', 'tenantconfig:mine', 'acme');

    // Act: an acme token asking for the prefix of globex's key gets acme's items only.
    const watch = h.watch(h.token('acme'), { prefixes: ['tenantconfig:'] });
    await watch.until((r) => r.snapshots.length === 1);

    // Assert
    expect(watch.snapshots[0].items.map((i) => i.value_json)).not.toContain('"globex-only"');
    expect(watch.snapshots[0].items.map((i) => i.key)).toContain('tenantconfig:mine');
    watch.cancel();
  });
});
