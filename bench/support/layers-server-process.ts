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
 * A write is what the API + cache refresh do: `backend.put` (a store write), then `cache.apply`
 * (a cache write, and a log entry when it answers `applied: true`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import type { DeleteCommand, JsonValue, PutCommand, PutResult } from '../../core/item';
import { ConfigService } from '../../core/config-service';
import { parseKey } from '../../core/key';
import { layerOwner, PLATFORM } from '../../core/layers';
import { SILENT_LOGGER } from '../../core/logger';
import { PageTokenCodec } from '../../core/page-token';
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
import { InMemoryTenantRegistry } from '../../test/lambda/support/in-memory-tenant-registry';
import { InMemoryConfigBackend } from '../../test/support/in-memory-backend';

export const LAYERS_KEY = 'tenantconfig:bench/seats';
export const LAYERS_PREFIX = 'tenantconfig:bench/';
/** The value overriding tenants hold of the key: never the value a measured change writes. */
export const OVERRIDE_VALUE = 1000;

export type LayersMode = 'layers' | 'per-tenant';

/** What the load process reads from the tokens file. */
export interface TenantToken {
  readonly tenant: string;
  readonly token: string;
  readonly overrides: boolean;
}

export const tenantName = (i: number, count: number): string => `t${String(i).padStart(Math.max(4, String(count - 1).length), '0')}`;

const wallClock = () => performance.timeOrigin + performance.now();

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

async function main(): Promise<void> {
  const mode = (process.env.LAYERS_MODE ?? 'layers') as LayersMode;
  if (mode !== 'layers' && mode !== 'per-tenant') throw new Error(`LAYERS_MODE must be 'layers' or 'per-tenant', got '${String(mode)}'`);
  const tenantCount = Number(process.env.LAYERS_TENANTS ?? 5000);
  const overrideEvery = Number(process.env.LAYERS_OVERRIDE_EVERY ?? 10);
  const streamsPerTenant = Number(process.env.LAYERS_STREAMS_PER_TENANT ?? 2);
  const concurrency = Math.max(1, Number(process.env.LAYERS_WRITE_CONCURRENCY ?? 16));

  const dir = mkdtempSync(join(tmpdir(), 'bench-layers-'));
  const signer = openDevSigner(dir);
  const registry = TagRegistry.default();
  const backend = new CountingBackend();
  const router = new TagRouter(registry, { dynamodb: backend, ssm: backend });
  const service = new ConfigService(router, new PageTokenCodec('bench-layers-page-token-secret'));
  const tenantRegistry = new InMemoryTenantRegistry();
  const cache = new InMemoryVersionedCache({ shards: 16 });
  let cacheWrites = 0;
  let logEntries = 0;

  const write = async (owner: TenantId, value: JsonValue): Promise<void> => {
    const { item } = await backend.put(owner, { key: parseKey(LAYERS_KEY), value, updatedBy: 'bench' });
    cacheWrites += 1;
    const result = await cache.apply(owner, changeFromItem(item, false));
    if (result.applied) logEntries += 1;
  };

  const tenants = Array.from({ length: tenantCount }, (_, i) => ({
    tenant: tenantName(i, tenantCount),
    overrides: overrideEvery > 0 && i % overrideEvery === 0,
  }));
  // Before the server listens, so every snapshot includes these.
  for (const t of tenants) if (t.overrides) await write(t.tenant as TenantId, OVERRIDE_VALUE);
  if (mode === 'layers') await write(layerOwner(PLATFORM), 0);
  const seeded = { storeWrites: backend.writes, logEntries, cacheWrites };

  const metrics = new InMemoryFanoutMetrics();
  const server = await startFanoutServer(
    {
      verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
      changeLog: cache,
      snapshots: configServiceSnapshotSource(service),
      tenants: backendTenantDirectory([backend]),
      layers: new FanoutLayers({ router, tenants: tenantRegistry, schema: TenantSchema.default(), logger: SILENT_LOGGER }),
      registry,
      metrics,
      logger: SILENT_LOGGER,
      // Heartbeats every 15 s would land inside the measurement; each tenant has streamsPerTenant streams.
      watch: { heartbeatIntervalMs: 10 * 60_000, maxStreamsPerIdentity: Math.max(16, streamsPerTenant * 2) },
    },
    { host: '127.0.0.1', port: 0 },
  );

  // 5,000 tokens are ~4 MB of JSON: a file rather than one IPC message.
  const tokensFile = join(dir, 'tokens.json');
  const tokens: TenantToken[] = tenants.map((t) => ({ ...t, token: signer.signToken({ tenant: t.tenant, ttlSeconds: 7200 }) }));
  writeFileSync(tokensFile, JSON.stringify(tokens));

  process.on('message', (m: { type: string; value?: number }) => {
    if (m.type === 'write') {
      void (async () => {
        const value = m.value ?? 1;
        const before = { storeWrites: backend.writes, logEntries, cacheWrites };
        const at = wallClock();
        if (mode === 'layers') {
          await write(layerOwner(PLATFORM), value);
        } else {
          let next = 0;
          const worker = async (): Promise<void> => {
            while (next < tenants.length) {
              const t = tenants[next++];
              await write(t.tenant as TenantId, value);
            }
          };
          await Promise.all(Array.from({ length: Math.min(concurrency, tenants.length) }, worker));
        }
        const doneAt = wallClock();
        process.send?.({
          type: 'written',
          at,
          doneAt,
          storeWrites: backend.writes - before.storeWrites,
          logEntries: logEntries - before.logEntries,
          cacheWrites: cacheWrites - before.cacheWrites,
        });
      })().catch((error: unknown) => process.send?.({ type: 'write-failed', error: String(error) }));
    } else if (m.type === 'stats') {
      process.send?.({ type: 'stats', openStreams: server.stats().openStreams, streamsOpenMetric: metrics.streamsOpen });
    } else if (m.type === 'stop') {
      server.forceStop();
      void cache.close().finally(() => {
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
    seeded,
    concurrency,
  });
}

// Only as the child process: bench/layers.ts imports the names above.
if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`layers-server-process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
