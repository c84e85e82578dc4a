/**
 * The whole system on one machine (DESIGN §5): dynalite for the tenant table, the local
 * Parameter Store, and the local API Gateway in front of the same config-api handler the
 * Lambda runs. Data lives under one directory, so a restart keeps it. `npm start` is a
 * thin script over {@link startLocalSystem}; tests call it with port 0 and a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import dynalite from 'dynalite';
import { createTenantTableInput } from '../adapters/dynamodb/table-definition';
import { createHandler } from '../lambda/config-api/handler';
import { readConfigApiEnvironment } from '../lambda/config-api/environment';
import { buildConfigApiDeps, type AwsClients } from '../lambda/config-api/wiring';
import { ADMIN_GROUP, LOCAL_CLIENT_ID, LOCAL_ISSUER, TENANT_CLAIM, openDevSigner, type DevSigner } from './dev-signer';
import { startHttpFront, type HttpFront } from './http-front';
import { createJwtAuthorizer } from './jwt-authorizer';
import { startLocalParameterStore, type LocalParameterStore } from './parameter-store';

/** What `.local/endpoints.json` holds (DESIGN §5); `redis` is absent while the cache is in memory. */
export interface LocalEndpoints {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8080`. */
  readonly http: string;
  /** `host:port` of the gRPC Watch service. */
  readonly grpc: string;
  /** DynamoDB endpoint for SDKs and `aws --endpoint-url`. */
  readonly dynamodb: string;
  /** Parameter Store endpoint for SDKs and `aws --endpoint-url`. */
  readonly ssm: string;
  readonly redis?: string;
  readonly region: string;
  /** The tenant table's name. */
  readonly table: string;
  /** First segment of parameter names: `/<ssmRoot>/<stage>/tenants/<tenant>/<name>`. */
  readonly ssmRoot: string;
}

export interface LocalSystemOptions {
  /** Where data, the signing key and endpoints.json live. @default '.local' */
  readonly dir?: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** HTTP API port; 0 picks a free one. @default 8080 */
  readonly port?: number;
  /** gRPC port written to endpoints.json; 0 picks a free one. @default 50051 */
  readonly grpcPort?: number;
  /** @default 0 (a free port) */
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
}

export interface LocalSystem {
  readonly endpoints: LocalEndpoints;
  /** Absolute path of the data directory. */
  readonly dir: string;
  readonly endpointsFile: string;
  /** The dev signer whose tokens the HTTP front accepts. */
  readonly signer: DevSigner;
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

    const dynamo = await startDynalite(join(dir, 'dynamodb'), host, options.dynamodbPort ?? 0);
    stops.push(dynamo.close);
    const dynamodbClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => dynamodbClient.destroy());
    await ensureTable(dynamodbClient, table);

    const parameterStore: LocalParameterStore = await startLocalParameterStore({
      host,
      port: options.ssmPort ?? 0,
      dataFile: join(dir, 'ssm.json'),
    });
    stops.push(() => parameterStore.close());
    const ssmClient = new SSMClient({ endpoint: parameterStore.endpoint, region, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => ssmClient.destroy());

    const environment = readConfigApiEnvironment({
      TABLE_NAME: table,
      SSM_ROOT: ssmRoot,
      STAGE: stage,
      PAGE_TOKEN_SECRET: options.pageTokenSecret ?? pageTokenSecret(dir),
      TENANT_CLAIM,
      ADMIN_GROUP,
    });
    const clients = { dynamodb: dynamodbClient, ssm: ssmClient } satisfies AwsClients;
    const handler = createHandler(buildConfigApiDeps(environment, clients, options.logger ?? new Logger({ serviceName: 'config-api' })));

    const front: HttpFront = await startHttpFront({
      handler,
      authorizer: createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
      host,
      port: options.port ?? DEFAULT_HTTP_PORT,
    });
    stops.push(() => front.close());

    const grpcPort = options.grpcPort === 0 ? await freePort(host) : (options.grpcPort ?? DEFAULT_GRPC_PORT);
    const endpoints: LocalEndpoints = {
      http: front.endpoint,
      grpc: `${host}:${grpcPort}`,
      dynamodb: dynamo.endpoint,
      ssm: parameterStore.endpoint,
      region,
      table,
      ssmRoot,
    };
    writeAtomically(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`);

    let stopping: Promise<void> | undefined;
    return { endpoints, dir, endpointsFile, signer, stop: () => (stopping ??= stopAll()) };
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

async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
    await client.send(new CreateTableCommand(createTenantTableInput(table)));
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

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
