/**
 * Child process: the whole local system (startLocalSystem: dynalite + stream proxy, Parameter
 * Store, cache, change events, cache-refresh, fanout, HTTP front), plus a second HTTP front with
 * the same handler but no cache (reads straight from the backends), for the uncached read path.
 * Talks to its parent over IPC: sends `{type:'ready', ...}`, answers `{type:'stop'}`.
 * Run with `node --import tsx bench/support/system-process.ts` (see startSystemProcess).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createHandler } from '../../lambda/config-api/handler';
import { readConfigApiEnvironment } from '../../lambda/config-api/environment';
import { buildConfigApiDeps } from '../../lambda/config-api/wiring';
import { ADMIN_GROUP, LOCAL_CLIENT_ID, LOCAL_ISSUER, TENANT_CLAIM } from '../../local/dev-signer';
import { startHttpFront } from '../../local/http-front';
import { createJwtAuthorizer } from '../../local/jwt-authorizer';
import { startLocalSystem } from '../../local/system';

export interface SystemReady {
  readonly type: 'ready';
  readonly http: string;
  readonly uncachedHttp: string;
  readonly grpc: string;
  readonly cache: 'redis' | 'memory';
  readonly readerToken: string;
  readonly adminToken: string;
  readonly tenant: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-system-'));
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const system = await startLocalSystem({ dir, port: 0, grpcPort: 0, fanoutDrainMs: 200 });
  const e = system.endpoints;
  const tenant = 'bench';
  const dynamodb = new DynamoDBClient({ endpoint: e.dynamodb, region: e.region, credentials });
  const ssm = new SSMClient({ endpoint: e.ssm, region: e.region, credentials });
  const environment = readConfigApiEnvironment({
    TABLE_NAME: e.table,
    SSM_ROOT: e.ssmRoot,
    STAGE: 'local',
    PAGE_TOKEN_SECRET: 'bench-page-token-secret-0123456789',
    TENANT_CLAIM,
    ADMIN_GROUP,
  });
  const uncached = await startHttpFront({
    handler: createHandler(buildConfigApiDeps({ env: environment, clients: { dynamodb, ssm }, logger: new Logger({ serviceName: 'config-api-uncached' }) })),
    authorizer: createJwtAuthorizer({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: system.signer.jwks }),
    host: '127.0.0.1',
    port: 0,
  });
  const ready: SystemReady = {
    type: 'ready',
    http: e.http,
    uncachedHttp: uncached.endpoint,
    grpc: e.grpc,
    cache: system.cache.kind,
    readerToken: system.signer.signToken({ tenant, ttlSeconds: 7200 }),
    adminToken: system.signer.signToken({ tenant, admin: true, ttlSeconds: 7200 }),
    tenant,
  };
  const stop = async () => {
    await uncached.close().catch(() => undefined);
    dynamodb.destroy();
    ssm.destroy();
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
    if (m?.type === 'memory') process.send?.({ type: 'memory', ...process.memoryUsage() });
  });
  process.on('disconnect', () => void stop());
  process.send?.(ready);
}

main().catch((error: unknown) => {
  process.stderr.write(`system-process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
