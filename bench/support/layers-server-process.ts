/**
 * Child process: the server side of the layers benchmark. One fanout server (startFanoutServer,
 * the code the Fargate task runs) serving effective values (FanoutLayers) over an in-memory
 * backend, tenant registry and versioned cache + change log, as test/fanout/harness.ts sets up.
 *
 * Set-up (env): LAYERS_TENANTS tenants `t0000…`, every LAYERS_OVERRIDE_EVERY-th holding its own
 * value of {@link LAYERS_KEY}, written before the server listens; with LAYERS_MODE=layers the
 * platform default of the key exists too (value 0), with LAYERS_MODE=per-tenant there is none.
 * One token per tenant (dev signer) goes to the load process through a temp file.
 *
 * IPC:
 * - `{type:'write', value}` → the measured change: in `layers` mode one platform default write,
 *   in `per-tenant` mode one write per tenant (LAYERS_WRITE_CONCURRENCY at a time); answers
 *   `{type:'written', at, doneAt, storeWrites, logEntries, cacheWrites}` with `at` the wall-clock
 *   ms just before the first write and the counts of that change only;
 * - `{type:'stats'}` → `{type:'stats', openStreams}`.
 *
 * The fanout server, stores and writes: bench/support/in-memory-fanout.ts.
 */
import type { TenantId } from '../../core/tenant';
import { layerOwner, PLATFORM } from '../../core/layers';
import { benchTenants, createInMemoryFanout, runServerProcess, wallClock } from './in-memory-fanout';

export type { TenantToken } from './in-memory-fanout';

export const LAYERS_KEY = 'tenantconfig:bench/seats';
export const LAYERS_PREFIX = 'tenantconfig:bench/';
/** The value overriding tenants hold of the key: never the value a measured change writes. */
export const OVERRIDE_VALUE = 1000;

export type LayersMode = 'layers' | 'per-tenant';

async function main(): Promise<void> {
  const mode = (process.env.LAYERS_MODE ?? 'layers') as LayersMode;
  if (mode !== 'layers' && mode !== 'per-tenant') throw new Error(`LAYERS_MODE must be 'layers' or 'per-tenant', got '${String(mode)}'`);
  const tenantCount = Number(process.env.LAYERS_TENANTS ?? 5000);
  const overrideEvery = Number(process.env.LAYERS_OVERRIDE_EVERY ?? 10);
  const streamsPerTenant = Number(process.env.LAYERS_STREAMS_PER_TENANT ?? 2);
  const concurrency = Math.max(1, Number(process.env.LAYERS_WRITE_CONCURRENCY ?? 16));

  const fanout = createInMemoryFanout('layers', { key: LAYERS_KEY, writeConcurrency: concurrency });
  const { write, writeAll, counts } = fanout;
  const tenants = benchTenants(tenantCount, overrideEvery);
  // Before the server listens, so every snapshot includes these.
  for (const t of tenants) if (t.overrides) await write(t.tenant as TenantId, OVERRIDE_VALUE);
  if (mode === 'layers') await write(layerOwner(PLATFORM), 0);
  const seeded = counts();

  const { server, metrics, serve } = await fanout.listen(tenants, streamsPerTenant);

  serve<{ type: string; value?: number }>(
    (m) => {
      if (m.type === 'write') {
        void (async () => {
          const value = m.value ?? 1;
          const before = counts();
          const at = wallClock();
          if (mode === 'layers') await write(layerOwner(PLATFORM), value);
          else
            await writeAll(
              tenants.map((t) => t.tenant as TenantId),
              value,
            );
          const doneAt = wallClock();
          const after = counts();
          process.send?.({
            type: 'written',
            at,
            doneAt,
            storeWrites: after.storeWrites - before.storeWrites,
            logEntries: after.logEntries - before.logEntries,
            cacheWrites: after.cacheWrites - before.cacheWrites,
          });
        })().catch((error: unknown) => process.send?.({ type: 'write-failed', error: String(error) }));
      } else if (m.type === 'stats') {
        process.send?.({ type: 'stats', openStreams: server.stats().openStreams, streamsOpenMetric: metrics.streamsOpen });
      }
    },
    { mode, tenants: tenantCount, overriding: tenants.filter((t) => t.overrides).length, seeded, concurrency },
  );
}

// Only as the child process: bench/layers.ts imports the names above.
if (require.main === module) runServerProcess('layers-server-process', main);
