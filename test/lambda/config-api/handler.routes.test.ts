/**
 * Every route of docs/design.md §4.1 and every status it can answer, through the handler with
 * in-memory backends (the same handler runs over DynamoDB in handler.dynalite.test.ts).
 */
import { BackendUnavailableError, ConflictError } from '../../../core/errors';
import { PROBLEM_CONTENT_TYPE, problemType } from '../../../lambda/shared/problem';
import { adminClaims, readerClaims } from '../support/api-event';
import { createHarness, valueBody, type Harness, type Reply } from '../support/harness';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function expectProblem(reply: Reply, status: number, kind: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(reply.body).toMatchObject({ type: problemType(kind as never), status });
  expect(typeof reply.body.title).toBe('string');
  expect(typeof reply.body.detail).toBe('string');
}

describe('config-api handler: routes and statuses', () => {
  let api: Harness;
  const put = (key: string, value: unknown, headers: Record<string, string> = {}) =>
    api.call({ method: 'PUT', path: `/v1/config/${key}`, body: valueBody(value), headers });

  beforeEach(() => {
    api = createHarness();
  });

  describe('PUT /v1/config/{key}', () => {
    it('creates a key: 201 with the item, a strong ETag and a Location', async () => {
      const reply = await put('tenantconfig:plan', { tier: 'gold', seats: 25 });

      expect(reply.status).toBe(201);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.headers.etag).toBe('"1"');
      expect(reply.headers.location).toBe('/v1/config/tenantconfig:plan');
      expect(reply.body).toEqual({
        key: 'tenantconfig:plan',
        value: { tier: 'gold', seats: 25 },
        version: 1,
        updatedAt: expect.stringMatching(ISO_INSTANT),
        updatedBy: 'admin-of-acme',
      });
    });

    it('updates an existing key: 200, version and ETag move on, no Location', async () => {
      await put('tenantconfig:plan', 'silver');

      const reply = await put('tenantconfig:plan', 'gold');

      expect(reply.status).toBe(200);
      expect(reply.headers.etag).toBe('"2"');
      expect(reply.headers.location).toBeUndefined();
      expect(reply.body).toMatchObject({ value: 'gold', version: 2 });
    });

    it("records the caller's subject as updatedBy, never a value from the body", async () => {
      const reply = await api.call({
        method: 'PUT',
        path: '/v1/config/tenantconfig:owner',
        body: valueBody('x'),
        claims: adminClaims('acme', 'user-7f3a'),
      });

      expect(reply.body.updatedBy).toBe('user-7f3a');
      const read = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:owner' });
      expect(read.body.updatedBy).toBe('user-7f3a');
    });

    it('uses client_id as the subject of a machine token without sub', async () => {
      const reply = await api.call({
        method: 'PUT',
        path: '/v1/config/tenantconfig:m2m',
        body: valueBody(1),
        claims: { client_id: 'deploy-bot', token_use: 'access', tenant_id: 'acme', 'cognito:groups': ['config-admins'] },
      });

      expect(reply.status).toBe(201);
      expect(reply.body.updatedBy).toBe('deploy-bot');
    });

    it('If-Match with the current ETag compares and sets: 200', async () => {
      await put('tenantconfig:plan', 'a');

      const reply = await put('tenantconfig:plan', 'b', { 'if-match': '"1"' });

      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ value: 'b', version: 2 });
    });

    it('If-Match with a stale ETag: 412 with the current ETag, nothing written', async () => {
      await put('tenantconfig:plan', 'a');
      await put('tenantconfig:plan', 'b');
      const writesBefore = api.writes();

      const reply = await put('tenantconfig:plan', 'c', { 'if-match': '"1"' });

      expectProblem(reply, 412, 'precondition-failed');
      expect(reply.headers.etag).toBe('"2"');
      expect(api.writes()).toBe(writesBefore + 1); // the conditional put reached the backend and was refused
      expect((await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' })).body.value).toBe('b');
    });

    it('If-Match on a key that does not exist: 412 without an ETag', async () => {
      const reply = await put('tenantconfig:ghost', 'x', { 'if-match': '"3"' });

      expectProblem(reply, 412, 'precondition-failed');
      expect(reply.headers.etag).toBeUndefined();
      expect(await api.snapshot(['acme'])).toEqual([]);
    });

    it('If-None-Match: * creates only: 201 the first time, 412 with the ETag the second', async () => {
      const first = await put('tenantconfig:once', 1, { 'if-none-match': '*' });
      const second = await put('tenantconfig:once', 2, { 'if-none-match': '*' });

      expect(first.status).toBe(201);
      expectProblem(second, 412, 'precondition-failed');
      expect(second.headers.etag).toBe('"1"');
      expect((await api.call({ method: 'GET', path: '/v1/config/tenantconfig:once' })).body.value).toBe(1);
    });

    it('If-Match: * updates only: 412 on a missing key, 200 on an existing one', async () => {
      const missing = await put('tenantconfig:upd', 1, { 'if-match': '*' });
      expectProblem(missing, 412, 'precondition-failed');
      expect(await api.snapshot(['acme'])).toEqual([]);

      await put('tenantconfig:upd', 1);
      const existing = await put('tenantconfig:upd', 2, { 'if-match': '*' });

      expect(existing.status).toBe(200);
      expect(existing.body).toMatchObject({ value: 2, version: 2 });
    });

    it('routes paramconfig: and secretconfig: keys to the Parameter Store backend', async () => {
      await put('paramconfig:db/pool/max', 20);
      await put('secretconfig:db/password', 's3cr3t');

      expect(api.backends.ssm.calls.put).toBe(2);
      expect(api.backends.dynamodb.calls.put).toBe(0);
    });

    it('accepts a base64-encoded body', async () => {
      const reply = await api.call({
        method: 'PUT',
        path: '/v1/config/tenantconfig:b64',
        body: Buffer.from(valueBody({ ok: true })).toString('base64'),
        isBase64Encoded: true,
      });

      expect(reply.status).toBe(201);
      expect(reply.body.value).toEqual({ ok: true });
    });

    it('accepts null as a value', async () => {
      const reply = await put('tenantconfig:nothing', null);

      expect(reply.status).toBe(201);
      expect(reply.body.value).toBeNull();
    });

    it('refuses a writer outside the admin group: 403, nothing written', async () => {
      const reply = await api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('x'), claims: readerClaims('acme') });

      expectProblem(reply, 403, 'forbidden');
      expect(api.writes()).toBe(0);
      expect(await api.snapshot(['acme'])).toEqual([]);
    });

    it("413 for a value over the tag's size limit, nothing written", async () => {
      const reply = await put('flags:big', { enabled: true, rolloutPercent: 5, pad: 'x'.repeat(5000) });
      const tooBigForTenantconfig = await put('tenantconfig:big', 'x'.repeat(8200));

      expectProblem(reply, 413, 'value-too-large');
      expectProblem(tooBigForTenantconfig, 413, 'value-too-large');
      expect(tooBigForTenantconfig.body.detail).toMatch(/allows at most 8192/);
      expect(api.writes()).toBe(0);
    });

    it('413 for a request body over 64 KiB, before it is parsed', async () => {
      const reply = await api.call({ method: 'PUT', path: '/v1/config/tenantconfig:huge', body: `{"value":"${'x'.repeat(70 * 1024)}"` });

      expectProblem(reply, 413, 'request-too-large');
      expect(api.writes()).toBe(0);
    });

    it('413 for an oversized base64 body without decoding it', async () => {
      const body = Buffer.from(valueBody('y'.repeat(70 * 1024))).toString('base64');

      const reply = await api.call({ method: 'PUT', path: '/v1/config/tenantconfig:huge', body, isBase64Encoded: true });

      expectProblem(reply, 413, 'request-too-large');
    });
  });

  describe('GET /v1/config/{key}', () => {
    it('200 with the item and its ETag; cacheable only privately', async () => {
      await put('tenantconfig:plan', { tier: 'gold' });

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' });

      expect(reply.status).toBe(200);
      expect(reply.headers.etag).toBe('"1"');
      expect(reply.headers['cache-control']).toBe('private, no-cache');
      expect(reply.body).toMatchObject({ key: 'tenantconfig:plan', value: { tier: 'gold' }, version: 1, updatedBy: 'admin-of-acme' });
    });

    it('lets any member of the tenant read (no admin group needed)', async () => {
      await put('tenantconfig:plan', 'gold');

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan', claims: readerClaims('acme') });

      expect(reply.status).toBe(200);
    });

    it("a secret tag's value is never cacheable", async () => {
      await put('secretconfig:api/token', 'tok');

      const reply = await api.call({ method: 'GET', path: '/v1/config/secretconfig:api/token' });

      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toBe('no-store');
    });

    it.each([
      ['the current ETag', '"2"'],
      ['a list holding it', '"1", "2", "9"'],
      ['its weak form', 'W/"2"'],
      ['*', '*'],
    ])('If-None-Match with %s: 304 with the ETag and no body', async (_what, condition) => {
      await put('tenantconfig:plan', 'a');
      await put('tenantconfig:plan', 'b');

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan', headers: { 'if-none-match': condition } });

      expect(reply.status).toBe(304);
      expect(reply.headers.etag).toBe('"2"');
      expect(reply.rawBody).toBeUndefined();
    });

    it('If-None-Match with an older ETag: 200 with the current item', async () => {
      await put('tenantconfig:plan', 'a');
      await put('tenantconfig:plan', 'b');

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan', headers: { 'if-none-match': '"1"' } });

      expect(reply.status).toBe(200);
      expect(reply.body.value).toBe('b');
    });

    it('404 for a key that does not exist, also with If-None-Match: *', async () => {
      const plain = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:ghost' });
      const conditional = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:ghost', headers: { 'if-none-match': '*' } });

      expectProblem(plain, 404, 'not-found');
      expectProblem(conditional, 404, 'not-found');
    });

    it('accepts percent-encoded characters of the key grammar, decoded once', async () => {
      await put('paramconfig:db/pool/max', 20);

      const reply = await api.call({ method: 'GET', path: '/v1/config/paramconfig%3Adb/pool/max' });

      expect(reply.status).toBe(200);
      expect(reply.body.key).toBe('paramconfig:db/pool/max');
    });

    it('finds the key behind a named stage prefix, and Location keeps the stage', async () => {
      const created = await api.call({ method: 'PUT', path: '/v1/config/tenantconfig:staged', body: valueBody(1), stage: 'dev' });
      const read = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:staged', stage: 'dev' });

      expect(created.headers.location).toBe('/dev/v1/config/tenantconfig:staged');
      expect(read.status).toBe(200);
    });

    it('routes on method and path when the route key is $default (the local front, a catch-all route)', async () => {
      await put('tenantconfig:plan', 'gold');

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan', routing: '$default' });

      expect(reply.status).toBe(200);
      expect(reply.body.value).toBe('gold');
    });

    it('routes the same when API Gateway delivers rawPath already decoded', async () => {
      await put('paramconfig:a/b', 1);

      const reply = await api.call({ method: 'GET', path: '/v1/config/paramconfig%3Aa/b', rawPathStyle: 'decoded' });

      expect(reply.status).toBe(200);
    });
  });

  describe('GET /v1/config (list)', () => {
    it('lists every tag with no prefix, in registry order then key order', async () => {
      await put('paramconfig:b', 2);
      await put('tenantconfig:z', 1);
      await put('tenantconfig:a', 0);
      await put('flags:beta', true);

      const reply = await api.call({ method: 'GET', path: '/v1/config' });

      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.body.items.map((i: { key: string }) => i.key)).toEqual(['tenantconfig:a', 'tenantconfig:z', 'paramconfig:b', 'flags:beta']);
      expect(reply.body.nextToken).toBeUndefined();
      expect(reply.body.items[0]).toEqual({
        key: 'tenantconfig:a',
        value: 0,
        version: 1,
        updatedAt: expect.stringMatching(ISO_INSTANT),
        updatedBy: 'admin-of-acme',
        source: 'tenant',
      });
    });

    it('filters by a key prefix', async () => {
      await put('paramconfig:db/pool/max', 20);
      await put('paramconfig:db/host', 'h');
      await put('paramconfig:cache/ttl', 5);

      const reply = await api.call({ method: 'GET', path: '/v1/config', query: { prefix: 'paramconfig:db/' } });

      expect(reply.body.items.map((i: { key: string }) => i.key)).toEqual(['paramconfig:db/host', 'paramconfig:db/pool/max']);
    });

    it('pages with limit and an opaque nextToken until every item was seen once', async () => {
      const keys = ['a', 'b', 'c', 'd', 'e'].map((n) => `tenantconfig:${n}`);
      for (const k of keys) await put(k, k);
      await put('paramconfig:p', 'p');

      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const reply = await api.call({ method: 'GET', path: '/v1/config', query: { limit: '2', ...(nextToken ? { nextToken } : {}) } });
        expect(reply.status).toBe(200);
        expect(reply.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...reply.body.items.map((i: { key: string }) => i.key));
        nextToken = reply.body.nextToken;
        pages += 1;
      } while (nextToken && pages < 10);

      expect(seen).toEqual([...keys, 'paramconfig:p']);
    });

    it('an empty tenant lists nothing', async () => {
      const reply = await api.call({ method: 'GET', path: '/v1/config', claims: readerClaims('empty') });

      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ items: [] });
    });
  });

  describe('DELETE /v1/config/{key}', () => {
    it('204 without a body; the key is gone', async () => {
      await put('tenantconfig:plan', 'gold');

      const reply = await api.call({ method: 'DELETE', path: '/v1/config/tenantconfig:plan' });

      expect(reply.status).toBe(204);
      expect(reply.rawBody).toBeUndefined();
      expect((await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' })).status).toBe(404);
    });

    it('404 for a key that does not exist', async () => {
      const reply = await api.call({ method: 'DELETE', path: '/v1/config/tenantconfig:ghost' });

      expectProblem(reply, 404, 'not-found');
    });

    it('If-Match with the current ETag deletes; a stale one is 412 with the current ETag', async () => {
      await put('tenantconfig:plan', 'a');
      await put('tenantconfig:plan', 'b');

      const stale = await api.call({ method: 'DELETE', path: '/v1/config/tenantconfig:plan', headers: { 'if-match': '"1"' } });
      expectProblem(stale, 412, 'precondition-failed');
      expect(stale.headers.etag).toBe('"2"');
      expect((await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' })).status).toBe(200);

      const current = await api.call({ method: 'DELETE', path: '/v1/config/tenantconfig:plan', headers: { 'if-match': '"2"' } });
      expect(current.status).toBe(204);
    });

    it('If-Match: * on a missing key is 412 (the precondition fails before the 404)', async () => {
      const reply = await api.call({ method: 'DELETE', path: '/v1/config/tenantconfig:ghost', headers: { 'if-match': '*' } });

      expectProblem(reply, 412, 'precondition-failed');
    });

    it('refuses a non-admin: 403, the key stays', async () => {
      await put('tenantconfig:plan', 'gold');
      const writesBefore = api.writes();

      const reply = await api.call({ method: 'DELETE', path: '/v1/config/tenantconfig:plan', claims: readerClaims('acme') });

      expectProblem(reply, 403, 'forbidden');
      expect(api.writes()).toBe(writesBefore);
      expect((await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' })).status).toBe(200);
    });
  });

  describe('GET /v1/history/{key}', () => {
    it('200 with every version, newest first', async () => {
      await put('tenantconfig:plan', 'bronze');
      await put('tenantconfig:plan', 'silver', { 'if-match': '"1"' });
      await api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('gold'), claims: adminClaims('acme', 'other-admin') });

      const reply = await api.call({ method: 'GET', path: '/v1/history/tenantconfig:plan' });

      expect(reply.status).toBe(200);
      expect(reply.body.items).toEqual([
        { version: 3, value: 'gold', updatedAt: expect.stringMatching(ISO_INSTANT), updatedBy: 'other-admin' },
        { version: 2, value: 'silver', updatedAt: expect.stringMatching(ISO_INSTANT), updatedBy: 'admin-of-acme' },
        { version: 1, value: 'bronze', updatedAt: expect.stringMatching(ISO_INSTANT), updatedBy: 'admin-of-acme' },
      ]);
    });

    it('honours limit', async () => {
      for (const v of [1, 2, 3, 4]) await put('tenantconfig:plan', v);

      const reply = await api.call({ method: 'GET', path: '/v1/history/tenantconfig:plan', query: { limit: '2' } });

      expect(reply.body.items.map((e: { version: number }) => e.version)).toEqual([4, 3]);
    });

    it('404 for a key that never existed', async () => {
      const reply = await api.call({ method: 'GET', path: '/v1/history/tenantconfig:ghost' });

      expectProblem(reply, 404, 'not-found');
    });
  });

  describe('unknown routes and methods', () => {
    it.each([
      ['GET', '/v2/config/tenantconfig:plan'],
      // POST is restore only: a path that does not end in /restore names no route.
      ['POST', '/v1/config/tenantconfig:plan'],
      ['POST', '/v1/defaults/tenantconfig:plan'],
      ['GET', '/v1/history'],
      ['GET', '/'],
      ['GET', '/v1/configuration'],
    ])('%s %s: 404 route-not-found', async (method, path) => {
      const reply = await api.call({ method, path, routing: '$default' });

      expectProblem(reply, 404, 'route-not-found');
    });

    it.each([
      ['PATCH', '/v1/config/tenantconfig:plan', 'GET, PUT, DELETE, POST'],
      ['POST', '/v1/defaults', 'GET'],
      ['PUT', '/v1/tenants', 'GET'],
      ['POST', '/v1/tenants/acme', 'GET, PUT, DELETE'],
      ['PUT', '/v1/config', 'GET'],
      ['DELETE', '/v1/history/tenantconfig:plan', 'GET'],
    ])('%s %s: 405 with Allow: %s, nothing written', async (method, path, allow) => {
      const reply = await api.call({ method, path, routing: '$default', body: valueBody(1) });

      expectProblem(reply, 405, 'method-not-allowed');
      expect(reply.headers.allow).toBe(allow);
      expect(api.writes()).toBe(0);
    });
  });

  describe('backend failures', () => {
    it('BackendUnavailable → 503 with Retry-After', async () => {
      api.backends.dynamodb.failNext('get', new BackendUnavailableError('DynamoDB is throttling'));

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' });

      expectProblem(reply, 503, 'backend-unavailable');
      expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('Conflict (a Parameter Store write lease is held) → 409 with Retry-After', async () => {
      api.backends.ssm.failNext('put', new ConflictError("another writer holds 'paramconfig:x'"));

      const reply = await put('paramconfig:x', 1);

      expectProblem(reply, 409, 'conflict');
      expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('an unexpected error → 500 with a generic detail: no message, no stack', async () => {
      const secretish = new Error('connect ECONNREFUSED 10.0.3.7:443 while writing tenant table prod-tenants');
      api.backends.dynamodb.failNext('get', secretish);

      const reply = await api.call({ method: 'GET', path: '/v1/config/tenantconfig:plan' });

      expectProblem(reply, 500, 'internal');
      expect(reply.rawBody).not.toMatch(/ECONNREFUSED|10\.0\.3\.7|prod-tenants|at |Error/);
      expect(reply.body.requestId).toMatch(/^req-/);
    });
  });
});
