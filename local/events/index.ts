/**
 * Local change events (docs/design.md §5): the same event patterns and record shapes as on AWS,
 * for a write by any client. For local/system.ts:
 *
 *   const bus = createLocalEventBus({ rules: changeEventRules(patterns, (e) => refresher.refresh(e)) });
 *   const proxy = await startDynamoDbStreamProxy({ dynaliteEndpoint, tableName, region,
 *     onRecord: (r) => pipe(r) });          // pipe = createLocalPipe({ bus, patterns, streamArn: proxy.streamArn, region })
 *   parameterStore.subscribe(forwardParameterStoreChanges(bus, { region }));
 *
 * `startLocalChangeEvents` below does exactly that wiring in one call.
 */
export { compilePattern, matchesPattern, InvalidEventPatternError, type EventMatcher } from './pattern-matcher';
export {
  createLocalEventBus,
  defaultOrderingKey,
  type BusEvent,
  type DeadLetter,
  type EventTarget,
  type LocalEventBus,
  type LocalEventBusOptions,
  type LocalRule,
  type RetryPolicy,
} from './local-event-bus';
export { startDynamoDbStreamProxy, type DynamoDbStreamProxy, type DynamoDbStreamProxyOptions } from './dynamodb-stream-proxy';
export { recordForChange, type StreamRecord, type Image } from './stream-record';
export {
  LOCAL_ACCOUNT_ID,
  changeEventRules,
  createLocalPipe,
  eventBridgeTime,
  forwardParameterStoreChanges,
  parameterStoreChangeEvent,
} from './change-event-sources';
export { startLocalChangeEvents, type LocalChangeEvents, type LocalChangeEventsOptions } from './local-change-events';
