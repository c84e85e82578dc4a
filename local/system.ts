/**
 * The whole system on one machine: dynalite for the tenant table behind the
 * stream proxy, the local Parameter Store, the cache (a private redis-server, restarted when it
 * dies, or in memory),
 * the local API Gateway in front of the same config-api handler the Lambda runs, change
 * events routed to the same cache-refresh code, and the gRPC fanout over the cache's change
 * log. Data lives under one directory, so a restart keeps it (the cache is rebuilt from the
 * stores). `npm start` is a thin script over {@link startLocalSystem}; tests call it with
 * port 0 and a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import dynalite from 'dynalite';
import { createTenantTableInput } from '../adapters/dynamodb/table-definition';
import { CachedItemReader, readerPoliciesFromRegistry } from '../core/cached-item-reader';
import { TagRegistry } from '../core/tag-registry';
import type { ChangeLog } from '../core/change-log';
import { TagRouter } from '../core/tag-router';
import { ConfigService } from '../core/config-service';
import { PageTokenCodec } from '../core/page-token';
import { TenantSchema } from '../core/tenant-attributes';
import { DynamoDbTenantRegistry } from '../adapters/dynamodb/dynamodb-tenant-registry';
import { FanoutLayers } from '../fanout/fanout-layers';
import { startFanoutServer, type FanoutServer } from '../fanout/main';
import type { WatchServiceSettings } from '../fanout/watch-service';
import { buildConfigBackends } from '../adapters/config-backends';
import { backendTenantDirectory, configServiceSnapshotSource } from '../fanout/snapshot-source';
import { createJwtVerifier } from '../fanout/token-verifier';
import { buildCacheRefresher } from '../lambda/cache-refresh/wiring';
import { createHandler } from '../lambda/config-api/handler';
import { readConfigApiEnvironment } from '../lambda/config-api/environment';
import { buildConfigApiDeps, type AwsClients } from '../lambda/config-api/wiring';
import { ADMIN_GROUP, LOCAL_CLIENT_ID, LOCAL_ISSUER, TENANT_CLAIM, openDevSigner, type DevSigner } from './dev-signer';
import { startLocalChangeEvents, type LocalChangeEvents } from './events';
import { consoleSite } from './console-site';
import { eventsProxy } from './events-proxy';
import { startHttpFront, type HttpFront } from './http-front';
import { alarmsSite } from './alarms-site';
import { LocalAlarms } from './local-alarms';
import { startRolloutTimer, type RolloutTimer } from './rollout-timer';
import { createJwtAuthorizer } from './jwt-authorizer';
import { startLocalCache, type LocalCacheMode, type LocalRedis, type LocalRedisOptions } from './local-cache';
import { startLocalParameterStore, type LocalParameterStore } from './parameter-store';
import { CountingRefreshMetrics } from './refresh-counters';

/** The built admin console (`npm run build`), served at /console/. */
const CONSOLE_DIST = join(__dirname, '..', 'console', 'dist');
/** Where the local front serves the dev signer's JWKS, as Cognito serves a pool's. */
const JWKS_PATH = '/.well-known/jwks.json';

/** What `.local/endpoints.json` holds; `redis` is absent while the cache is in memory. */
export interface LocalEndpoints {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8080`. */
  readonly http: string;
  /** `host:port` of the gRPC Watch service. */
  readonly grpc: string;
  /**
   * DynamoDB endpoint for SDKs and `aws --endpoint-url`: the stream proxy in front of dynalite,
   * so a write by any client becomes a change event.
   */
  readonly dynamodb: string;
  /** Parameter Store endpoint for SDKs and `aws --endpoint-url`. */
  readonly ssm: string;
  /** `redis://127.0.0.1:<port>` of the private redis-server; absent while the cache is in memory. */
  readonly redis?: string;
  readonly region: string;
  /** The tenant table's name. */
  readonly table: string;
  /** First segment of parameter names: `/<ssmRoot>/<stage>/tenants/<tenant>/<name>`. */
  readonly ssmRoot: string;
  /** The local user pool's issuer, exactly as tokens carry it in `iss`. */
  readonly issuer: string;
  /** The local app client id (`client_id` of user tokens), for verifying end users' tokens. */
  readonly clientId: string;
  /** Where the local front serves the pool's JWKS (the issuer's own URL does not resolve). */
  readonly jwksUri: string;
  /** `GET /v1/events` (the Watch as server-sent events) on the local front, which streams it from the fanout. */
  readonly events: string;
}

