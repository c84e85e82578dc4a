/**
 * Child process: one fanout server (startFanoutServer, the code the Fargate task runs) over an
 * in-memory change log, with a stats hook on IPC:
 * - `{type:'memory'}` → full GC (run with --expose-gc), then `{type:'memory', rss, heapUsed, ...}`;
 * - `{type:'change', version}` → one change applied to the log for the benchmark tenant;
 *   answers `{type:'changed', version, at}` with `at` the wall-clock ms just before the append;
 * - `{type:'burst', count}` → `count` small changes to the stalled tenant, `{type:'burst-done'}`;
 * - `{type:'metrics'}` → the server's counters (streams open, slow consumers cut, refusals).
 *
 * The stalled tenant (FANOUT_STALL_TENANT) holds FANOUT_STALL_KEYS keys of FANOUT_STALL_VALUE_BYTES
 * each in its snapshot; every other tenant one key. FANOUT_SERVER_ROOT runs the fanout code of
 * another checkout (today's code as the baseline); the source answers both its interfaces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { TagRegistry } from '../../core/tag-registry';
import type { TenantId } from '../../core/tenant';
import type { ConfigItem } from '../../core/item';
import { InMemoryFanoutMetrics } from '../../fanout/metrics';
import type { startFanoutServer as StartFanoutServer } from '../../fanout/server';
import type { SnapshotSource } from '../../fanout/snapshot-source';
import { createJwtVerifier } from '../../fanout/token-verifier';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner } from '../../local/dev-signer';
import { SILENT_LOGGER } from '../../core/logger';

export const FANOUT_TENANT = 'fanout-bench';
export const FANOUT_KEY = 'tenantconfig:bench/broadcast';
export const STALL_TENANT = 'fanout-stalled';

const wallClock = () => performance.timeOrigin + performance.now();
const quiet = SILENT_LOGGER;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
  const signer = openDevSigner(dir);
  const log = new InMemoryVersionedCache({ shards: 16 });
  const tenant = FANOUT_TENANT as TenantId;
  const snapshotItem = { key: FANOUT_KEY, value: { v: 0 }, version: 0, updatedAt: new Date().toISOString(), updatedBy: 'bench' };
  const stallKeys = Number(process.env.FANOUT_STALL_KEYS ?? 400);
  const stallValueBytes = Number(process.env.FANOUT_STALL_VALUE_BYTES ?? 8000);
  // Values built per read, as a backend read would: a held snapshot is what costs memory, not this table.
  const stallItem = (i: number): ConfigItem => ({
    key: `tenantconfig:stall/${String(i).padStart(5, '0')}`,
    value: { i, pad: 'v'.repeat(stallValueBytes) },
    version: 1,
    updatedAt: new Date().toISOString(),
    updatedBy: 'bench',
  });
  const itemsOf = (t: string, from: number, limit: number): ConfigItem[] =>
    t === STALL_TENANT
      ? Array.from({ length: Math.max(0, Math.min(limit, stallKeys - from)) }, (_, j) => stallItem(from + j))
      : from === 0
        ? [snapshotItem]
        : [];
  const countOf = (t: string) => (t === STALL_TENANT ? stallKeys : 1);
  const snapshots: SnapshotSource & { snapshot(t: string): Promise<ConfigItem[]> } = {
    open: (t, _prefixes, signal) => {
      let at = 0;
      return {
        async next(limit) {
          await new Promise((r) => setImmediate(r));
          if (signal.aborted) return { items: [], done: true };
          const items = itemsOf(t, at, limit);
          at += items.length;
          return { items, done: at >= countOf(t) };
        },
      };
    },
    // The interface of the code before paging, for FANOUT_SERVER_ROOT runs.
    snapshot: async (t) => itemsOf(t, 0, countOf(t)),
  };
  const metrics = new InMemoryFanoutMetrics();
  const root = process.env.FANOUT_SERVER_ROOT;
  const { startFanoutServer } = (await import(root ? join(root, 'fanout/server') : '../../fanout/server')) as { startFanoutServer: typeof StartFanoutServer };
  const server = await startFanoutServer(
    {
      verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
      changeLog: log,
      snapshots,
      registry: TagRegistry.default(),
      metrics,
      logger: quiet,
      // Heartbeats every 15 s would land inside the measurements; the broadcast is what is measured.
      // All broadcast streams are one tenant's: the per-tenant limit is lifted for that measurement.
      watch: { heartbeatIntervalMs: 10 * 60_000, maxStreamsPerIdentity: Number(process.env.FANOUT_MAX_STREAMS_PER_IDENTITY ?? 1_000_000) },
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
        .apply(tenant, {
          key: FANOUT_KEY,
          version,
          deleted: false,
          valueJson: JSON.stringify({ v: version }),
          updatedAt: new Date().toISOString(),
          updatedBy: 'bench',
        })
        .then(() => process.send?.({ type: 'changed', version, at }));
    } else if (m.type === 'burst') {
      void (async () => {
        const stalled = STALL_TENANT as TenantId;
        for (let i = 0; i < (m.version ?? 0); i++) {
          await log.apply(stalled, {
            key: `tenantconfig:hot/${i % 10}`,
            version: i + 2,
            deleted: false,
            valueJson: JSON.stringify({ i, pad: 'h'.repeat(200) }),
            updatedAt: new Date().toISOString(),
            updatedBy: 'bench',
          });
          if (i % 50 === 0) await new Promise((r) => setImmediate(r));
        }
        process.send?.({ type: 'burst-done' });
      })();
    } else if (m.type === 'metrics') {
      process.send?.({
        type: 'metrics',
        streamsOpen: metrics.streamsOpen,
        slowConsumersCut: metrics.slowConsumersCut,
        streamsRefused: metrics.streamsRefused ?? null,
      });
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
    stallToken: signer.signToken({ tenant: STALL_TENANT, ttlSeconds: 7200 }),
    otherToken: signer.signToken({ tenant: 'fanout-other', ttlSeconds: 7200 }),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`fanout-server-process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
