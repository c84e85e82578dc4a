/**
 * Offboarding over the real backends as every runtime builds them (adapters/config-backends.ts):
 * DynamoDB on dynalite, Parameter Store on the local server (its lease and key index in the same
 * table), and the tenant registry's DynamoDB adapter on that table too.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { buildConfigBackends } from '../../adapters/config-backends';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import type { TenantAccess } from '../../core/access-policy';
import type { ConfigBackend } from '../../core/backend-port';
import type { ItemReader } from '../../core/config-service';
import { ForbiddenError, InvalidRequestError } from '../../core/errors';
import type { ConfigItem, JsonValue } from '../../core/item';
import { parseKey, parseKeyPrefix } from '../../core/key';
import { layerOwner, PLATFORM } from '../../core/layers';
import { offboardTenant, type OffboardingDependencies } from '../../core/offboarding';
import type { BackendKind } from '../../core/tag-registry';
import { TagRegistry } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import type { TenantId } from '../../core/tenant';
import type { OffboardingProgress, PutTenantCommand, TenantRegistry } from '../../core/tenant-registry';
import { startLocalParameterStore, type LocalParameterStore } from '../../local/parameter-store';
import { localClientConfig, startDynalite, type RunningServer } from '../support/servers';

const TABLE = 'tenant-config-offboarding-test';
const OPERATOR = 'op-alice';
const FIXED_NOW = new Date('2030-01-02T03:04:05.000Z');

/** A key of each tag, over both backends; `flags:` values must pass the tag's schema. */
const KEYS: ReadonlyArray<[string, JsonValue]> = [
  ['tenantconfig:plan', 'gold'],
  ['tenantconfig:limits/api', { rps: 10 }],
  ['flags:beta', true],
  ['paramconfig:db/pool/max', 20],
  ['paramconfig:db/pool/min', 2],
  ['secretconfig:db/password', 'hunter2'],
];

/** Every cache notification, as ConfigService makes them. */
class RecordingReader implements ItemReader {
  readonly writes: Array<{ tenant: string; key: string; deletedVersion?: number; item?: ConfigItem }> = [];
  get(_access: TenantAccess, _key: string, load: () => Promise<ConfigItem | undefined>) {
    return load();
  }
  async onWrite(access: TenantAccess, key: string, change: { item?: ConfigItem; deletedVersion?: number }) {
    this.writes.push({ tenant: access.tenant, key, ...change });
  }
}

/** The registry, recording the progress of every write. */
class RecordingRegistry implements TenantRegistry {
  readonly progress: OffboardingProgress[] = [];
  constructor(private readonly inner: TenantRegistry) {}
  get = (tenant: TenantId) => this.inner.get(tenant);
  delete = (tenant: TenantId) => this.inner.delete(tenant);
  list: TenantRegistry['list'] = (page) => this.inner.list(page);
  async put(tenant: TenantId, command: PutTenantCommand) {
    const out = await this.inner.put(tenant, command);
    if (out.record.offboarding) this.progress.push(out.record.offboarding);
    return out;
  }
}

/** A backend whose deletes fail after `allowed` of them: a Lambda that timed out, a network cut. */
function failingAfter(backend: ConfigBackend, allowed: { n: number }): ConfigBackend {
  return {
    get: (t, k) => backend.get(t, k),
    list: (t, p, page) => backend.list(t, p, page),
    put: (t, c) => backend.put(t, c),
    history: (t, k, l) => backend.history(t, k, l),
    delete: async (t, c) => {
      if (allowed.n <= 0) throw new Error('interrupted');
      allowed.n -= 1;
      return backend.delete(t, c);
    },
  };
}