export interface LocalSystemOptions {
  /** Where data, the signing key and endpoints.json live. @default '.local' */
  readonly dir?: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** HTTP API port; 0 picks a free one. @default 8080 */
  readonly port?: number;
  /** The fanout's gRPC port; 0 picks a free one. @default 50051 */
  readonly grpcPort?: number;
  /** The fanout's own events port, behind the front's `/v1/events`. @default 0 (a free port) */
  readonly eventsPort?: number;
  /** The fanout's Watch settings (tests shorten the heartbeat). @default DEFAULT_WATCH_SETTINGS */
  readonly fanoutWatch?: Partial<WatchServiceSettings>;
  /** How often the local rollout driver ticks (local/rollout-timer.ts). @default 250 */
  readonly rolloutTickMs?: number;
  /** Port of the advertised DynamoDB endpoint (the stream proxy; dynalite sits behind it). @default 0 (a free port) */
  readonly dynamodbPort?: number;
  /** @default 0 (a free port) */
  readonly ssmPort?: number;
  /** @default 'local' */
  readonly stage?: string;
  /** @default 'tenant-config' */
  readonly ssmRoot?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default a random secret kept in `<dir>/page-token-secret` */
  readonly pageTokenSecret?: string;
  /** The config-api's logger. @default a Powertools Logger (level from POWERTOOLS_LOG_LEVEL) */
  readonly logger?: Logger;
  /** `auto`: a private redis-server when one is on PATH, in memory otherwise. @default 'auto' */
  readonly cache?: LocalCacheMode;
  /**
   * How the private redis-server is run and restarted when it dies (the same port, empty).
   * @default redis-server from PATH, restarted after 100 ms doubling to 5 s while starts fail
   */
  readonly redisServer?: LocalRedisOptions;
  /**
   * How long the fanout's drain on stop() waits for streams to end after `reconnect`.
   * @default 5000 (a local stop should not take the 20 s a Fargate task gets)
   */
  readonly fanoutDrainMs?: number;
  /**
   * Serve registered tenants only (403 for others), as REQUIRE_TENANT_REGISTRATION does on AWS.
   * @default REQUIRE_TENANT_REGISTRATION from the environment, else false
   */
  readonly requireTenantRegistration?: boolean;
  /** The built admin console served at /console/. @default console/dist of this checkout */
  readonly consoleDir?: string;
}

/** The cache as the local system runs it, for the start-up banner and fault tests. */
export interface LocalCacheStatus {
  readonly kind: 'redis' | 'memory';
  /** The API's read path: its counters and breaker state show what the cache answered. */
  readonly reader: CachedItemReader;
  /** Change events applied / ignored / dropped by the cache refresh. */
  readonly refreshes: CountingRefreshMetrics;
  /**
   * The private redis-server (kind `redis` only), supervised: restarted empty on the same port
   * when it dies. Its pid, the supervisor's state, and hooks to hold it down and start it again.
   */
  readonly redis?: LocalRedis;
}

export interface LocalSystem {
  readonly endpoints: LocalEndpoints;
  /** Absolute path of the data directory. */
  readonly dir: string;
  readonly endpointsFile: string;
  /** The dev signer whose tokens the HTTP front and the fanout accept. */
  readonly signer: DevSigner;
  readonly cache: LocalCacheStatus;
  /** The change log the cache appends to and the fanout follows (tests count its entries). */
  readonly changeLog: ChangeLog;
  readonly fanout: FanoutServer;
  /** The local alarms rollouts watch (`PUT /local/alarms/{name}` sets them). */
  readonly alarms: LocalAlarms;
  /** The local rollout driver; `tickNow()` runs a step at once (tests). */
  readonly rollouts: RolloutTimer;
  /** Stops every server, in reverse order of start, and removes endpoints.json. Idempotent. */
  stop(): Promise<void>;
}

