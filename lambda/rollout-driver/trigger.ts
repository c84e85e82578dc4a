/**
 * What invoked the driver, for its log line: the minute schedule, or an alarm that entered
 * ALARM (the default bus's "CloudWatch Alarm State Change"). Either way the driver does the
 * same thing, one tick over every active rollout, so the event is only described, never trusted.
 */
export type DriverTrigger =
  { readonly kind: 'schedule' } | { readonly kind: 'alarm'; readonly alarm: string; readonly state: string } | { readonly kind: 'other' };

interface EventShape {
  readonly source?: unknown;
  readonly 'detail-type'?: unknown;
  readonly detail?: { readonly alarmName?: unknown; readonly state?: { readonly value?: unknown } };
}

export function triggerOf(event: unknown): DriverTrigger {
  const e = (event ?? {}) as EventShape;
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') return { kind: 'schedule' };
  if (e.source === 'aws.cloudwatch' && e['detail-type'] === 'CloudWatch Alarm State Change') {
    const alarm = typeof e.detail?.alarmName === 'string' ? e.detail.alarmName.slice(0, 255) : '';
    const state = typeof e.detail?.state?.value === 'string' ? e.detail.state.value.slice(0, 32) : '';
    return { kind: 'alarm', alarm, state };
  }
  return { kind: 'other' };
}
