/**
 * The local API Gateway on its own: routing, the authorizer step, the v2 event it builds and
 * how it writes results back. The handler here records the event it is given, which is
 * exactly what the front produces; end-to-end tests run it with the real config-api handler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner, type DevSigner } from '../../local/dev-signer';
import { flattenClaims, startHttpFront, type HttpFront } from '../../local/http-front';
import { createJwtAuthorizer } from '../../local/jwt-authorizer';

describe('local HTTP front (API Gateway HTTP API + JWT authorizer)', () => {
  let dir: string;
  let signer: DevSigner;
  let front: HttpFront;
  let seen: APIGatewayProxyEventV2WithJWTAuthorizer[];
  let reply: (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<APIGatewayProxyResultV2>;
  const logged: string[] = [];
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'front-'));
    signer = openDevSigner(dir);
    token = signer.signToken({ tenant: 'acme', admin: true, subject: 'alice' });
    front = await startHttpFront({
      authorizer: createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
      handler: async (event) => {
        seen.push(event);
        return reply(event);
      },
      maxBodyBytes: 1024,
      log: (line) => logged.push(line),
    });
  });
  afterAll(async () => {
    await front.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen = [];
    reply = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
  });

  const call = (path: string, init: RequestInit = {}, auth: string | null = `Bearer ${token}`) =>
    fetch(`${front.endpoint}${path}`, { ...init, headers: { ...(auth ? { authorization: auth } : {}), ...(init.headers as Record<string, string>) } });

  it('builds the payload 2.0 event for a greedy key route, with the key decoded', async () => {
    const res = await call('/v1/config/paramconfig:db%2Fpool/max?x=1&y=a%20b&x=2', { headers: { 'X-Custom': 'v', cookie: 'a=1; b=2' } });

    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const event = seen[0];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /v1/config/{key+}',
      rawPath: '/v1/config/paramconfig:db/pool/max',
      rawQueryString: 'x=1&y=a%20b&x=2',
      pathParameters: { key: 'paramconfig:db/pool/max' },
      queryStringParameters: { x: '1,2', y: 'a b' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'GET /v1/config/{key+}',
        stage: '$default',
        http: { method: 'GET', path: '/v1/config/paramconfig:db/pool/max', sourceIp: '127.0.0.1' },
        authorizer: { jwt: { scopes: null } },
      },
    });
    expect(event.headers['x-custom']).toBe('v');
    expect(event.headers.authorization).toBe(`Bearer ${token}`);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toBe(res.headers.get('apigw-requestid'));
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
  });

  it('hands claims over as strings, arrays in the [a b] form', async () => {
    await call('/v1/config');

    const { claims } = seen[0].requestContext.authorizer.jwt;
    expect(claims).toMatchObject({ tenant_id: 'acme', sub: 'alice', 'cognito:groups': '[config-admins]', token_use: 'access' });
    expect(typeof claims.exp).toBe('string');
    expect(seen[0].routeKey).toBe('GET /v1/config');
    expect(seen[0].pathParameters).toBeUndefined();
    expect(seen[0].queryStringParameters).toBeUndefined();
  });

  it('flattens claims exactly like HTTP API', () => {
    expect(flattenClaims({ g: ['a', 'b'], n: 3, b: true, o: { k: 1 }, z: null, e: [] })).toEqual({
      g: '[a b]',
      n: '3',
      b: 'true',
      o: '{"k":1}',
      e: '[]',
    });
  });

  it('passes a JSON body as text and a binary body as base64', async () => {
    await call('/v1/config/tenantconfig:plan', { method: 'PUT', body: '{"value":"é"}', headers: { 'content-type': 'application/json' } });
    await call('/v1/config/tenantconfig:plan', { method: 'PUT', body: Buffer.from([0, 1, 255]), headers: { 'content-type': 'application/octet-stream' } });

    expect(seen[0]).toMatchObject({ routeKey: 'PUT /v1/config/{key+}', body: '{"value":"é"}', isBase64Encoded: false });
    expect(seen[1]).toMatchObject({ body: Buffer.from([0, 1, 255]).toString('base64'), isBase64Encoded: true });
  });

  it.each([
    ['GET', '/'],
    ['GET', '/v2/config/tenantconfig:plan'],
    ['GET', '/v1/other'],
    ['GET', '/v1/config/'],
    // POST /v1/config/{key+} is a route now (restore): a POST elsewhere has none.
    ['POST', '/v1/history/tenantconfig:plan'],
    ['DELETE', '/v1/config'],
    ['GET', '/v1/history'],
  ])('answers %s %s with 404 Not Found, before any token check', async (method, path) => {
    const res = await call(path, { method }, null);

    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: 'Not Found' });
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
    expect(seen).toHaveLength(0);
  });

  it('answers 401 Unauthorized with www-authenticate, never calling the handler', async () => {
    const missing = await call('/v1/config/tenantconfig:plan', {}, null);
    const expired = await call('/v1/config/tenantconfig:plan', {}, `Bearer ${signer.signClaims({ iss: LOCAL_ISSUER, client_id: LOCAL_CLIENT_ID, exp: 1 })}`);

    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ message: 'Unauthorized' });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(seen).toHaveLength(0);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await call('/v1/config/tenantconfig:plan', { method: 'PUT', body: 'x'.repeat(2000), headers: { 'content-type': 'application/json' } });

    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(seen).toHaveLength(0);
  });

  it('answers a malformed percent-encoding with 400', async () => {
    const res = await call('/v1/config/tenantconfig:%E0%A4%A');

    expect(res.status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  it('writes a structured result back: status, headers, cookies, base64 body', async () => {
    reply = async () => ({
      statusCode: 201,
      headers: { etag: '"1"', 'x-n': 5 },
      cookies: ['c=1', 'd=2'],
      body: Buffer.from('{"bin":1}').toString('base64'),
      isBase64Encoded: true,
    });

    const res = await call('/v1/config/tenantconfig:plan');

    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('x-n')).toBe('5');
    expect(res.headers.getSetCookie()).toEqual(['c=1', 'd=2']);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ bin: 1 });
  });

  it('sends no body with 304 and 204', async () => {
    reply = async (event) => ({ statusCode: event.rawPath.endsWith('a') ? 304 : 204, headers: { etag: '"2"' }, body: 'ignored' });

    const notModified = await call('/v1/config/tenantconfig:a');
    const noContent = await call('/v1/config/tenantconfig:b', { method: 'DELETE' });

    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe('"2"');
    expect(await notModified.text()).toBe('');
    expect(noContent.status).toBe(204);
    expect(await noContent.text()).toBe('');
  });

  it('turns a result without statusCode into a 200 JSON body, as HTTP API does', async () => {
    reply = async () => ({ hello: 'world' }) as unknown as APIGatewayProxyResultV2;

    const res = await call('/v1/config/tenantconfig:plan');

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('answers 500 Internal Server Error, without details, when the handler throws', async () => {
    reply = async () => {
      throw new Error('boom at /secret/path');
    };

    const res = await call('/v1/config/tenantconfig:plan');

    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    expect(logged.some((l) => l.includes('boom'))).toBe(true);
  });
});
