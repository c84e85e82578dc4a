import { triggerOf } from '../../../lambda/rollout-driver/trigger';

describe('triggerOf (what the driver logs as its reason to tick)', () => {
  it('names the schedule, the alarm and its state, and anything else as other', () => {
    expect(triggerOf({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual({ kind: 'schedule' });
    expect(
      triggerOf({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: 'errors', state: { value: 'ALARM' } } }),
    ).toEqual({ kind: 'alarm', alarm: 'errors', state: 'ALARM' });
    expect(triggerOf({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { alarmName: 7 } })).toEqual({
      kind: 'alarm',
      alarm: '',
      state: '',
    });
    for (const odd of [undefined, null, 'x', {}, { source: 'aws.ssm' }]) expect(triggerOf(odd)).toEqual({ kind: 'other' });
  });
});
