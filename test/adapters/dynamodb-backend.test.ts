/**
 * What the port contract leaves to the DynamoDB backend: the row layout, history depth,
 * tombstones, item size, cursors, hand-written rows and error translation. On dynalite and moto.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { DynamoDbConfigBackend } from '../../adapters/dynamodb/dynamodb-config-backend';
import { decodeStoredItem } from '../../adapters/dynamodb/item-codec';
import { BackendUnavailableError, ConflictError, InvalidPageTokenError, NotFoundError, PreconditionFailedError, ValueTooLargeError } from '../../core/errors';
import type { JsonValue } from '../../core/item';
import { parseKey, parseKeyPrefix } from '../../core/key';
import { TagRegistry } from '../../core/tag-registry';
import { parseTenantId, type TenantId } from '../../core/tenant';
import { describeIf, freePort, localClientConfig, startDynalite, startMoto, type RunningServer } from '../support/servers';
import { backendOn, createTestTable } from './dynamodb-test-table';

const tags = new TagRegistry({
  tags: {
    tenantconfig: { backend: 'dynamodb', maxValueBytes: 8192, historyDepth: 10, secret: false },
    shallow: { backend: 'dynamodb', maxValueBytes: 1024, historyDepth: 3, secret: false },
    nohistory: { backend: 'dynamodb', maxValueBytes: 1024, historyDepth: 0, secret: false },
    defaultdepth: { backend: 'dynamodb', maxValueBytes: 1024, secret: false },
    bulky: { backend: 'dynamodb', maxValueBytes: 1024 * 1024, historyDepth: 10, secret: false },
  },
});

let tenantCounter = 0;
const freshTenant = (): TenantId => parseTenantId(`ddb${process.pid}t${++tenantCounter}`);
const k = parseKey;

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

function behaviourSuite(start: () => Promise<RunningServer>): void {
  let server: RunningServer;
  let table: { client: DynamoDBClient; tableName: string };
  let backend: DynamoDbConfigBackend;

  async function rawRow(tenant: string, configKey: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await table.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: { tenantId: { S: tenant }, configKey: { S: configKey } }, ConsistentRead: true }),
    );
    return Item && unmarshall(Item);
  }

  beforeAll(async () => {
    server = await start();
    table = await createTestTable(server.endpoint);
    backend = backendOn(table, { registry: tags });
  });
  afterAll(async () => {
    table.client.destroy();
    await server.stop();
  });

  describe('row layout', () => {
    it('stores the value as JSON text beside version, writer, time and a tombstone flag', async () => {
      const tenant = freshTenant();

      await backend.put(tenant, { key: k('tenantconfig:plan'), value: { tier: 'pro', seats: 5 }, updatedBy: 'alice' });

      const row = await rawRow(tenant, 'tenantconfig:plan');
      expect(row).toMatchObject({
        tenantId: tenant,
        configKey: 'tenantconfig:plan',
        valueJson: '{"tier":"pro","seats":5}',
        version: 1,
        updatedBy: 'alice',
        deleted: false,
        history: [],
      });
      expect(typeof row!.updatedAt).toBe('string');
    });

    it('round-trips any JSON value exactly, object key order included (property)', async () => {
      const tenant = freshTenant();
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
          const json = JSON.stringify(value);

          await backend.put(tenant, { key: k('tenantconfig:any'), value: value as JsonValue, updatedBy: 'prop' });
          const read = await backend.get(tenant, k('tenantconfig:any'));

          expect(JSON.stringify(read!.value)).toBe(json);
        }),
        { numRuns: 25 },
      );
    });

    it('keeps one value holding every JSON type, with its key order', async () => {
      const tenant = freshTenant();
      const value: JsonValue = {
        z: 'last key first',
        string: 'text ✓ 東京 😀',
        number: -12.5e-3,
        integer: 9007199254740991,
        boolean: false,
        null: null,
        array: [1, 'a', true, null, { nested: [] }, [[]]],
        object: { deeper: { deepest: {} } },
        empty: '',
      };

      await backend.put(tenant, { key: k('tenantconfig:all-types'), value, updatedBy: 'alice' });
      const read = await backend.get(tenant, k('tenantconfig:all-types'));

      expect(read!.value).toStrictEqual(value);
      expect(JSON.stringify(read!.value)).toBe(JSON.stringify(value));
    });
  });

  describe('comments', () => {
    it("stores the current version's comment as `comment` and earlier ones in the history entries; none is inherited", async () => {
      const tenant = freshTenant();
      const key = k('tenantconfig:noted');
      await backend.put(tenant, { key, value: 1, updatedBy: 'alice', comment: 'first' });
      expect(await rawRow(tenant, 'tenantconfig:noted')).toMatchObject({ version: 1, comment: 'first', history: [] });

      await backend.put(tenant, { key, value: 2, updatedBy: 'bob' });

      const row = await rawRow(tenant, 'tenantconfig:noted');
      expect(row).not.toHaveProperty('comment');
      expect(row).toMatchObject({ version: 2, history: [{ version: 1, updatedBy: 'alice', comment: 'first' }] });
      await backend.put(tenant, { key, value: 3, updatedBy: 'carol', comment: 'third' });
      const history = (await rawRow(tenant, 'tenantconfig:noted'))!.history as Array<Record<string, unknown>>;
      expect(history[0]).not.toHaveProperty('comment');
      expect((await backend.history(tenant, key, 10)).map((h) => [h.version, h.comment])).toEqual([
        [3, 'third'],
        [2, undefined],
        [1, 'first'],
      ]);
    });

    it('keeps the deleted version’s comment in the history; the tombstone has none', async () => {
      const tenant = freshTenant();
      const key = k('tenantconfig:gone');
      await backend.put(tenant, { key, value: 'v', updatedBy: 'alice', comment: 'before the delete' });

      await backend.delete(tenant, { key, deletedBy: 'bob' });

      const row = await rawRow(tenant, 'tenantconfig:gone');
      expect(row).toMatchObject({ deleted: true, version: 2 });
      expect(row).not.toHaveProperty('comment');
      expect(await backend.history(tenant, key, 10)).toMatchObject([{ version: 1, comment: 'before the delete' }]);
    });

    it('decodes a stream image with its comment, and ignores a hand-written comment that is not a string', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: k('tenantconfig:img'), value: true, updatedBy: 'alice', comment: 'from the image' });
      const { Item } = await table.client.send(
        new GetItemCommand({ TableName: table.tableName, Key: { tenantId: { S: tenant }, configKey: { S: 'tenantconfig:img' } }, ConsistentRead: true }),
      );

      expect(decodeStoredItem(Item!)).toMatchObject({ version: 1, updatedBy: 'alice', comment: 'from the image' });
      expect(decodeStoredItem({ ...Item!, comment: { N: '5' } })).not.toHaveProperty('comment');
    });
  });

  describe('history depth', () => {
    it("keeps the tag's historyDepth earlier versions beside the current one", async () => {
      const tenant = freshTenant();
      for (let v = 1; v <= 6; v++) await backend.put(tenant, { key: k('shallow:x'), value: v, updatedBy: `w${v}` });

      const history = await backend.history(tenant, k('shallow:x'), 100);

      expect(history.map((h) => [h.version, h.value, h.updatedBy])).toEqual([
        [6, 6, 'w6'],
        [5, 5, 'w5'],
        [4, 4, 'w4'],
        [3, 3, 'w3'],
      ]);
      expect((await rawRow(tenant, 'shallow:x'))!.history).toHaveLength(3);
    });

    it('keeps 10 earlier versions when the tag sets no depth', async () => {
      const tenant = freshTenant();
      for (let v = 1; v <= 14; v++) await backend.put(tenant, { key: k('defaultdepth:x'), value: v, updatedBy: 'w' });

      const history = await backend.history(tenant, k('defaultdepth:x'), 100);

      expect(history.map((h) => h.version)).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
    });

    it('keeps only the current version at depth 0', async () => {
      const tenant = freshTenant();
      for (let v = 1; v <= 3; v++) await backend.put(tenant, { key: k('nohistory:x'), value: v, updatedBy: 'w' });

      expect((await backend.history(tenant, k('nohistory:x'), 100)).map((h) => h.version)).toEqual([3]);
    });
  });

  describe('tombstones', () => {
    it('marks a deleted key with version+1, drops its value and keeps its history', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: k('tenantconfig:t'), value: 'one', updatedBy: 'alice' });
      await backend.put(tenant, { key: k('tenantconfig:t'), value: 'two', updatedBy: 'bob' });

      const deleted = await backend.delete(tenant, { key: k('tenantconfig:t'), deletedBy: 'carol' });

      expect(deleted).toEqual({ version: 2 });
      const row = await rawRow(tenant, 'tenantconfig:t');
      expect(row).toMatchObject({ deleted: true, version: 3, updatedBy: 'carol' });
      expect(row).not.toHaveProperty('valueJson');
      expect(await backend.get(tenant, k('tenantconfig:t'))).toBeUndefined();
      expect((await backend.history(tenant, k('tenantconfig:t'), 10)).map((h) => [h.version, h.value])).toEqual([
        [2, 'two'],
        [1, 'one'],
      ]);
    });

    it('treats a tombstone as absent for every precondition, and continues the version sequence', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: k('tenantconfig:t'), value: 'one', updatedBy: 'alice' });
      await backend.delete(tenant, { key: k('tenantconfig:t'), deletedBy: 'bob' });

      const onTombstoneVersion = await rejectionOf(backend.put(tenant, { key: k('tenantconfig:t'), value: 'x', expectedVersion: 2, updatedBy: 'c' }));
      const deleteAgain = await rejectionOf(backend.delete(tenant, { key: k('tenantconfig:t'), expectedVersion: 2, deletedBy: 'c' }));
      const reborn = await backend.put(tenant, { key: k('tenantconfig:t'), value: 'again', expectedVersion: 'absent', updatedBy: 'dave' });

      expect(onTombstoneVersion).toBeInstanceOf(PreconditionFailedError);
      expect((onTombstoneVersion as PreconditionFailedError).currentVersion).toBeUndefined();
      expect(deleteAgain).toBeInstanceOf(NotFoundError);
      expect(reborn).toMatchObject({ created: true, item: { version: 3, value: 'again', updatedBy: 'dave' } });
      expect((await backend.history(tenant, k('tenantconfig:t'), 10)).map((h) => h.version)).toEqual([3, 1]);
    });

    it('skips long runs of tombstones inside one list call', async () => {
      const tenant = freshTenant();
      for (let i = 0; i < 40; i++) {
        const key = k(`tenantconfig:run/${String(i).padStart(3, '0')}`);
        await backend.put(tenant, { key, value: i, updatedBy: 'w' });
        await backend.delete(tenant, { key, deletedBy: 'w' });
      }
      await backend.put(tenant, { key: k('tenantconfig:run/zzz'), value: 'live', updatedBy: 'w' });

      const page = await backend.list(tenant, parseKeyPrefix('tenantconfig:run/'), { limit: 1 });

      expect(page).toEqual({ items: [expect.objectContaining({ key: 'tenantconfig:run/zzz', value: 'live' })] });
    });
  });

  describe('item size', () => {
    it('keeps a full history of values at the tag limit (8 KB, multi-byte)', async () => {
      const tenant = freshTenant();
      const valueOfMaxSize = (n: number): string => {
        const body = `${n}:${'€'.repeat(2728)}`; // '€' is 3 bytes in UTF-8; plus quotes ≈ 8190 bytes of JSON
        expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(8192);
        return body;
      };

      for (let n = 1; n <= 13; n++) await backend.put(tenant, { key: k('tenantconfig:big'), value: valueOfMaxSize(n), updatedBy: 'w' });

      const history = await backend.history(tenant, k('tenantconfig:big'), 100);
      expect(history.map((h) => h.version)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
      expect(history.every((h, i) => h.value === valueOfMaxSize(13 - i))).toBe(true);
    });

    it('shortens the history rather than exceed the 400 KB item limit', async () => {
      const tenant = freshTenant();
      const value = (n: number) => `${n}${'x'.repeat(150 * 1024)}`;

      for (let n = 1; n <= 4; n++) await backend.put(tenant, { key: k('bulky:blob'), value: value(n), updatedBy: 'w' });

      const history = await backend.history(tenant, k('bulky:blob'), 100);
      expect(history[0]).toMatchObject({ version: 4, value: value(4) });
      expect(history.map((h) => h.version)).toEqual([4, 3]);
      expect(history[1].value).toBe(value(3));
    });

    it('refuses a value that cannot fit in an item, and writes nothing', async () => {
      const tenant = freshTenant();

      const error = await rejectionOf(backend.put(tenant, { key: k('bulky:huge'), value: 'x'.repeat(500 * 1024), updatedBy: 'w' }));

      expect(error).toBeInstanceOf(ValueTooLargeError);
      expect(await rawRow(tenant, 'bulky:huge')).toBeUndefined();
    });
  });

  describe('list cursors and reserved rows', () => {
    it('never lists rows whose sort key starts with #', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: k('tenantconfig:a'), value: 1, updatedBy: 'w' });
      await table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: { tenantId: { S: tenant }, configKey: { S: '#lease#paramconfig:a' }, leaseUntil: { N: '1' } },
        }),
      );

      const page = await backend.list(tenant, parseKeyPrefix('tenantconfig:'), { limit: 100 });

      expect(page.items.map((i) => i.key)).toEqual(['tenantconfig:a']);
    });

    it('refuses a cursor that is garbage or points outside the prefix', async () => {
      const tenant = freshTenant();
      const outside = Buffer.from(JSON.stringify({ k: 'flags:a' })).toString('base64url');

      const garbage = await rejectionOf(backend.list(tenant, parseKeyPrefix('tenantconfig:'), { limit: 5, cursor: '!!not a cursor' }));
      const elsewhere = await rejectionOf(backend.list(tenant, parseKeyPrefix('tenantconfig:'), { limit: 5, cursor: outside }));

      expect(garbage).toBeInstanceOf(InvalidPageTokenError);
      expect(elsewhere).toBeInstanceOf(InvalidPageTokenError);
    });

    it("takes the tenant from the caller, never from the cursor: another tenant's cursor only lists the caller's items", async () => {
      const a = freshTenant();
      const b = freshTenant();
      for (const n of ['1', '2', '3']) {
        await backend.put(a, { key: k(`tenantconfig:${n}`), value: `a${n}`, updatedBy: 'w' });
        await backend.put(b, { key: k(`tenantconfig:${n}`), value: `b${n}`, updatedBy: 'w' });
      }
      const first = await backend.list(a, parseKeyPrefix('tenantconfig:'), { limit: 1 });

      const replayed = await backend.list(b, parseKeyPrefix('tenantconfig:'), { limit: 10, cursor: first.cursor });

      expect(replayed.items.map((i) => i.value)).toEqual(['b2', 'b3']);
    });
  });

  describe('rows written straight into the table', () => {
    it('reads a native `value` attribute, and continues from a row without a version', async () => {
      const tenant = freshTenant();
      await table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: {
            tenantId: { S: tenant },
            configKey: { S: 'tenantconfig:by-cli' },
            value: { M: { tier: { S: 'pro' }, seats: { N: '5' }, regions: { SS: ['eu', 'us'] } } },
          },
        }),
      );

      const read = await backend.get(tenant, k('tenantconfig:by-cli'));
      const next = await backend.put(tenant, { key: k('tenantconfig:by-cli'), value: 'api', expectedVersion: 0, updatedBy: 'w' });

      expect(read).toMatchObject({ version: 0, value: { tier: 'pro', seats: 5, regions: ['eu', 'us'] } });
      expect(next).toMatchObject({ created: false, item: { version: 1, value: 'api' } });
    });
  });

  describe('contention and failures', () => {
    it('reports ConflictError when a write keeps losing races beyond maxWriteAttempts, and loses nothing it reported', async () => {
      const impatient = backendOn(table, { registry: tags, maxWriteAttempts: 1 });
      const tenant = freshTenant();

      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => impatient.put(tenant, { key: k('tenantconfig:hot'), value: i, updatedBy: 'w' })),
      );

      const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(failures.length).toBeGreaterThan(0);
      for (const f of failures) expect(f.reason).toBeInstanceOf(ConflictError);
      const succeeded = outcomes.length - failures.length;
      expect((await backend.get(tenant, k('tenantconfig:hot')))?.version).toBe(succeeded);
    });

    it('reports BackendUnavailableError when nothing answers', async () => {
      const client = new DynamoDBClient({ ...localClientConfig(`http://127.0.0.1:${await freePort()}`), maxAttempts: 1 });
      const offline = new DynamoDbConfigBackend({ client, tableName: table.tableName, registry: tags });

      const error = await rejectionOf(offline.get(freshTenant(), k('tenantconfig:x')));

      expect(error).toBeInstanceOf(BackendUnavailableError);
      client.destroy();
    });

    it('passes a missing table on as the SDK error (a configuration fault, 500), not as BackendUnavailableError', async () => {
      const missing = new DynamoDbConfigBackend({ client: table.client, tableName: 'no-such-table', registry: tags });

      const error = await rejectionOf(missing.put(freshTenant(), { key: k('tenantconfig:x'), value: 1, updatedBy: 'w' }));

      expect((error as Error).name).toBe('ResourceNotFoundException');
      expect(error).not.toBeInstanceOf(BackendUnavailableError);
    });
  });
}

describe('DynamoDB backend on dynalite', () => behaviourSuite(() => startDynalite({ inMemory: true })));
// moto is an independent implementation: its item size limit, for one, is stricter than dynalite's.
describeIf('moto_server')('DynamoDB backend on moto_server', () => behaviourSuite(startMoto));
