/**
 * forRequest: the end user's access token verified with aws-jwt-verify against a JWKS served over
 * HTTP (as the local front serves the dev pool's), and the view of the tenant it names returned;
 * every token that must not pass is refused with UserTokenError and the failed check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigClient } from '../../client';
import { ConfigClientOptionsError, UserTokenError } from '../../client/errors';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner, type DevSigner } from '../../local/dev-signer';
import { item, ScriptedWatchServer, snapshotEvent } from './support/scripted-watch-server';
import { fastTestOptions } from './support/wait';

let dir: string;
let signer: DevSigner;
let jwksServer: Server;
let jwksUri: string;
let watchServer: ScriptedWatchServer;
let client: ConfigClient;

const TENANTS = ['acme', 'globex', 'initech'];
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdk-for-request-'));
  signer = openDevSigner(dir);
  jwksServer = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(signer.jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  watchServer = new ScriptedWatchServer();
  await watchServer.start();
  watchServer.script = (w) =>
    w.call.write(
      snapshotEvent(
        TENANTS.map((t) => item('tenantconfig:plan', `${t}-plan`, 1, t)),
        'm1.all.1',
      ),
    );
  client = new ConfigClient({
    grpcTarget: watchServer.target,
    ...fastTestOptions(),
    tenants: 'all',
    userTokens: { issuer: LOCAL_ISSUER, clientId: LOCAL_CLIENT_ID, jwksUri },
  });
  await client.start();
});

afterAll(async () => {
  await client?.close();
  await watchServer?.stop();
  await new Promise((resolve) => jwksServer?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Claims of a valid user access token of `tenant`, to be spoiled one at a time. */
function claims(tenant: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'u1', iss: LOCAL_ISSUER, client_id: LOCAL_CLIENT_ID, token_use: 'access', iat: now(), exp: now() + 600, tenant_id: tenant, ...extra };
}

async function refusal(token: string): Promise<UserTokenError> {
  const error = await client.forRequest(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserTokenError);
  return error as UserTokenError;
}

describe('forRequest', () => {
  it("returns the view of the verified token's tenant", async () => {
    const view = await client.forRequest(signer.signToken({ tenant: 'globex' }));

    expect(view.tenantId).toBe('globex');
    expect(view.get('tenantconfig:plan')).toBe('globex-plan');
    expect((await client.forRequest(`Bearer ${signer.signToken({ tenant: 'acme', admin: true })}`)).get('tenantconfig:plan')).toBe('acme-plan');
  });

  it.each([
    ['an expired token', () => signer.signToken({ tenant: 'acme', ttlSeconds: 1 }), 'expired', -2],
    ['a token without expiry', () => signer.signClaims(claims('acme', { exp: undefined })), 'expired', 0],
    ['an ID token', () => signer.signClaims(claims('acme', { token_use: 'id', aud: LOCAL_CLIENT_ID })), 'token-use', 0],
    ['a token of another issuer', () => signer.signClaims(claims('acme', { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/other' })), 'issuer', 0],
    ['a token of another app client', () => signer.signClaims(claims('acme', { client_id: 'someone-else' })), 'client', 0],
    ['a service token (no tenant)', () => signer.signServiceToken({ service: 'billing' }), 'client', 0],
    ['a tenant claim that is a number', () => signer.signClaims(claims(42)), 'tenant', 0],
    ['a tenant claim that is an array', () => signer.signClaims(claims(['acme'])), 'tenant', 0],
    ['a tenant claim outside the grammar', () => signer.signClaims(claims('acme/../globex')), 'tenant', 0],
    ['no tenant claim', () => signer.signClaims(claims(undefined)), 'tenant', 0],
    ['a token signed by another key', () => `${signer.signToken({ tenant: 'acme' }).split('.').slice(0, 2).join('.')}.AAAA`, 'signature', 0],
    ['garbage', () => 'not-a-jwt', 'malformed', 0],
  ])('refuses %s', async (_what, token, reason, shiftSeconds) => {
    const made = token();
    if (shiftSeconds < 0) await new Promise((r) => setTimeout(r, -shiftSeconds * 1000));

    const error = await refusal(made);

    expect(error.reason).toBe(reason);
    expect(error.message).not.toContain(made);
  });

  it('needs tenants and userTokens', async () => {
    const single = new ConfigClient({ grpcTarget: watchServer.target, ...fastTestOptions() });
    const noUsers = new ConfigClient({ grpcTarget: watchServer.target, ...fastTestOptions(), tenants: 'all' });

    await expect(single.forRequest('x')).rejects.toBeInstanceOf(ConfigClientOptionsError);
    await expect(noUsers.forRequest('x')).rejects.toThrow(/userTokens/);
    await Promise.all([single.close(), noUsers.close()]);
  });

  it("isolation: forRequest(tokenOf(a)) never returns another tenant's value", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TENANTS), fc.boolean(), async (tenant, admin) => {
        const view = await client.forRequest(signer.signToken({ tenant, admin }));
        expect(view.tenantId).toBe(tenant);
        expect(view.get('tenantconfig:plan')).toBe(`${tenant}-plan`);
      }),
      { numRuns: 30 },
    );
  });
});
