import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import type { TenantId } from '../../core/tenant';
import type { CacheLookup } from '../../core/versioned-cache';
import { buildCacheRefresher } from '../../lambda/cache-refresh/wiring';
import { startLocalChangeEvents, type LocalChangeEvents } from '../../local/events';
import { startLocalParameterStore, type LocalParameterStore } from '../../local/parameter-store';
import { describeIf, localClientConfig, startDynalite, type RunningServer } from '../support/servers';
import { Recorder } from '../lambda/cache-refresh/support';
import { REGION, SSM_ROOT, STAGE, TENANTS_PATH } from './support/change-events';

const run = promisify(execFile);
const TABLE = 'tenant-config-e2e';
const acme = 'acme' as TenantId;
const cliEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_DEFAULT_REGION: REGION };

/** Runs the AWS CLI (asynchronously: the servers live in this process) and returns when it has exited. */
async function aws(endpoint: string, ...args: string[]): Promise<void> {
  await run('aws', ['--endpoint-url', endpoint, ...args], { env: cliEnv });
}

/** Milliseconds until the cache shows what `done` wants, polling; fails after `limitMs`. */
async function msUntil(read: () => Promise<CacheLookup>, done: (l: CacheLookup) => boolean, limitMs = 1000): Promise<number> {
  const start = performance.now();
  for (;;) {
    const lookup = await read();
    const elapsed = performance.now() - start;
    if (done(lookup)) return elapsed;
    if (elapsed > limitMs) throw new Error(`the cache did not change within ${limitMs} ms: ${JSON.stringify(lookup)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describeIf('aws')('a write by any client reaches the cache through the local change events', () => {
  let dynalite: RunningServer;
  let store: LocalParameterStore;
  let events: LocalChangeEvents;
  let ssm: SSMClient;
  const cache = new InMemoryVersionedCache();
  const recorder = new Recorder();

  beforeAll(async () => {
    [dynalite, store] = await Promise.all([startDynalite({ inMemory: true }), startLocalParameterStore()]);
    ssm = new SSMClient(localClientConfig(store.endpoint));
    const refresher = buildCacheRefresher({ environment: { ssmRoot: SSM_ROOT, stage: STAGE }, cache, ssm, logger: recorder, metrics: recorder });
    events = await startLocalChangeEvents({
      dynaliteEndpoint: dynalite.endpoint,
      tableName: TABLE,
      region: REGION,
      ssmRoot: SSM_ROOT,
      stage: STAGE,
      target: (event) => refresher.refresh(event),
      parameterStore: store,
    });
    const client = new DynamoDBClient(localClientConfig(events.proxy.endpoint));
    await client.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    client.destroy();
  });

  afterAll(async () => {
    await events?.close();
    ssm?.destroy();
    await Promise.all([dynalite?.stop(), store?.close()]);
  });

  it('aws dynamodb put-item straight into the local table: the new value is in the cache within a second', async () => {
    const item = {
      tenantId: { S: 'acme' },
      configKey: { S: 'tenantconfig:plan' },
      version: { N: '7' },
      valueJson: { S: '{"tier":"enterprise"}' },
      updatedAt: { S: new Date().toISOString() },
      updatedBy: { S: 'ops-cli' },
    };
    await aws(events.proxy.endpoint, 'dynamodb', 'put-item', '--table-name', TABLE, '--item', JSON.stringify(item));
    const ms = await msUntil(
      () => cache.get(acme, 'tenantconfig:plan'),
      (l) => l.kind === 'hit' && l.item.version === 7,
    );
    expect(ms).toBeLessThan(1000);
    expect(await cache.get(acme, 'tenantconfig:plan')).toMatchObject({
      kind: 'hit',
      item: { value: { tier: 'enterprise' }, version: 7, updatedBy: 'ops-cli' },
    });
  });

  it('aws dynamodb delete-item: the cache holds a tombstone at the deleted version within a second', async () => {
    await aws(
      events.proxy.endpoint,
      'dynamodb',
      'delete-item',
      '--table-name',
      TABLE,
      '--key',
      JSON.stringify({ tenantId: { S: 'acme' }, configKey: { S: 'tenantconfig:plan' } }),
    );
    const ms = await msUntil(
      () => cache.get(acme, 'tenantconfig:plan'),
      (l) => l.kind === 'absent',
    );
    expect(ms).toBeLessThan(1000);
    expect(await cache.get(acme, 'tenantconfig:plan')).toEqual({ kind: 'absent', reason: 'tombstone', version: 7 });
  });

  it('aws ssm put-parameter into the local Parameter Store: the value and its version are in the cache within a second', async () => {
    const name = `${TENANTS_PATH}acme/paramconfig/db/pool/max`;
    await aws(store.endpoint, 'ssm', 'put-parameter', '--name', name, '--value', '42', '--type', 'String');
    await aws(store.endpoint, 'ssm', 'put-parameter', '--name', name, '--value', '48', '--type', 'String', '--overwrite');
    const ms = await msUntil(
      () => cache.get(acme, 'paramconfig:db/pool/max'),
      (l) => l.kind === 'hit' && l.item.version === 2,
    );
    expect(ms).toBeLessThan(1000);
    expect(await cache.get(acme, 'paramconfig:db/pool/max')).toMatchObject({ kind: 'hit', item: { value: 48, version: 2 } });
  });

  it('aws ssm delete-parameter: the cache holds a tombstone within a second', async () => {
    await aws(store.endpoint, 'ssm', 'delete-parameter', '--name', `${TENANTS_PATH}acme/paramconfig/db/pool/max`);
    const ms = await msUntil(
      () => cache.get(acme, 'paramconfig:db/pool/max'),
      (l) => l.kind === 'absent',
    );
    expect(ms).toBeLessThan(1000);
  });

  it('a parameter outside this stage’s hierarchy is routed nowhere, and nothing was dead-lettered', async () => {
    await aws(store.endpoint, 'ssm', 'put-parameter', '--name', '/tenant-config/prod/tenants/acme/paramconfig/x', '--value', '1', '--type', 'String');
    await events.bus.idle();
    expect(events.bus.deadLetters).toEqual([]);
    expect(events.bus.stats.unmatched).toBeGreaterThanOrEqual(1);
    expect(recorder.count('Dropped')).toBe(0);
  });
});
