/**
 * The fanout process (the Fargate task's entry, and a child process in tests): settings
 * from the environment once, SDK and Redis clients once, the server, and SIGTERM → drain →
 * exit. `startFanoutServer` is re-exported for the local runtime and tests.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { buildConfigBackends } from '../adapters/config-backends';
import { RedisChangeLog } from '../adapters/redis/redis-change-log';
import { RedisConnector, waitUntilReady } from '../adapters/redis/redis-connection';
import { ConfigService } from '../core/config-service';
import { PageTokenCodec } from '../core/page-token';
import { TagRegistry } from '../core/tag-registry';
import { TagRouter } from '../core/tag-router';
import { DynamoDbTenantRegistry } from '../adapters/dynamodb/dynamodb-tenant-registry';
import { TenantSchema } from '../core/tenant-attributes';
import { FanoutLayers } from './fanout-layers';
import { readFanoutEnvironment, type FanoutEnvironment } from './environment';
import { EmfFanoutMetrics, InMemoryFanoutMetrics } from './metrics';
import { startFanoutServer, type FanoutServer } from './server';
import { backendTenantDirectory, configServiceSnapshotSource } from './snapshot-source';
import { createJwtVerifier } from './token-verifier';
import { FanoutTracing, useFanoutTracing } from './tracing';
import type { GenericLogger } from '../core/logger';

export { startFanoutServer, type FanoutDeps, type FanoutServer } from './server';

export interface RunningFanout {
  readonly server: FanoutServer;
  /** Drains the server, then closes the change log and the clients. */
  shutdown(): Promise<void>;
}

/** Builds every dependency from validated settings and starts listening. */
export async function runFanout(env: FanoutEnvironment, logger: GenericLogger): Promise<RunningFanout> {
  const registry = TagRegistry.default();

  const connector = await RedisConnector.create(env.redis, { logger });
  const redis = connector.connect('commands');
  await waitUntilReady(redis, env.redis.connectTimeoutMs * 5);
  const changeLog = new RedisChangeLog(redis, env.cache, { blockingConnection: () => connector.connect('blocking') });
  const tracing = env.tracing === 'otlp' ? FanoutTracing.otlp() : undefined;
  useFanoutTracing(tracing);

  // Region, credentials and endpoints (AWS_ENDPOINT_URL_*) from the standard AWS environment.
  const dynamodb = new DynamoDBClient({});
  const ssm = new SSMClient({});
  const { tableName, ssmRoot, stage, ssmKmsKeyId } = env.backends;
  const backends = buildConfigBackends({ tableName, ssmRoot, stage, ssmKmsKeyId }, { dynamodb, ssm }, registry);
  const router = new TagRouter(registry, backends);
  // Snapshot page tokens never leave this process: a per-process secret is enough. The service
  // reads tenants' own items; the defaults come from the process's layers (fanout/fanout-layers.ts).
  const service = new ConfigService(router, new PageTokenCodec(randomBytes(32).toString('hex')));
  const tenantRegistry = new DynamoDbTenantRegistry({ client: dynamodb, tableName });
  const layers = new FanoutLayers({ router, tenants: tenantRegistry, schema: TenantSchema.default(), logger });

  const verifier = createJwtVerifier(env.jwt);
  try {
    await verifier.hydrate();
  } catch (error) {
    // Not fatal: the keys are fetched again on the first call that needs them.
    logger.warn('could not fetch the JWKS at start', { error: String(error) });
  }

  const metrics = env.metrics === 'emf' ? new EmfFanoutMetrics() : new InMemoryFanoutMetrics();
  const server = await startFanoutServer(
    {
      verifier,
      changeLog: tracing ? tracing.traceChangeLog(changeLog) : changeLog,
      snapshots: configServiceSnapshotSource(service),
      tenants: backendTenantDirectory(Object.values(backends), tenantRegistry),
      layers,
      registry,
      metrics,
      logger,
      watch: env.watch,
      connection: env.connection,
      events: env.events,
    },
    { host: env.host, port: env.port, eventsPort: env.eventsPort },
  );

  let closing: Promise<void> | undefined;
  return {
    server,
    shutdown: () =>
      (closing ??= (async () => {
        await server.drain();
        if (metrics instanceof EmfFanoutMetrics) metrics.stop();
        await changeLog.close();
        await tracing?.shutdown().catch((error: unknown) => logger.warn('could not export the last spans', { error: String(error) }));
        useFanoutTracing(undefined);
        redis.disconnect();
        dynamodb.destroy();
        ssm.destroy();
      })()),
  };
}

async function main(): Promise<void> {
  const logger = new Logger({ serviceName: 'fanout' });
  let env: FanoutEnvironment;
  try {
    env = readFanoutEnvironment(process.env);
  } catch (error) {
    process.stderr.write(`fanout: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const running = await runFanout(env, logger);
  logger.info('fanout ready', { port: running.server.port, eventsPort: running.server.eventsPort });
  const stop = (signal: string) => {
    logger.info('draining', { signal });
    running.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('drain failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`fanout: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
