/**
 * Bad input through the handler: each case is one precise 4xx problem, and the store
 * is exactly as it was (no write reached a backend, the items are unchanged).
 */
import { PROBLEM_CONTENT_TYPE, problemType, type ProblemKind } from '../../../lambda/shared/problem';
import { adminClaims, readerClaims, unsignedToken, type ApiRequest, type Claims } from '../support/api-event';
import { createHarness, PAGE_TOKEN_SECRET, valueBody, type Harness, type Reply } from '../support/harness';
import { PageTokenCodec } from '../../../core/page-token';

function expectProblem(reply: Reply, status: number, kind: ProblemKind, detail?: RegExp): void {
  expect({ status: reply.status, type: reply.body?.type }).toEqual({ status, type: problemType(kind) });
  expect(reply.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  if (detail) expect(reply.body.detail).toMatch(detail);
}

describe('config-api handler: bad input is a precise 4xx and writes nothing', () => {
  let api: Harness;
  let before: unknown;

  beforeAll(async () => {
    api = createHarness();
    // Known state: the store holds a few items that no bad request may touch.
    for (const [key, value] of [
      ['tenantconfig:plan', 'gold'],
      ['paramconfig:db/pool/max', 20],
      ['flags:beta', true],
    ] as const) {
      const reply = await api.call({ method: 'PUT', path: `/v1/config/${key}`, body: valueBody(value) });
      expect(reply.status).toBe(201);
    }
    before = await api.snapshot(['acme']);
  });

  /** Sends the request and checks the store did not move. */
  async function send(req: ApiRequest): Promise<Reply> {
    const writes = api.writes();
    const reply = await api.call(req);
    expect(api.writes()).toBe(writes);
    expect(await api.snapshot(['acme'])).toEqual(before);
    return reply;
  }

  describe('keys', () => {
    it.each<[string, string, RegExp]>([
      ['empty', '', /key is empty/],
      ['no tag', 'plan', /has no tag/],
      ['empty name', 'tenantconfig:', /empty name/],
      ['..', 'tenantconfig:a/../b', /'\.\.' is not allowed/],
      ['.', 'tenantconfig:./a', /'\.' is not allowed/],
      ['//', 'paramconfig:db//max', /segment 2 of the name is empty/],
      ['trailing /', 'paramconfig:db/', /trailing/],
      ['leading /', 'paramconfig:/db', /first segment/],
      ['%2F (encoded slash)', 'paramconfig:db%2Fmax', /encoded '\/'/],
      ['%2f lower-case', 'paramconfig:db%2fmax', /encoded '\/'/],
      ['control character', 'tenantconfig:a%00b', /control character U\+0000/],
      ['control character DEL', 'tenantconfig:a%7Fb', /control character U\+007F/],
      ['newline', 'tenantconfig:a%0Ab', /control character U\+000A/],
      ['non-ASCII', 'tenantconfig:caf%C3%A9', /character 'é'/],
      ['space', 'tenantconfig:a%20b', /character ' '/],
      ['over-long', `tenantconfig:${'a'.repeat(257)}`, /maximum is 256/],
      ['too many segments', `paramconfig:${Array.from({ length: 11 }, () => 'a').join('/')}`, /maximum is 10/],
      ['malformed tag', 'TenantConfig:plan', /tag 'TenantConfig' is malformed/],
      ['broken percent-encoding', 'tenantconfig:a%ZZ', /not valid percent-encoding/],
      ['double-encoded percent', 'tenantconfig:a%2541', /character '%'/],
    ])('%s → 400 invalid-key on GET, PUT and DELETE', async (_what, key, detail) => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const reply = await send({ method, path: `/v1/config/${key}`, body: method === 'PUT' ? valueBody('x') : undefined, routing: '$default' });
        expectProblem(reply, 400, 'invalid-key', detail);
      }
    });

    it('unknown tag → 400 unknown-tag naming the registered tags', async () => {
      const reply = await send({ method: 'PUT', path: '/v1/config/nosuchtag:plan', body: valueBody('x') });

      expectProblem(reply, 400, 'unknown-tag', /registered tags are tenantconfig, paramconfig, secretconfig, flags/);
    });

    it('an encoded slash is refused even when the declared route and path parameter agree on it', async () => {
      // API Gateway would hand the decoded key 'paramconfig:db/max' as the path parameter.
      const reply = await send({ method: 'GET', path: '/v1/config/paramconfig:db%2Fmax' });

      expectProblem(reply, 400, 'invalid-key', /encoded '\/'/);
    });

    it('a rawPath that was decoded upstream is never decoded a second time into another key', async () => {
      // The client sent %2541 ("%41" once decoded); a second decode would make it 'A'.
      const reply = await send({ method: 'GET', path: '/v1/config/tenantconfig:plan%2541', rawPathStyle: 'decoded' });

      expectProblem(reply, 400, 'invalid-key');
    });

    it('a bad key on the history route → 400', async () => {
      const reply = await send({ method: 'GET', path: '/v1/history/tenantconfig:a/../plan' });

      expectProblem(reply, 400, 'invalid-key');
    });
  });

  describe('bodies', () => {
    const putBody = (body: string | undefined, extra: Partial<ApiRequest> = {}) =>
      send({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body, ...extra });

    it.each<[string, string | undefined, ProblemKind, RegExp]>([
      ['missing', undefined, 'invalid-request', /body is empty/],
      ['empty', '', 'invalid-request', /body is empty/],
      ['not JSON', 'gold', 'invalid-request', /not valid JSON/],
      ['truncated JSON', '{"value": "gold"', 'invalid-request', /not valid JSON/],
      ['a JSON array', '["gold"]', 'invalid-request', /not a JSON object/],
      ['JSON null', 'null', 'invalid-request', /not a JSON object/],
      ['a bare value', '"gold"', 'invalid-request', /not a JSON object/],
      ['no value member', '{"val": "gold"}', 'invalid-request', /unexpected member 'val'/],
      ['an empty object', '{}', 'invalid-request', /no 'value' member/],
      ['extra junk beside value', '{"value": "gold", "tenant": "other"}', 'invalid-request', /unexpected member 'tenant'/],
      ['__proto__ beside value', '{"value": 1, "__proto__": {"isAdmin": true}}', 'invalid-request', /unexpected member '__proto__'/],
      ['nested deeper than 32 levels', `{"value": ${'['.repeat(40)}${']'.repeat(40)}}`, 'invalid-value', /deeper than 32/],
    ])('%s → 400 %s', async (_what, body, kind, detail) => {
      const reply = await putBody(body);

      expectProblem(reply, 400, kind, detail);
    });

    it('a body of 64 KiB of brackets is refused without overflowing the stack', async () => {
      const reply = await putBody(`{"value":${'['.repeat(32000)}${']'.repeat(32000)}}`);

      expectProblem(reply, 400, 'invalid-value');
    });

    it('invalid UTF-8 → 400', async () => {
      const bytes = Buffer.concat([Buffer.from('{"value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);

      const reply = await putBody(bytes.toString('base64'), { isBase64Encoded: true });

      expectProblem(reply, 400, 'invalid-request', /UTF-8/);
    });

    it('a body marked base64 that is not → 400', async () => {
      const reply = await putBody('{"value": 1}', { isBase64Encoded: true });

      expectProblem(reply, 400, 'invalid-request', /not valid base64/);
    });

    it('the error never echoes the body, which may be a secret', async () => {
      const reply = await send({ method: 'PUT', path: '/v1/config/secretconfig:api/key', body: 'hunter2-not-json' });

      expectProblem(reply, 400, 'invalid-request');
      expect(reply.rawBody).not.toContain('hunter2');
    });

    it("over the tag's size → 413", async () => {
      const reply = await send({ method: 'PUT', path: '/v1/config/paramconfig:big', body: valueBody('x'.repeat(4097)) });

      expectProblem(reply, 413, 'value-too-large', /allows at most 4096/);
    });

    it.each<[string, unknown, RegExp]>([
      ['a string', 'on', /must be boolean/],
      ['rolloutPercent over 100', { enabled: true, rolloutPercent: 101 }, /rolloutPercent must be <= 100/],
      ['rolloutPercent not an integer', { enabled: true, rolloutPercent: 1.5 }, /rolloutPercent must be integer/],
      ['an unknown property', { enabled: true, colour: 'red' }, /must NOT have additional properties/],
      ['no enabled', { rolloutPercent: 10 }, /must have required property 'enabled'/],
    ])("flags value failing the tag's schema (%s) → 400 invalid-value", async (_what, value, detail) => {
      const reply = await send({ method: 'PUT', path: '/v1/config/flags:beta', body: valueBody(value) });

      expectProblem(reply, 400, 'invalid-value', detail);
    });

    it('a flags value the schema accepts is written (the schema cases above are not refused for another reason)', async () => {
      const local = createHarness();

      const reply = await local.call({ method: 'PUT', path: '/v1/config/flags:beta', body: valueBody({ enabled: true, rolloutPercent: 100 }) });

      expect(reply.status).toBe(201);
    });
  });

  describe('headers', () => {
    it.each<[string, Record<string, string>, RegExp]>([
      ['If-Match unquoted', { 'if-match': '1' }, /quoted positive integer/],
      ['If-Match zero', { 'if-match': '"0"' }, /quoted positive integer/],
      ['If-Match negative', { 'if-match': '"-1"' }, /quoted positive integer/],
      ['If-Match not a number', { 'if-match': '"abc"' }, /quoted positive integer/],
      ['If-Match a fraction', { 'if-match': '"1.5"' }, /quoted positive integer/],
      ['If-Match weak', { 'if-match': 'W/"1"' }, /weak ETags/],
      ['If-Match a list', { 'if-match': '"1", "2"' }, /single ETag/],
      ['If-Match empty', { 'if-match': '' }, /quoted positive integer/],
      ['If-Match beyond safe integers', { 'if-match': '"99999999999999999"' }, /quoted positive integer/],
      ['If-None-Match with an ETag on PUT', { 'if-none-match': '"1"' }, /accepts only \*/],
      ['If-Match and If-None-Match together', { 'if-match': '"1"', 'if-none-match': '*' }, /cannot be combined/],
    ])('PUT with %s → 400', async (_what, headers, detail) => {
      const reply = await send({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('x'), headers });

      expectProblem(reply, 400, 'invalid-request', detail);
    });

    it.each<[string, Record<string, string>, RegExp]>([
      ['If-Match unquoted', { 'if-match': '1' }, /quoted positive integer/],
      ['If-None-Match', { 'if-none-match': '*' }, /not supported on DELETE/],
    ])('DELETE with %s → 400', async (_what, headers, detail) => {
      const reply = await send({ method: 'DELETE', path: '/v1/config/tenantconfig:plan', headers });

      expectProblem(reply, 400, 'invalid-request', detail);
    });

    it.each(['1', '"1', '"1" "2"', 'W/1', ','])('GET with a malformed If-None-Match %p → 400', async (condition) => {
      const reply = await send({ method: 'GET', path: '/v1/config/tenantconfig:plan', headers: { 'if-none-match': condition } });

      expectProblem(reply, 400, 'invalid-request', /If-None-Match/);
    });
  });

  describe('claims', () => {
    const withClaims = (claims: Claims | null) => send({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('stolen'), claims });

    it('no authorizer context at all → 401 with WWW-Authenticate', async () => {
      const reply = await withClaims(null);

      expectProblem(reply, 401, 'unauthenticated');
      expect(reply.headers['www-authenticate']).toBe('Bearer');
    });

    it('no tenant claim → 403 invalid-tenant', async () => {
      const { tenant_id: _dropped, ...claims } = adminClaims('acme');

      const reply = await withClaims(claims);

      expectProblem(reply, 403, 'invalid-tenant', /no 'tenant_id' claim/);
    });

    it.each([
      ['empty', ''],
      ['with /', 'acme/other'],
      ['with #', 'acme#other'],
      ['with :', 'acme:other'],
      ['with a space', 'acme other'],
      ['starting with -', '-acme'],
      ['over 64 characters', 'a'.repeat(65)],
      ['non-ASCII', 'acmé'],
    ])('tenant claim %s → 403 invalid-tenant', async (_what, tenant) => {
      const reply = await withClaims({ ...adminClaims('acme'), tenant_id: tenant });

      expectProblem(reply, 403, 'invalid-tenant');
    });

    it('a tenant claim that is not a string → 403', async () => {
      const reply = await withClaims({ ...adminClaims('acme'), tenant_id: 42 });

      expectProblem(reply, 403, 'invalid-tenant');
    });

    it('the tenant comes from the configured claim only: a look-alike claim is not a fallback', async () => {
      const { tenant_id: _dropped, ...claims } = adminClaims('acme');

      const reply = await withClaims({ ...claims, 'custom:tenant_id': 'acme', tenant: 'acme' });

      expectProblem(reply, 403, 'invalid-tenant');
    });

    it('a token without any subject → 401', async () => {
      const reply = await withClaims({ tenant_id: 'acme', token_use: 'access', 'cognito:groups': ['config-admins'] });

      expectProblem(reply, 401, 'unauthenticated', /no subject/);
    });

    it.each<[string, string[] | undefined]>([
      ['other groups', ['readers', 'auditors']],
      ['a group whose name contains the admin group', ['config-admins-old']],
      ['the admin group in quotes', ['"config-admins"']],
      ['the admin group after a space', ['x config-admins']],
      ['the admin group after a newline', ['a\nconfig-admins']],
      ['the admin group after a no-break space', ['readers\u00a0config-admins']],
      ['no groups claim', undefined],
    ])('writer not in the admin group (%s) → 403 forbidden', async (_what, groups) => {
      const claims: Claims = { sub: 'u1', tenant_id: 'acme', token_use: 'access' };
      if (groups !== undefined) claims['cognito:groups'] = groups;

      const reply = await withClaims(claims);

      expectProblem(reply, 403, 'forbidden');
    });

    it.each<[string, Claims]>([
      ['an ID token', { ...adminClaims('acme'), token_use: 'id', aud: 'local-dev-client' }],
      ['a token with no token_use', (({ token_use: _t, ...rest }) => rest)(adminClaims('acme'))],
    ])('%s, even of an admin, → 401: only access tokens are accepted', async (_what, claims) => {
      const reply = await withClaims(claims);

      expectProblem(reply, 401, 'unauthenticated', /only access tokens/);
    });

    it('a groups claim that is a string, not the array Cognito issues → 401', async () => {
      const reply = await withClaims({ ...adminClaims('acme'), 'cognito:groups': '[config-admins]' });

      expectProblem(reply, 401, 'unauthenticated', /cognito:groups/);
    });

    it('a bearer token other than the one the authorizer verified → 401, and nothing is written', async () => {
      const reply = await send({
        method: 'PUT',
        path: '/v1/config/tenantconfig:plan',
        body: JSON.stringify({ value: 'x' }),
        claims: readerClaims('acme'),
        authorization: `Bearer ${unsignedToken(adminClaims('acme'))}`,
      });

      expectProblem(reply, 401, 'unauthenticated', /not the one the authorizer verified/);
    });

    it.each<[string, string | null]>([
      ['no authorization header', null],
      ['a header that is not a JWT', 'Bearer not-a-jwt'],
      ['two tokens in one header', `Bearer ${unsignedToken(adminClaims('acme'))}, Bearer ${unsignedToken(adminClaims('acme'))}`],
      ['a JWT whose payload is not JSON', `Bearer e30.${Buffer.from('{oops').toString('base64url')}.c2ln`],
      ['a JWT whose payload is an array', `Bearer e30.${Buffer.from('["sub"]').toString('base64url')}.c2ln`],
    ])('authorizer claims but %s → 401', async (_what, authorization) => {
      const reply = await send({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: JSON.stringify({ value: 'x' }), authorization });

      expectProblem(reply, 401, 'unauthenticated');
    });

    it('never takes the tenant from the path, query or body', async () => {
      const reply = await send({
        method: 'PUT',
        path: '/v1/config/tenantconfig:plan',
        query: { tenant: 'acme' },
        body: JSON.stringify({ value: 'x', tenantId: 'acme' }),
        claims: { ...adminClaims('acme'), tenant_id: '' },
      });

      expectProblem(reply, 403, 'invalid-tenant');
    });
  });

  describe('query', () => {
    it.each(['0', '101', 'abc', '1.5', '-1', '', ' 5', '1e2', '5,6'])('list limit %p → 400', async (limit) => {
      const reply = await send({ method: 'GET', path: '/v1/config', query: { limit } });

      expectProblem(reply, 400, 'invalid-request', /limit must be an integer from 1 to 100/);
    });

    it.each(['0', '101', 'abc', '1.5'])('history limit %p → 400', async (limit) => {
      const reply = await send({ method: 'GET', path: '/v1/history/tenantconfig:plan', query: { limit } });

      expectProblem(reply, 400, 'invalid-request', /limit must be an integer/);
    });

    it.each([
      ['a bad prefix', { prefix: 'tenantconfig:a/../' }, 'invalid-key'],
      ['a prefix with an unknown tag', { prefix: 'nosuchtag:' }, 'unknown-tag'],
      ['a prefix without a tag', { prefix: 'plan' }, 'invalid-key'],
      ['an unknown parameter', { prefx: 'tenantconfig:' }, 'invalid-request'],
      ['a tenant parameter', { tenant: 'other' }, 'invalid-request'],
    ] as const)('list with %s → 400', async (_what, query, kind) => {
      const reply = await send({ method: 'GET', path: '/v1/config', query: { ...query } });

      expectProblem(reply, 400, kind);
    });

    it('query parameters on a single-key route other than layer → 400', async () => {
      const reply = await send({ method: 'GET', path: '/v1/config/tenantconfig:plan', query: { version: '1' } });

      expectProblem(reply, 400, 'invalid-request', /unknown query parameter 'version': this route accepts layer/);
    });

    it('query parameters on a write → 400', async () => {
      const reply = await send({ method: 'PUT', path: '/v1/config/tenantconfig:plan', query: { layer: 'tenant' }, body: '{"value": 1}' });

      expectProblem(reply, 400, 'invalid-request', /takes no query parameters/);
    });

    describe('nextToken', () => {
      let realToken: string;

      beforeAll(async () => {
        const first = await api.call({ method: 'GET', path: '/v1/config', query: { limit: '1' } });
        realToken = first.body.nextToken;
        expect(realToken).toEqual(expect.any(String));
      });

      const list = (nextToken: string, extra: Partial<ApiRequest> = {}, query: Record<string, string> = {}) =>
        send({ method: 'GET', path: '/v1/config', query: { limit: '1', nextToken, ...query }, ...extra });

      it('the real token continues the listing (control)', async () => {
        const reply = await list(realToken);

        expect(reply.status).toBe(200);
      });

      it.each([
        ['garbage', 'not-a-token'],
        ['an empty signature', `${Buffer.from('["acme","",0,null]').toString('base64url')}.`],
        ['a forged body with no valid signature', `${Buffer.from('["acme","",1,null]').toString('base64url')}.AAAA`],
      ])('%s → 400 invalid-page-token', async (_what, token) => {
        const reply = await list(token);

        expectProblem(reply, 400, 'invalid-page-token');
      });

      it('an altered token (one character of its body changed) → 400', async () => {
        const [body, sig] = realToken.split('.');
        const flipped = body.slice(0, -1) + (body.endsWith('A') ? 'B' : 'A');

        const reply = await list(`${flipped}.${sig}`);

        expectProblem(reply, 400, 'invalid-page-token');
      });

      it('a token re-signed with another secret → 400', async () => {
        const forged = new PageTokenCodec(`${PAGE_TOKEN_SECRET}-but-not-ours`).encode({ tenant: 'acme', prefix: '', tagIndex: 0 });

        const reply = await list(forged);

        expectProblem(reply, 400, 'invalid-page-token');
      });

      it('a token from another tenant → 400, and nothing of that tenant is listed', async () => {
        const reply = await list(realToken, { claims: adminClaims('globex') });

        expectProblem(reply, 400, 'invalid-page-token');
      });

      it('a token for another prefix → 400', async () => {
        const reply = await list(realToken, {}, { prefix: 'tenantconfig:' });

        expectProblem(reply, 400, 'invalid-page-token');
      });
    });
  });
});
