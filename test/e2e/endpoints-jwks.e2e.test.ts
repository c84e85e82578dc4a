/**
 * endpoints.json names the local user pool (issuer, client id, JWKS URI), and the local front
 * serves that JWKS over HTTP, so an end user's token can be verified the way the SDK's
 * forRequest does on AWS: aws-jwt-verify fetching the pool's keys.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { startLocalSystem, type LocalSystem } from '../../local/system';

describe('endpoints.json and the local JWKS', () => {
  let dir: string;
  let system: LocalSystem;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-jwks-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the issuer, the client id and a JWKS URI on the local front', () => {
    const written = JSON.parse(readFileSync(system.endpointsFile, 'utf8'));

    expect(written).toMatchObject({
      issuer: system.endpoints.issuer,
      clientId: system.endpoints.clientId,
      jwksUri: `${system.endpoints.http}/.well-known/jwks.json`,
    });
  });

  it('serves the signer JWKS without a token, and aws-jwt-verify verifies a token with it', async () => {
    const res = await fetch(system.endpoints.jwksUri);
    // aws-jwt-verify's own fetcher speaks https only; the local front is plain http.
    const jwksCache = new SimpleJwksCache({ fetcher: { fetch: async (uri) => (await fetch(uri)).arrayBuffer() } });
    const verifier = JwtRsaVerifier.create({ issuer: system.endpoints.issuer, audience: null, jwksUri: system.endpoints.jwksUri }, { jwksCache });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(system.signer.jwks);
    const claims = await verifier.verify(system.signer.signToken({ tenant: 'acme' }));
    expect(claims.tenant_id).toBe('acme');
  });

  it('serves nothing else without a token', async () => {
    expect((await fetch(`${system.endpoints.http}/.well-known/other.json`)).status).toBe(404);
    expect((await fetch(`${system.endpoints.http}/v1/config`)).status).toBe(401);
  });
});
