import { randomUUID } from 'node:crypto';
import type { ChangeEventPatterns } from '../../core/event-patterns';
import type { ParameterChange } from '../parameter-store';
import type { BusEvent, EventTarget, LocalEventBus, LocalRule } from './local-event-bus';
import { compilePattern } from './pattern-matcher';
import type { StreamRecord } from './stream-record';
import type { GenericLogger } from '../../core/logger';

/**
 * The two producers of change events, as AWS has them, for the local bus:
 * - the EventBridge Pipe: stream record → filter → event on the config-changes bus;
 * - Parameter Store: a change → "Parameter Store Change" event on the default bus.
 */

/** The account id local servers use in ARNs (the local Parameter Store's default too). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** EventBridge writes event times to the second: `2017-05-22T16:43:48Z`. */
export function eventBridgeTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export interface LocalPipeOptions {
  readonly bus: LocalEventBus;
  readonly patterns: ChangeEventPatterns;
  /** The stream the records come from (the stream proxy's `streamArn`). */
  readonly streamArn: string;
  readonly region: string;
  /** @default LOCAL_ACCOUNT_ID */
  readonly account?: string;
  readonly logger?: Pick<GenericLogger, 'info'>;
}

/**
 * The Pipe from the table's stream to the config-changes bus: records that pass the
 * Pipe's filter become events whose detail is the record plus `eventSourceARN`, with
 * the Pipe's Source and DetailType, as EventBridge Pipes deliver them to a bus target.
 * Returns the function to hand the stream proxy as `onRecord`.
 */
export function createLocalPipe(options: LocalPipeOptions): (record: StreamRecord) => void {
  const { dynamodbPipe, rules } = options.patterns;
  const filters = dynamodbPipe.filterPatterns.map((p) => compilePattern(p));
  const busName = rules.dynamodbChange.eventBus;
  return (record) => {
    if (filters.length > 0 && !filters.some((f) => f(record))) {
      options.logger?.info('pipe filter dropped a stream record', { eventName: record.eventName, sequenceNumber: record.dynamodb.SequenceNumber });
      return;
    }
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': dynamodbPipe.detailType,
      source: dynamodbPipe.source,
      account: options.account ?? LOCAL_ACCOUNT_ID,
      time: eventBridgeTime(new Date()),
      region: options.region,
      resources: [],
      detail: { ...record, eventSourceARN: options.streamArn },
    };
    options.bus.put(busName, event);
  };
}

/** The "Parameter Store Change" event AWS publishes for a change (operation, name, type, description). */
export function parameterStoreChangeEvent(change: ParameterChange, options: { region: string; account?: string }): BusEvent {
  const account = options.account ?? LOCAL_ACCOUNT_ID;
  // ARNs join `parameter` and the name with one slash: `parameter/foo`, `parameter/a/b`.
  const arnName = change.name.startsWith('/') ? change.name : `/${change.name}`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Parameter Store Change',
    source: 'aws.ssm',
    account,
    time: eventBridgeTime(change.time),
    region: options.region,
    resources: [`arn:aws:ssm:${options.region}:${account}:parameter${arnName}`],
    detail: {
      operation: change.operation,
      name: change.name,
      type: change.type,
      ...(change.description !== undefined ? { description: change.description } : {}),
    },
  };
}

/**
 * The listener to give the local Parameter Store (`onChange` or `subscribe`): each change
 * becomes a Parameter Store Change event on the default bus, as on AWS.
 */
export function forwardParameterStoreChanges(
  bus: LocalEventBus,
  options: { region: string; account?: string; busName?: string },
): (change: ParameterChange) => void {
  const busName = options.busName ?? 'default';
  return (change) => {
    bus.put(busName, parameterStoreChangeEvent(change, options));
  };
}

/** Both change rules of registry/event-patterns.json, each delivering to `target` (the cache-refresh handler). */
export function changeEventRules(patterns: ChangeEventPatterns, target: EventTarget): LocalRule[] {
  return Object.entries(patterns.rules).map(([name, rule]) => ({ name, eventBus: rule.eventBus, pattern: rule.pattern, target }));
}
