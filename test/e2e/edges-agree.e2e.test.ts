/**
 * One token means one thing on both edges: every token below is sent to the HTTP API (local
 * API Gateway front → config-api handler) and to the gRPC Watch (the fanout's own verifier),
 * and both must accept it or both refuse it the same way (401 ↔ UNAUTHENTICATED,
 * 403 ↔ PERMISSION_DENIED). Both call core's principalFromClaims on the claims as issued.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { UnauthenticatedError } from '../../core/errors';
import { bearerToken } from '../../fanout/authenticate';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER } from '../../local/dev-signer';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { watchClient } from '../fanout/harness';
import { LocalApi } from './local-api';

type Outcome = 'ok' | 'unauthenticated' | 'forbidden';

const fromHttp = (status: number): Outcome | number =>
  status === 200 || status === 201 || status === 404 ? 'ok' : status === 401 ? 'unauthenticated' : status === 403 ? 'forbidden' : status;
const fromGrpc = (code: grpc.status | 'data'): Outcome | string =>
  code === 'data' ? 'ok' : code === grpc.status.UNAUTHENTICATED ? 'unauthenticated' : code === grpc.status.PERMISSION_DENIED ? 'forbidden' : grpc.status[code];

describe('HTTP and gRPC agree on every token', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let client: ReturnType<typeof watchClient>;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'u1',
    username: 'u1',
    iss: LOCAL_ISSUER,
    client_id: LOCAL_CLIENT_ID,
    token_use: 'access',
    tenant_id: 'acme',
    iat: now() - 5,
    exp: now() + 600,
    ...extra,
  });
  const sign = (extra: Record<string, unknown> = {}) => system.signer.signClaims(claims(extra));

  /** The outcome of a Watch with these `authorization` values: its first event, or its status. */
  function watch(authorization: readonly string[]): Promise<Outcome | string> {
    const md = new grpc.Metadata();
    for (const value of authorization) md.add('authorization', value);
    const call = client.Watch({}, md);
    return new Promise((resolve) => {
      call.on('data', () => {
        resolve(fromGrpc('data'));
        call.cancel();
      });
      call.on('error', (e: grpc.ServiceError) => resolve(fromGrpc(e.code)));
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-edges-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    client = watchClient(system.endpoints.grpc);
  });
  afterAll(async () => {
    client?.close();
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each<[string, () => Record<string, unknown>, Outcome]>([
    ['a reader access token', () => ({}), 'ok'],
    ['an ID token', () => ({ token_use: 'id', aud: LOCAL_CLIENT_ID, client_id: undefined }), 'unauthenticated'],
    ['a token without token_use', () => ({ token_use: undefined }), 'unauthenticated'],
    ['a numeric tenant claim', () => ({ tenant_id: 123 }), 'forbidden'],
    ['a boolean tenant claim', () => ({ tenant_id: true }), 'forbidden'],
    ['a tenant claim that is an array', () => ({ tenant_id: ['acme'] }), 'forbidden'],
    ['a token issued in the future', () => ({ iat: now() + 600 }), 'unauthenticated'],
    ['a groups claim that is a string', () => ({ 'cognito:groups': '[config-admins]' }), 'unauthenticated'],
    ['a token without a subject', () => ({ sub: undefined, username: undefined, client_id: undefined, aud: LOCAL_CLIENT_ID }), 'unauthenticated'],
  ])('%s: the same answer on both edges', async (_what, extra, expected) => {
    const token = sign(extra());

    const http = fromHttp((await api.get('/v1/config/tenantconfig:plan', token)).status);
    const grpcOutcome = await watch([`Bearer ${token}`]);

    expect({ http, grpc: grpcOutcome }).toEqual({ http: expected, grpc: expected });
  });

  it('two authorization headers are refused as unauthenticated over HTTP', async () => {
    const token = sign();

    const http = await fetch(`${system.endpoints.http}/v1/config/tenantconfig:plan`, {
      headers: [
        ['authorization', `Bearer ${token}`],
        ['authorization', `Bearer ${token}`],
      ],
    });

    expect(fromHttp(http.status)).toBe('unauthenticated');
  });

  it('two authorization metadata values are refused as unauthenticated by the Watch', () => {
    // A grpc-js client cannot send them at all (Node's HTTP/2 refuses a repeated `authorization`
    // before anything leaves, which its caller sees as INTERNAL); another client could.
    const md = new grpc.Metadata();
    md.add('authorization', `Bearer ${sign()}`);
    md.add('authorization', `Bearer ${sign()}`);

    expect(() => bearerToken(md)).toThrow(UnauthenticatedError);
    expect(() => bearerToken(md)).toThrow(/must be sent once/);
  });

  it.each([
    ['the group in quotes', ['"config-admins"']],
    ['the group after a space', ['x config-admins']],
    ['the group after a newline', ['a\nconfig-admins']],
    ['the group after a no-break space', ['readers\u00a0config-admins']],
  ])('a token with %s may read but not write', async (_what, groups) => {
    const token = sign({ 'cognito:groups': groups });

    const read = await api.get('/v1/config/tenantconfig:plan', token);
    const write = await api.put('/v1/config/tenantconfig:plan', token, 'x');

    expect(fromHttp(read.status)).toBe('ok');
    expect(write.status).toBe(403);
    expect(await watch([`Bearer ${token}`])).toBe('ok');
  });

  it('an exact admin group member may write', async () => {
    const write = await api.put('/v1/config/tenantconfig:plan', sign({ 'cognito:groups': ['readers', 'config-admins'] }), 'x');

    expect(write.status).toBe(201);
  });
});
