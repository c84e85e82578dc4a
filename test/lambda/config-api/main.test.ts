/**
 * The Lambda entry point `handler`: configuration read from the environment on the first
 * invocation, SDK clients from the standard AWS variables, a bad setting named in the failure.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTenantTableInput } from '../../../adapters/dynamodb/table-definition';
import type { ConfigApiLambdaHandler } from '../../../lambda/config-api/handler';
import { startLocalParameterStore, type LocalParameterStore } from '../../../local/parameter-store';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import Redis from 'ioredis';
import { describeIf, localClientConfig, startDynalite, startRedis, type RunningServer } from '../../support/servers';
import { adminClaims, apiEvent } from '../support/api-event';

const VARIABLES = [
  'TABLE_NAME',
  'SSM_ROOT',
  'STAGE',
  'PAGE_TOKEN_SECRET',
  'PAGE_TOKEN_SECRET_PARAMETER',
  'TENANT_CLAIM',
  'ADMIN_GROUP',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SSM',
  'CACHE_REDIS_URL',
];

/** A fresh copy of the module, so its once-per-process state starts empty. */
const disposers: Array<() => Promise<void>> = [];

function freshHandler(): ConfigApiLambdaHandler {
  let loaded: typeof import('../../../lambda/config-api/main') | undefined;
  jest.isolateModules(() => {
    loaded = require('../../../lambda/config-api/main') as typeof import('../../../lambda/config-api/main');
  });
  disposers.push(loaded!.dispose);
  return loaded!.handler;
}

afterEach(async () => {
  await Promise.all(disposers.splice(0).map((d) => d()));
});

describe('config-api Lambda entry point', () => {
  let dynalite: RunningServer;
  let parameterStore: LocalParameterStore;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const name of VARIABLES) saved[name] = process.env[name];
    [dynalite, parameterStore] = await Promise.all([startDynalite({ inMemory: true }), startLocalParameterStore()]);
    const client = new DynamoDBClient(localClientConfig(dynalite.endpoint));
    await client.send(new CreateTableCommand(createTenantTableInput('entry-test-table')));
    client.destroy();
  });

  afterAll(async () => {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await Promise.all([dynalite?.stop(), parameterStore?.close()]);
  });

  beforeEach(() => {
    Object.assign(process.env, {
      TABLE_NAME: 'entry-test-table',
      SSM_ROOT: 'tenant-config',
      STAGE: 'test',
      PAGE_TOKEN_SECRET: 'entry-test-page-token-secret',
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_ENDPOINT_URL_SSM: parameterStore.endpoint,
    });
    delete process.env.TENANT_CLAIM;
    delete process.env.ADMIN_GROUP;
    delete process.env.PAGE_TOKEN_SECRET_PARAMETER;
    delete process.env.CACHE_REDIS_URL;
  });

  it('reads the page-token secret once from PAGE_TOKEN_SECRET_PARAMETER (a SecureString)', async () => {
    const ssm = new SSMClient(localClientConfig(parameterStore.endpoint));
    await ssm.send(new PutParameterCommand({ Name: '/entry-test/page-token', Value: 'a-page-token-secret-from-ssm', Type: 'SecureString' }));
    ssm.destroy();
    delete process.env.PAGE_TOKEN_SECRET;
    process.env.PAGE_TOKEN_SECRET_PARAMETER = '/entry-test/page-token';
    const handler = freshHandler();

    const list = await handler(apiEvent({ method: 'GET', path: '/v1/config', query: { limit: '1' } }));

    expect(list.statusCode).toBe(200);
  });

  it('fails with the variable name when the secret parameter is missing', async () => {
    delete process.env.PAGE_TOKEN_SECRET;
    process.env.PAGE_TOKEN_SECRET_PARAMETER = '/entry-test/no-such-secret';
    const handler = freshHandler();

    await expect(handler(apiEvent({ method: 'GET', path: '/v1/config' }))).rejects.toThrow(
      /PAGE_TOKEN_SECRET_PARAMETER \('\/entry-test\/no-such-secret'\) could not be read/,
    );
  });

  it('builds its dependencies from the environment and serves both backends', async () => {
    const handler = freshHandler();

    const put = await handler(apiEvent({ method: 'PUT', path: '/v1/config/paramconfig:db/max', body: '{"value": 7}' }));
    const put2 = await handler(apiEvent({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: '{"value": "gold"}' }));
    const list = await handler(apiEvent({ method: 'GET', path: '/v1/config' }));

    expect([put.statusCode, put2.statusCode, list.statusCode]).toEqual([201, 201, 200]);
    expect(JSON.parse(list.body!).items.map((i: { key: string }) => i.key)).toEqual(['tenantconfig:plan', 'paramconfig:db/max']);
  });

  it('honours TENANT_CLAIM and ADMIN_GROUP', async () => {
    process.env.TENANT_CLAIM = 'custom:tenant_id';
    process.env.ADMIN_GROUP = 'ops';
    const handler = freshHandler();
    const claims = { sub: 'u1', token_use: 'access', 'custom:tenant_id': 'initech', 'cognito:groups': ['ops'] };

    const asOps = await handler(apiEvent({ method: 'PUT', path: '/v1/config/tenantconfig:x', body: '{"value": 1}', claims }));
    const defaultClaimOnly = await handler(apiEvent({ method: 'GET', path: '/v1/config', claims: adminClaims('initech') }));

    expect(asOps.statusCode).toBe(201);
    expect(defaultClaimOnly.statusCode).toBe(403);
  });

  it.each([
    ['TABLE_NAME', undefined],
    ['PAGE_TOKEN_SECRET', 'too-short'],
    ['STAGE', 'a/b'],
  ])("a bad %s fails the invocation with the variable's name", async (name, value) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
    const handler = freshHandler();

    await expect(handler(apiEvent({ method: 'GET', path: '/v1/config' }))).rejects.toThrow(name);
  });
});

