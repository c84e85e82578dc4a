/**
 * Benchmark: staleness and store load — event-driven cache vs a TTL cache vs no cache, side by
 * side in one run over one store and one sequence of reads and changes.
 *
 * - Store: the DynamoDB backend on dynalite (in a child process), seeded with TENANTS × KEYS items.
 * - Changes: a steady rate of unconditional puts by a writer that is not the reader (another API
 *   instance, the AWS CLI), through the stream proxy, so each one produces a DynamoDB stream
 *   record → local Pipe → config-changes bus → rule → the cache-refresh handler's CacheRefresher →
 *   the versioned cache. The event delay measured here is that whole local path.
 * - Reads: Zipf-skewed, open loop at a fixed rate; every read is issued to all three systems at
 *   the same instant:
 *   (a) event-driven: CachedItemReader over the versioned cache (redis-server when on PATH, else
 *       in memory), refreshed by the change events above; the cache starts filled from the seed
 *       (a cache that has been running), so its store reads are what the steady state costs;
 *   (b) ttl-5s: Powertools Parameters' own caching (BaseProvider, default maxAge 5 s) over a
 *       provider that reads the DynamoDB backend;
 *   (c) no-cache: every read goes to the backend.
 * - A read is stale when it returns a version older than the newest whose put had been
 *   acknowledged before the read began. Store reads are counted by a decorator around each
 *   system's backend; the writer's own read-modify-write and the stream proxy's image reads are
 *   not system reads (on AWS the stream costs no table reads).
 *
 * - Parameter Store slice: SSM_TENANTS × SSM_KEYS `paramconfig:` keys in the local Parameter
 *   Store (in process), read by the same three systems at their own rate and changed through the
 *   SSM backend (lease and key index in the table), each change reaching the cache through the
 *   Parameter Store rule → CacheRefresher, which reads the parameter back. Every Parameter Store
 *   call of the measured window is counted by operation and by who made it (an SDK middleware on
 *   each client) and set next to the account's 40 TPS GetParameter* quota (docs/design.md §10).
 *   The rows above stay DynamoDB-only, so they compare with earlier runs.
 *
 * Settings (env): STALENESS_TENANTS (5000), STALENESS_KEYS (20), STALENESS_READ_RATE (reads/s
 * per system, 100), STALENESS_CHANGE_RATE (changes/s, 10), STALENESS_DURATION_S (60),
 * STALENESS_WARMUP_S (10), STALENESS_ZIPF_S (1.0), STALENESS_CHANGE_DIST (zipf|uniform, zipf),
 * STALENESS_CACHE (redis|memory; redis when redis-server is on PATH); Parameter Store slice:
 * STALENESS_SSM_TENANTS (200; 0 leaves it out), STALENESS_SSM_KEYS (5), STALENESS_SSM_READ_RATE
 * (reads/s per system, 20), STALENESS_SSM_CHANGE_RATE (changes/s, 1).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { buildConfigBackends } from '../adapters/config-backends';
import { startLocalParameterStore } from '../local/parameter-store';
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { DynamoDbConfigBackend } from '../adapters/dynamodb/dynamodb-config-backend';
import { RedisConnector, waitUntilReady, type RedisClient } from '../adapters/redis/redis-connection';
import { RedisVersionedCache } from '../adapters/redis/redis-versioned-cache';
import { CachedItemReader, readerPoliciesFromRegistry } from '../core/cached-item-reader';
import type { ConfigBackend } from '../core/backend-port';
import type { ConfigItem } from '../core/item';
import { parseKey, type ConfigKey } from '../core/key';
import { InMemoryVersionedCache } from '../adapters/memory/in-memory-cache';
import type { TenantAccess } from '../core/access-policy';
import { TagRegistry } from '../core/tag-registry';
import type { TenantId } from '../core/tenant';
import type { VersionedCache } from '../core/versioned-cache';
import { buildCacheRefresher } from '../lambda/cache-refresh/wiring';
import { startLocalChangeEvents } from '../local/events';
import { hasBinary, startRedis, type RunningServer } from '../test/support/servers';
import { startDynaliteProcess } from './support/dynalite-process';
import { describeMachine, machineInfo } from './support/machine';
import { envNumber, log, percentile, round, sleep, table, writeResults, runAsScript } from './support/report';
import { SEED_TIME, createTable, keyName, seedTable, tenantName } from './support/seed';
import { ZipfSampler, seededRandom } from './support/zipf';
import { SILENT_LOGGER } from '../core/logger';

const REGION = 'us-east-1';
const TABLE = 'tenant-config-bench';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface StalenessRow {
  readonly system: string;
  readonly staleReadFraction: number;
  readonly storeReadsPerSecond: number;
  readonly storeReadsPerChange: number;
  readonly reads: number;
  readonly staleReads: number;
  readonly storeReads: number;
  readonly readP50Ms: number;
  readonly readP99Ms: number;
}

/** Counts the reads a system makes of the store: DynamoDB's in `reads`, Parameter Store's (its `paramconfig:` keys) in `ssmReads`. */
class CountingBackend {
  reads = 0;
  ssmReads = 0;
  constructor(
    private readonly backend: ConfigBackend,
    private readonly ssmBackend?: ConfigBackend,
  ) {}
  get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined> {
    if (key.tag === SSM_TAG && this.ssmBackend) {
      this.ssmReads += 1;
      return this.ssmBackend.get(tenant, key);
    }
    this.reads += 1;
    return this.backend.get(tenant, key);
  }
}

