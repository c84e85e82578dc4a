/**
 * The cache-refresh Lambda, target of two EventBridge rules (registry/event-patterns.json):
 * DynamoDB stream records from the Pipe, and Parameter Store changes. One event per
 * invocation. Thin: it builds the refresher once, refreshes, and flushes the metrics.
 * It throws only for transient failures (cache or store unavailable), so the rule's
 * retry policy and DLQ apply; bad events are dropped inside the refresher.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ProcessResource } from '../shared/process-resource';
import { createTracer, traceHandler } from '../shared/tracing';
import { changeOriginOf } from '../shared/write-trace';
import type { CacheRefresher, RefreshOutcome } from './refresh';
import { readCacheRefreshEnvironment } from './environment';
import { buildCacheRefresher, connectCacheFromEnvironment } from './wiring';

const logger = new Logger({ serviceName: 'cache-refresh' });
const tracer = createTracer('cache-refresh');
const metrics = new Metrics({ serviceName: 'cache-refresh', namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TenantConfig' });

interface Built {
  readonly refresher: CacheRefresher;
  close(): Promise<void>;
}

const built = new ProcessResource<Built>(
  async () => {
    const environment = readCacheRefreshEnvironment();
    const { cache, disconnect } = await connectCacheFromEnvironment(process.env, logger);
    const ssm = tracer.captureAWSv3Client(new SSMClient({}));
    return {
      refresher: buildCacheRefresher({ environment, cache, ssm, logger, metrics }),
      close: async () => {
        ssm.destroy();
        await disconnect();
      },
    };
  },
  (b) => b.close(),
);

async function refresh(event: unknown): Promise<RefreshOutcome> {
  // A failed start (cache not reachable yet) is retried by the next invocation, not kept.
  const outcome = await (await built.get()).refresher.refresh(event);
  // Every outcome counts itself; a thrown failure shows in the function's Errors metric instead.
  metrics.publishStoredMetrics();
  return outcome;
}

/**
 * Traced: the `## cache-refresh` subsegment carries the outcome and the write's trace id as
 * annotations, so X-Ray finds the refresh of a write by `annotation.writeTraceId`.
 */
export const handler: (event: unknown, context?: unknown) => Promise<RefreshOutcome> = traceHandler(tracer, 'cache-refresh', refresh, (event, outcome) => ({
  ...changeOriginOf(event),
  outcome: outcome?.outcome,
  source: outcome && 'source' in outcome ? outcome.source : undefined,
  tenant: outcome && 'tenant' in outcome ? outcome.tenant : undefined,
}));

/** Closes the connections. The Lambda runtime never needs it; tests and local runs do. */
export const dispose = (): Promise<void> => built.dispose();
