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
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { onNewValue } from '../../core/rollout-value';
import { ConfigService } from '../../core/config-service';
import type { DeleteCommand, JsonValue, PutCommand, PutResult } from '../../core/item';
import type { ItemReader } from '../../core/item-reader';
import { parseKey } from '../../core/key';
import { layerOwner, PLATFORM } from '../../core/layers';
import { SILENT_LOGGER } from '../../core/logger';
import { PageTokenCodec } from '../../core/page-token';
import type { OperatorPrincipal } from '../../core/principal';
import type { Rollout } from '../../core/rollout';
import { RolloutService } from '../../core/rollout-service';
import { TagRegistry } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import { TenantSchema } from '../../core/tenant-attributes';
import type { TenantId } from '../../core/tenant';
import { changeFromItem } from '../../core/versioned-cache';
import { FanoutLayers } from '../../fanout/fanout-layers';
import { InMemoryFanoutMetrics } from '../../fanout/metrics';
import { startFanoutServer } from '../../fanout/server';
import { backendTenantDirectory, configServiceSnapshotSource } from '../../fanout/snapshot-source';
import { createJwtVerifier } from '../../fanout/token-verifier';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner } from '../../local/dev-signer';
import { LocalAlarms } from '../../local/local-alarms';
import { startRolloutTimer } from '../../local/rollout-timer';
import { InMemoryTenantRegistry } from '../../test/lambda/support/in-memory-tenant-registry';
import { InMemoryConfigBackend } from '../../test/support/in-memory-backend';
import { InMemoryRolloutStore } from '../../test/support/in-memory-rollout-store';

export const ROLLOUTS_KEY = 'tenantconfig:bench/checkout';
export const ROLLOUTS_PREFIX = 'tenantconfig:bench/';
export const ROLLOUTS_ALARM = 'bench-checkout-errors';
export const OLD_VALUE = 'old';
export const NEW_VALUE = 'new';
/** What overriding tenants hold of the key: neither value a rollout or a revert writes. */
export const OVERRIDE_VALUE = 'mine';

export type RolloutsMode = 'rollouts' | 'per-tenant';

/** What the load process reads from the tokens file. */
export interface TenantToken {
  readonly tenant: string;
  readonly token: string;
  readonly overrides: boolean;
}

export const tenantName = (i: number, count: number): string => `t${String(i).padStart(Math.max(4, String(count - 1).length), '0')}`;

const wallClock = () => performance.timeOrigin + performance.now();
const OPERATOR: OperatorPrincipal = { kind: 'operator', subject: 'bench-operator' };

/** The in-memory backend, counting store writes (put and delete). */
class CountingBackend extends InMemoryConfigBackend {
  writes = 0;

  override put(tenant: TenantId, command: PutCommand): Promise<PutResult> {
    this.writes += 1;
    return super.put(tenant, command);
  }

  override delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }> {
    this.writes += 1;
    return super.delete(tenant, command);
  }
}

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

  const dir = mkdtempSync(join(tmpdir(), 'bench-rollouts-'));
  const signer = openDevSigner(dir);
  const registry = TagRegistry.default();
  const schema = TenantSchema.default();
  const backend = new CountingBackend();
  const router = new TagRouter(registry, { dynamodb: backend, ssm: backend });
  const cache = new InMemoryVersionedCache({ shards: 16 });
  const tenantRegistry = new InMemoryTenantRegistry();
  let cacheWrites = 0;
  let logEntries = 0;
  let layerWrittenAt: number | undefined;

  /** What the cache refresh does after a store write: the change into the versioned cache, which logs it. */
  const applyToCache = async (owner: TenantId, key: string, change: { item?: Parameters<typeof changeFromItem>[0]; deletedVersion?: number }) => {
    cacheWrites += 1;
    const cacheChange = change.item
      ? changeFromItem(change.item, false)
      : { key, version: change.deletedVersion!, deleted: true, updatedAt: new Date().toISOString(), updatedBy: 'bench' };
    const result = await cache.apply(owner, cacheChange);
    if (result.applied) logEntries += 1;
  };
  // The ConfigService's writes (the driver's layer writes) reach the cache as the API's do.
  const reader: ItemReader = {
    get: (_access, _key, load) => load(),
    onWrite: async (access, key, change) => {
      await applyToCache(access.tenant, key, change);
      if (key === ROLLOUTS_KEY && access.tenant === layerOwner(PLATFORM)) layerWrittenAt = wallClock();
    },
  };
  const config = new ConfigService(router, new PageTokenCodec('bench-rollouts-page-token-secret'), reader);

  const write = async (owner: TenantId, value: JsonValue): Promise<void> => {
    const { item } = await backend.put(owner, { key: parseKey(ROLLOUTS_KEY), value, updatedBy: 'bench' });
    await applyToCache(owner, ROLLOUTS_KEY, { item });
  };
  const writeAll = async (owners: readonly TenantId[], value: JsonValue): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < owners.length) await write(owners[next++], value);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, owners.length) }, worker));
  };

  const tenants = Array.from({ length: tenantCount }, (_, i) => ({
    tenant: tenantName(i, tenantCount),
    overrides: overrideEvery > 0 && i % overrideEvery === 0,
  }));
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
  const seeded = { storeWrites: backend.writes, logEntries, cacheWrites };

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

  const metrics = new InMemoryFanoutMetrics();
  const server = await startFanoutServer(
    {
      verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
      changeLog: cache,
      snapshots: configServiceSnapshotSource(new ConfigService(router, new PageTokenCodec('bench-rollouts-page-token-secret'))),
      tenants: backendTenantDirectory([backend]),
      layers: new FanoutLayers({ router, tenants: tenantRegistry, schema, logger: SILENT_LOGGER }),
      registry,
      metrics,
      logger: SILENT_LOGGER,
      // Heartbeats every 15 s would land inside the measurement.
      watch: { heartbeatIntervalMs: 10 * 60_000, maxStreamsPerIdentity: Math.max(16, streamsPerTenant * 2) },
    },
    { host: '127.0.0.1', port: 0 },
  );

  const tokensFile = join(dir, 'tokens.json');
  const tokens: TenantToken[] = tenants.map((t) => ({ ...t, token: signer.signToken({ tenant: t.tenant, ttlSeconds: 7200 }) }));
  writeFileSync(tokensFile, JSON.stringify(tokens));

  const counts = () => ({ storeWrites: backend.writes, recordWrites: store.writes, cacheWrites, logEntries });
  const fail = (error: unknown) => process.send?.({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });

  process.on('message', (m: { type: string }) => {
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
    } else if (m.type === 'stop') {
      server.forceStop();
      void (timer?.stop() ?? Promise.resolve())
        .then(() => cache.close())
        .finally(() => {
          rmSync(dir, { recursive: true, force: true });
          process.exit(0);
        });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({
    type: 'ready',
    port: server.port,
    tokensFile,
    mode,
    tenants: tenantCount,
    overriding: tenants.filter((t) => t.overrides).length,
    inWave: inWave.length,
    seeded,
    concurrency,
  });
}

// Only as the child process: bench/rollouts.ts imports the names above.
if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`rollouts-server-process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
