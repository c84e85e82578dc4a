/**
 * The key routes through the handler as wired for AWS (lambda/config-api/wiring.ts):
 * DynamoDbConfigBackend on dynalite, SsmConfigBackend on the local Parameter Store with
 * its write lease in the same table. Real SDK clients, real local servers.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import fc from 'fast-check';
import { createTenantTableInput } from '../../../adapters/dynamodb/table-definition';
import { TagRegistry } from '../../../core/tag-registry';
import { readConfigApiEnvironment, type ConfigApiEnvironment } from '../../../lambda/config-api/environment';
import { buildConfigBackends } from '../../../adapters/config-backends';
import { startLocalParameterStore, type LocalParameterStore } from '../../../local/parameter-store';
import { localClientConfig, startDynalite, type RunningServer } from '../../support/servers';
import { adminClaims, readerClaims } from '../support/api-event';
import { createHarness, PAGE_TOKEN_SECRET, valueBody, type Harness } from '../support/harness';

describe('config-api handler over DynamoDB (dynalite) and Parameter Store (local)', () => {
  let dynalite: RunningServer;
  let parameterStore: LocalParameterStore;
  let clients: { dynamodb: DynamoDBClient; ssm: SSMClient };
  let env: ConfigApiEnvironment;
  let api: Harness;

  beforeAll(async () => {
    [dynalite, parameterStore] = await Promise.all([startDynalite({ inMemory: true }), startLocalParameterStore()]);
    clients = {
      dynamodb: new DynamoDBClient(localClientConfig(dynalite.endpoint)),
      ssm: new SSMClient(localClientConfig(parameterStore.endpoint)),
    };
    env = readConfigApiEnvironment({
      TABLE_NAME: 'tenant-config-handler-test',
      SSM_ROOT: 'tenant-config',
      STAGE: 'test',
      PAGE_TOKEN_SECRET,
    });
    await clients.dynamodb.send(new CreateTableCommand(createTenantTableInput(env.tableName)));
    api = createHarness({ backends: buildConfigBackends(env, clients, TagRegistry.default()) });
  });

  afterAll(async () => {
    clients?.dynamodb.destroy();
    clients?.ssm.destroy();
    await Promise.all([dynalite?.stop(), parameterStore?.close()]);
  });

  /** A fresh tenant per test: the servers are shared across the suite. */
  let tenantCounter = 0;
  const freshTenant = () => `t${++tenantCounter}-${process.pid}`;

  it.each(['tenantconfig:plan', 'paramconfig:db/pool/max', 'secretconfig:db/password'])(
    '%s: create 201, update 200, compare-and-set, 304, history, delete 204, then 404',
    async (key) => {
      const tenant = freshTenant();
      const claims = adminClaims(tenant, 'sub-123');
      const call = (method: string, headers: Record<string, string> = {}, body?: unknown, path = `/v1/config/${key}`) =>
        api.call({ method, path, headers, claims, body: body === undefined ? undefined : valueBody(body) });

      const created = await call('PUT', { 'if-none-match': '*' }, { v: 1 });
      expect(created.status).toBe(201);
      expect(created.headers.etag).toBe('"1"');
      expect(created.headers.location).toBe(`/v1/config/${key}`);
      expect(created.body).toMatchObject({ key, value: { v: 1 }, version: 1, updatedBy: 'sub-123' });

      const again = await call('PUT', { 'if-none-match': '*' }, { v: 9 });
      expect(again.status).toBe(412);
      expect(again.headers.etag).toBe('"1"');

      const updated = await call('PUT', { 'if-match': '"1"' }, { v: 2 });
      expect(updated.status).toBe(200);
      expect(updated.headers.etag).toBe('"2"');

      const stale = await call('PUT', { 'if-match': '"1"' }, { v: 3 });
      expect(stale.status).toBe(412);
      expect(stale.headers.etag).toBe('"2"');

      const read = await call('GET');
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ key, value: { v: 2 }, version: 2, updatedBy: 'sub-123' });
      expect((await call('GET', { 'if-none-match': read.headers.etag })).status).toBe(304);

      const history = await call('GET', {}, undefined, `/v1/history/${key}`);
      expect(history.status).toBe(200);
      expect(history.body.items.map((e: { version: number; value: unknown }) => [e.version, e.value])).toEqual([
        [2, { v: 2 }],
        [1, { v: 1 }],
      ]);

      expect((await call('DELETE', { 'if-match': '"1"' })).status).toBe(412);
      expect((await call('DELETE', { 'if-match': '"2"' })).status).toBe(204);
      expect((await call('GET')).status).toBe(404);
      expect((await call('DELETE')).status).toBe(404);
    },
  );

  it('lists across both backends with pages and nextToken', async () => {
    const tenant = freshTenant();
    const keys = ['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:c', 'paramconfig:x/1', 'paramconfig:x/2', 'flags:beta'];
    for (const key of keys) {
      const reply = await api.call({
        method: 'PUT',
        path: `/v1/config/${key}`,
        body: valueBody(key === 'flags:beta' ? true : key),
        claims: adminClaims(tenant),
      });
      expect(reply.status).toBe(201);
    }

    const seen: string[] = [];
    let nextToken: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const reply = await api.call({
        method: 'GET',
        path: '/v1/config',
        query: { limit: '2', ...(nextToken ? { nextToken } : {}) },
        claims: readerClaims(tenant),
      });
      expect(reply.status).toBe(200);
      seen.push(...reply.body.items.map((i: { key: string }) => i.key));
      nextToken = reply.body.nextToken;
      if (!nextToken) break;
    }

    expect(seen).toEqual(['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:c', 'paramconfig:x/1', 'paramconfig:x/2', 'flags:beta']);
    const prefixed = await api.call({ method: 'GET', path: '/v1/config', query: { prefix: 'paramconfig:x/' }, claims: readerClaims(tenant) });
    expect(prefixed.body.items.map((i: { key: string }) => i.key)).toEqual(['paramconfig:x/1', 'paramconfig:x/2']);
  });

  it('bad input writes nothing to either store', async () => {
    const tenant = freshTenant();
    await api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('gold'), claims: adminClaims(tenant) });
    await api.call({ method: 'PUT', path: '/v1/config/paramconfig:db/max', body: valueBody(5), claims: adminClaims(tenant) });
    const before = await api.snapshot([tenant]);
    const writes = api.writes();

    const replies = await Promise.all([
      api.call({ method: 'PUT', path: '/v1/config/paramconfig:db%2Fmax', body: valueBody(1), claims: adminClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/paramconfig:db/../max', body: valueBody(1), claims: adminClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: '{"value": 1, "x": 2}', claims: adminClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('x'.repeat(9000)), claims: adminClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/flags:beta', body: valueBody('yes'), claims: adminClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('x'), headers: { 'if-match': 'W/"1"' }, claims: adminClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('x'), claims: readerClaims(tenant) }),
      api.call({ method: 'DELETE', path: '/v1/config/paramconfig:db/max', claims: readerClaims(tenant) }),
      api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('x'), claims: { ...adminClaims(tenant), tenant_id: `${tenant}#x` } }),
    ]);

    expect(replies.map((r) => r.status)).toEqual([400, 400, 400, 413, 400, 400, 403, 403, 403]);
    expect(api.writes()).toBe(writes);
    expect(await api.snapshot([tenant])).toEqual(before);
  });

  it("two tenants with the same key names never see each other's items (property)", async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
    const key = fc.tuple(fc.constantFrom('tenantconfig', 'paramconfig'), fc.array(segment, { minLength: 1, maxLength: 2 }));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          key.map(([t, parts]) => `${t}:${parts.join('/')}`),
          { minLength: 1, maxLength: 3 },
        ),
        async (keys) => {
          const [a, b] = [freshTenant(), freshTenant()];
          for (const tenant of [a, b]) {
            for (const k of keys) {
              const reply = await api.call({ method: 'PUT', path: `/v1/config/${k}`, body: valueBody(`${tenant}:${k}`), claims: adminClaims(tenant) });
              expect(reply.status).toBe(201);
            }
          }
          for (const tenant of [a, b]) {
            for (const k of keys) {
              const read = await api.call({ method: 'GET', path: `/v1/config/${k}`, claims: readerClaims(tenant) });
              expect(read.body.value).toBe(`${tenant}:${k}`);
            }
            const listed = await api.call({ method: 'GET', path: '/v1/config', query: { limit: '100' }, claims: readerClaims(tenant) });
            expect(listed.body.items.map((i: { key: string; value: string }) => i.value).sort()).toEqual(keys.map((k) => `${tenant}:${k}`).sort());
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});
