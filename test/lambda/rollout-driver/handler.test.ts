/**
 * The rollout driver Lambda as wired for AWS (lambda/rollout-driver/handler.ts): its own
 * environment and default SDK clients, pointed by AWS_ENDPOINT_URL_* at real local servers —
 * dynalite for the tenant table, moto_server for CloudWatch alarms and Parameter Store. A
 * scheduled event and an alarm event run one tick each; an alarm in ALARM rolls the rollout
 * back and the layer's item gets its old value again; a record that ran ahead of its layer (a
 * Lambda that died mid-wave) is repaired by the next tick.
 */
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { buildConfigBackends } from '../../../adapters/config-backends';
import { DynamoDbRolloutStore } from '../../../adapters/dynamodb/dynamodb-rollout-store';
import { createTenantTableInput } from '../../../adapters/dynamodb/table-definition';
import type { ConfigBackend } from '../../../core/backend-port';
import { parseKey } from '../../../core/key';
import { layerOwner, PLATFORM } from '../../../core/layers';
import type { OperatorPrincipal } from '../../../core/principal';
import type { Rollout } from '../../../core/rollout';
import type { RolloutService, TickReport } from '../../../core/rollout-service';
import { TagRegistry, type BackendKind } from '../../../core/tag-registry';
import { readRolloutDriverEnvironment } from '../../../lambda/rollout-driver/environment';
// The handler builds its clients on its first invocation, from the environment set below.
import * as driver from '../../../lambda/rollout-driver/handler';
import { buildRolloutDriver } from '../../../lambda/rollout-driver/wiring';
import { describeIf, localClientConfig, startDynalite, startMoto, type RunningServer } from '../../support/servers';

const ENV = { TABLE_NAME: 'tenant-config-driver-test', SSM_ROOT: 'tenant-config', STAGE: 'test' };
const alice: OperatorPrincipal = { kind: 'operator', subject: 'alice' };
const owner = layerOwner(PLATFORM);

const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
const alarmEntered = (name: string) => ({
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  detail: { alarmName: name, state: { value: 'ALARM' }, previousState: { value: 'OK' } },
});