describe('offboardTenant over DynamoDB (dynalite) and Parameter Store (local)', () => {
  let dynalite: RunningServer;
  let parameterStore: LocalParameterStore;
  let clients: { dynamodb: DynamoDBClient; ssm: SSMClient };
  let backends: Record<BackendKind, ConfigBackend>;
  let router: TagRouter;
  let tenants: DynamoDbTenantRegistry;
  const registry = TagRegistry.default();

  beforeAll(async () => {
    [dynalite, parameterStore] = await Promise.all([startDynalite({ inMemory: true }), startLocalParameterStore()]);
    clients = {
      dynamodb: new DynamoDBClient(localClientConfig(dynalite.endpoint)),
      ssm: new SSMClient(localClientConfig(parameterStore.endpoint)),
    };
    await clients.dynamodb.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    backends = buildConfigBackends({ tableName: TABLE, ssmRoot: 'tenant-config', stage: 'test' }, clients, registry);
    router = new TagRouter(registry, backends);
    tenants = new DynamoDbTenantRegistry({ client: clients.dynamodb, tableName: TABLE });
  });

  afterAll(async () => {
    clients?.dynamodb.destroy();
    clients?.ssm.destroy();
    await Promise.all([dynalite?.stop(), parameterStore?.close()]);
  });

  let counter = 0;
  const freshTenant = () => `off${++counter}-${process.pid}` as TenantId;
  const operator = (tenant: TenantId): TenantAccess => ({ caller: { kind: 'operator', subject: OPERATOR }, tenant });
  const deps = (extra: Partial<OffboardingDependencies> = {}): OffboardingDependencies => ({
    router,
    registry: tenants,
    clock: () => FIXED_NOW,
    ...extra,
  });

  /** Writes the keys, eight at a time. */
  async function seed(tenant: TenantId, keys: ReadonlyArray<[string, JsonValue]> = KEYS): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const [raw, value] = keys[next++];
        const key = parseKey(raw);
        await router.route(key).backend.put(tenant, { key, value, updatedBy: 'seed' });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  /** Every key the tenant has, over every tag, read page by page from the backends. */
  async function keysOf(tenant: TenantId): Promise<string[]> {
    const found: string[] = [];
    for (const tag of registry.all()) {
      const prefix = parseKeyPrefix(`${tag.name}:`);
      let cursor: string | undefined;
      do {
        const page = await router.route(prefix).backend.list(tenant, prefix, { limit: 100, cursor });
        found.push(...page.items.map((i) => i.key));
        cursor = page.cursor;
      } while (cursor);
    }
    return found.sort();
  }

  const allKeys = KEYS.map(([k]) => k).sort();

  it('deletes every key in both backends, leaves other tenants alone and keeps a complete record', async () => {
    const tenant = freshTenant();
    const neighbour = freshTenant();
    await Promise.all([seed(tenant), seed(neighbour)]);
    expect(await keysOf(tenant)).toEqual(allKeys);

    const reader = new RecordingReader();
    const progress = await offboardTenant(deps({ reader }), operator(tenant));

    expect(progress).toEqual({
      state: 'complete',
      startedAt: FIXED_NOW.toISOString(),
      startedBy: OPERATOR,
      deletedKeys: KEYS.length,
      completedAt: FIXED_NOW.toISOString(),
    });
    expect(await keysOf(tenant)).toEqual([]);
    for (const [raw] of KEYS) {
      const key = parseKey(raw);
      expect(await router.route(key).backend.get(tenant, key)).toBeUndefined();
    }
    // The neighbour, in the same table and the same Parameter Store hierarchy, keeps everything.
    expect(await keysOf(neighbour)).toEqual(allKeys);
    for (const [raw, value] of KEYS) {
      const key = parseKey(raw);
      expect((await router.route(key).backend.get(neighbour, key))?.value).toEqual(value);
    }

    const record = await tenants.get(tenant);
    expect(record).toMatchObject({ tenantId: tenant, attributes: {}, updatedBy: OPERATOR, offboarding: progress });
    // The cache heard of every delete, with the version deleted (1: each key was written once).
    expect(reader.writes.map((w) => w.key).sort()).toEqual(allKeys);
    expect(reader.writes.every((w) => w.tenant === tenant && w.deletedVersion === 1 && w.item === undefined)).toBe(true);
  });

  it('keeps the attributes of a registered tenant and counts progress every `progressEvery` keys', async () => {
    const tenant = freshTenant();
    await tenants.put(tenant, { attributes: { plan: 'gold' }, updatedBy: 'onboarding', expectedVersion: 'absent' });
    const many: Array<[string, JsonValue]> = Array.from({ length: 7 }, (_, i) => [i % 2 ? `paramconfig:k/${i}` : `tenantconfig:k${i}`, i]);
    await seed(tenant, many);

    const recording = new RecordingRegistry(tenants);
    const progress = await offboardTenant(deps({ registry: recording }), operator(tenant), { progressEvery: 3 });

    expect(progress).toMatchObject({ state: 'complete', deletedKeys: 7 });
    expect(recording.progress.map((p) => [p.state, p.deletedKeys])).toEqual([
      ['in_progress', 0],
      ['in_progress', 3],
      ['in_progress', 6],
      ['complete', 7],
    ]);
    expect((await tenants.get(tenant))?.attributes).toEqual({ plan: 'gold' });
  });

  it('stops at the deadline with in_progress, and a later call resumes it', async () => {
    const tenant = freshTenant();
    await seed(tenant);

    const stopped = await offboardTenant(deps(), operator(tenant), { deadlineMs: 0 });
    expect(stopped).toEqual({ state: 'in_progress', startedAt: FIXED_NOW.toISOString(), startedBy: OPERATOR, deletedKeys: 0 });
    expect((await tenants.get(tenant))?.offboarding).toEqual(stopped);
    expect(await keysOf(tenant)).toEqual(allKeys);

    const later = new Date(FIXED_NOW.getTime() + 60_000);
    const done = await offboardTenant(deps({ clock: () => later }), operator(tenant));
    // The start is the first call's; the completion the last one's.
    expect(done).toEqual({
      state: 'complete',
      startedAt: FIXED_NOW.toISOString(),
      startedBy: OPERATOR,
      deletedKeys: KEYS.length,
      completedAt: later.toISOString(),
    });
    expect(await keysOf(tenant)).toEqual([]);
  });

  it('resumes after an interruption part way through, adding to deletedKeys', async () => {
    const tenant = freshTenant();
    await seed(tenant);
    const allowed = { n: 4 };
    const flaky = new TagRouter(registry, { dynamodb: failingAfter(backends.dynamodb, allowed), ssm: failingAfter(backends.ssm, allowed) });

    await expect(offboardTenant(deps({ router: flaky }), operator(tenant), { progressEvery: 1 })).rejects.toThrow('interrupted');
    expect((await tenants.get(tenant))?.offboarding).toMatchObject({ state: 'in_progress', deletedKeys: 4 });
    expect(await keysOf(tenant)).toHaveLength(KEYS.length - 4);

    const reader = new RecordingReader();
    const done = await offboardTenant(deps({ reader }), operator(tenant));
    expect(done).toMatchObject({ state: 'complete', deletedKeys: KEYS.length });
    expect(reader.writes).toHaveLength(KEYS.length - 4);
    expect(await keysOf(tenant)).toEqual([]);
  });

  it('is idempotent: a second call returns the record unchanged; a key written since is deleted too', async () => {
    const tenant = freshTenant();
    await seed(tenant);
    const first = await offboardTenant(deps(), operator(tenant));
    const before = await tenants.get(tenant);

    const again = await offboardTenant(deps({ clock: () => new Date(FIXED_NOW.getTime() + 1000) }), operator(tenant));
    expect(again).toEqual(first);
    expect((await tenants.get(tenant))?.version).toBe(before!.version);

    // A writer that did not know, after the offboarding finished.
    await seed(tenant, [['paramconfig:late', 1]]);
    const later = new Date(FIXED_NOW.getTime() + 5000);
    const reader = new RecordingReader();
    const cleaned = await offboardTenant(deps({ clock: () => later, reader }), operator(tenant));
    expect(cleaned).toEqual({ ...first, deletedKeys: KEYS.length + 1, completedAt: later.toISOString() });
    expect(reader.writes.map((w) => w.key)).toEqual(['paramconfig:late']);
    expect(await keysOf(tenant)).toEqual([]);
  });

  it('offboards a tenant that was never registered and has no keys: the record says complete', async () => {
    const tenant = freshTenant();
    expect(await tenants.get(tenant)).toBeUndefined();
    const progress = await offboardTenant(deps(), operator(tenant));
    expect(progress).toMatchObject({ state: 'complete', deletedKeys: 0 });
    expect(await tenants.get(tenant)).toMatchObject({ tenantId: tenant, attributes: {}, version: 2, offboarding: progress });
  });

  it('pages through more keys than a page holds in each backend, and writes progress every 100 by default', async () => {
    const tenant = freshTenant();
    const many: Array<[string, JsonValue]> = [
      ...Array.from({ length: 130 }, (_, i): [string, JsonValue] => [`tenantconfig:bulk/${String(i).padStart(3, '0')}`, i]),
      ...Array.from({ length: 105 }, (_, i): [string, JsonValue] => [`paramconfig:bulk/${String(i).padStart(3, '0')}`, i]),
    ];
    await seed(tenant, many);
    const recording = new RecordingRegistry(tenants);
    const progress = await offboardTenant(deps({ registry: recording }), operator(tenant));
    expect(progress).toMatchObject({ state: 'complete', deletedKeys: 235 });
    expect(recording.progress.map((p) => p.deletedKeys)).toEqual([0, 100, 200, 235]);
    expect(await keysOf(tenant)).toEqual([]);
  }, 60_000);

  it('counts a key deleted by a concurrent request as gone, not as its own delete', async () => {
    const tenant = freshTenant();
    await seed(tenant);
    const racing = (backend: ConfigBackend): ConfigBackend => ({
      ...failingAfter(backend, { n: Infinity }),
      delete: async (t, c) => {
        if (c.key.raw === 'paramconfig:db/pool/max' || c.key.raw === 'tenantconfig:plan') await backend.delete(t, c); // the other request wins
        return backend.delete(t, c);
      },
    });
    const reader = new RecordingReader();
    const raced = new TagRouter(registry, { dynamodb: racing(backends.dynamodb), ssm: racing(backends.ssm) });
    const progress = await offboardTenant(deps({ router: raced, reader }), operator(tenant));
    expect(progress).toMatchObject({ state: 'complete', deletedKeys: KEYS.length - 2 });
    expect(reader.writes).toHaveLength(KEYS.length - 2);
    expect(await keysOf(tenant)).toEqual([]);
  });

  it('is for platform operators only, and never for a layer of defaults', async () => {
    const tenant = freshTenant();
    await seed(tenant, [['tenantconfig:plan', 'gold']]);
    const admin: TenantAccess = { caller: { kind: 'tenant-admin', subject: 'admin', tenant }, tenant };
    const service: TenantAccess = { caller: { kind: 'service', subject: 'billing', scopes: new Set(['tenant-config/read']) }, tenant };
    await expect(offboardTenant(deps(), admin)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(offboardTenant(deps(), service)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(offboardTenant(deps(), operator(layerOwner(PLATFORM)))).rejects.toBeInstanceOf(InvalidRequestError);
    expect(await keysOf(tenant)).toEqual(['tenantconfig:plan']);
    expect(await tenants.get(tenant)).toBeUndefined();
  });
});
