/**
 * Benchmark: listing one tenant's tag page by page, at LISTING_KEYS keys (1,000 and 5,000),
 * ours vs the approach it replaced, for both backends; and the local Parameter Store's
 * sequential writes per second at the same sizes.
 *
 * - Parameter Store (the local server, in memory, in this process): "walk" is the backend
 *   without a key index, which walks the tenant's whole tag with GetParametersByPath (10 per
 *   call) and sorts it for every page; "key index" reads one page of keys from the tenant table
 *   (dynalite, child process) and only those parameters (GetParameters, 10 per call). The
 *   index's one-time build (the first listing of a tag whose parameters were written outside
 *   the API, as these are) is reported on its own row.
 * - DynamoDB (dynalite): one Query per page, unchanged; shown for comparison.
 * - Pages of LISTING_LIMIT (100) keys until the end; per-page figures are medians over the pages.
 * - Local store writes: LISTING_WRITES (100) PutParameters one after another into a store of N
 *   parameters kept in a data file: the journal (ours) vs rewriting and fsyncing the whole
 *   file for each write (the old way, measured on the same snapshot as a lower bound: no HTTP).
 *
 * Settings (env): LISTING_KEYS (1000,5000), LISTING_LIMIT (100), LISTING_WRITES (100).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDbConfigBackend } from '../adapters/dynamodb/dynamodb-config-backend';
import { DynamoDbWriteLease } from '../adapters/dynamodb/dynamodb-write-lease';
import { encodeStoredItem } from '../adapters/dynamodb/item-codec';
import { DynamoDbParameterKeyIndex } from '../adapters/dynamodb/parameter-key-index';
import { SsmConfigBackend } from '../adapters/ssm/ssm-config-backend';
import type { ConfigBackend } from '../core/backend-port';
import { parseKeyPrefix } from '../core/key';
import { TagRegistry } from '../core/tag-registry';
import { parseTenantId, type TenantId } from '../core/tenant';
import { startLocalParameterStore } from '../local/parameter-store';
import { ParameterStore } from '../local/parameter-store/parameter-store';
import { writeFileAtomically } from '../local/parameter-store/snapshot-file';
import { startDynaliteProcess } from './support/dynalite-process';
import { describeMachine, machineInfo } from './support/machine';
import { envList, envNumber, log, percentile, round, table, writeResults } from './support/report';
import { createTable } from './support/seed';

const TABLE = 'tenant-config-bench-listing';
const ROOT = 'tenant-config';
const STAGE = 'bench';

export interface ListingRow {
  readonly backend: string;
  readonly approach: string;
  readonly keys: number;
  readonly pages: number;
  readonly msPerPageP50: number;
  readonly storeCallsPerPage: number;
  readonly fullListingS: number;
}

export interface WriteRow {
  readonly parameters: number;
  readonly approach: string;
  readonly writesPerSec: number;
  readonly bytesWrittenPerWrite: number;
}

const localConfig = (endpoint: string) => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 3 });

/** Counts the calls a client sends. */
function counted<C extends SSMClient | DynamoDBClient>(client: C): { client: C; calls: () => number; reset: () => void } {
  let calls = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      calls += 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCount' },
  );
  return { client, calls: () => calls, reset: () => (calls = 0) };
}

const keyName = (tag: string, i: number) => `${tag}:bench/k${String(i).padStart(5, '0')}`;

async function seedParameters(ssm: SSMClient, tenant: TenantId, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        await ssm.send(
          new PutParameterCommand({
            Name: `/${ROOT}/${STAGE}/tenants/${tenant}/${keyName('paramconfig', i).replace(':', '/')}`,
            Value: JSON.stringify({ limit: i, plan: 'standard' }),
            Type: 'String',
          }),
        );
      }
    }),
  );
}

async function seedItems(client: DynamoDBClient, tenant: TenantId, count: number): Promise<void> {
  const requests: WriteRequest[] = Array.from({ length: count }, (_, i) => ({
    PutRequest: {
      Item: encodeStoredItem({
        tenantId: tenant,
        configKey: keyName('tenantconfig', i),
        version: 1,
        deleted: false,
        valueJson: JSON.stringify({ limit: i, plan: 'standard' }),
        updatedAt: '2026-01-01T00:00:00.000Z',
        updatedBy: 'seed',
        history: [],
        hasVersionAttribute: true,
      }),
    },
  }));
  for (let i = 0; i < requests.length; i += 25) {
    let pending: WriteRequest[] | undefined = requests.slice(i, i + 25);
    while (pending && pending.length > 0)
      pending = (await client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: pending } }))).UnprocessedItems?.[TABLE];
  }
}

