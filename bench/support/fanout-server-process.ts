/**
 * Child process: one fanout server (startFanoutServer, the code the Fargate task runs) over an
 * in-memory change log, with a stats hook on IPC:
 * - `{type:'memory'}` → full GC (run with --expose-gc), then `{type:'memory', rss, heapUsed, ...}`;
 * - `{type:'change', version}` → one change applied to the log for the benchmark tenant;
 *   answers `{type:'changed', version, at}` with `at` the wall-clock ms just before the append.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { TagRegistry } from '../../core/tag-registry';
import type { TenantId } from '../../core/tenant';
import { InMemoryFanoutMetrics } from '../../fanout/metrics';
import { startFanoutServer } from '../../fanout/server';
import { createJwtVerifier } from '../../fanout/token-verifier';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner } from '../../local/dev-signer';

export const FANOUT_TENANT = 'fanout-bench';
export const FANOUT_KEY = 'tenantconfig:bench/broadcast';

const wallClock = () => performance.timeOrigin + performance.now();
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
  const signer = openDevSigner(dir);
  const log = new InMemoryVersionedCache({ shards: 16 });
  const tenant = FANOUT_TENANT as TenantId;
  const snapshotItem = { key: FANOUT_KEY, value: { v: 0 }, version: 0, updatedAt: new Date().toISOString(), updatedBy: 'bench' };
  const metrics = new InMemoryFanoutMetrics();
  const server = await startFanoutServer(
    {
      verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
      changeLog: log,
      snapshots: { open: () => ({ next: async () => ({ items: [snapshotItem], done: true }) }) },
      registry: TagRegistry.default(),
      metrics,
      logger: quiet,
      // Heartbeats every 15 s would land inside the measurements; the broadcast is what is measured.
      watch: { heartbeatIntervalMs: 10 * 60_000 },
    },
    { host: '127.0.0.1', port: 0 },
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (m: { type: string; version?: number }) => {
    if (m.type === 'memory') {
      gc?.();
      gc?.();
      process.send?.({ type: 'memory', ...process.memoryUsage(), gcExposed: gc !== undefined });
    } else if (m.type === 'change') {
      const version = m.version ?? 1;
      const at = wallClock();
      void log
        .apply(tenant, { key: FANOUT_KEY, version, deleted: false, valueJson: JSON.stringify({ v: version }), updatedAt: new Date().toISOString(), updatedBy: 'bench' })
        .then(() => process.send?.({ type: 'changed', version, at }));
    } else if (m.type === 'stop') {
      server.forceStop();
      void log.close().finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({
    type: 'ready',
    port: server.port,
    token: signer.signToken({ tenant: FANOUT_TENANT, ttlSeconds: 7200 }),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`fanout-server-process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