const SSM_TAG = 'paramconfig';
const ssmKeyName = (j: number): string => `${SSM_TAG}:bench/p${String(j).padStart(2, '0')}`;
/** The account's default GetParameter / GetParameters / GetParametersByPath rate, shared by every caller in the region. */
export const PARAMETER_STORE_GET_TPS_QUOTA = 40;
const GET_OPERATIONS = new Set(['GetParameterCommand', 'GetParametersCommand', 'GetParametersByPathCommand']);

/** Parameter Store calls by operation (the SDK's command name), counted by a middleware on the client. */
type CallCounts = Record<string, number>;
function countCalls(client: SSMClient): CallCounts {
  const counts: CallCounts = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName ?? 'unknown';
      counts[op] = (counts[op] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return counts;
}
const minus = (end: CallCounts, start: CallCounts): CallCounts =>
  Object.fromEntries(Object.entries(end).map(([op, n]) => [op.replace(/Command$/, ''), n - (start[op] ?? 0)]));

export interface ParameterStoreRow {
  readonly caller: string;
  readonly calls: number;
  readonly callsPerSecond: number;
  /** GetParameter + GetParameters + GetParametersByPath a second: what counts against the 40 TPS quota. */
  readonly getCallsPerSecond: number;
  readonly shareOfGetQuota: number;
  readonly byOperation: CallCounts;
}

/**
 * A Powertools Parameters provider whose store is the config backend: Powertools' BaseProvider
 * does the caching (maxAge, default 5 s), this class only fetches. Names are `<tenant>|<key>`.
 */
class ConfigBackendProvider extends BaseProvider {
  constructor(
    client: DynamoDBClient,
    // Not `store`: BaseProvider keeps its cache under that name.
    private readonly backend: CountingBackend,
  ) {
    super({ awsSdkV3Client: client });
  }

  protected async _get(name: string): Promise<ConfigItem | undefined> {
    const bar = name.indexOf('|');
    return this.backend.get(name.slice(0, bar) as TenantId, parseKey(name.slice(bar + 1)));
  }

  protected async _getMultiple(): Promise<Record<string, unknown> | undefined> {
    throw new Error('not used by this benchmark');
  }
}

interface SystemUnderTest {
  readonly name: string;
  readonly store: CountingBackend;
  read(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined>;
  reads: number;
  staleReads: number;
  latencies: number[];
  inFlight: number;
  errors: number;
  ssmReads: number;
  ssmStaleReads: number;
}

const quiet = SILENT_LOGGER;

export async function runStaleness(): Promise<{ rows: StalenessRow[]; text: string; results: unknown }> {
  const cfg = {
    tenants: envNumber('STALENESS_TENANTS', 5000),
    keysPerTenant: envNumber('STALENESS_KEYS', 20),
    readRatePerSystem: envNumber('STALENESS_READ_RATE', 100),
    changeRate: envNumber('STALENESS_CHANGE_RATE', 10),
    durationS: envNumber('STALENESS_DURATION_S', 60),
    warmupS: envNumber('STALENESS_WARMUP_S', 10),
    zipfS: envNumber('STALENESS_ZIPF_S', 1.0),
    changeDistribution: process.env.STALENESS_CHANGE_DIST === 'uniform' ? 'uniform' : 'zipf',
    ssmTenants: envNumber('STALENESS_SSM_TENANTS', 200),
    ssmKeysPerTenant: envNumber('STALENESS_SSM_KEYS', 5),
    ssmReadRatePerSystem: envNumber('STALENESS_SSM_READ_RATE', 20),
    ssmChangeRate: envNumber('STALENESS_SSM_CHANGE_RATE', 1),
  };
  const ssmItems = cfg.ssmTenants * cfg.ssmKeysPerTenant;
  const useRedis = process.env.STALENESS_CACHE ? process.env.STALENESS_CACHE === 'redis' : hasBinary('redis-server');
  const items = cfg.tenants * cfg.keysPerTenant;
  const registry = TagRegistry.default();
  const cleanups: Array<() => Promise<unknown> | void> = [];
  try {
    log(`staleness: seeding ${items} items (${cfg.tenants} tenants × ${cfg.keysPerTenant} keys) into dynalite`);
    const dynalite = await startDynaliteProcess();
    cleanups.push(() => dynalite.stop());
    const direct = new DynamoDBClient({ endpoint: dynalite.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 3 });
    cleanups.push(() => direct.destroy());
    await createTable(direct, TABLE);
    const seedSeconds = await seedTable(direct, TABLE, { tenants: cfg.tenants, keysPerTenant: cfg.keysPerTenant });
    log(`staleness: seeded in ${seedSeconds.toFixed(1)} s`);

    // (a)'s cache and the real event path in front of it.
    let cache: VersionedCache;
    let redis: RunningServer | undefined;
    if (useRedis) {
      redis = await startRedis();
      cleanups.push(() => redis!.stop());
      const connector = await RedisConnector.create({
        host: '127.0.0.1',
        port: redis.port,
        tls: false,
        cluster: false,
        connectTimeoutMs: 2000,
        commandTimeoutMs: 1000,
        maxReconnectDelayMs: 2000,
      });
      const client: RedisClient = connector.connect('commands');
      await waitUntilReady(client, 5000);
      cleanups.push(() => client.disconnect());
      cache = new RedisVersionedCache(client, {});
    } else {
      cache = new InMemoryVersionedCache({});
    }
    const parameterStore = await startLocalParameterStore();
    cleanups.push(() => parameterStore.close());
    /** One SSM client per caller, each counting its calls. */
    const ssmCalls: Record<string, CallCounts> = {};
    const ssmClient = (caller: string) => {
      const client = new SSMClient({ endpoint: parameterStore.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 3 });
      cleanups.push(() => client.destroy());
      ssmCalls[caller] = countCalls(client);
      return client;
    };
    const ssm = ssmClient('cache-refresh');
    const refresher = buildCacheRefresher({
      environment: { ssmRoot: 'tenant-config', stage: 'bench' },
      cache,
      ssm,
      registry,
      logger: quiet,
      metrics: { addMetric: () => undefined },
    });
    const appliedAt = new Map<string, number>();
    let eventsApplied = 0;
    const events = await startLocalChangeEvents({
      dynaliteEndpoint: dynalite.endpoint,
      tableName: TABLE,
      region: REGION,
      ssmRoot: 'tenant-config',
      stage: 'bench',
      registry,
      logger: quiet,
      parameterStore,
      target: async (event) => {
        const outcome = await refresher.refresh(event);
        if (outcome.outcome === 'applied') {
          eventsApplied += 1;
          appliedAt.set(`${outcome.tenant}|${outcome.key}|${outcome.version}`, performance.now());
        }
        return outcome;
      },
    });
    cleanups.push(() => events.close());
    const viaProxy = new DynamoDBClient({ endpoint: events.proxy.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 3 });
    cleanups.push(() => viaProxy.destroy());
    const writer = new DynamoDbConfigBackend({ client: viaProxy, tableName: TABLE, registry });
    // Parameter Store writes as the config-api makes them: lease and key index in the table (straight to dynalite: those rows are no change event).
    const ssmBackendOn = (client: SSMClient) =>
      buildConfigBackends({ tableName: TABLE, ssmRoot: 'tenant-config', stage: 'bench' }, { dynamodb: direct, ssm: client }, registry).ssm;
    const ssmWriter = ssmBackendOn(ssmClient('writer (config-api)'));
    const ssmTenants = Array.from({ length: cfg.ssmTenants }, (_, i) => tenantName(i) as TenantId);
    const ssmKeys = Array.from({ length: cfg.ssmKeysPerTenant }, (_, j) => parseKey(ssmKeyName(j)));
    const ssmTenantOf = (idx: number) => ssmTenants[Math.floor(idx / cfg.ssmKeysPerTenant)];
    const ssmKeyOf = (idx: number) => ssmKeys[idx % cfg.ssmKeysPerTenant];
    const ssmSeed: ConfigItem[] = new Array(ssmItems);
    if (ssmItems > 0) {
      const seededAt = performance.now();
      let next = 0;
      const put = async () => {
        while (next < ssmItems) {
          const idx = next++;
          ssmSeed[idx] = (await ssmWriter.put(ssmTenantOf(idx), { key: ssmKeyOf(idx), value: { limit: idx, plan: 'standard' }, updatedBy: 'seed' })).item;
        }
      };
      await Promise.all(Array.from({ length: 16 }, put));
      log(
        `staleness: seeded ${ssmItems} parameters (${cfg.ssmTenants} tenants × ${cfg.ssmKeysPerTenant} keys) in ${((performance.now() - seededAt) / 1000).toFixed(1)} s`,
      );
    }

    const tenants = Array.from({ length: cfg.tenants }, (_, i) => tenantName(i) as TenantId);
    const keys = Array.from({ length: cfg.keysPerTenant }, (_, j) => parseKey(keyName(j)));
    const tenantOf = (idx: number) => tenants[Math.floor(idx / cfg.keysPerTenant)];
    const keyOf = (idx: number) => keys[idx % cfg.keysPerTenant];

    // A cache that has been running holds every key: filled from the seed, as a read would have.
    log(`staleness: filling the ${useRedis ? 'redis' : 'in-memory'} cache with the seed`);
    {
      let next = 0;
      const fill = async () => {
        while (next < items) {
          const idx = next++;
          const key = keyOf(idx);
          await cache.fill(tenantOf(idx), key.raw, {
            key: key.raw,
            value: { limit: idx % cfg.keysPerTenant, plan: 'standard' },
            version: 1,
            updatedAt: SEED_TIME,
            updatedBy: 'seed',
          });
        }
      };
      await Promise.all(Array.from({ length: 64 }, fill));
      for (let idx = 0; idx < ssmItems; idx++) await cache.fill(ssmTenantOf(idx), ssmKeyOf(idx).raw, ssmSeed[idx]);
    }

    const newBackend = (name: string) =>
      new CountingBackend(new DynamoDbConfigBackend({ client: direct, tableName: TABLE, registry }), ssmBackendOn(ssmClient(name)));
    const eventStore = newBackend('event-driven reads');
    const ttlStore = newBackend('ttl-5s reads');
    const noStore = newBackend('no-cache reads');
    const reader = new CachedItemReader(cache, { ...readerPoliciesFromRegistry(registry), logger: quiet });
    const provider = new ConfigBackendProvider(direct, ttlStore);
    const accesses = new Map<string, TenantAccess>();
    const accessOf = (tenant: TenantId): TenantAccess => {
      let a = accesses.get(tenant);
      if (!a) accesses.set(tenant, (a = { caller: { kind: 'tenant-reader', tenant, subject: 'bench-reader' }, tenant }));
      return a;
    };
    const system = (name: string, store: CountingBackend, read: SystemUnderTest['read']): SystemUnderTest => ({
      name,
      store,
      read,
      reads: 0,
      staleReads: 0,
      latencies: [],
      inFlight: 0,
      errors: 0,
      ssmReads: 0,
      ssmStaleReads: 0,
    });
    const systems: SystemUnderTest[] = [
      system(`event-driven (${useRedis ? 'redis' : 'in-memory'})`, eventStore, (tenant, key) =>
        reader.get(accessOf(tenant), key.raw, () => eventStore.get(tenant, key)),
      ),
      system('ttl-5s (Powertools)', ttlStore, async (tenant, key) => (await provider.get(`${tenant}|${key.raw}`)) as ConfigItem | undefined),
      system('no-cache', noStore, (tenant, key) => noStore.get(tenant, key)),
    ];

    const random = seededRandom(42);
    const readKeys = new ZipfSampler(items, cfg.zipfS, random);
    const changeKeys = cfg.changeDistribution === 'zipf' ? readKeys : { next: () => Math.floor(random() * items) };
    /** Newest version whose put was acknowledged, per item. */
    const committed = new Uint32Array(items).fill(1);
    const ssmReadKeys = ssmItems > 0 ? new ZipfSampler(ssmItems, cfg.zipfS, random) : undefined;
    const ssmCommitted = new Uint32Array(ssmItems).fill(1);
    let ssmChangesInWindow = 0;
    const writeTimes: Array<{ idx: number; version: number; startedAt: number; ackedAt: number }> = [];
    let measuring = false;
    let changesInWindow = 0;
    let writeErrors = 0;
    let writesInFlight = 0;

    const issueRead = (idx: number) => {
      const tenant = tenantOf(idx);
      const key = keyOf(idx);
      const expected = committed[idx];
      const counted = measuring;
      for (const s of systems) {
        if (s.inFlight > 5000) {
          s.errors += 1; // the store cannot keep up: counted, never silently queued forever
          continue;
        }
        s.inFlight += 1;
        const started = performance.now();
        s.read(tenant, key).then(
          (item) => {
            s.inFlight -= 1;
            if (!counted) return;
            s.reads += 1;
            s.latencies.push(performance.now() - started);
            if (!item || item.version < expected) s.staleReads += 1;
          },
          () => {
            s.inFlight -= 1;
            s.errors += 1;
          },
        );
      }
    };
    const issueSsmRead = (idx: number) => {
      const tenant = ssmTenantOf(idx);
      const key = ssmKeyOf(idx);
      const expected = ssmCommitted[idx];
      const counted = measuring;
      for (const s of systems) {
        if (s.inFlight > 5000) {
          s.errors += 1;
          continue;
        }
        s.inFlight += 1;
        s.read(tenant, key).then(
          (item) => {
            s.inFlight -= 1;
            if (!counted) return;
            s.ssmReads += 1;
            if (!item || item.version < expected) s.ssmStaleReads += 1;
          },
          () => {
            s.inFlight -= 1;
            s.errors += 1;
          },
        );
      }
    };
    const issueSsmChange = (n: number) => {
      const idx = Math.floor(random() * ssmItems);
      writesInFlight += 1;
      ssmWriter.put(ssmTenantOf(idx), { key: ssmKeyOf(idx), value: { limit: n, plan: 'changed' }, updatedBy: 'bench-writer' }).then(
        (result) => {
          writesInFlight -= 1;
          const v = result.item.version;
          if (v > ssmCommitted[idx]) ssmCommitted[idx] = v;
          if (measuring) ssmChangesInWindow += 1;
        },
        () => {
          writesInFlight -= 1;
          writeErrors += 1;
        },
      );
    };
    const issueChange = (n: number) => {
      const idx = changeKeys.next();
      const startedAt = performance.now();
      writesInFlight += 1;
      writer.put(tenantOf(idx), { key: keyOf(idx), value: { limit: n, plan: 'changed' }, updatedBy: 'bench-writer' }).then(
        (result) => {
          writesInFlight -= 1;
          const v = result.item.version;
          if (v > committed[idx]) committed[idx] = v;
          if (measuring) changesInWindow += 1;
          writeTimes.push({ idx, version: v, startedAt, ackedAt: performance.now() });
        },
        () => {
          writesInFlight -= 1;
          writeErrors += 1;
        },
      );
    };

    log(`staleness: ${cfg.warmupS} s warm-up, then ${cfg.durationS} s measured; ${cfg.readRatePerSystem} reads/s per system, ${cfg.changeRate} changes/s`);
    // The load generator shares two cores with dynalite and redis: its own stalls are reported.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    const t0 = performance.now();
    let readsIssued = 0;
    let changesIssued = 0;
    let windowStart = 0;
    let storeAtStart: number[] = [];
    let ssmReadsIssued = 0;
    let ssmChangesIssued = 0;
    let ssmAtStart: Record<string, CallCounts> = {};
    const snapshotCalls = () => Object.fromEntries(Object.entries(ssmCalls).map(([caller, counts]) => [caller, { ...counts }]));
    const totalMs = (cfg.warmupS + cfg.durationS) * 1000;
    for (;;) {
      const elapsed = performance.now() - t0;
      if (!measuring && elapsed >= cfg.warmupS * 1000) {
        measuring = true;
        windowStart = performance.now();
        storeAtStart = systems.map((s) => s.store.reads);
        ssmAtStart = snapshotCalls();
        loopDelay.enable();
      }
      if (elapsed >= totalMs) break;
      const readsDue = Math.floor((elapsed / 1000) * cfg.readRatePerSystem);
      while (readsIssued < readsDue) {
        issueRead(readKeys.next());
        readsIssued += 1;
      }
      const changesDue = Math.floor((elapsed / 1000) * cfg.changeRate);
      while (changesIssued < changesDue) issueChange(changesIssued++);
      if (ssmReadKeys) {
        const ssmReadsDue = Math.floor((elapsed / 1000) * cfg.ssmReadRatePerSystem);
        while (ssmReadsIssued < ssmReadsDue) {
          issueSsmRead(ssmReadKeys.next());
          ssmReadsIssued += 1;
        }
        const ssmChangesDue = Math.floor((elapsed / 1000) * cfg.ssmChangeRate);
        while (ssmChangesIssued < ssmChangesDue) issueSsmChange(ssmChangesIssued++);
      }
      await sleep(2);
    }
    measuring = false;
    loopDelay.disable();
    const windowS = (performance.now() - windowStart) / 1000;
    const storeAtEnd = systems.map((s) => s.store.reads);
    const ssmAtEnd = snapshotCalls();
    // Let in-flight reads and events finish before the books are closed.
    for (let i = 0; i < 200 && (systems.some((s) => s.inFlight > 0) || writesInFlight > 0); i++) await sleep(25);
    await sleep(200);

    const rows: StalenessRow[] = systems.map((s, i) => {
      const storeReads = storeAtEnd[i] - storeAtStart[i];
      return {
        system: s.name,
        staleReadFraction: s.reads === 0 ? 0 : s.staleReads / s.reads,
        storeReadsPerSecond: round(storeReads / windowS, 1),
        storeReadsPerChange: round(changesInWindow === 0 ? 0 : storeReads / changesInWindow, 3),
        reads: s.reads,
        staleReads: s.staleReads,
        storeReads,
        readP50Ms: round(percentile(s.latencies, 50), 2),
        readP99Ms: round(percentile(s.latencies, 99), 2),
      };
    });
    const fromStart: number[] = [];
    const fromAck: number[] = [];
    for (const w of writeTimes) {
      const at = appliedAt.get(`${tenantOf(w.idx)}|${keyOf(w.idx).raw}|${w.version}`);
      if (at === undefined) continue;
      fromStart.push(at - w.startedAt);
      fromAck.push(at - w.ackedAt);
    }
    const [ev, ttl] = rows;
    const psRow = (caller: string, byOperation: CallCounts): ParameterStoreRow => {
      const calls = Object.values(byOperation).reduce((a, b) => a + b, 0);
      const gets = Object.entries(byOperation)
        .filter(([op]) => GET_OPERATIONS.has(`${op}Command`))
        .reduce((a, [, n]) => a + n, 0);
      return {
        caller,
        calls,
        callsPerSecond: round(calls / windowS, 2),
        getCallsPerSecond: round(gets / windowS, 2),
        shareOfGetQuota: round(gets / windowS / PARAMETER_STORE_GET_TPS_QUOTA, 3),
        byOperation,
      };
    };
    const psRows = Object.keys(ssmAtEnd).map((caller) => psRow(caller, minus(ssmAtEnd[caller], ssmAtStart[caller] ?? {})));
    const psTotal: CallCounts = {};
    for (const r of psRows) for (const [op, n] of Object.entries(r.byOperation)) psTotal[op] = (psTotal[op] ?? 0) + n;
    psRows.push(psRow('total', psTotal));
    const refreshRow = psRows.find((r) => r.caller === 'cache-refresh')!;
    const psResults = {
      parameters: ssmItems,
      tenants: cfg.ssmTenants,
      keysPerTenant: cfg.ssmKeysPerTenant,
      readRatePerSystem: cfg.ssmReadRatePerSystem,
      changeRate: cfg.ssmChangeRate,
      changesInWindow: ssmChangesInWindow,
      getTpsQuota: PARAMETER_STORE_GET_TPS_QUOTA,
      quotaNote:
        'GetParameter, GetParameters and GetParametersByPath share 40 TPS per account and region by default (3,000 with higher throughput, GetParametersByPath stays at 100); DescribeParameters and writes have quotas of their own',
      callsPerChangeEvent: ssmChangesInWindow === 0 ? 0 : round(refreshRow.calls / ssmChangesInWindow, 2),
      callsPerChangeEventByOperation: Object.fromEntries(
        Object.entries(refreshRow.byOperation).map(([op, n]) => [op, ssmChangesInWindow === 0 ? 0 : round(n / ssmChangesInWindow, 2)]),
      ),
      reads: Object.fromEntries(
        systems.map((s) => [
          s.name,
          {
            reads: s.ssmReads,
            staleReads: s.ssmStaleReads,
            staleReadFraction: s.ssmReads === 0 ? 0 : s.ssmStaleReads / s.ssmReads,
            storeReads: s.store.ssmReads,
          },
        ]),
      ),
      calls: psRows,
    };
    const metadata = {
      benchmark: 'staleness',
      measuredAt: new Date().toISOString(),
      machine: machineInfo(),
      store: 'DynamoDbConfigBackend on dynalite 4 (child process, in memory), strongly consistent reads',
      cache: useRedis ? 'RedisVersionedCache on a private redis-server' : 'InMemoryVersionedCache',
      eventPath: 'writer → stream proxy → DynamoDB stream record → local Pipe → config-changes bus → rule → CacheRefresher → cache.apply',
      tenants: cfg.tenants,
      keysPerTenant: cfg.keysPerTenant,
      items,
      seedSeconds: round(seedSeconds, 1),
      readRatePerSystem: cfg.readRatePerSystem,
      changeRate: cfg.changeRate,
      changeDistribution: cfg.changeDistribution,
      zipfS: cfg.zipfS,
      topKeyReadProbability: round(readKeys.topProbability, 4),
      warmupSeconds: cfg.warmupS,
      durationSeconds: round(windowS, 1),
      changesInWindow,
      writeErrors,
      readErrorsOrShed: Object.fromEntries(systems.map((s) => [s.name, s.errors])),
      eventCache: { ...reader.counters },
      eventCacheNote:
        "store reads of the event-driven system come from cache calls slower than the reader's 250 ms timeout (breaker), i.e. from stalls of this shared machine; DynamoDB change events carry the value, so a change itself costs no store read",
      loadGeneratorEventLoopDelayMs: {
        p50: round(loopDelay.percentile(50) / 1e6),
        p99: round(loopDelay.percentile(99) / 1e6),
        max: round(loopDelay.max / 1e6),
      },
      eventsApplied,
      eventDelayFromWriteStartMs: { p50: round(percentile(fromStart, 50)), p99: round(percentile(fromStart, 99)), max: round(Math.max(...fromStart)) },
      eventDelayFromWriteAckMs: { p50: round(percentile(fromAck, 50)), p99: round(percentile(fromAck, 99)), max: round(Math.max(...fromAck)) },
      staleDefinition: 'returned version < newest version whose put was acknowledged before the read began',
      targets: {
        staleFractionVsTtl: '≤ 1/100 of the TTL cache',
        met: ev.staleReadFraction <= ttl.staleReadFraction / 100,
        storeReadsPerChange: '≤ 1.1',
        storeReadsPerChangeMet: ev.storeReadsPerChange <= 1.1,
      },
    };
    const results = {
      rows: rows.map(({ system, staleReadFraction, storeReadsPerSecond, storeReadsPerChange }) => ({
        system,
        staleReadFraction,
        storeReadsPerSecond,
        storeReadsPerChange,
      })),
      details: rows,
      parameterStore: psResults,
      metadata,
    };
    const text = [
      `staleness — ${cfg.tenants} tenants × ${cfg.keysPerTenant} keys, Zipf s=${cfg.zipfS}, ${cfg.readRatePerSystem} reads/s per system, ${cfg.changeRate} changes/s (${cfg.changeDistribution}), ${round(windowS, 1)} s measured, ${changesInWindow} changes`,
      table(
        ['system', 'reads', 'stale reads', 'stale fraction', 'store reads/s', 'store reads/change', 'read p50 ms', 'read p99 ms'],
        rows.map((r) => [
          r.system,
          r.reads,
          r.staleReads,
          r.staleReadFraction.toExponential(2),
          r.storeReadsPerSecond,
          r.storeReadsPerChange,
          r.readP50Ms,
          r.readP99Ms,
        ]),
      ),
      `event delay (write start → applied in cache): p50 ${metadata.eventDelayFromWriteStartMs.p50} ms, p99 ${metadata.eventDelayFromWriteStartMs.p99} ms; target stale ≤ 1/100 of TTL: ${metadata.targets.met ? 'met' : 'NOT met'}; store reads/change ≤ 1.1: ${metadata.targets.storeReadsPerChangeMet ? 'met' : 'NOT met'}`,
      ...(ssmItems > 0
        ? [
            `Parameter Store — ${ssmItems} parameters (${cfg.ssmTenants} tenants × ${cfg.ssmKeysPerTenant} keys), ${cfg.ssmReadRatePerSystem} reads/s per system, ${cfg.ssmChangeRate} changes/s, ${ssmChangesInWindow} changes; calls in the measured window by caller and operation, next to the ${PARAMETER_STORE_GET_TPS_QUOTA} TPS GetParameter* quota`,
            table(
              ['caller', 'calls', 'calls/s', 'Get* calls/s', `share of ${PARAMETER_STORE_GET_TPS_QUOTA} TPS`, 'by operation'],
              psRows.map((r) => [
                r.caller,
                r.calls,
                r.callsPerSecond,
                r.getCallsPerSecond,
                `${round(r.shareOfGetQuota * 100, 1)} %`,
                Object.entries(r.byOperation)
                  .filter(([, n]) => n > 0)
                  .map(([op, n]) => `${op} ${n}`)
                  .join(', '),
              ]),
            ),
            `cache refresh: ${psResults.callsPerChangeEvent} Parameter Store calls per change event (${Object.entries(psResults.callsPerChangeEventByOperation)
              .map(([op, n]) => `${op} ${n}`)
              .join(', ')}); stale reads of parameters: ${systems.map((s) => `${s.name} ${s.ssmStaleReads}/${s.ssmReads}`).join(', ')}`,
          ]
        : []),
      `machine: ${describeMachine(metadata.machine)}`,
    ].join('\n');
    writeResults('staleness', results);
    return { rows, text, results };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // Best effort: a benchmark's teardown must not hide its results.
      }
    }
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  runAsScript('staleness', runStaleness);
}
