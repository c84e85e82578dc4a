/**
 * `watch`: the SDK's ConfigClient (one gRPC stream) printing every change as it arrives, one
 * line each (`--output json`: one JSON object per line). The first state is loaded silently;
 * "watching" on stderr says the stream is live. Ctrl-C (SIGINT) or SIGTERM closes the client
 * and exits 0.
 */
import type { ConfigChange, ConfigClientLogger } from '../../../client';
import { CliError } from './errors';
import { parseTenant } from './layers';
import { compact } from './output';
import { resolveGrpc, tokenProvider, type GlobalOptions } from './settings';

export interface WatchOptions {
  readonly prefix?: string;
  readonly tenant?: string;
  readonly allTenants?: boolean;
}

export function formatChange(change: ConfigChange, json: boolean, now: Date = new Date()): string {
  if (json) {
    return JSON.stringify({
      at: now.toISOString(),
      ...(change.tenantId !== undefined ? { tenantId: change.tenantId } : {}),
      key: change.key,
      ...(change.deleted ? {} : { value: change.value }),
      version: change.version,
      deleted: change.deleted,
      ...(change.source !== undefined ? { source: change.source } : {}),
    });
  }
  const who = change.tenantId !== undefined ? `${change.tenantId} ` : '';
  const what = change.deleted ? 'deleted' : `= ${compact(change.value, 200)}`;
  return `${now.toISOString()}  ${who}${change.key} ${what}  (v${change.version}${change.source ? `, ${change.source}` : ''})`;
}

export async function runWatch(
  globals: GlobalOptions,
  o: WatchOptions,
  env: NodeJS.ProcessEnv,
  io: { out: (s: string) => void; err: (s: string) => void },
): Promise<void> {
  if (o.tenant !== undefined && o.allTenants) throw new CliError('--tenant and --all-tenants do not go together', 2);
  if (o.tenant !== undefined) parseTenant(o.tenant);
  const json = globals.output === 'json';
  const grpcTarget = resolveGrpc(globals, env);
  const token = tokenProvider(globals, env);
  const logger: ConfigClientLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => io.err(`watch: ${message}`),
    error: (message) => io.err(`watch: ${message}`),
  };
  // The SDK (gRPC, protobuf) is loaded by watch alone, so the other commands start faster.
  const { ConfigClient } = await import('../../../client/index.js');
  // No HTTP fallback: watch prints what the stream delivers, and says when it is interrupted.
  let client: InstanceType<typeof ConfigClient>;
  try {
    client = new ConfigClient({
      grpcTarget,
      token,
      logger,
      ...(o.prefix ? { prefixes: [o.prefix] } : {}),
      ...(o.tenant !== undefined ? { tenants: 'on-demand' as const } : o.allTenants ? { tenants: 'all' as const } : {}),
    });
  } catch (e) {
    throw new CliError(`watch: ${(e as Error).message}`);
  }
  const print = (change: ConfigChange) => io.out(formatChange(change, json));
  let done!: () => void;
  const stopped = new Promise<void>((resolve) => (done = resolve));
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void client.close().then(done, done);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    if (o.tenant !== undefined) {
      const view = client.forTenant(o.tenant);
      view.onChange(print, o.prefix ? { prefix: o.prefix } : {});
      const started = client.start();
      await Promise.all([started, view.ready()]);
    } else {
      client.onChange(print, o.prefix ? { prefix: o.prefix } : {});
      await client.start();
    }
  } catch (e) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await client.close();
    throw new CliError(`watch: ${(e as Error).message}`);
  }
  client.onStatus((status, report) => io.err(`watch: ${status}${report.lastError ? ` (${report.lastError})` : ''}`));
  io.err(
    `watching ${o.tenant ? `tenant ${o.tenant}` : o.allTenants ? 'every tenant' : 'your tenant'}${o.prefix ? ` (prefix ${o.prefix})` : ''} at ${grpcTarget}; Ctrl-C to stop`,
  );
  await stopped;
}
