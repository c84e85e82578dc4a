import { compilePattern, type EventMatcher } from './pattern-matcher';
import type { GenericLogger } from '../../core/logger';

/**
 * A small EventBridge for one machine: named buses, rules with event patterns (the
 * same ones the CDK rules use), targets invoked with the event, retries with backoff,
 * and a dead-letter list for events a target kept failing on.
 *
 * Unlike EventBridge, deliveries of one rule are kept in order per ordering key (by
 * default: the DynamoDB item, or the parameter name), so a later change of a key
 * never overtakes an earlier one locally; the cache's version guard makes order
 * irrelevant for correctness anyway, as it must be on AWS.
 */

/** An event as EventBridge delivers it to a target. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`, as EventBridge writes it. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export type EventTarget = (event: BusEvent) => unknown;

export interface LocalRule {
  readonly name: string;
  /** `default` or a custom bus name. */
  readonly eventBus: string;
  readonly pattern: unknown;
  readonly target: EventTarget;
}

export interface RetryPolicy {
  /** Tries per event and rule, the first included. @default 4 */
  readonly attempts?: number;
  /** Backoff before the second try; doubles each time, with jitter. @default 50 */
  readonly baseDelayMs?: number;
  /** @default 1000 */
  readonly maxDelayMs?: number;
}

export interface LocalEventBusOptions {
  readonly rules: readonly LocalRule[];
  readonly retry?: RetryPolicy;
  readonly logger?: GenericLogger;
  /** Deliveries with the same key (per rule) run one after another. @default {@link defaultOrderingKey} */
  readonly orderingKey?: (event: BusEvent) => string;
  /** Dead letters kept (oldest dropped first). @default 1000 */
  readonly maxDeadLetters?: number;
}

export interface DeadLetter {
  readonly rule: string;
  readonly event: BusEvent;
  readonly error: string;
  readonly attempts: number;
  readonly at: string;
}

export interface EventBusStats {
  put: number;
  /** Events no rule matched. */
  unmatched: number;
  delivered: number;
  retried: number;
  deadLettered: number;
}

export interface LocalEventBus {
  /** Routes an event to the matching rules of `busName`; returns the names of the rules that matched. */
  put(busName: string, event: BusEvent): string[];
  /** Resolves once every delivery queued so far has finished (delivered or dead-lettered). */
  idle(): Promise<void>;
  readonly deadLetters: readonly DeadLetter[];
  readonly stats: Readonly<EventBusStats>;
  /** Refuses new events and waits for the queued ones. */
  close(): Promise<void>;
}

/** The DynamoDB item (table + Keys) for stream records, the parameter name for Parameter Store events. */
export function defaultOrderingKey(event: BusEvent): string {
  const detail = event.detail as { dynamodb?: { Keys?: unknown }; eventSourceARN?: unknown; name?: unknown };
  if (detail.dynamodb?.Keys !== undefined) return `${String(detail.eventSourceARN)}|${canonicalJson(detail.dynamodb.Keys)}`;
  if (typeof detail.name === 'string') return `${event.source}|${detail.name}`;
  return event.id;
}

export function createLocalEventBus(options: LocalEventBusOptions): LocalEventBus {
  const rules = options.rules.map((rule) => {
    if (!rule.name) throw new Error('local event bus: every rule needs a name');
    let matcher: EventMatcher;
    try {
      matcher = compilePattern(rule.pattern);
    } catch (e) {
      throw new Error(`local event bus: rule '${rule.name}': ${(e as Error).message}`, { cause: e });
    }
    return { ...rule, matcher };
  });
  const attempts = Math.max(1, options.retry?.attempts ?? 4);
  const baseDelayMs = options.retry?.baseDelayMs ?? 50;
  const maxDelayMs = options.retry?.maxDelayMs ?? 1000;
  const orderingKey = options.orderingKey ?? defaultOrderingKey;
  const maxDeadLetters = options.maxDeadLetters ?? 1000;
  const logger = options.logger;
  const deadLetters: DeadLetter[] = [];
  const stats: EventBusStats = { put: 0, unmatched: 0, delivered: 0, retried: 0, deadLettered: 0 };
  /** Tail of each (rule, key) queue; removed when the queue drains. */
  const tails = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const deliver = async (rule: (typeof rules)[number], event: BusEvent): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await rule.target(event);
        stats.delivered += 1;
        return;
      } catch (e) {
        const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        if (attempt >= attempts) {
          stats.deadLettered += 1;
          deadLetters.push({ rule: rule.name, event, error, attempts: attempt, at: new Date().toISOString() });
          if (deadLetters.length > maxDeadLetters) deadLetters.shift();
          logger?.error('event dead-lettered after its last try', { rule: rule.name, eventId: event.id, attempts: attempt, error });
          return;
        }
        stats.retried += 1;
        logger?.warn('target failed; retrying', { rule: rule.name, eventId: event.id, attempt, error });
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
      }
    }
  };

  const enqueue = (rule: (typeof rules)[number], event: BusEvent): void => {
    const queue = `${rule.name}\u0000${orderingKey(event)}`;
    const previous = tails.get(queue) ?? Promise.resolve();
    const run = previous.then(() => deliver(rule, event));
    tails.set(queue, run);
    inFlight.add(run);
    void run.finally(() => {
      inFlight.delete(run);
      if (tails.get(queue) === run) tails.delete(queue);
    });
  };

  return {
    put(busName, event) {
      if (closed) throw new Error('local event bus is closed');
      stats.put += 1;
      const matched = rules.filter((r) => r.eventBus === busName && r.matcher(event));
      if (matched.length === 0) {
        stats.unmatched += 1;
        logger?.info('event matched no rule', { bus: busName, source: event.source, detailType: event['detail-type'], eventId: event.id });
      }
      for (const rule of matched) enqueue(rule, event);
      return matched.map((r) => r.name);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    deadLetters,
    stats,
    async close() {
      closed = true;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** JSON with object keys sorted, so equal Keys give equal ordering keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
