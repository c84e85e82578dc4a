/**
 * `npm start`: the whole system on this machine, no AWS account needed.
 *
 * Environment: PORT (8080), GRPC_PORT (50051), LOCAL_DIR (.local), STAGE (local),
 * SSM_ROOT (tenant-config), PAGE_TOKEN_SECRET (a dev secret kept in LOCAL_DIR),
 * DYNAMODB_PORT, SSM_PORT and EVENTS_PORT (the fanout's own SSE port behind the front's
 * /v1/events; free ports by default), CACHE (auto: a private redis-server when
 * one is on PATH, in memory otherwise; or redis | memory).
 */
import { relative } from 'node:path';
import { localDirFromEnv } from './local-dir';
import { LOCAL_CACHE_MODES, type LocalCacheMode } from './local-cache';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, startLocalSystem, type LocalSystem } from './system';

const DEMO_TOKEN_TTL_SECONDS = 12 * 3600;

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${name} must be a port number from 0 to 65535, got '${raw}'\n`);
    process.exit(2);
  }
  return port;
}

function cacheModeFromEnv(): LocalCacheMode {
  const raw = process.env.CACHE || 'auto';
  if (!(LOCAL_CACHE_MODES as readonly string[]).includes(raw)) {
    process.stderr.write(`CACHE must be one of ${LOCAL_CACHE_MODES.join(', ')}, got '${raw}'\n`);
    process.exit(2);
  }
  return raw as LocalCacheMode;
}

function banner(system: LocalSystem): string {
  const { endpoints: e, signer } = system;
  const token = (tenant: string, admin: boolean) => signer.signToken({ tenant, admin, ttlSeconds: DEMO_TOKEN_TTL_SECONDS });
  const dir = relative(process.cwd(), system.dir) || '.';
  const cache = e.redis
    ? `${e.redis}   (redis-server, nothing kept on disk; restarted empty if it dies)`
    : 'in-memory cache (no redis-server on PATH, or CACHE=memory)';
  return `
Tenant configuration service — running locally

  HTTP API          ${e.http}/v1/config
  Console           ${e.http}/console/   (pick a demo identity; build it first with npm run build)
  gRPC Watch        ${e.grpc}   tenantconfig.v1.ConfigWatch/Watch + grpc.health.v1.Health (plaintext, Bearer token)
  Live events       ${e.events}   the Watch as server-sent events, for browsers (Bearer token in the header)
  DynamoDB          ${e.dynamodb}   table ${e.table}   (dynalite behind a stream proxy, data in ${dir}/dynamodb)
  Parameter Store   ${e.ssm}   /${e.ssmRoot}/<stage>/tenants/<tenant>/...   (data in ${dir}/ssm.json)
  Cache             ${cache}
  Change events     DynamoDB stream records (Pipe → config-changes bus) and Parameter Store Change events
                    (default bus) → cache-refresh → cache + change log, for writes by any client
  Fanout            gRPC Watch on ${e.grpc} reads the change log (one reader, in-memory fan-out)
  Rollouts          ${e.http}/v1/rollouts (operators); the driver ticks every 250 ms;
                    alarms: curl -X PUT ${e.http}/local/alarms/<name> -d '{"state":"ALARM"}'
  Region            ${e.region}
  Endpoints file    ${relative(process.cwd(), system.endpointsFile)}

Demo tokens (valid 12 h; make more with: npm run -s token -- --tenant acme [--admin],
             --service billing [--scope tenant-config/read-secrets], or --operator alice)
  acme admin         ${token('acme', true)}
  acme reader        ${token('acme', false)}
  globex admin       ${token('globex', true)}
  globex reader      ${token('globex', false)}
  service billing    ${signer.signServiceToken({ service: 'billing', ttlSeconds: DEMO_TOKEN_TTL_SECONDS })}
  operator alice     ${signer.signOperatorToken({ operator: 'alice', ttlSeconds: DEMO_TOKEN_TTL_SECONDS })}

Try it:
  TOKEN=$(npm run -s token -- --tenant acme --admin)
  curl -s -X PUT ${e.http}/v1/config/tenantconfig:plan -H "authorization: Bearer $TOKEN" \\
       -H 'content-type: application/json' -d '{"value":{"tier":"gold","seats":25}}'
  curl -s ${e.http}/v1/config/tenantconfig:plan -H "authorization: Bearer $TOKEN"
  curl -s '${e.http}/v1/config?prefix=tenantconfig:' -H "authorization: Bearer $TOKEN"
  SVC=$(npm run -s token -- --service billing)    # a service reads any tenant by name
  curl -s ${e.http}/v1/tenants/acme/config/tenantconfig:plan -H "authorization: Bearer $SVC"
  aws --endpoint-url ${e.dynamodb} --region ${e.region} dynamodb scan --table-name ${e.table}
  aws --endpoint-url ${e.ssm} --region ${e.region} ssm get-parameters-by-path --path /${e.ssmRoot} --recursive

Watch changes live (grpcurl is not needed; the SDK in client/, see client/README.md):
  TOKEN=$(npm run -s token -- --tenant acme) npx tsx -e "
    import { ConfigClient } from './client';
    const c = new ConfigClient({ grpcTarget: '${e.grpc}', token: () => process.env.TOKEN! });
    c.start().then(() => console.log(Object.fromEntries(c.keys().map((k) => [k, c.get(k)]))));
    c.onChange((x) => console.log(x.key, x.deleted ? '(deleted)' : JSON.stringify(x.value), 'v' + x.version));"
  then write with curl or the aws CLI above and watch the change arrive. Or as server-sent events:
  TOKEN=$(npm run -s token -- --tenant acme)
  curl -N -H "Authorization: Bearer $TOKEN" ${e.events}

Ctrl-C stops everything; the data stays in ${dir}/ for the next start.
`;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const system = await startLocalSystem({
    dir: localDirFromEnv(),
    port: portFromEnv('PORT', DEFAULT_HTTP_PORT),
    grpcPort: portFromEnv('GRPC_PORT', DEFAULT_GRPC_PORT),
    dynamodbPort: portFromEnv('DYNAMODB_PORT', 0),
    ssmPort: portFromEnv('SSM_PORT', 0),
    eventsPort: portFromEnv('EVENTS_PORT', 0),
    cache: cacheModeFromEnv(),
    stage: process.env.STAGE || undefined,
    ssmRoot: process.env.SSM_ROOT || undefined,
    pageTokenSecret: process.env.PAGE_TOKEN_SECRET || undefined,
  });
  process.stdout.write(banner(system));

  let stoppingSince: number | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the group (npx, tsx, node) and tsx relays it too,
    // so one keypress can arrive twice: only a repeat after a pause means "hurry up".
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < 2000) return;
      process.stderr.write(`\n${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stdout.write(`\n${signal}: stopping...\n`);
    system.stop().then(
      () => {
        process.stdout.write('stopped; data kept.\n');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  const error = e as NodeJS.ErrnoException;
  const hint = error.code === 'EADDRINUSE' ? ' (a port is taken: set PORT / GRPC_PORT, or stop the other process)' : '';
  process.stderr.write(`npm start failed: ${error.message}${hint}\n`);
  process.exit(1);
});
