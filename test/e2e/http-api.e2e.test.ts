/**
 * The HTTP API of docs/design.md §4.1 end to end: real fetch → local API Gateway (JWT check, v2
 * event) → the config-api handler → dynalite and the local Parameter Store, all started
 * by startLocalSystem on free ports in a temp dir, as `npm start` does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import fc from 'fast-check';
import { ParameterPaths } from '../../adapters/ssm/parameter-paths';
import { parseKey } from '../../core/key';
import { parseTenantId } from '../../core/tenant';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, type DevSigner } from '../../local/dev-signer';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { localClientConfig } from '../support/servers';
import { LocalApi } from './local-api';

const PROBLEM = 'https://tenant-config.dev/problems/';
const TAGS = ['tenantconfig', 'paramconfig'] as const;

describe('HTTP API end to end (local system)', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  let signer: DevSigner;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-http-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);
    signer = system.signer;
    for (const tenant of ['acme', 'globex', 'pager']) {
      tokens[`${tenant}Admin`] = signer.signToken({ tenant, admin: true });
      tokens[`${tenant}Reader`] = signer.signToken({ tenant, admin: false });
    }
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(TAGS)('every route on %s: keys', (tag) => {
    const key = `${tag}:routes/limits`;
    const path = `/v1/config/${key}`;

    it('walks create → read → conditional reads and writes → history → delete', async () => {
      const admin = tokens.acmeAdmin;

      // create: 201, the item, ETag and Location
      const created = await api.put(path, admin, { seats: 10 }, { 'if-none-match': '*' });
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"1"');
      expect(created.headers.get('location')).toBe(path);
      expect(created.body).toEqual({ key, value: { seats: 10 }, version: 1, updatedAt: expect.any(String), updatedBy: 'dev-acme-admin' });

      // create-only again: 412
      expect((await api.put(path, admin, { seats: 11 }, { 'if-none-match': '*' })).status).toBe(412);

      // read: 200 with ETag; If-None-Match with that ETag: 304 without a body
      const read = await api.get(path, tokens.acmeReader);
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe('"1"');
      expect(read.body).toMatchObject({ key, value: { seats: 10 }, version: 1 });
      const notModified = await api.get(path, tokens.acmeReader, { 'if-none-match': '"1"' });
      expect(notModified.status).toBe(304);
      expect(notModified.text).toBe('');
      expect(notModified.headers.get('etag')).toBe('"1"');

      // compare-and-set: the right version wins, a stale one is 412 and changes nothing
      const updated = await api.put(path, admin, { seats: 20 }, { 'if-match': '"1"' });
      expect(updated.status).toBe(200);
      expect(updated.headers.get('etag')).toBe('"2"');
      const stale = await api.put(path, admin, { seats: 99 }, { 'if-match': '"1"' });
      expect(stale.status).toBe(412);
      expect(stale.headers.get('content-type')).toBe('application/problem+json');
      expect(stale.body.type).toBe(`${PROBLEM}precondition-failed`);
      expect((await api.get(path, admin)).body.value).toEqual({ seats: 20 });
      expect((await api.get(path, admin, { 'if-none-match': '"1"' })).status).toBe(200);

      // history: newest first
      const history = await api.get(`/v1/history/${key}`, tokens.acmeReader);
      expect(history.status).toBe(200);
      expect(history.body.items.map((e: { version: number; value: unknown }) => [e.version, e.value])).toEqual([
        [2, { seats: 20 }],
        [1, { seats: 10 }],
      ]);

      // delete: a stale If-Match is 412, then 204, then the key is gone
      expect((await api.delete(path, admin, { 'if-match': '"1"' })).status).toBe(412);
      const deleted = await api.delete(path, admin, { 'if-match': '"2"' });
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      const gone = await api.get(path, admin);
      expect(gone.status).toBe(404);
      expect(gone.body.type).toBe(`${PROBLEM}not-found`);
      expect((await api.delete(path, admin)).status).toBe(404);
    });

    it('refuses a write by a non-admin with 403, and writes nothing', async () => {
      const res = await api.put(`/v1/config/${tag}:readers/cannot`, tokens.acmeReader, 1);
      const del = await api.delete(`/v1/config/${tag}:readers/cannot`, tokens.acmeReader);

      expect(res.status).toBe(403);
      expect(res.body.type).toBe(`${PROBLEM}forbidden`);
      expect(del.status).toBe(403);
      expect((await api.get(`/v1/config/${tag}:readers/cannot`, tokens.acmeAdmin)).status).toBe(404);
    });
  });

  it('lists across both tags page by page, and by prefix', async () => {
    const t = tokens.pagerAdmin;
    const expected = ['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:c', 'paramconfig:db/host', 'paramconfig:db/pool/max', 'paramconfig:web/port'];
    for (const key of expected) expect((await api.put(`/v1/config/${key}`, t, key)).status).toBe(201);

    const all = await api.listAll('limit=2', t);
    const params = await api.listAll('prefix=paramconfig:&limit=2', t);
    const db = await api.listAll('prefix=paramconfig:db/', t);
    const first = await api.get('/v1/config?limit=4', tokens.pagerReader);

    // registry order: tenantconfig before paramconfig; keys sorted within a tag
    expect(all.keys).toEqual(expected);
    expect(all.pages).toBeGreaterThanOrEqual(3);
    expect(all.items.every((i) => i.value === i.key)).toBe(true);
    expect(params.keys).toEqual(expected.slice(3));
    expect(db.keys).toEqual(['paramconfig:db/host', 'paramconfig:db/pool/max']);
    expect(first.body.items.map((i: { key: string }) => i.key)).toEqual(expected.slice(0, 4));
    expect(typeof first.body.nextToken).toBe('string');
    expect((await api.get('/v1/config?prefix=tenantconfig:zzz', t)).body).toEqual({ items: [] });
  });

  it('refuses a nextToken that is forged, altered, or from another tenant or listing', async () => {
    const t = tokens.pagerReader;
    const page = await api.get('/v1/config?limit=1', t);
    const token: string = page.body.nextToken;
    const flipped = `${token.slice(0, -2)}${token.endsWith('AA') ? 'AB' : 'AA'}`;

    const attempts = [
      await api.get(`/v1/config?limit=1&nextToken=${encodeURIComponent(token)}`, tokens.acmeReader),
      await api.get(`/v1/config?limit=1&prefix=tenantconfig:&nextToken=${encodeURIComponent(token)}`, t),
      await api.get(`/v1/config?limit=1&nextToken=${encodeURIComponent(flipped)}`, t),
      await api.get('/v1/config?nextToken=eyJ0ZW5hbnQiOiJhY21lIn0', t),
    ];

    for (const res of attempts) {
      expect(res.status).toBe(400);
      expect(res.body.type).toBe(`${PROBLEM}invalid-page-token`);
    }
    expect((await api.get(`/v1/config?limit=1&nextToken=${encodeURIComponent(token)}`, t)).status).toBe(200);
  });

  it('keeps acme and globex apart when they hold the same key names in both backends', async () => {
    const keys = ['tenantconfig:shared/plan', 'paramconfig:shared/plan'];
    for (const key of keys) {
      expect((await api.put(`/v1/config/${key}`, tokens.acmeAdmin, { owner: 'acme' })).status).toBe(201);
      expect((await api.put(`/v1/config/${key}`, tokens.globexAdmin, { owner: 'globex' })).status).toBe(201);
    }
    // globex deletes its own copy; acme's stays
    expect((await api.delete(`/v1/config/${keys[1]}`, tokens.globexAdmin)).status).toBe(204);

    for (const key of keys) {
      expect((await api.get(`/v1/config/${key}`, tokens.acmeReader)).body.value).toEqual({ owner: 'acme' });
      expect((await api.get(`/v1/history/${key}`, tokens.acmeReader)).body.items).toEqual([expect.objectContaining({ value: { owner: 'acme' } })]);
    }
    expect((await api.get(`/v1/config/${keys[0]}`, tokens.globexReader)).body.value).toEqual({ owner: 'globex' });
    expect((await api.get(`/v1/config/${keys[1]}`, tokens.globexReader)).status).toBe(404);
    const acmeList = await api.listAll('prefix=paramconfig:shared/', tokens.acmeReader);
    const globexList = await api.listAll('prefix=tenantconfig:shared/', tokens.globexReader);
    expect(acmeList.items.map((i) => i.value)).toEqual([{ owner: 'acme' }]);
    expect(globexList.items.map((i) => i.value)).toEqual([{ owner: 'globex' }]);
  });

  it('never lets one tenant read or list what another wrote (property)', async () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,11}$/).filter((s) => s !== '.' && s !== '..');
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TAGS), fc.uniqueArray(name, { minLength: 1, maxLength: 3 }), async (tag, names) => {
        round += 1;
        const keys = names.map((n) => `${tag}:prop${round}/${n}`);
        for (const key of keys) await api.put(`/v1/config/${key}`, tokens.acmeAdmin, { owner: 'acme', key });

        for (const key of keys) expect((await api.get(`/v1/config/${key}`, tokens.globexReader)).status).toBe(404);
        const seen = await api.listAll(`prefix=${encodeURIComponent(`${tag}:prop${round}/`)}`, tokens.globexReader);
        expect(seen.keys).toEqual([]);
        const own = await api.listAll(`prefix=${encodeURIComponent(`${tag}:prop${round}/`)}`, tokens.acmeReader);
        expect(own.keys.sort()).toEqual([...keys].sort());
      }),
      { numRuns: 8 },
    );
  });

  describe('tokens', () => {
    const path = '/v1/config/tenantconfig:plan';
    const now = () => Math.floor(Date.now() / 1000);
    // A user's access token, as Cognito issues it (with username).
    const claims = (extra: Record<string, unknown> = {}) => ({
      sub: 'mallory',
      username: 'mallory',
      iss: LOCAL_ISSUER,
      client_id: LOCAL_CLIENT_ID,
      token_use: 'access',
      tenant_id: 'acme',
      'cognito:groups': ['config-admins'],
      iat: now(),
      exp: now() + 300,
      ...extra,
    });
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

    const unauthorized: Array<[string, () => string | undefined]> = [
      ['missing', () => undefined],
      ['malformed', () => 'not-a-jwt'],
      [
        'bad signature',
        () => {
          const [h, p, s] = signer.signClaims(claims()).split('.');
          return `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
        },
      ],
      ['alg none', () => `${b64({ alg: 'none', kid: signer.kid })}.${b64(claims())}.`],
      ['expired', () => signer.signClaims(claims({ iat: now() - 900, exp: now() - 300 }))],
      ['not yet valid', () => signer.signClaims(claims({ nbf: now() + 300 }))],
      ['wrong issuer', () => signer.signClaims(claims({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }))],
      ['wrong audience', () => signer.signClaims(claims({ client_id: 'another-app' }))],
    ];
    it.each(unauthorized)('answers a %s token with 401 before the handler runs', async (_name, make) => {
      const token = make();

      const res = await api.call('GET', path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

      expect(res.status).toBe(401);
      expect(res.body).toEqual({ message: 'Unauthorized' });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    const forbidden: Array<[string, Record<string, unknown>]> = [
      ['no tenant claim', { tenant_id: undefined }],
      ['tenant a/b', { tenant_id: 'a/b' }],
      ['tenant a#b', { tenant_id: 'a#b' }],
      ['tenant a:b', { tenant_id: 'a:b' }],
      ['an empty tenant', { tenant_id: '' }],
    ];
    it.each(forbidden)('answers a valid token with %s with 403, for reads and writes', async (_name, extra) => {
      const token = signer.signClaims(claims(extra));

      const read = await api.get(path, token);
      const write = await api.put(path, token, 'x');

      for (const res of [read, write]) {
        expect(res.status).toBe(403);
        expect(res.body.type).toBe(`${PROBLEM}invalid-tenant`);
      }
    });
  });

  describe('bad requests', () => {
    it.each([
      ['an unknown tag', '/v1/config/nosuchtag:x', `${PROBLEM}unknown-tag`],
      ['a .. segment', '/v1/config/tenantconfig:a%2F..%2Fb', `${PROBLEM}invalid-key`],
      ['a literal %2F in the name (sent as %252F)', '/v1/config/tenantconfig:a%252Fb', `${PROBLEM}invalid-key`],
      ['a non-ASCII name', '/v1/config/tenantconfig:pl%C3%A4n', `${PROBLEM}invalid-key`],
      ['a bad limit', '/v1/config?limit=0', `${PROBLEM}invalid-request`],
    ])('answers %s with a precise 400', async (_name, path, type) => {
      const res = await api.get(path, tokens.acmeReader);

      expect(res.status).toBe(400);
      expect(res.body.type).toBe(type);
      expect(res.body.detail).toEqual(expect.any(String));
    });

    it('answers a body that is not JSON with 400 and a value over the tag limit with 413, writing nothing', async () => {
      const path = '/v1/config/paramconfig:big';
      const notJson = await api.call('PUT', path, { token: tokens.acmeAdmin, body: '{"value":' });
      const tooBig = await api.put(path, tokens.acmeAdmin, 'x'.repeat(5000));

      expect(notJson.status).toBe(400);
      expect(tooBig.status).toBe(413);
      expect((await api.get(path, tokens.acmeAdmin)).status).toBe(404);
    });

    it('treats %2F in the path as /, because HTTP API hands the path over decoded', async () => {
      const res = await api.put('/v1/config/tenantconfig:encoded%2Fslash', tokens.acmeAdmin, 1);

      expect(res.status).toBe(201);
      expect(res.body.key).toBe('tenantconfig:encoded/slash');
      expect((await api.get('/v1/config/tenantconfig:encoded/slash', tokens.acmeReader)).body.value).toBe(1);
    });

    it('answers paths outside /v1 with 404 Not Found', async () => {
      const res = await api.get('/admin', tokens.acmeAdmin);

      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: 'Not Found' });
    });
  });

  it('writes endpoints.json with every field of docs/design.md §5, and its endpoints serve the AWS SDK', async () => {
    await api.put('/v1/config/tenantconfig:sdk/check', tokens.acmeAdmin, { via: 'api' });
    await api.put('/v1/config/paramconfig:sdk/check', tokens.acmeAdmin, { via: 'api' });

    const endpoints = JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8'));

    // `redis` only while the cache is a redis-server (docs/design.md §5)
    const redis = system.cache.kind === 'redis' ? ['redis'] : [];
    expect(Object.keys(endpoints).sort()).toEqual([
      'clientId',
      'dynamodb',
      'events',
      'grpc',
      'http',
      'issuer',
      'jwksUri',
      ...redis,
      'region',
      'ssm',
      'ssmRoot',
      'table',
    ]);
    expect(endpoints).toEqual(system.endpoints);
    expect(endpoints.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(endpoints.events).toBe(`${endpoints.http}/v1/events`);
    if (system.cache.kind === 'redis') expect(endpoints.redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    else expect(endpoints.redis).toBeUndefined();
    const dynamodb = new DynamoDBClient(localClientConfig(endpoints.dynamodb));
    const ssm = new SSMClient(localClientConfig(endpoints.ssm));
    try {
      const row = await dynamodb.send(
        new GetItemCommand({ TableName: endpoints.table, Key: { tenantId: { S: 'acme' }, configKey: { S: 'tenantconfig:sdk/check' } } }),
      );
      const name = new ParameterPaths(endpoints.ssmRoot, 'local').parameterName(parseTenantId('acme'), parseKey('paramconfig:sdk/check'));
      const parameter = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));

      expect(row.Item?.version).toEqual({ N: '1' });
      expect(parameter.Parameter?.Version).toBe(1);
      expect(name).toBe(`/${endpoints.ssmRoot}/local/tenants/acme/paramconfig/sdk/check`);
      expect(parameter.Parameter?.Value).toContain('api');
    } finally {
      dynamodb.destroy();
      ssm.destroy();
    }
  });
});

describe('restarting the local system', () => {
  let dir: string;
  let system: LocalSystem | undefined;
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps data in both backends, the signing key and page tokens, and removes endpoints.json when stopped', async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-restart-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    const token = system.signer.signToken({ tenant: 'acme', admin: true });
    let api = new LocalApi(system.endpoints.http);
    for (const key of ['tenantconfig:kept', 'tenantconfig:kept2', 'paramconfig:kept/too']) {
      expect((await api.put(`/v1/config/${key}`, token, { key })).status).toBe(201);
    }
    expect((await api.put('/v1/config/tenantconfig:kept', token, 'v2')).status).toBe(200);
    const firstPage = await api.get('/v1/config?limit=1', token);

    await system.stop();
    expect(() => readFileSync(join(dir, 'endpoints.json'))).toThrow();
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0 });
    api = new LocalApi(system.endpoints.http);

    const kept = await api.get('/v1/config/tenantconfig:kept', token);
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ value: 'v2', version: 2 });
    expect((await api.get('/v1/history/tenantconfig:kept', token)).body.items).toHaveLength(2);
    expect((await api.get('/v1/config/paramconfig:kept/too', token)).body.value).toEqual({ key: 'paramconfig:kept/too' });
    const secondPage = await api.get(`/v1/config?limit=1&nextToken=${encodeURIComponent(firstPage.body.nextToken)}`, token);
    expect(secondPage.status).toBe(200);
    expect(secondPage.body.items.map((i: { key: string }) => i.key)).toEqual(['tenantconfig:kept2']);
  });

  it('refuses to start a second system on a directory in use', async () => {
    await expect(startLocalSystem({ dir, port: 0, grpcPort: 0 })).rejects.toThrow(/in use by another local system|is in use/);
  });
});
