/**
 * The server side shared by the layers and rollouts benchmarks: one fanout server
 * (startFanoutServer, the code the Fargate task runs) serving effective values (FanoutLayers)
 * over an in-memory backend, tenant registry and versioned cache + change log, as
 * test/fanout/harness.ts sets up; the benchmark's tenants (every `overrideEvery`-th holding its
 * own value) with one token each (dev signer) in a temp file for the load process.
 *
 * A write is what the API + cache refresh do: `backend.put` (a store write), then `cache.apply`
 * (a cache write, and a log entry when it answers `applied: true`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { ConfigService } from '../../core/config-service';
import type { ConfigItem, DeleteCommand, JsonValue, PutCommand, PutResult } from '../../core/item';
import { parseKey } from '../../core/key';
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

/** What the load process reads from the tokens file. */
export interface TenantToken {
  readonly tenant: string;
  readonly token: string;
  readonly overrides: boolean;
}

export interface BenchTenant {
  readonly tenant: string;
  readonly overrides: boolean;
}

export const tenantName = (i: number, count: number): string => `t${String(i).padStart(Math.max(4, String(count - 1).length), '0')}`;

/** `count` tenants `t0000…`, every `overrideEvery`-th (none if 0) holding its own value. */
export const benchTenants = (count: number, overrideEvery: number): BenchTenant[] =>
  Array.from({ length: count }, (_, i) => ({ tenant: tenantName(i, count), overrides: overrideEvery > 0 && i % overrideEvery === 0 }));

export const wallClock = () => performance.timeOrigin + performance.now();

/** The in-memory backend, counting store writes (put and delete). */
export class CountingBackend extends InMemoryConfigBackend {
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

export type InMemoryFanout = ReturnType<typeof createInMemoryFanout>;

/**
 * The stores, cache and counters of one benchmark server (`name` names its temp directory and
 * page-token secret); `listen` starts the fanout server on them, after the seed writes.
 */
export function createInMemoryFanout(name: string, options: { key: string; writeConcurrency: number }) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const signer = openDevSigner(dir);
  const registry = TagRegistry.default();
  const schema = TenantSchema.default();
  const backend = new CountingBackend();
  const router = new TagRouter(registry, { dynamodb: backend, ssm: backend });
  const cache = new InMemoryVersionedCache({ shards: 16 });
  const tenantRegistry = new InMemoryTenantRegistry();
  const pageTokens = () => new PageTokenCodec(`bench-${name}-page-token-secret`);
  const counters = { cacheWrites: 0, logEntries: 0 };

  /** What the cache refresh does after a store write: the change into the versioned cache, which logs it. */
  const applyToCache = async (owner: TenantId, key: string, change: { item?: ConfigItem; deletedVersion?: number }): Promise<void> => {
    counters.cacheWrites += 1;
    const cacheChange = change.item
      ? changeFromItem(change.item, false)
      : { key, version: change.deletedVersion!, deleted: true, updatedAt: new Date().toISOString(), updatedBy: 'bench' };
    const result = await cache.apply(owner, cacheChange);
    if (result.applied) counters.logEntries += 1;
  };
  /** One write of the benchmark's key: backend put, then cache apply. */
  const write = async (owner: TenantId, value: JsonValue): Promise<void> => {
    const { item } = await backend.put(owner, { key: parseKey(options.key), value, updatedBy: 'bench' });
    await applyToCache(owner, options.key, { item });
  };
  /** One write into each owner's key, `writeConcurrency` at a time. */
  const writeAll = async (owners: readonly TenantId[], value: JsonValue): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < owners.length) await write(owners[next++], value);
    };
    await Promise.all(Array.from({ length: Math.min(options.writeConcurrency, owners.length) }, worker));
  };
  const counts = () => ({ storeWrites: backend.writes, logEntries: counters.logEntries, cacheWrites: counters.cacheWrites });

  const listen = async (tenants: readonly BenchTenant[], streamsPerTenant: number) => {
    const metrics = new InMemoryFanoutMetrics();
    const server = await startFanoutServer(
      {
        verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], jwks: signer.jwks }),
        changeLog: cache,
        snapshots: configServiceSnapshotSource(new ConfigService(router, pageTokens())),
        tenants: backendTenantDirectory([backend]),
        layers: new FanoutLayers({ router, tenants: tenantRegistry, schema, logger: SILENT_LOGGER }),
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

    /**
     * Serves the parent over IPC: `stop` stops the server, runs `beforeStop` (if any), closes the
     * cache, removes the temp directory and exits; every other message goes to `handle`. Then
     * sends `{type:'ready', port, tokensFile, …ready}`.
     */
    const serve = <M extends { type: string }>(
      handle: (m: M) => void,
      ready: Record<string, unknown>,
      beforeStop: () => Promise<void> = () => Promise.resolve(),
    ): void => {
      process.on('message', (m: M) => {
        if (m.type !== 'stop') return handle(m);
        server.forceStop();
        void beforeStop()
          .then(() => cache.close())
          .finally(() => {
            rmSync(dir, { recursive: true, force: true });
            process.exit(0);
          });
      });
      process.on('disconnect', () => process.exit(0));
      process.send?.({ type: 'ready', port: server.port, tokensFile, ...ready });
    };
    return { server, metrics, serve };
  };

  return { registry, schema, backend, router, cache, tenantRegistry, pageTokens, applyToCache, write, writeAll, counts, listen };
}

/** Runs `main` as a child process's entry point: on failure, its stack on stderr and exit 1. */
export function runServerProcess(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