describeIf('redis-server')('config-api Lambda entry point with CACHE_REDIS_URL', () => {
  let dynalite: RunningServer;
  let redis: RunningServer;
  let parameterStore: LocalParameterStore;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const name of VARIABLES) saved[name] = process.env[name];
    [dynalite, redis, parameterStore] = await Promise.all([startDynalite({ inMemory: true }), startRedis(), startLocalParameterStore()]);
    const client = new DynamoDBClient(localClientConfig(dynalite.endpoint));
    await client.send(new CreateTableCommand(createTenantTableInput('entry-cache-table')));
    client.destroy();
    Object.assign(process.env, {
      TABLE_NAME: 'entry-cache-table',
      SSM_ROOT: 'tenant-config',
      STAGE: 'test',
      PAGE_TOKEN_SECRET: 'entry-test-page-token-secret',
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_ENDPOINT_URL_SSM: parameterStore.endpoint,
      CACHE_REDIS_URL: redis.endpoint,
    });
  });

  afterAll(async () => {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await Promise.all([dynalite?.stop(), redis?.stop(), parameterStore?.close()]);
  });

  it('puts API writes in the cache and its change log, and serves reads from it', async () => {
    const handler = freshHandler();
    const probe = new Redis(redis.port, '127.0.0.1');

    const put = await handler(apiEvent({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: '{"value": "gold"}' }));
    const get = await handler(apiEvent({ method: 'GET', path: '/v1/config/tenantconfig:plan' }));
    const entryKeys = await probe.keys('*:e:*');
    const logKeys = await probe.keys('*:log');
    // Each shard's log opens with an epoch marker; changes are the entries naming a tenant ('t').
    const entries = (await Promise.all(logKeys.map((k) => probe.xrange(k, '-', '+')))).flat();
    const changes = entries.filter(([, fields]) => fields[0] === 't');
    await probe.quit();

    expect([put.statusCode, get.statusCode]).toEqual([201, 200]);
    expect(JSON.parse(get.body!)).toMatchObject({ value: 'gold', version: 1 });
    expect(entryKeys.some((k) => k.endsWith(':tenantconfig:plan'))).toBe(true);
    expect(changes).toHaveLength(1);
    expect(changes[0][1]).toEqual(expect.arrayContaining(['acme', 'tenantconfig:plan', '"gold"']));
  });
});
