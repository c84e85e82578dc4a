/**
 * Child process: the server side of the rollouts benchmark. One fanout server (startFanoutServer
 * with FanoutLayers, as bench/support/layers-server-process.ts runs it) over an in-memory
 * backend, tenant registry and versioned cache + change log, plus — in `rollouts` mode — the
 * local rollout driver: a RolloutService over a ConfigService whose writes go to that same
 * backend and cache (backend put, then cache.apply, which appends to the change log), an
 * in-memory rollout store, LocalAlarms and startRolloutTimer (a tick every ROLLOUTS_TICK_MS and
 * one at once when the alarm goes to ALARM), as `npm start` runs it.
 *
 * Set-up (env): ROLLOUTS_TENANTS tenants `t0000…`, every ROLLOUTS_OVERRIDE_EVERY-th holding its
 * own value of {@link ROLLOUTS_KEY}; in `rollouts` mode the platform default holds the old value,
 * in `per-tenant` mode (a team without layers or rollouts) every other tenant holds the old value
 * in its own key. One token per tenant goes to the load process through a temp file.
 *
 * IPC:
 * - `{type:'forward', round}` → the tenants of buckets under the first wave get the new value:
 *   `rollouts` starts a rollout (waves ROLLOUTS_WAVES, bake ROLLOUTS_BAKE_SECONDS, the alarm),
 *   `per-tenant` writes the new value into each of those tenants' keys; `{type:'forwarded'}`.
 * - `{type:'alarm'}` → the alarm goes to ALARM; `rollouts`: the driver's tick rolls back,
 *   `per-tenant`: an alarm listener writes the old value back into each in-wave tenant's key,
 *   ROLLOUTS_WRITE_CONCURRENCY at a time. Answers `{type:'alarmed', at, tickStartedAt?,
 *   layerWrittenAt?, doneAt, storeWrites, recordWrites, cacheWrites, logEntries, state}` with
 *   `at` the wall-clock ms just before the alarm was set, and the counts of the revert only.
 * - `{type:'reset'}` → the alarm back to OK; `{type:'reset'}`.
 *
 * The fanout server, stores and writes: bench/support/in-memory-fanout.ts.
 */
import { onNewValue } from '../../core/rollout-value';
import { ConfigService } from '../../core/config-service';
import type { ItemReader } from '../../core/item-reader';
import { layerOwner, PLATFORM } from '../../core/layers';
import { SILENT_LOGGER } from '../../core/logger';
import type { OperatorPrincipal } from '../../core/principal';
import type { Rollout } from '../../core/rollout';
import { RolloutService } from '../../core/rollout-service';
import type { TenantId } from '../../core/tenant';
import { LocalAlarms } from '../../local/local-alarms';
import { startRolloutTimer } from '../../local/rollout-timer';
import { InMemoryRolloutStore } from '../../test/support/in-memory-rollout-store';
import { benchTenants, createInMemoryFanout, runServerProcess, wallClock } from './in-memory-fanout';

export type { TenantToken } from './in-memory-fanout';

export const ROLLOUTS_KEY = 'tenantconfig:bench/checkout';
export const ROLLOUTS_PREFIX = 'tenantconfig:bench/';
export const ROLLOUTS_ALARM = 'bench-checkout-errors';
export const OLD_VALUE = 'old';
export const NEW_VALUE = 'new';
/** What overriding tenants hold of the key: neither value a rollout or a revert writes. */
export const OVERRIDE_VALUE = 'mine';

export type RolloutsMode = 'rollouts' | 'per-tenant';

const OPERATOR: OperatorPrincipal = { kind: 'operator', subject: 'bench-operator' };

/** The rollout records' store, counting its writes (create and update). */
class CountingRolloutStore extends InMemoryRolloutStore {
  writes = 0;

  override create(rollout: Rollout): Promise<void> {
    this.writes += 1;
    return super.create(rollout);
  }

  override update(rollout: Rollout): Promise<void> {
    this.writes += 1;
    return super.update(rollout);
  }
}

