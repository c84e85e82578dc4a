/**
 * OpenTelemetry spans of the fanout, off unless configured (FANOUT_TRACING, or an
 * OTEL_EXPORTER_OTLP_ENDPOINT in the environment: fanout/environment.ts).
 *
 * - **Watch setup**: one `Watch setup` span per Watch call, from the call to its first live
 *   event, with a child span per phase: `authenticate`, `resolve tenants`, `snapshot` (or
 *   `catch-up` when resuming). Attributes are kinds and counts, never a token, key or value.
 * - **Delivery**: one `deliver changes` span per batch the change hub reads from the log (events
 *   and shards in the batch), around the hub's dispatch into every stream's queue. Nothing is
 *   made per stream or per change: at 10,000 streams a span per stream would cost more than the
 *   delivery it measures.
 *
 * Spans go through a BatchSpanProcessor to an OTLP/HTTP exporter (the OTEL_EXPORTER_OTLP_*
 * variables apply; by default http://localhost:4318/v1/traces, an ADOT or OpenTelemetry
 * collector sidecar). Tests pass an InMemorySpanExporter instead.
 *
 * With tracing off no tracer exists: {@link watchSetupTrace} returns undefined and the change
 * log is not wrapped, so a Watch costs a few `undefined` checks and a change nothing.
 */
import { context, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { ChangeEvent, ChangeLog } from '../core/change-log';

/** The phases of a Watch's setup, each its own child span. */
export type WatchSetupPhase = 'authenticate' | 'resolve tenants' | 'snapshot' | 'catch-up';

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** One Watch's setup: phases as child spans, ended once the stream is live or has failed. */
export interface WatchSetupTrace {
  phase<T>(name: WatchSetupPhase, run: () => T | Promise<T>, attributes?: SpanAttributes): Promise<T>;
  annotate(attributes: SpanAttributes): void;
  /** Ends the setup span; with an error it is marked failed. Later calls do nothing. */
  end(error?: unknown): void;
}

export const TRACER_NAME = 'tenant-config-fanout';

/** The spans of one fanout process. */
export class FanoutTracing {
  private readonly tracer: Tracer;

  constructor(private readonly provider: TracerProvider) {
    this.tracer = provider.getTracer(TRACER_NAME);
  }

  /** Spans to `exporter`; `simple` exports each span as it ends (tests), else in batches. */
  static withExporter(exporter: SpanExporter, options: { simple?: boolean } = {}): FanoutTracing {
    const processor = options.simple ? new SimpleSpanProcessor({ exporter }) : new BatchSpanProcessor({ exporter });
    return new FanoutTracing(new TracerProvider({ spanProcessors: [processor] }));
  }

  /** OTLP over HTTP, configured by the standard OTEL_EXPORTER_OTLP_* variables. */
  static otlp(): FanoutTracing {
    return FanoutTracing.withExporter(new OTLPTraceExporter());
  }

  startWatch(): WatchSetupTrace {
    const root = this.tracer.startSpan('Watch setup');
    const parent = trace.setSpan(context.active(), root);
    let ended = false;
    return {
      phase: async (name, run, attributes) => {
        const span = this.tracer.startSpan(name, { attributes }, parent);
        try {
          return await run();
        } catch (error) {
          failed(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
      annotate: (attributes) => {
        root.setAttributes(attributes);
      },
      end: (error) => {
        if (ended) return;
        ended = true;
        if (error !== undefined) failed(root, error);
        root.end();
      },
    };
  }

  /**
   * The change log, with one span around each batch `follow` hands over. Every other method is
   * the log's own, unchanged.
   */
  traceChangeLog(log: ChangeLog): ChangeLog {
    const tracer = this.tracer;
    const follow: ChangeLog['follow'] = (start, onBatch, options) => log.follow(start, (events) => deliverBatch(tracer, events, onBatch), options);
    const bound = new Map<PropertyKey, unknown>();
    return new Proxy(log, {
      get(target, property) {
        if (property === 'follow') return follow;
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        if (!bound.has(property)) bound.set(property, (value as (...args: unknown[]) => unknown).bind(target));
        return bound.get(property);
      },
    });
  }

  /** Exports what is buffered and stops. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

function deliverBatch(tracer: Tracer, events: readonly ChangeEvent[], onBatch: (events: readonly ChangeEvent[]) => void | Promise<void>): void | Promise<void> {
  const span = tracer.startSpan('deliver changes', { attributes: { 'fanout.batch.events': events.length, 'fanout.batch.shards': shardCount(events) } });
  let result: void | Promise<void>;
  try {
    result = onBatch(events);
  } catch (error) {
    failed(span, error);
    span.end();
    throw error;
  }
  if (!(result instanceof Promise)) {
    span.end();
    return result;
  }
  return result.then(
    () => span.end(),
    (error: unknown) => {
      failed(span, error);
      span.end();
      throw error;
    },
  );
}

function shardCount(events: readonly ChangeEvent[]): number {
  const shards = new Set<string>();
  // The cursor's second field is the shard (`c1.<shard>.<epoch>.<id>`, core/change-log.ts).
  for (const e of events) shards.add(e.cursor.split('.', 3)[1] ?? '');
  return shards.size;
}

function failed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
  if (error instanceof Error) span.recordException({ name: error.name, message: error.message });
}

/** The process's tracing: set once at start by main.ts (and by tests). */
let active: FanoutTracing | undefined;

export function useFanoutTracing(tracing: FanoutTracing | undefined): void {
  active = tracing;
}

/** A new Watch's setup trace, or undefined when tracing is off. */
export function watchSetupTrace(): WatchSetupTrace | undefined {
  return active?.startWatch();
}