/** Lists every page; per-page time and store calls, and the whole listing's time. */
async function listAll(
  backend: ConfigBackend,
  tenant: TenantId,
  tag: string,
  limit: number,
  calls: () => number,
): Promise<{ pageMs: number[]; pageCalls: number[]; totalS: number; keys: number }> {
  const pageMs: number[] = [];
  const pageCalls: number[] = [];
  let keys = 0;
  let cursor: string | undefined;
  const started = performance.now();
  do {
    const before = calls();
    const t = performance.now();
    const page = await backend.list(tenant, parseKeyPrefix(`${tag}:`), { limit, cursor });
    pageMs.push(performance.now() - t);
    pageCalls.push(calls() - before);
    keys += page.items.length;
    cursor = page.cursor;
  } while (cursor);
  return { pageMs, pageCalls, totalS: (performance.now() - started) / 1000, keys };
}

/** Sequential writes per second into a store of `count` parameters kept in a data file. */
async function measureWrites(count: number, writes: number): Promise<WriteRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ps-'));
  try {
    // The old way: every write rewrote and fsynced the whole snapshot (temp file, fsync, rename).
    const memory = new ParameterStore('000000000000');
    const ctx = { region: 'us-east-1', user: 'bench' };
    for (let i = 0; i < count; i++) memory.put({ Name: `/bench/p${i}`, Value: JSON.stringify({ limit: i, plan: 'standard' }), Type: 'String' }, ctx);
    let rewriteBytes = 0;
    let t = performance.now();
    for (let i = 0; i < writes; i++) {
      memory.put({ Name: `/bench/p${i % count}`, Value: JSON.stringify({ limit: -i }), Overwrite: true }, ctx);
      const text = JSON.stringify(memory.snapshot());
      rewriteBytes += Buffer.byteLength(text);
      await writeFileAtomically(join(dir, 'old.json'), text);
    }
    const oldRate = writes / ((performance.now() - t) / 1000);

    // Ours: the same store through HTTP, its data file holding `count` parameters.
    const dataFile = join(dir, 'ssm.json');
    await writeFileAtomically(dataFile, JSON.stringify(memory.snapshot()));
    const store = await startLocalParameterStore({ dataFile });
    const ssm = new SSMClient(localConfig(store.endpoint));
    const journalBefore = statSync(`${dataFile}.journal`).size;
    t = performance.now();
    for (let i = 0; i < writes; i++) {
      await ssm.send(new PutParameterCommand({ Name: `/bench/p${i % count}`, Value: JSON.stringify({ limit: -i }), Overwrite: true }));
    }
    const newRate = writes / ((performance.now() - t) / 1000);
    const journalBytes = statSync(`${dataFile}.journal`).size - journalBefore;
    ssm.destroy();
    await store.close();
    return [
      {
        parameters: count,
        approach: 'rewrite whole file per write (old, no HTTP)',
        writesPerSec: round(oldRate, 1),
        bytesWrittenPerWrite: Math.round(rewriteBytes / writes),
      },
      {
        parameters: count,
        approach: 'journal append (ours, via HTTP)',
        writesPerSec: round(newRate, 1),
        bytesWrittenPerWrite: Math.round(journalBytes / writes),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runListing(): Promise<{ rows: ListingRow[]; text: string; results: unknown }> {
  const cfg = { keys: envList('LISTING_KEYS', [1000, 5000]), limit: envNumber('LISTING_LIMIT', 100), writes: envNumber('LISTING_WRITES', 100) };
  const dynalite = await startDynaliteProcess();
  const store = await startLocalParameterStore();
  const seedSsm = new SSMClient(localConfig(store.endpoint));
  const seedDynamo = new DynamoDBClient(localConfig(dynalite.endpoint));
  const ssm = counted(new SSMClient(localConfig(store.endpoint)));
  const dynamo = counted(new DynamoDBClient(localConfig(dynalite.endpoint)));
  const registry = TagRegistry.default();
  const rows: ListingRow[] = [];
  const writeRows: WriteRow[] = [];
  try {
    await createTable(seedDynamo, TABLE);
    const calls = () => ssm.calls() + dynamo.calls();
    const ssmBackend = (withIndex: boolean) =>
      new SsmConfigBackend({
        client: ssm.client,
        lease: new DynamoDbWriteLease({ client: dynamo.client, tableName: TABLE }),
        ...(withIndex ? { keyIndex: new DynamoDbParameterKeyIndex({ client: dynamo.client, tableName: TABLE }) } : {}),
        registry,
        root: ROOT,
        stage: STAGE,
      });
    const row = (backend: string, approach: string, keys: number, r: Awaited<ReturnType<typeof listAll>>): ListingRow => {
      if (r.keys !== keys) throw new Error(`${backend} ${approach}: listed ${r.keys} of ${keys} keys`);
      return {
        backend,
        approach,
        keys,
        pages: r.pageMs.length,
        msPerPageP50: round(percentile(r.pageMs, 50), 1),
        storeCallsPerPage: percentile(r.pageCalls, 50),
        fullListingS: round(r.totalS, 2),
      };
    };
    for (const keys of cfg.keys) {
      const tenant = parseTenantId(`bench${keys}`);
      log(`listing: seeding ${keys} parameters and ${keys} items`);
      await seedParameters(seedSsm, tenant, keys);
      await seedItems(seedDynamo, tenant, keys);

      log(`listing: Parameter Store, walk per page, ${keys} keys`);
      rows.push(row('Parameter Store', 'walk the tag per page (old)', keys, await listAll(ssmBackend(false), tenant, 'paramconfig', cfg.limit, calls)));

      log(`listing: Parameter Store, key index, ${keys} keys`);
      const indexed = ssmBackend(true);
      // The one-time index build: a listing's first page of a tag never indexed.
      const before = calls();
      const t = performance.now();
      await indexed.list(tenant, parseKeyPrefix('paramconfig:'), { limit: cfg.limit });
      rows.push({
        backend: 'Parameter Store',
        approach: 'key index: one-time build (first page)',
        keys,
        pages: 1,
        msPerPageP50: round(performance.now() - t, 1),
        storeCallsPerPage: calls() - before,
        fullListingS: round((performance.now() - t) / 1000, 2),
      });
      rows.push(row('Parameter Store', 'key index (ours)', keys, await listAll(indexed, tenant, 'paramconfig', cfg.limit, calls)));

      log(`listing: DynamoDB, ${keys} keys`);
      rows.push(
        row(
          'DynamoDB',
          'Query per page (unchanged)',
          keys,
          await listAll(new DynamoDbConfigBackend({ client: dynamo.client, tableName: TABLE, registry }), tenant, 'tenantconfig', cfg.limit, calls),
        ),
      );

      log(`listing: local Parameter Store writes at ${keys} parameters`);
      writeRows.push(...(await measureWrites(keys, cfg.writes)));
    }
  } finally {
    for (const c of [seedSsm, seedDynamo, ssm.client, dynamo.client]) c.destroy();
    await store.close();
    await dynalite.stop();
  }
  const machine = machineInfo();
  const results = { measuredAt: new Date().toISOString(), machine, settings: cfg, rows, writes: writeRows };
  writeResults('listing', results);
  const text = [
    `listing (${describeMachine(machine)}; pages of ${cfg.limit}; store calls = SSM + DynamoDB requests)`,
    table(
      ['backend', 'approach', 'keys', 'pages', 'ms/page p50', 'store calls/page', 'full listing s'],
      rows.map((r) => [r.backend, r.approach, r.keys, r.pages, r.msPerPageP50, r.storeCallsPerPage, r.fullListingS]),
    ),
    '',
    `local Parameter Store: ${cfg.writes} sequential writes into a data file of N parameters`,
    table(
      ['parameters', 'approach', 'writes/s', 'bytes written/write'],
      writeRows.map((r) => [r.parameters, r.approach, r.writesPerSec, r.bytesWrittenPerWrite]),
    ),
  ].join('\n');
  return { rows, text, results };
}
