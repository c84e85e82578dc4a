/**
 * The config-api Lambda entry point. Dependencies are built on the first invocation and kept
 * for the life of the process; a configuration error fails that invocation with the name of
 * the variable at fault, and the next invocation tries again.
 *
 * Traced (lambda/shared/tracing.ts): one `## config-api` subsegment per request, annotated with
 * route, tenant and status; the SDK calls as subsegments of it; and every item put on the tenant
 * table carries the request's root trace id (lambda/shared/write-trace.ts), so the cache-refresh
 * of the change logs the trace of the write that made it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { TagRegistry } from '../../core/tag-registry';
import { ProcessResource } from '../shared/process-resource';
import { createTracer, traceHandler } from '../shared/tracing';
import { stampWriteTrace } from '../shared/write-trace';
import { readConfigApiEnvironment } from './environment';
import { createHandler, type ConfigApiDeps, type ConfigApiEvent, type ConfigApiLambdaHandler } from './handler';
import { buildConfigApiDeps, connectReadPath, defaultClients, resolvePageTokenSecret } from './wiring';

const tracer = createTracer('config-api');

interface Ready {
  readonly deps: ConfigApiDeps;
  readonly handle: ConfigApiLambdaHandler;
}

const ready = new ProcessResource<Ready>(
  async () => {
    const env = await resolvePageTokenSecret(readConfigApiEnvironment(process.env));
    const logger = new Logger({ serviceName: 'config-api' });
    const registry = TagRegistry.default();
    const readPath = await connectReadPath(process.env, registry, logger);
    const clients = defaultClients();
    tracer.captureAWSv3Client(clients.dynamodb);
    tracer.captureAWSv3Client(clients.ssm);
    stampWriteTrace(clients.dynamodb, env.tableName, () => tracer.getRootXrayTraceId());
    const deps: ConfigApiDeps = { ...buildConfigApiDeps({ env, clients, logger, registry, reader: readPath.reader }), dispose: readPath.close };
    return { deps, handle: createHandler(deps) };
  },
  async ({ deps }) => deps.dispose?.(),
);

/** Searchable in X-Ray; names and ids only, never a value. */
function annotations(event: ConfigApiEvent, result: { statusCode?: number } | undefined): Record<string, string | number | undefined> {
  const tenant = event.requestContext?.authorizer?.jwt?.claims?.tenant_id;
  return { route: event.routeKey, tenant: typeof tenant === 'string' ? tenant : undefined, status: result?.statusCode };
}

export const handler: ConfigApiLambdaHandler = traceHandler(
  tracer,
  'config-api',
  async (event, context) => (await ready.get()).handle(event, context),
  annotations,
);

/** Closes the process-wide connections (tests and local runs; a Lambda process just ends). */
export const dispose = (): Promise<void> => ready.dispose();