describeIf('moto_server')('rollout driver Lambda (dynalite table, moto CloudWatch and Parameter Store)', () => {
  let dynalite: RunningServer;
  let moto: RunningServer;
  let clients: { dynamodb: DynamoDBClient; ssm: SSMClient; cloudwatch: CloudWatchClient };
  let backends: Record<BackendKind, ConfigBackend>;
  let operators: RolloutService;
  let store: DynamoDbRolloutStore;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    [dynalite, moto] = await Promise.all([startDynalite({ inMemory: true }), startMoto()]);
    const vars: Record<string, string | undefined> = {
      ...ENV,
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
      AWS_ENDPOINT_URL_SSM: moto.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: moto.endpoint,
      CACHE_REDIS_URL: undefined,
      CACHE_REDIS_HOST: undefined,
    };
    for (const [k, v] of Object.entries(vars)) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    clients = {
      dynamodb: new DynamoDBClient(localClientConfig(dynalite.endpoint)),
      ssm: new SSMClient(localClientConfig(moto.endpoint)),
      cloudwatch: new CloudWatchClient(localClientConfig(moto.endpoint)),
    };
    await clients.dynamodb.send(new CreateTableCommand(createTenantTableInput(ENV.TABLE_NAME)));
    const env = readRolloutDriverEnvironment(ENV);
    backends = buildConfigBackends(env, clients, TagRegistry.default());
    // The API's side (start, commands) built the same way as the driver's, on the same servers.
    operators = buildRolloutDriver({ env, clients, backends });
    store = new DynamoDbRolloutStore({ client: clients.dynamodb, tableName: ENV.TABLE_NAME });
  });

  afterAll(async () => {
    await driver.dispose();
    Object.values(clients ?? {}).forEach((c) => c.destroy());
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await Promise.all([dynalite?.stop(), moto?.stop()]);
  });

  const layerItem = (key: string) => backends[key.startsWith('tenantconfig:') ? 'dynamodb' : 'ssm'].get(owner, parseKey(key));
  const tick = (event: unknown) => driver.handler(event) as Promise<TickReport>;
  const mine = (report: TickReport, id: string) => report.changed.filter((c) => c.id === id);

  async function putAlarm(name: string): Promise<void> {
    await clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'Checkout',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    await clients.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'test' }));
  }

  it.each(['tenantconfig:checkout', 'paramconfig:checkout/flow'])('%s: ALARM rolls the rollout back and the layer holds its old value again', async (key) => {
    const alarm = `errors-${key.split(':')[0]}`;
    await putAlarm(alarm);
    const backend = backends[key.startsWith('tenantconfig:') ? 'dynamodb' : 'ssm'];
    await backend.put(owner, { key: parseKey(key), value: { flow: 'old' }, expectedVersion: 'absent', updatedBy: 'alice' });

    const started = await operators.start(alice, { key, layer: 'platform', value: { flow: 'new' }, waves: [10, 100], bakeSeconds: 3600, alarm });
    expect((await layerItem(key))?.value).toEqual({
      $rollout: expect.objectContaining({ id: started.id, percent: 10, to: { flow: 'new' }, from: { flow: 'old' } }),
    });

    // The minute's tick: the wave is baking and the alarm is OK, so nothing moves.
    expect(mine(await tick(scheduled), started.id)).toEqual([]);

    await clients.cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'errors' }));
    const report = await tick(alarmEntered(alarm));

    expect(mine(report, started.id)).toEqual([{ id: started.id, state: 'rolled_back', wave: 0 }]);
    expect(report.failed).toEqual([]);
    const item = await layerItem(key);
    expect(item).toMatchObject({ value: { flow: 'old' }, updatedBy: `alarm:${alarm}` });
    const record = (await store.get(started.id)) as Rollout;
    expect(record).toMatchObject({ state: 'rolled_back', settled: true });
    expect(record.events.map((e) => [e.action, e.by])).toEqual([
      ['started', 'alice'],
      ['rolled_back', `alarm:${alarm}`],
    ]);
    // Settled: later ticks leave it alone.
    expect((await store.listActive()).map((r) => r.id)).not.toContain(started.id);
  });

  it('with bake 0, each scheduled tick moves one wave, then completes with the new value in the layer', async () => {
    const key = 'tenantconfig:banner';
    const started = await operators.start(alice, { key, layer: 'platform', value: 'v2', waves: [1, 50, 100], bakeSeconds: 0 });

    const states = [];
    for (let i = 0; i < 3; i++) states.push(...mine(await tick(scheduled), started.id).map((c) => `${c.state}@${c.wave}`));

    expect(states).toEqual(['in_progress@1', 'in_progress@2', 'complete@2']);
    expect((await layerItem(key))?.value).toBe('v2');
  });

  it('a record stored ahead of its layer (the Lambda died between the two writes) is repaired by the next tick, and its wave bakes again', async () => {
    const key = 'tenantconfig:search';
    const started = await operators.start(alice, { key, layer: 'platform', value: 'fast', waves: [5, 100], bakeSeconds: 3600 });
    // What a driver that died after storing the next wave leaves behind: the record at 100 %, the layer still at 5 %.
    const ahead: Rollout = { ...started, wave: 1, waveStartedAt: new Date(Date.now() - 7_200_000).toISOString(), revision: started.revision + 1 };
    await store.update(ahead);
    expect((await layerItem(key))?.value).toMatchObject({ $rollout: { percent: 5 } });

    await tick(scheduled);

    expect((await layerItem(key))?.value).toMatchObject({ $rollout: { percent: 100 } });
    const repaired = (await store.get(started.id)) as Rollout;
    expect(repaired).toMatchObject({ state: 'in_progress', wave: 1 });
    // Not completed on the spot: the wave was not live while the layer lagged.
    expect(Date.parse(repaired.waveStartedAt)).toBeGreaterThan(Date.parse(ahead.waveStartedAt) + 3_600_000);
  });
});
