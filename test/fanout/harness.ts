/**
 * A real fanout server on 127.0.0.1 (free port) over an in-memory backend and change log,
 * real dev-signer tokens, and real @grpc/grpc-js clients that record what they receive.
 * The writer does what the API + cache-refresh do: write the backend, then apply the change
 * to the versioned cache, which appends it to the change log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { ConfigBackend } from '../../core/backend-port';
import type { ChangeLog } from '../../core/change-log';
import { ConfigService } from '../../core/config-service';
import type { ConfigItem, JsonValue } from '../../core/item';
import { parseKey } from '../../core/key';
import { InMemoryVersionedCache } from '../../adapters/memory/in-memory-cache';
import { PageTokenCodec } from '../../core/page-token';
import { TagRegistry } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import type { TenantId } from '../../core/tenant';
import { changeFromItem, type CacheSettings, type VersionedCache } from '../../core/versioned-cache';
import { loadHealthProto } from '../../fanout/health';
import type { FanoutMetrics } from '../../fanout/metrics';
import { InMemoryFanoutMetrics } from '../../fanout/metrics';
import { startFanoutServer, type FanoutDeps, type FanoutServer } from '../../fanout/server';
import { backendTenantDirectory, configServiceSnapshotSource, type SnapshotSource } from '../../fanout/snapshot-source';
import { createJwtVerifier } from '../../fanout/token-verifier';
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, openDevSigner, type DevSigner } from '../../local/dev-signer';
import { loadConfigProto } from '../../proto/load';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest } from '../../proto/generated/tenantconfig/v1/WatchRequest';
import { InMemoryConfigBackend } from '../support/in-memory-backend';
import { InMemoryTenantRegistry } from '../lambda/support/in-memory-tenant-registry';
import { FanoutLayers } from '../../fanout/fanout-layers';
import { TenantSchema } from '../../core/tenant-attributes';
import { layerOwner, type Layer } from '../../core/layers';
import { attributesItem } from '../../core/layer-reads';
import type { TenantRegistry } from '../../core/tenant-registry';
import { openUnreadWatch } from './raw-watch';

export const tenant = (t: string) => t as TenantId;

/** Writes like the API + cache-refresh pipeline: backend first, then the version-guarded cache + log. */
export class Writer {
  constructor(
    readonly backend: ConfigBackend,
    private readonly cache: VersionedCache,
    private readonly tenants?: TenantRegistry,
  ) {}

  /** A default of a layer: stored under the layer's owner id, one cache apply, one log entry. */
  putDefault(layer: Layer, key: string, value: JsonValue): Promise<ConfigItem> {
    return this.put(layerOwner(layer), key, value);
  }

  removeDefault(layer: Layer, key: string): Promise<number> {
    return this.remove(layerOwner(layer), key);
  }

  /** Registers the tenant with these attributes, and logs the change like the API does. */
  async setAttributes(t: string, attributes: Record<string, string>): Promise<void> {
    const { record } = await this.tenants!.put(tenant(t), { attributes, updatedBy: 'operator' });
    await this.cache.apply(tenant(t), changeFromItem(attributesItem(record), false));
  }

  async put(t: string, key: string, value: JsonValue): Promise<ConfigItem> {
    const { item } = await this.backend.put(tenant(t), { key: parseKey(key), value, updatedBy: 'writer' });
    await this.cache.apply(tenant(t), changeFromItem(item, false));
    return item;
  }

  async remove(t: string, key: string): Promise<number> {
    const { version } = await this.backend.delete(tenant(t), { key: parseKey(key), deletedBy: 'writer' });
    const now = new Date().toISOString();
    await this.cache.apply(tenant(t), { key, version, deleted: true, updatedAt: now, updatedBy: 'writer' });
    return version;
  }
}

export interface FinalStatus {
  readonly code: grpc.status;
  readonly details: string;
}

/** One Watch call and everything it received. */
export class WatchRecorder {
  readonly events: WatchEvent__Output[] = [];
  readonly status: Promise<FinalStatus>;
  readonly call: grpc.ClientReadableStream<WatchEvent__Output>;
  private listeners: Array<() => void> = [];
  done?: FinalStatus;