async function main(): Promise<void> {
  const mode = (process.env.ROLLOUTS_MODE ?? 'rollouts') as RolloutsMode;
  if (mode !== 'rollouts' && mode !== 'per-tenant') throw new Error(`ROLLOUTS_MODE must be 'rollouts' or 'per-tenant', got '${String(mode)}'`);
  const tenantCount = Number(process.env.ROLLOUTS_TENANTS ?? 5000);
  const overrideEvery = Number(process.env.ROLLOUTS_OVERRIDE_EVERY ?? 10);
  const streamsPerTenant = Number(process.env.ROLLOUTS_STREAMS_PER_TENANT ?? 2);
  const concurrency = Math.max(1, Number(process.env.ROLLOUTS_WRITE_CONCURRENCY ?? 16));
  const tickMs = Number(process.env.ROLLOUTS_TICK_MS ?? 250);
  const waves = (process.env.ROLLOUTS_WAVES ?? '50,100').split(',').map(Number);
  const bakeSeconds = Number(process.env.ROLLOUTS_BAKE_SECONDS ?? 3600);

  const fanout = createInMemoryFanout('rollouts', { key: ROLLOUTS_KEY, writeConcurrency: concurrency });
  const { schema, router, applyToCache, write, writeAll } = fanout;
  let layerWrittenAt: number | undefined;

  // The ConfigService's writes (the driver's layer writes) reach the cache as the API's do.
  const reader: ItemReader = {
    get: (_access, _key, load) => load(),
    onWrite: async (access, key, change) => {
      await applyToCache(access.tenant, key, change);
      if (key === ROLLOUTS_KEY && access.tenant === layerOwner(PLATFORM)) layerWrittenAt = wallClock();
    },
  };
  const config = new ConfigService(router, fanout.pageTokens(), reader);

  const tenants = benchTenants(tenantCount, overrideEvery);
  // The tenants a first wave moves (and a revert moves back): the bucket rule every resolver applies.
  const inWave = tenants.filter((t) => !t.overrides && onNewValue(ROLLOUTS_KEY, t.tenant, waves[0])).map((t) => t.tenant as TenantId);
  // Before the server listens, so every snapshot includes these.
  for (const t of tenants) if (t.overrides) await write(t.tenant as TenantId, OVERRIDE_VALUE);
  if (mode === 'rollouts') await write(layerOwner(PLATFORM), OLD_VALUE);
  else
    await writeAll(
      tenants.filter((t) => !t.overrides).map((t) => t.tenant as TenantId),
      OLD_VALUE,
    );
  const seeded = fanout.counts();

  const alarms = new LocalAlarms();
  const store = new CountingRolloutStore();
  const rollouts = new RolloutService({ store, alarms, config, schema, logger: SILENT_LOGGER });
  let tickStartedAt: number | undefined;
  let tickDoneAt: number | undefined;
  let lastRollout: Rollout | undefined;
  // When the tick that changes a rollout starts and ends: the timer calls this method.
  const tick = rollouts.tick.bind(rollouts);
  rollouts.tick = async () => {
    const startedAt = wallClock();
    const report = await tick();
    if (report.changed.length > 0) {
      tickStartedAt = startedAt;
      tickDoneAt = wallClock();
    }
    return report;
  };
  const timer = mode === 'rollouts' ? startRolloutTimer(rollouts, alarms, { intervalMs: tickMs, logger: SILENT_LOGGER }) : undefined;
  let revertDone: Promise<void> = Promise.resolve();
  // Today's way: whoever watches the alarm writes the old value back into every tenant it had changed.
  if (mode === 'per-tenant') alarms.onChange((_name, state) => void (state === 'ALARM' && (revertDone = writeAll(inWave, OLD_VALUE))));

  const { server, serve } = await fanout.listen(tenants, streamsPerTenant);

  const counts = () => ({ ...fanout.counts(), recordWrites: store.writes });
  const fail = (error: unknown) => process.send?.({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });

  serve<{ type: string }>(
    (m) => {
      if (m.type === 'forward') {
        void (async () => {
          if (mode === 'rollouts') {
            lastRollout = await rollouts.start(OPERATOR, {
              key: ROLLOUTS_KEY,
              layer: 'platform',
              value: NEW_VALUE,
              waves,
              bakeSeconds,
              alarm: ROLLOUTS_ALARM,
            });
          } else {
            await writeAll(inWave, NEW_VALUE);
          }
          process.send?.({ type: 'forwarded', rollout: lastRollout?.id });
        })().catch(fail);
      } else if (m.type === 'alarm') {
        void (async () => {
          const before = counts();
          tickStartedAt = tickDoneAt = layerWrittenAt = undefined;
          const at = wallClock();
          alarms.set(ROLLOUTS_ALARM, { state: 'ALARM' });
          let state: string | undefined;
          if (timer) {
            // Queued after the tick the alarm started: when it returns, that one is done.
            await timer.tickNow();
            const held = lastRollout && (await store.get(lastRollout.id));
            state = held ? `${held.state}${held.settled ? ', settled' : ''}` : undefined;
          } else {
            await revertDone;
          }
          const doneAt = timer ? (tickDoneAt ?? wallClock()) : wallClock();
          const after = counts();
          process.send?.({
            type: 'alarmed',
            at,
            tickStartedAt,
            layerWrittenAt,
            doneAt,
            state,
            storeWrites: after.storeWrites - before.storeWrites,
            recordWrites: after.recordWrites - before.recordWrites,
            cacheWrites: after.cacheWrites - before.cacheWrites,
            logEntries: after.logEntries - before.logEntries,
          });
        })().catch(fail);
      } else if (m.type === 'reset') {
        alarms.set(ROLLOUTS_ALARM, { state: 'OK' });
        process.send?.({ type: 'reset' });
      } else if (m.type === 'stats') {
        process.send?.({ type: 'stats', openStreams: server.stats().openStreams });
      }
    },
    { mode, tenants: tenantCount, overriding: tenants.filter((t) => t.overrides).length, inWave: inWave.length, seeded, concurrency },
    () => timer?.stop() ?? Promise.resolve(),
  );
}

// Only as the child process: bench/rollouts.ts imports the names above.
if (require.main === module) runServerProcess('rollouts-server-process', main);
