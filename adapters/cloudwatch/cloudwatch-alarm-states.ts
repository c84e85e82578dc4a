import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmState } from '../../core/rollout';
import type { AlarmStates } from '../../core/rollout-store';
import { translateSdkError } from '../sdk-errors';

/** DescribeAlarms takes at most 100 names a call. */
const NAMES_PER_CALL = 100;

/**
 * The rollout driver's alarms on AWS: CloudWatch metric and composite alarms by name, one
 * DescribeAlarms per 100 names (the driver asks once per tick for every active rollout).
 */
export class CloudWatchAlarmStates implements AlarmStates {
  constructor(private readonly client: CloudWatchClient) {}

  async statesOf(names: readonly string[]): Promise<ReadonlyMap<string, AlarmState>> {
    const states = new Map<string, AlarmState>();
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      const batch = names.slice(i, i + NAMES_PER_CALL);
      let nextToken: string | undefined;
      do {
        const out = await this.client
          .send(new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken }))
          .catch((e: unknown) => {
            throw translateSdkError(e, 'CloudWatch', 'reading alarm states');
          });
        for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName && alarm.StateValue) states.set(alarm.AlarmName, alarm.StateValue as AlarmState);
        }
        nextToken = out.NextToken;
      } while (nextToken);
    }
    return states;
  }
}
