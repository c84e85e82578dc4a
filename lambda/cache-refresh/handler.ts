/**
 * The cache-refresh Lambda, target of two EventBridge rules (registry/event-patterns.json):
 * DynamoDB stream records from the Pipe, and Parameter Store changes. One event per
 * invocation. Thin: it builds the refresher once, refreshes, and flushes the metrics.
 * It throws only for transient failures (cache or store unavailable), so the rule's
 * retry policy and DLQ apply; bad events are dropped inside the refresher.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { CacheRefresher, RefreshOutcome } from './refresh';
import { readCacheRefreshEnvironment } from './environment';
import { buildCacheRefresher, connectCacheFromEnvironment } from './wiring';

const logger = new Logger({ serviceName: 'cache-refresh' });
const metrics = new Metrics({ serviceName: 'cache-refresh', namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TenantConfig' });

let refresher: Promise<CacheRefresher> | undefined;

async function build(): Promise<CacheRefresher> {
  const environment = readCacheRefreshEnvironment();
  const cache = await connectCacheFromEnvironment(process.env, logger);
  return buildCacheRefresher({ environment, cache, logger, metrics });
}

export async function handler(event: unknown): Promise<RefreshOutcome> {
  // A failed start (cache not reachable yet) is retried by the next invocation, not cached.
  const pending = (refresher ??= build().catch((e: unknown) => {
    refresher = undefined;
    throw e;
  }));
  try {
    return await (await pending).refresh(event);
  } finally {
    metrics.publishStoredMetrics();
  }
}
