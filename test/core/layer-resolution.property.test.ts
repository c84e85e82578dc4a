/**
 * Resolution of effective values as a property (docs/design.md §8.2), on both storage backends
 * as every runtime builds them (DynamoDB on dynalite, Parameter Store on the local server): for
 * any attributes, any defaults in the platform and segment layers and any overrides, `get`
 * serves the documented winner — the tenant's own value, else the segment of the first segment
 * attribute of registry/tenants.json that holds the key, else the platform default — with its
 * source; `?layer=tenant` serves the override alone; and a listing in pages of any size returns
 * exactly the effective items, in key order, each once.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import fc from 'fast-check';
import { buildConfigBackends } from '../../adapters/config-backends';
import { DynamoDbTenantRegistry } from '../../adapters/dynamodb/dynamodb-tenant-registry';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import type { TenantAccess } from '../../core/access-policy';
import { ConfigService } from '../../core/config-service';
import { NotFoundError } from '../../core/errors';
import { layerName, PLATFORM, segmentLayer, type Layer } from '../../core/layers';
import { PageTokenCodec } from '../../core/page-token';
import type { Principal } from '../../core/principal';
import { TagRegistry } from '../../core/tag-registry';
import { TagRouter } from '../../core/tag-router';
import { TenantSchema } from '../../core/tenant-attributes';
import { TenantService } from '../../core/tenant-service';
import type { TenantId } from '../../core/tenant';
import { startLocalParameterStore, type LocalParameterStore } from '../../local/parameter-store';
import { localClientConfig, startDynalite, type RunningServer } from '../support/servers';

const TABLE = 'tenant-config-layers-property';
const operator: Principal = { kind: 'operator', subject: 'op' };
const schema = TenantSchema.default();
const PLANS = ['free', 'gold'] as const;
const REGIONS = ['eu', 'us'] as const;
const SEGMENT_LAYERS: readonly Layer[] = [
  ...PLANS.map((value) => segmentLayer({ attribute: 'plan', value })),
  ...REGIONS.map((value) => segmentLayer({ attribute: 'region', value })),
];
const KEYS = ['a', 'b/c', 'd'] as const;

/** What each key holds in each layer (undefined: nothing), and the tenant's attributes. */
interface Scenario {
  readonly plan?: (typeof PLANS)[number];
  readonly region?: (typeof REGIONS)[number];
  readonly keys: ReadonlyArray<{ own?: number; platform?: number; segments: ReadonlyArray<number | undefined> }>;
  readonly pageSize: number;
}

const value = fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined });
const scenario: fc.Arbitrary<Scenario> = fc.record({
  plan: fc.option(fc.constantFrom(...PLANS), { nil: undefined }),
  region: fc.option(fc.constantFrom(...REGIONS), { nil: undefined }),
  keys: fc.array(
    fc.record({ own: value, platform: value, segments: fc.array(value, { minLength: SEGMENT_LAYERS.length, maxLength: SEGMENT_LAYERS.length }) }),
    {
      minLength: KEYS.length,
      maxLength: KEYS.length,
    },
  ),
  pageSize: fc.integer({ min: 1, max: 4 }),
});

/** The documented rule, written independently of core/layers.ts. */
function model(s: Scenario, k: number): { value: number; source: string } | undefined {
  const entry = s.keys[k];
  if (entry.own !== undefined) return { value: entry.own, source: 'tenant' };
  // Segment attributes in the schema's order: plan before region.
  const order: Array<[string, string | undefined]> = [
    ['plan', s.plan],
    ['region', s.region],
  ];
  for (const [attribute, v] of order) {
    if (v === undefined) continue;
    const i = SEGMENT_LAYERS.findIndex((l) => l.kind === 'segment' && l.attribute === attribute && l.value === v);
    if (entry.segments[i] !== undefined) return { value: entry.segments[i]!, source: `segment:${attribute}=${v}` };
  }
  return entry.platform === undefined ? undefined : { value: entry.platform, source: 'platform' };
}