  constructor(
    client: grpc.Client & { Watch: (req: WatchRequest, md: grpc.Metadata) => grpc.ClientReadableStream<WatchEvent__Output> },
    token: string | undefined,
    request: WatchRequest,
  ) {
    const md = new grpc.Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    this.call = client.Watch(request, md);
    this.call.on('data', (e: WatchEvent__Output) => {
      this.events.push(e);
      this.notify();
    });
    // grpc-js emits 'error' for a non-OK status and 'status' always; the status is what we keep.
    this.call.on('error', () => undefined);
    this.status = new Promise((resolve) =>
      this.call.on('status', (s: grpc.StatusObject) => {
        this.done = { code: s.code, details: s.details };
        resolve(this.done);
        this.notify();
      }),
    );
  }

  get changes() {
    return this.events.filter((e) => e.event === 'change').map((e) => e.change!);
  }

  get snapshots() {
    return this.events.filter((e) => e.event === 'snapshot').map((e) => e.snapshot!);
  }

  /** The cursor of the newest event that carries one. */
  get lastCursor(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i];
      const c = e.change?.cursor ?? e.snapshot?.cursor ?? e.heartbeat?.cursor;
      if (c) return c;
    }
    return undefined;
  }

  /** Resolves once `predicate` holds (checked on every event and at the end). */
  until(predicate: (r: this) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.event))} status ${JSON.stringify(this.done)}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (predicate(this)) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== check);
          resolve();
        }
      };
      this.listeners.push(check);
    });
  }

  cancel(): void {
    this.call.cancel();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export type WatchClient = grpc.Client & { Watch: (req: WatchRequest, md: grpc.Metadata) => grpc.ClientReadableStream<WatchEvent__Output> };

/** A client on its own connection (grpc-js would otherwise share one subchannel between clients). */
export function watchClient(address: string): WatchClient {
  const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
  return new ConfigWatch(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as WatchClient;
}

export function healthClient(address: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const { Client } = loadHealthProto();
  return new Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
}

/** The versioned cache the writer applies to and the change log the server reads: one store. */
export interface ChangeStore {
  readonly cache: VersionedCache;
  readonly log: ChangeLog;
  close(): Promise<void>;
}

export function inMemoryStore(settings: Partial<CacheSettings> = {}): ChangeStore {
  const store = new InMemoryVersionedCache(settings);
  return { cache: store, log: store, close: () => store.close() };
}

export interface FanoutHarnessOptions {
  /** @default in memory, with these settings */
  readonly cache?: Partial<CacheSettings>;
  /** A store to use instead of the in-memory one (e.g. Redis); the harness closes it. */
  readonly store?: ChangeStore;
  readonly watch?: FanoutDeps['watch'];
  readonly connection?: FanoutDeps['connection'];
  /** Wraps the snapshot source (e.g. to slow it down). */
  readonly snapshots?: (inner: SnapshotSource) => SnapshotSource;
  /** Wraps the change log the server reads (e.g. to count followers). */
  readonly changeLog?: (inner: ChangeLog) => ChangeLog;
  /** Called before every `list` the snapshot source makes (counts reads, or holds them back). */
  readonly onList?: (tenant: string) => void | Promise<void>;
  /** Accept client-credentials tokens of any app client, as the local pool does (service tokens of the dev signer). @default false */
  readonly anyServiceClient?: boolean;
  /** The server's logger (e.g. to record what it logs). */
  readonly logger?: FanoutDeps['logger'];
  /** Serve effective values: the process's layers over the harness's backend and an in-memory tenant registry. */
  readonly layers?: boolean;
  /** Serve `GET /v1/events` (SSE) on a free port too, with these settings. */
  readonly events?: FanoutDeps['events'];
}

export interface FanoutHarness {
  readonly signer: DevSigner;
  readonly cache: VersionedCache;
  readonly log: ChangeLog;
  readonly writer: Writer;
  /** The tenant registry the layers read (with `layers`). */
  readonly tenants: InMemoryTenantRegistry;
  readonly server: FanoutServer;
  readonly metrics: InMemoryFanoutMetrics;
  readonly address: string;
  /** `http://127.0.0.1:<port>` of the events endpoint (with `events`). */
  readonly eventsUrl?: string;
  token(tenantId: string, ttlSeconds?: number): string;
  /** A Watch on a connection of its own. */
  watch(token: string | undefined, request?: WatchRequest): WatchRecorder;
  /** A client (one connection) to open several Watch calls on with `new WatchRecorder(client, …)`. */
  client(): WatchClient;
  close(): Promise<void>;
}

export async function startHarness(options: FanoutHarnessOptions = {}): Promise<FanoutHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-test-'));
  const signer = openDevSigner(dir);
  const registry = TagRegistry.default();
  const backend = new InMemoryConfigBackend();
  const router = new TagRouter(registry, { dynamodb: backend, ssm: backend });
  const service = new ConfigService(router, new PageTokenCodec('test-page-token-secret'));
  const tenants = new InMemoryTenantRegistry();
  const layers = options.layers ? new FanoutLayers({ router, tenants, schema: TenantSchema.default() }) : undefined;
  const store = options.store ?? inMemoryStore(options.cache);
  const metrics = new InMemoryFanoutMetrics();
  const onList = options.onList;
  const baseSnapshots = configServiceSnapshotSource(
    onList
      ? {
          list: async (principal, query) => {
            await onList(principal.tenant);
            return service.list(principal, query);
          },
        }
      : service,
  );
  const server = await startFanoutServer(
    {
      verifier: createJwtVerifier({ issuer: LOCAL_ISSUER, audience: [LOCAL_CLIENT_ID], anyServiceClient: options.anyServiceClient, jwks: signer.jwks }),
      changeLog: options.changeLog ? options.changeLog(store.log) : store.log,
      snapshots: options.snapshots ? options.snapshots(baseSnapshots) : baseSnapshots,
      // As deployed (fanout/main.ts): with the registry, registered tenants without keys of their own are in a "*" snapshot too.
      tenants: backendTenantDirectory([backend], options.layers ? tenants : undefined),
      layers,
      registry,
      metrics: metrics as FanoutMetrics,
      watch: options.watch,
      connection: options.connection,
      logger: options.logger,
      events: options.events,
    },
    { host: '127.0.0.1', port: 0, eventsPort: options.events ? 0 : undefined },
  );
  const address = `127.0.0.1:${server.port}`;
  const clients: grpc.Client[] = [];
  return {
    signer,
    cache: store.cache,
    log: store.log,
    writer: new Writer(backend, store.cache, tenants),
    tenants,
    server,
    metrics,
    address,
    eventsUrl: server.eventsPort === undefined ? undefined : `http://127.0.0.1:${server.eventsPort}`,
    token: (tenantId, ttlSeconds) => signer.signToken({ tenant: tenantId, ttlSeconds }),
    watch(token, request = {}) {
      const client = watchClient(address);
      clients.push(client);
      return new WatchRecorder(client, token, request);
    },
    client() {
      const client = watchClient(address);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      server.forceStop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `predicate` holds, polling; rejects with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * A Watch over a bare HTTP/2 connection that never reads what it is sent (no flow-control
 * window is given back), as a stuck or hostile client would; `close()` drops the connection.
 */
export function rawWatch(
  address: string,
  token: string,
  options: { pagedSnapshots?: boolean } = {},
): {
  close(): void;
  closed: Promise<void>;
  /** How the server ended the stream, once it did: a grpc-status in trailers, or an RST_STREAM code. */
  ended(): { grpcStatus?: number; rstCode: number } | undefined;
} {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined);
  const stream = openUnreadWatch(session, token, options.pagedSnapshots ?? false);
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  let grpcStatus: number | undefined;
  const readStatus = (headers: http2.IncomingHttpHeaders) => {
    if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
  };
  stream.on('response', readStatus);
  stream.on('trailers', readStatus);
  // Node defers 'close' of a paused stream until it is read; `closed` and the code are set on arrival.
  return {
    close: () => session.destroy(),
    closed,
    ended: () => (stream.closed || grpcStatus !== undefined ? { grpcStatus, rstCode: stream.rstCode ?? 0 } : undefined),
  };
}

/** One harness for a `describe` block: started before its tests, closed after them, handed to `use`. */
export function harnessPerSuite(options: Parameters<typeof startHarness>[0], use: (h: FanoutHarness) => void): void {
  let harness: FanoutHarness | undefined;
  beforeAll(async () => {
    harness = await startHarness(options);
    use(harness);
  });
  afterAll(() => harness?.close());
}
