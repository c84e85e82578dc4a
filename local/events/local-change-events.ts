import { eventPatternVariables, resolveChangeEventPatterns, type ChangeEventPatterns } from '../../core/event-patterns';
import { TagRegistry } from '../../core/tag-registry';
import { parameterLayout } from '../../lambda/cache-refresh/wiring';
import type { ParameterChange } from '../parameter-store';
import { changeEventRules, createLocalPipe, forwardParameterStoreChanges } from './change-event-sources';
import { startDynamoDbStreamProxy, type DynamoDbStreamProxy } from './dynamodb-stream-proxy';
import { createLocalEventBus, type EventTarget, type LocalEventBus, type RetryPolicy } from './local-event-bus';
import type { StreamRecord } from './stream-record';
import type { GenericLogger } from '../../core/logger';

export interface LocalChangeEventsOptions {
  /** dynalite's own endpoint; clients get the proxy's instead. */
  readonly dynaliteEndpoint: string;
  readonly tableName: string;
  readonly region: string;
  /** The stage's Parameter Store hierarchy, `/<ssmRoot>/<stage>/tenants/`, for the Parameter Store rule. */
  readonly ssmRoot: string;
  readonly stage: string;
  /** What both rules deliver to: the cache-refresh handler, e.g. `(event) => refresher.refresh(event)`. */
  readonly target: EventTarget;
  /** The local Parameter Store, whose changes become Parameter Store Change events. */
  readonly parameterStore?: { subscribe(listener: (change: ParameterChange) => void): () => void };
  /** @default a free port */
  readonly proxyPort?: number;
  readonly retry?: RetryPolicy;
  readonly logger?: GenericLogger;
  /** @default TagRegistry.default() */
  readonly registry?: TagRegistry;
}

export interface LocalChangeEvents {
  readonly bus: LocalEventBus;
  /** Advertise `proxy.endpoint` as the DynamoDB endpoint. */
  readonly proxy: DynamoDbStreamProxy;
  readonly patterns: ChangeEventPatterns;
  /** Stops the proxy, unsubscribes from the Parameter Store and waits for queued deliveries. */
  close(): Promise<void>;
}

/**
 * The whole local change-event path in one call: stream proxy → Pipe → config-changes
 * bus, and Parameter Store → default bus, both routed by the patterns of
 * registry/event-patterns.json to `target`.
 */
export async function startLocalChangeEvents(options: LocalChangeEventsOptions): Promise<LocalChangeEvents> {
  const registry = options.registry ?? TagRegistry.default();
  const layout = parameterLayout(options.ssmRoot, options.stage);
  const patterns = resolveChangeEventPatterns(eventPatternVariables({ ssmTenantsPath: layout.tenantsPath, registry }));
  const bus = createLocalEventBus({ rules: changeEventRules(patterns, options.target), retry: options.retry, logger: options.logger });
  // The Pipe needs the proxy's stream ARN, the proxy needs somewhere to send records: tie the knot.
  const pipe: { send?: (record: StreamRecord) => void } = {};
  const proxy = await startDynamoDbStreamProxy({
    dynaliteEndpoint: options.dynaliteEndpoint,
    tableName: options.tableName,
    region: options.region,
    port: options.proxyPort,
    onRecord: (record) => pipe.send?.(record),
    onError: (error) => options.logger?.error('stream proxy', { error: error.message }),
  });
  pipe.send = createLocalPipe({ bus, patterns, streamArn: proxy.streamArn, region: options.region, logger: options.logger });
  const unsubscribe = options.parameterStore?.subscribe(forwardParameterStoreChanges(bus, { region: options.region }));
  return {
    bus,
    proxy,
    patterns,
    async close() {
      unsubscribe?.();
      await proxy.close();
      await bus.close();
    },
  };
}
