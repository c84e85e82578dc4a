/**
 * CloudWatchAlarmStates against moto_server's CloudWatch: states of metric alarms by name, in
 * batches of at most 100 names a DescribeAlarms (CloudWatch's limit; moto does not enforce it,
 * so the test counts the names of each call), unknown names left out. moto has no composite
 * alarms (PutCompositeAlarm is not implemented), so the composite case runs on a stub client.
 */
import {
  CloudWatchClient,
  type DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type DescribeAlarmsCommandInput,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import { CloudWatchAlarmStates } from '../../../adapters/cloudwatch/cloudwatch-alarm-states';
import { describeIf, localClientConfig, startMoto, type RunningServer } from '../../support/servers';

async function putAlarm(client: CloudWatchClient, name: string, state?: StateValue): Promise<void> {
  await client.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'TenantConfig/Test',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
  if (state) await client.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: 'test' }));
}

describeIf('moto_server')('CloudWatchAlarmStates (moto_server)', () => {
  let moto: RunningServer;
  let client: CloudWatchClient;
  const namesPerCall: number[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    client = new CloudWatchClient(localClientConfig(moto.endpoint));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DescribeAlarmsCommand') namesPerCall.push((args.input as DescribeAlarmsCommandInput).AlarmNames?.length ?? 0);
        return next(args);
      },
      { step: 'initialize', name: 'countAlarmNames' },
    );
  });
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });
  beforeEach(() => {
    namesPerCall.length = 0;
  });

  it('reads each named alarm state; a name no alarm has is absent', async () => {
    await putAlarm(client, 'api-errors', 'ALARM');
    await putAlarm(client, 'api-latency', 'OK');
    await putAlarm(client, 'no-data', 'INSUFFICIENT_DATA');

    const states = await new CloudWatchAlarmStates(client).statesOf(['api-errors', 'api-latency', 'no-data', 'no-such-alarm']);

    expect(Object.fromEntries(states)).toEqual({ 'api-errors': 'ALARM', 'api-latency': 'OK', 'no-data': 'INSUFFICIENT_DATA' });
    expect(states.has('no-such-alarm')).toBe(false);
  });

  it('asks at most 100 names a call, and finds every alarm of 250', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `batch-${String(i).padStart(3, '0')}`);
    for (const [i, name] of names.entries()) await putAlarm(client, name, i % 7 === 0 ? 'ALARM' : undefined);

    const states = await new CloudWatchAlarmStates(client).statesOf([...names, 'batch-missing']);

    expect(states.size).toBe(250);
    expect([...states].filter(([, s]) => s === 'ALARM').map(([n]) => n)).toEqual(names.filter((_, i) => i % 7 === 0));
    expect(namesPerCall).toEqual([100, 100, 51]);
  });
});

describe('CloudWatchAlarmStates (stub CloudWatch)', () => {
  it('reads composite alarms beside metric alarms, and follows NextToken within a batch', async () => {
    const inputs: DescribeAlarmsCommandInput[] = [];
    const pages = [
      { MetricAlarms: [{ AlarmName: 'metric', StateValue: 'OK' }], NextToken: 'page-2' },
      { CompositeAlarms: [{ AlarmName: 'service-health', StateValue: 'ALARM' }] },
    ];
    const client = {
      send: async (command: DescribeAlarmsCommand) => {
        inputs.push(command.input);
        return pages.shift();
      },
    } as unknown as CloudWatchClient;

    const states = await new CloudWatchAlarmStates(client).statesOf(['metric', 'service-health']);

    expect(Object.fromEntries(states)).toEqual({ metric: 'OK', 'service-health': 'ALARM' });
    expect(inputs.map((i) => [i.AlarmTypes, i.NextToken])).toEqual([
      [['MetricAlarm', 'CompositeAlarm'], undefined],
      [['MetricAlarm', 'CompositeAlarm'], 'page-2'],
    ]);
  });
});
