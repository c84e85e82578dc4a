/**
 * X-Ray tracing of the Lambda handlers with the Powertools Tracer. The function runs with active
 * tracing (lib/common/service-function.ts), so Lambda opens the invocation's segment; this adds
 * one `## <handler>` subsegment per invocation with the cold-start, service and handler
 * annotations (searchable in X-Ray: `annotation.tenant = "acme"`), the error if it throws, and
 * never the response (it holds configuration values: POWERTOOLS_TRACER_CAPTURE_RESPONSE=false,
 * and this wrapper records none either).
 *
 * The same id crosses the asynchronous hops as data: the config-api stamps its root trace id
 * into the table items it writes (write-trace.ts), the stream image carries it to the
 * cache-refresh, which logs it (docs/embedding.md, "Tracing").
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

/** An annotation value X-Ray indexes. */
export type AnnotationValue = string | number | boolean;

/** What a segment needs to offer here (aws-xray-sdk-core's Segment and Subsegment do). */
export interface TraceSegment {
  addNewSubsegment(name: string): TraceSubsegment;
}

export interface TraceSubsegment extends TraceSegment {
  close(error?: Error | string | null): void;
}

/** The part of Powertools' Tracer the wrapper uses: a test passes its own. */
export interface HandlerTracer {
  isTracingEnabled(): boolean;
  getSegment(): unknown;
  setSegment(segment: never): void;
  annotateColdStart(): void;
  addServiceNameAnnotation(): void;
  putAnnotation(key: string, value: AnnotationValue): void;
  addErrorAsMetadata(error: Error, remote?: boolean): void;
  getRootXrayTraceId(): string | undefined;
}

/** One tracer per process, configured by the POWERTOOLS_* variables the construct sets. */
export function createTracer(serviceName: string): Tracer {
  return new Tracer({ serviceName, captureHTTPsRequests: false });
}

/**
 * Wraps a handler in its `## <name>` subsegment. `annotate` picks searchable facts of the event
 * and the result (route, tenant, status, outcome), never values. With tracing off (outside
 * Lambda, or POWERTOOLS_TRACE_ENABLED=false) the handler runs as it is.
 */
export function traceHandler<E, C, R>(
  tracer: HandlerTracer,
  name: string,
  handler: (event: E, context: C) => Promise<R>,
  annotate?: (event: E, result: R | undefined) => Readonly<Record<string, AnnotationValue | undefined>>,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    const parent = tracer.isTracingEnabled() ? (tracer.getSegment() as TraceSegment | undefined) : undefined;
    if (!parent) return handler(event, context);
    const subsegment = parent.addNewSubsegment(`## ${name}`);
    tracer.setSegment(subsegment as never);
    let result: R | undefined;
    try {
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      result = await handler(event, context);
      return result;
    } catch (error) {
      tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      for (const [key, value] of Object.entries(annotate?.(event, result) ?? {})) {
        if (value !== undefined) tracer.putAnnotation(key, value);
      }
      subsegment.close();
      tracer.setSegment(parent as never);
    }
  };
}
