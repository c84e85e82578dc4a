/**
 * The rollout driver Lambda (docs/design.md §8.3), target of two EventBridge rules: a schedule
 * every minute (the bake clock) and "CloudWatch Alarm State Change" to ALARM (so a rollback does
 * not wait for the minute). Thin: both run one `RolloutService.tick()` and log its report. A
 * rollout whose step failed is retried by the next tick, so only a failed tick as a whole throws.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RolloutService, TickReport } from '../../core/rollout-service';
import { TagRegistry } from '../../core/tag-registry';
import { connectReadPath } from '../config-api/wiring';
import { ProcessResource } from '../shared/process-resource';
import { createTracer, traceHandler } from '../shared/tracing';
import { stampWriteTrace } from '../shared/write-trace';
import { readRolloutDriverEnvironment } from './environment';
import { triggerOf } from './trigger';
import { buildRolloutDriver, defaultDriverClients } from './wiring';

const logger = new Logger({ serviceName: 'rollout-driver' });
const tracer = createTracer('rollout-driver');
const metrics = new Metrics({ serviceName: 'rollout-driver', namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TenantConfig' });

interface Built {
  readonly driver: RolloutService;
  close(): Promise<void>;
}

const built = new ProcessResource<Built>(
  async () => {
    const env = readRolloutDriverEnvironment(process.env);
    const registry = TagRegistry.default();
    const readPath = await connectReadPath(process.env, registry, logger);
    const clients = defaultDriverClients();
    tracer.captureAWSv3Client(clients.dynamodb);
    tracer.captureAWSv3Client(clients.ssm);
    tracer.captureAWSv3Client(clients.cloudwatch);
    stampWriteTrace(clients.dynamodb, env.tableName, () => tracer.getRootXrayTraceId());
    return {
      driver: buildRolloutDriver({ env, clients, registry, reader: readPath.reader, logger }),
      close: async () => {
        Object.values(clients).forEach((c) => c.destroy());
        await readPath.close();
      },
    };
  },
  (b) => b.close(),
);

async function drive(event: unknown): Promise<TickReport> {
  const trigger = triggerOf(event);
  const report = await (await built.get()).driver.tick();
  logger.info('rollout tick', { trigger, checked: report.checked, changed: report.changed, failed: report.failed });
  metrics.addMetric('RolloutsChecked', MetricUnit.Count, report.checked);
  metrics.addMetric('RolloutsChanged', MetricUnit.Count, report.changed.length);
  metrics.addMetric('RolloutStepsFailed', MetricUnit.Count, report.failed.length);
  metrics.publishStoredMetrics();
  return report;
}

export const handler: (event: unknown, context?: unknown) => Promise<TickReport> = traceHandler(tracer, 'rollout-driver', drive, (event, report) => ({
  trigger: triggerOf(event).kind,
  checked: report?.checked,
  changed: report?.changed.length,
  failed: report?.failed.length,
}));

/** Closes the connections. The Lambda runtime never needs it; tests and local runs do. */
export const dispose = (): Promise<void> => built.dispose();