describe.each([
  ['DynamoDB', 'tenantconfig'],
  ['Parameter Store', 'paramconfig'],
])('effective values on %s (property)', (_name, tag) => {
  let dynalite: RunningServer;
  let parameterStore: LocalParameterStore;
  let dynamodb: DynamoDBClient;
  let ssm: SSMClient;
  let service: ConfigService;
  let tenants: TenantService;

  beforeAll(async () => {
    [dynalite, parameterStore] = await Promise.all([startDynalite({ inMemory: true }), startLocalParameterStore()]);
    dynamodb = new DynamoDBClient(localClientConfig(dynalite.endpoint));
    ssm = new SSMClient(localClientConfig(parameterStore.endpoint));
    await dynamodb.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    const registry = TagRegistry.default();
    const router = new TagRouter(registry, buildConfigBackends({ tableName: TABLE, ssmRoot: 'tenant-config', stage: 'test' }, { dynamodb, ssm }, registry));
    const pageTokens = new PageTokenCodec('layer-property-secret');
    const registryStore = new DynamoDbTenantRegistry({ client: dynamodb, tableName: TABLE });
    service = new ConfigService(router, pageTokens, undefined, { tenants: registryStore, schema });
    tenants = new TenantService(registryStore, schema, pageTokens);
  });
  afterAll(async () => {
    dynamodb?.destroy();
    ssm?.destroy();
    await Promise.all([dynalite?.stop(), parameterStore?.close()]);
  });

  let run = 0;
  it('serves the documented winner with its source, the override alone with layer=tenant, and lists exactly the effective items', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        // Arrange: a fresh tenant and fresh key names, so earlier runs' layers do not matter.
        run += 1;
        const tenant = `res${run}` as TenantId;
        const prefix = `${tag}:r${run}/`;
        const keyOf = (k: number) => `${prefix}${KEYS[k]}`;
        const attributes = { ...(s.plan ? { plan: s.plan } : {}), ...(s.region ? { region: s.region } : {}) };
        await tenants.put(operator, tenant, { attributes });
        const access: TenantAccess = { caller: operator, tenant };
        for (const [k, entry] of s.keys.entries()) {
          if (entry.platform !== undefined) await service.put(ConfigService.layerAccess(operator, PLATFORM), keyOf(k), entry.platform);
          for (const [i, v] of entry.segments.entries())
            if (v !== undefined) await service.put(ConfigService.layerAccess(operator, SEGMENT_LAYERS[i]), keyOf(k), v);
          if (entry.own !== undefined) await service.put(access, keyOf(k), entry.own);
        }

        // Act + Assert: get and get(layer=tenant) per key.
        for (let k = 0; k < KEYS.length; k++) {
          const expected = model(s, k);
          const got = await service.get(access, keyOf(k)).then(
            (item) => ({ value: item.value, source: item.source }),
            (error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error)),
          );
          expect(got).toEqual(expected);
          const own = await service.get(access, keyOf(k), 'tenant').then(
            (item) => item.value,
            (error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error)),
          );
          expect(own).toEqual(s.keys[k].own);
        }

        // Act + Assert: the listing, page by page.
        const listed: Array<{ key: string; value: unknown; source: string }> = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
          const page = await service.list(access, { prefix, limit: s.pageSize, nextToken });
          expect(page.items.length).toBeLessThanOrEqual(s.pageSize);
          listed.push(...page.items.map((i) => ({ key: i.key, value: i.value, source: i.source })));
          nextToken = page.nextToken;
          pages += 1;
        } while (nextToken && pages < 20);
        const expectedListing = KEYS.map((_, k) => ({ k, m: model(s, k) }))
          .filter((e) => e.m !== undefined)
          .map((e) => ({ key: keyOf(e.k), value: e.m!.value, source: e.m!.source }))
          .sort((a, b) => (a.key < b.key ? -1 : 1));
        expect(listed).toEqual(expectedListing);
      }),
      { numRuns: 12 },
    );
  });

  it('names each segment source by the layer that won it', () => {
    expect(SEGMENT_LAYERS.map(layerName)).toEqual(['segment:plan=free', 'segment:plan=gold', 'segment:region=eu', 'segment:region=us']);
  });
});