export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_GRPC_PORT = 50051;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export const tableNameFor = (stage: string): string => `tenant-config-${stage}`;

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const dir = options.dir ?? '.local';
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const ssmRoot = options.ssmRoot ?? 'tenant-config';
  const region = options.region ?? 'us-east-1';
  const table = tableNameFor(stage);
  mkdirSync(dir, { recursive: true });
  const endpointsFile = join(dir, 'endpoints.json');
  const releaseLock = acquireLock(dir);
  // A stale file from a run that crashed must not tell anyone we are ready.
  rmSync(endpointsFile, { force: true });

  const stops: Array<() => Promise<void>> = [async () => releaseLock()];
  const stopAll = async () => {
    rmSync(endpointsFile, { force: true });
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (e) {
        process.stderr.write(`local system: error while stopping: ${(e as Error).message}\n`);
      }
    }
  };

  try {
    const signer = openDevSigner(dir);

    // dynalite itself is internal; DYNAMODB_PORT is the advertised endpoint, the stream proxy's.
    const dynamo = await startDynalite(join(dir, 'dynamodb'), host, 0);
    stops.push(dynamo.close);
    await ensureTable(dynamo.endpoint, region, table);

    const parameterStore: LocalParameterStore = await startLocalParameterStore({
      host,
      port: options.ssmPort ?? 0,
      dataFile: join(dir, 'ssm.json'),
    });
    stops.push(() => parameterStore.close());
    const ssmClient = new SSMClient({ endpoint: parameterStore.endpoint, region, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => ssmClient.destroy());

    const logger = options.logger ?? new Logger({ serviceName: 'config-api' });
    const registry = TagRegistry.default();
    const local = await startLocalCache({
      mode: options.cache ?? 'auto',
      dataDir: join(dir, 'redis'),
      host,
      logger: options.logger ?? new Logger({ serviceName: 'local-cache' }),
      redisServer: options.redisServer,
    });
    stops.push(() => local.close());

    // Change events for a write by any client: the stream proxy sees every DynamoDB write,
    // the Parameter Store reports its own; both reach the same cache-refresh code as on AWS.
    const refreshes = new CountingRefreshMetrics();
    const refresher = buildCacheRefresher({
      environment: { ssmRoot, stage },
      cache: local.cache,
      ssm: ssmClient,
      registry,
      logger: new Logger({ serviceName: 'cache-refresh' }),
      metrics: refreshes,
    });
    const events: LocalChangeEvents = await startLocalChangeEvents({
      dynaliteEndpoint: dynamo.endpoint,
      tableName: table,
      region,
      ssmRoot,
      stage,
      target: (event) => refresher.refresh(event),
      parameterStore,
      proxyPort: options.dynamodbPort ?? 0,
      registry,
      logger: new Logger({ serviceName: 'local-events' }),
    });
    stops.push(() => events.close());

    // The API's own writes go through the proxy too, so they produce stream records like anyone's.
    const dynamodbClient = new DynamoDBClient({ endpoint: events.proxy.endpoint, region, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => dynamodbClient.destroy());

    const environment = readConfigApiEnvironment({
      TABLE_NAME: table,
      SSM_ROOT: ssmRoot,
      STAGE: stage,
      PAGE_TOKEN_SECRET: options.pageTokenSecret ?? pageTokenSecret(dir),
      TENANT_CLAIM,
      ADMIN_GROUP,
      // The same variable, parsed the same way, as the Lambda's (the registry and layers are wired by buildConfigApiDeps).
      REQUIRE_TENANT_REGISTRATION:
        options.requireTenantRegistration === undefined ? process.env.REQUIRE_TENANT_REGISTRATION : String(options.requireTenantRegistration),
    });
    const clients = { dynamodb: dynamodbClient, ssm: ssmClient } satisfies AwsClients;
    const reader = new CachedItemReader(local.cache, { ...readerPoliciesFromRegistry(registry), logger });
    const backends = buildConfigBackends(environment, clients, registry);
    const alarms = new LocalAlarms();
    const deps = buildConfigApiDeps({ env: environment, clients, logger, registry, reader, backends, alarms });
    const handler = createHandler(deps);
    const rollouts = startRolloutTimer(deps.rollouts!, alarms, { intervalMs: options.rolloutTickMs, logger: new Logger({ serviceName: 'rollout-driver' }) });
    stops.push(() => rollouts.stop());

    const front: HttpFront = await startHttpFront({
      handler,
      // The dev signer mints service tokens for any name, as if each were a registered app client.
      authorizer: createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], anyServiceClient: true, jwks: signer.jwks }),
      host,
      port: options.port ?? DEFAULT_HTTP_PORT,
      publicDocuments: { [JWKS_PATH]: signer.jwks },
      sites: [alarmsSite(alarms), consoleSite({ distDir: options.consoleDir ?? CONSOLE_DIST, signer }), eventsProxy(() => fanoutEvents.url)],
    });
    stops.push(() => front.close());
    // Set once the fanout listens: until then the front's /v1/events answers 503.
    const fanoutEvents: { url?: string } = {};

    const tenantRegistry = new DynamoDbTenantRegistry({ client: dynamodbClient, tableName: table });
    const fanout = await startFanoutServer(
      {
        verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], anyServiceClient: true, jwks: signer.jwks }),
        changeLog: local.changeLog,
        // Tenants' own items only: the fanout adds the defaults from its layers (fanout/fanout-layers.ts).
        snapshots: configServiceSnapshotSource(new ConfigService(new TagRouter(registry, backends), new PageTokenCodec(randomBytes(32).toString('hex')))),
        tenants: backendTenantDirectory(Object.values(backends), tenantRegistry),
        layers: new FanoutLayers({
          router: new TagRouter(registry, backends),
          tenants: tenantRegistry,
          schema: TenantSchema.default(),
          logger: new Logger({ serviceName: 'fanout' }),
        }),
        registry,
        logger: new Logger({ serviceName: 'fanout' }),
        connection: { drainDeadlineMs: options.fanoutDrainMs ?? 5000 },
        watch: options.fanoutWatch,
      },
      { host, port: options.grpcPort ?? DEFAULT_GRPC_PORT, eventsPort: options.eventsPort ?? 0 },
    );
    stops.push(() => fanout.drain());
    fanoutEvents.url = `http://${host}:${fanout.eventsPort}`;

    const endpoints: LocalEndpoints = {
      http: front.endpoint,
      grpc: `${host}:${fanout.port}`,
      dynamodb: events.proxy.endpoint,
      ssm: parameterStore.endpoint,
      ...(local.redis ? { redis: local.redis.url } : {}),
      region,
      table,
      ssmRoot,
      issuer: LOCAL_ISSUER,
      clientId: LOCAL_CLIENT_ID,
      jwksUri: `${front.endpoint}${JWKS_PATH}`,
      events: `${front.endpoint}/v1/events`,
    };
    writeAtomically(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`);
    const cache: LocalCacheStatus = { kind: local.kind, reader, refreshes, redis: local.redis };

    let stopping: Promise<void> | undefined;
    return { endpoints, dir, endpointsFile, signer, cache, changeLog: local.changeLog, fanout, alarms, rollouts, stop: () => (stopping ??= stopAll()) };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

async function startDynalite(path: string, host: string, port: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  mkdirSync(path, { recursive: true });
  const server: Server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // dynalite's close waits for pending writes, then closes its LevelDB store.
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** Straight to dynalite, before the proxy starts: a table change is not an item change. */
async function ensureTable(endpoint: string, region: string, table: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
    await client.send(new CreateTableCommand(createTenantTableInput(table)));
  } finally {
    client.destroy();
  }
}

/** The dev page-token secret: made once and kept, so a `nextToken` survives a restart. */
function pageTokenSecret(dir: string): string {
  const file = join(dir, 'page-token-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}

/** Directories locked by this process: the pid in the lock file cannot tell two of its systems apart. */
const lockedHere = new Set<string>();

/**
 * One system per data directory: two dynalites on one LevelDB store would corrupt it.
 * A lock left by a process that no longer runs is taken over.
 */
function acquireLock(dir: string): () => void {
  const file = resolve(dir, 'system.pid');
  const inUse = (holder: number) => new Error(`${dir} is in use by another local system (pid ${holder}); stop it first or set LOCAL_DIR`);
  if (lockedHere.has(file)) throw inUse(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      lockedHere.add(file);
      return () => {
        lockedHere.delete(file);
        rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) throw inUse(holder);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${dir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}
