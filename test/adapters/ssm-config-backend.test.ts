import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient, type PutParameterCommandInput } from '@aws-sdk/client-ssm';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { DynamoDbWriteLease } from '../../adapters/dynamodb/dynamodb-write-lease';
import { DynamoDbParameterKeyIndex, PARAMETER_KEY_PREFIX } from '../../adapters/dynamodb/parameter-key-index';
import { SsmConfigBackend } from '../../adapters/ssm/ssm-config-backend';
import { ConcurrentWriteDetectedError } from '../../adapters/ssm/ssm-errors';
import type { WriteLease } from '../../adapters/ssm/write-lease';
import { BackendUnavailableError, ConflictError, InvalidPageTokenError, PreconditionFailedError } from '../../core/errors';
import type { JsonValue } from '../../core/item';
import { parseKey, parseKeyPrefix } from '../../core/key';
import { TagRegistry } from '../../core/tag-registry';
import { parseTenantId, type TenantId } from '../../core/tenant';
import { startLocalParameterStore, type LocalParameterStore } from '../../local/parameter-store';
import { describeIf, freePort, localClientConfig, startDynalite, startMoto, type RunningServer } from '../support/servers';

const TABLE = 'tenants';
const ROOT = 'tenant-config';
const STAGE = 'test';
const registry = TagRegistry.default();
let tenantCounter = 0;
const freshTenant = (): TenantId => parseTenantId(`t${Date.now().toString(36)}${++tenantCounter}`);
const paramName = (tenant: TenantId, key: string) => `/${ROOT}/${STAGE}/tenants/${tenant}/${key.replace(':', '/')}`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

/** A lease that excludes nobody: what the backend would be without one. */
const noLease: WriteLease = { run: (_t, _k, work) => work({ remainingMs: () => 60_000, renew: async () => undefined }) };

describe('SsmConfigBackend (local Parameter Store, lease in dynalite)', () => {
  let store: LocalParameterStore;
  let dynalite: RunningServer;
  let ssm: SSMClient;
  let dynamo: DynamoDBClient;
  /** Writes straight into Parameter Store, as the CLI or another service would: no lease, other credentials. */
  let bypass: SSMClient;
  let lease: DynamoDbWriteLease;
  let keyIndex: DynamoDbParameterKeyIndex;
  let backend: SsmConfigBackend;
  const makeBackend = (overrides: Partial<ConstructorParameters<typeof SsmConfigBackend>[0]> = {}) =>
    new SsmConfigBackend({ client: ssm, lease, keyIndex, registry, root: ROOT, stage: STAGE, ...overrides });

  /** A write through a backend whose table client reaches nothing: a 503-class error, and no parameter written. */
  async function expectWriteRefusedWithTableDown(parts: (deadDynamo: DynamoDBClient) => Partial<ConstructorParameters<typeof SsmConfigBackend>[0]>) {
    const deadDynamo = new DynamoDBClient({ ...localClientConfig(`http://127.0.0.1:${await freePort()}`), maxAttempts: 1 });
    const tenant = freshTenant();
    try {
      const dead = makeBackend(parts(deadDynamo));
      expect(await rejection(dead.put(tenant, { key: parseKey('paramconfig:x'), value: 1, updatedBy: 'a' }))).toBeInstanceOf(BackendUnavailableError);
      expect(await backend.get(tenant, parseKey('paramconfig:x'))).toBeUndefined();
    } finally {
      deadDynamo.destroy();
    }
  }

  beforeAll(async () => {
    [store, dynalite] = await Promise.all([startLocalParameterStore(), startDynalite({ inMemory: true })]);
    ssm = new SSMClient(localClientConfig(store.endpoint));
    bypass = new SSMClient({ ...localClientConfig(store.endpoint), credentials: { accessKeyId: 'bypasser', secretAccessKey: 'x' } });
    dynamo = new DynamoDBClient(localClientConfig(dynalite.endpoint));
    await dynamo.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    lease = new DynamoDbWriteLease({ client: dynamo, tableName: TABLE });
    keyIndex = new DynamoDbParameterKeyIndex({ client: dynamo, tableName: TABLE });
    backend = makeBackend();
  });
  afterAll(async () => {
    for (const c of [ssm, bypass, dynamo]) c.destroy();
    await Promise.all([store.close(), dynalite.stop()]);
  });

  describe('storage layout', () => {
    it('stores the value as JSON text at /<root>/<stage>/tenants/<tenant>/<tag>/<name> with a writer note tied to the version', async () => {
      const tenant = freshTenant();

      await backend.put(tenant, { key: parseKey('paramconfig:db/pool/max'), value: { max: 20 }, updatedBy: 'alice@example.com' });
      const raw = await ssm.send(new GetParameterCommand({ Name: paramName(tenant, 'paramconfig:db/pool/max') }));
      const meta = await ssm.send(
        new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [paramName(tenant, 'paramconfig:db/pool/max')] }] }),
      );

      expect(raw.Parameter).toMatchObject({ Type: 'String', Value: '{"max":20}', Version: 1 });
      expect(meta.Parameters?.[0].Description).toBe('tenant-config updatedBy=alice%40example.com version=1');
    });

    it('keeps two SSM tags with the same name apart', async () => {
      const tenant = freshTenant();

      await backend.put(tenant, { key: parseKey('paramconfig:same'), value: 'plain', updatedBy: 'a' });
      await backend.put(tenant, { key: parseKey('secretconfig:same'), value: 'secret', updatedBy: 'a' });

      expect((await backend.get(tenant, parseKey('paramconfig:same')))?.value).toBe('plain');
      expect((await backend.get(tenant, parseKey('secretconfig:same')))?.value).toBe('secret');
      expect((await backend.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 10 })).items.map((i) => i.key)).toEqual(['paramconfig:same']);
    });

    it('restarts a re-created key at version 1: Parameter Store drops a deleted parameter with its history', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:phoenix');
      await backend.put(tenant, { key, value: 1, updatedBy: 'a' });
      await backend.put(tenant, { key, value: 2, updatedBy: 'a' });
      await backend.delete(tenant, { key, deletedBy: 'a' });

      const reborn = await backend.put(tenant, { key, value: 3, updatedBy: 'a' });

      expect(reborn).toMatchObject({ created: true, item: { version: 1 } });
      expect((await backend.history(tenant, key, 10)).map((h) => h.version)).toEqual([1]);
    });

    it.each([
      ['aws-config', 'dev'],
      ['ssm', 'dev'],
      ['a/b', 'dev'],
      ['tenant-config', ''],
      ['tenant-config', 'de v'],
    ])('refuses root %p and stage %p', (root, stage) => {
      expect(() => makeBackend({ root, stage })).toThrow(/SSM parameter (root|stage)/);
    });
  });

  describe('secret tags', () => {
    it('stores a secret tag as a SecureString under the configured KMS key and reads it decrypted everywhere', async () => {
      const tenant = freshTenant();
      const secretBackend = makeBackend({ kmsKeyId: 'alias/tenant-config-test' });
      const key = parseKey('secretconfig:db/password');

      await secretBackend.put(tenant, { key, value: 'hunter2', updatedBy: 'admin' });
      await secretBackend.put(tenant, { key, value: 'hunter3', updatedBy: 'admin' });
      const raw = await ssm.send(new GetParameterCommand({ Name: paramName(tenant, key.raw) }));
      const meta = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [paramName(tenant, key.raw)] }] }));

      expect(raw.Parameter?.Type).toBe('SecureString');
      expect(raw.Parameter?.Value).not.toContain('hunter');
      expect(meta.Parameters?.[0].KeyId).toBe('alias/tenant-config-test');
      expect(await secretBackend.get(tenant, key)).toMatchObject({ value: 'hunter3', version: 2, updatedBy: 'admin' });
      expect((await secretBackend.list(tenant, parseKeyPrefix('secretconfig:db/'), { limit: 10 })).items.map((i) => i.value)).toEqual(['hunter3']);
      expect((await secretBackend.history(tenant, key, 10)).map((h) => h.value)).toEqual(['hunter3', 'hunter2']);
    });

    it('stores a non-secret tag as a String', async () => {
      const tenant = freshTenant();

      await backend.put(tenant, { key: parseKey('paramconfig:open'), value: 'x', updatedBy: 'a' });

      expect((await ssm.send(new GetParameterCommand({ Name: paramName(tenant, 'paramconfig:open') }))).Parameter?.Type).toBe('String');
    });
  });

  describe('parameters written by other tools', () => {
    it('reads text that is not JSON as a JSON string, and JSON text as its value, in get, list and history', async () => {
      const tenant = freshTenant();
      await bypass.send(new PutParameterCommand({ Name: paramName(tenant, 'paramconfig:cli/text'), Value: 'postgres://db:5432', Type: 'String' }));
      await bypass.send(new PutParameterCommand({ Name: paramName(tenant, 'paramconfig:cli/number'), Value: '42', Type: 'String' }));
      await bypass.send(new PutParameterCommand({ Name: paramName(tenant, 'paramconfig:cli/list'), Value: 'a,b', Type: 'StringList' }));

      const text = await backend.get(tenant, parseKey('paramconfig:cli/text'));
      const listed = await backend.list(tenant, parseKeyPrefix('paramconfig:cli/'), { limit: 10 });
      const history = await backend.history(tenant, parseKey('paramconfig:cli/text'), 10);

      expect(text).toMatchObject({ value: 'postgres://db:5432', version: 1, updatedBy: 'arn:aws:iam::000000000000:user/bypasser' });
      expect(listed.items.map((i) => [i.key, i.value])).toEqual([
        ['paramconfig:cli/list', 'a,b'],
        ['paramconfig:cli/number', 42],
        ['paramconfig:cli/text', 'postgres://db:5432'],
      ]);
      expect(history.map((h) => h.value)).toEqual(['postgres://db:5432']);
    });

    it('does not credit our last writer with a later write that left the Description out (Parameter Store carries it over)', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:shared');
      await backend.put(tenant, { key, value: 'by api', updatedBy: 'alice' });

      await bypass.send(new PutParameterCommand({ Name: paramName(tenant, key.raw), Value: '"by cli"', Overwrite: true }));

      expect(await backend.get(tenant, key)).toMatchObject({ value: 'by cli', version: 2, updatedBy: 'arn:aws:iam::000000000000:user/bypasser' });
      expect((await backend.history(tenant, key, 10)).map((h) => [h.version, h.updatedBy])).toEqual([
        [2, 'arn:aws:iam::000000000000:user/bypasser'],
        [1, 'alice'],
      ]);
    });

    it('stores a comment escaped in the writer note, and shows none for a later write that left the Description out', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:noted');
      await backend.put(tenant, { key, value: 'by api', updatedBy: 'alice', comment: '50% off\nfor 🚀' });
      const meta = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [paramName(tenant, key.raw)] }] }));
      expect(meta.Parameters?.[0].Description).toBe('tenant-config updatedBy=alice version=1 comment=50%25%20off%0Afor%20🚀');

      await bypass.send(new PutParameterCommand({ Name: paramName(tenant, key.raw), Value: '"by cli"', Overwrite: true }));

      const read = await backend.get(tenant, key);
      expect(read).toMatchObject({ value: 'by cli', version: 2 });
      expect(read?.comment).toBeUndefined();
      const [listed] = (await backend.list(tenant, parseKeyPrefix('paramconfig:noted'), { limit: 10 })).items;
      expect(listed).toMatchObject({ version: 2 });
      expect(listed.comment).toBeUndefined();
      expect((await backend.history(tenant, key, 10)).map((h) => [h.version, h.comment])).toEqual([
        [2, undefined],
        [1, '50% off\nfor 🚀'],
      ]);
    });

    it('lists only parameters whose names are valid keys of the listed tag', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: parseKey('paramconfig:ok'), value: 1, updatedBy: 'a' });
      await bypass.send(new PutParameterCommand({ Name: paramName(tenant, 'paramconfig:a/../escape'), Value: '1', Type: 'String' }));
      await bypass.send(new PutParameterCommand({ Name: `/${ROOT}/${STAGE}/tenants/${tenant}/stray`, Value: '1', Type: 'String' }));

      const listed = await backend.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 10 });

      expect(listed.items.map((i) => i.key)).toEqual(['paramconfig:ok']);
    });
  });

  describe('list paging', () => {
    it('pages 25 keys in key order with a cursor, each page at most the limit', async () => {
      const tenant = freshTenant();
      const names = Array.from({ length: 25 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
      for (const n of [...names].reverse()) await backend.put(tenant, { key: parseKey(`paramconfig:${n}`), value: n, updatedBy: 'a' });

      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await backend.list(tenant, parseKeyPrefix('paramconfig:k/'), { limit: 10, cursor });
        pages.push(page.items.map((i) => i.key));
        cursor = page.cursor;
      } while (cursor);

      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(names.map((n) => `paramconfig:${n}`));
    });

    it.each(['not-base64!', Buffer.from('{"after":7}').toString('base64url'), Buffer.from('[]').toString('base64url')])(
      'refuses the malformed cursor %p',
      async (cursor) => {
        const error = await rejection(backend.list(freshTenant(), parseKeyPrefix('paramconfig:'), { limit: 10, cursor }));

        expect(error).toBeInstanceOf(InvalidPageTokenError);
      },
    );
  });

  describe('the key index', () => {
    /** A client that counts the calls it makes, by command name. */
    function counting<C extends SSMClient | DynamoDBClient>(client: C): { client: C; calls: Map<string, number>; total: () => number } {
      const calls = new Map<string, number>();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          calls.set(context.commandName as string, (calls.get(context.commandName as string) ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize', name: 'countCalls' },
      );
      return { client, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
    }

    /** `count` parameters of one tenant, written straight into Parameter Store (as existing data would be). */
    async function seed(tenant: TenantId, count: number): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < count) {
            const i = next++;
            await bypass.send(
              new PutParameterCommand({ Name: paramName(tenant, `paramconfig:bulk/k${String(i).padStart(5, '0')}`), Value: String(i), Type: 'String' }),
            );
          }
        }),
      );
    }

    it('reads the same number of parameters and makes the same calls per page at 1,000 and at 5,000 keys', async () => {
      const perPage = async (count: number) => {
        const tenant = freshTenant();
        await seed(tenant, count);
        const counted = counting(new SSMClient(localClientConfig(store.endpoint)));
        const countedDynamo = counting(new DynamoDBClient(localClientConfig(dynalite.endpoint)));
        const lister = makeBackend({ client: counted.client, keyIndex: new DynamoDbParameterKeyIndex({ client: countedDynamo.client, tableName: TABLE }) });
        try {
          // The first listing of a tenant's tag walks it once and records its keys.
          let page = await lister.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 100 });
          const pages: Array<{ ssm: Record<string, number>; dynamodb: Record<string, number>; keys: string[] }> = [];
          for (let p = 0; p < 3; p++) {
            counted.calls.clear();
            countedDynamo.calls.clear();
            page = await lister.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 100, cursor: page.cursor });
            pages.push({ ssm: Object.fromEntries(counted.calls), dynamodb: Object.fromEntries(countedDynamo.calls), keys: page.items.map((i) => i.key) });
          }
          return pages;
        } finally {
          counted.client.destroy();
          countedDynamo.client.destroy();
        }
      };

      const small = await perPage(1000);
      const large = await perPage(5000);

      // Pages 2..4: keys 100..399 in key order, in both tenants.
      for (const pages of [small, large]) {
        expect(pages.flatMap((p) => p.keys)).toEqual(Array.from({ length: 300 }, (_, i) => `paramconfig:bulk/k${String(i + 100).padStart(5, '0')}`));
      }
      expect(large.map((p) => [p.ssm, p.dynamodb])).toEqual(small.map((p) => [p.ssm, p.dynamodb]));
      // 100 keys: one Query, ten GetParameters of 10 names and two DescribeParameters of 50; no walk.
      expect(small[0].ssm).toEqual({ GetParametersCommand: 10, DescribeParametersCommand: 2 });
      expect(small[0].dynamodb).toEqual({ QueryCommand: 1 });
    }, 120_000);

    it('lists a key written through the API at once, and no longer once it is deleted', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: parseKey('paramconfig:b'), value: 'b', updatedBy: 'a' });
      expect((await backend.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 10 })).items.map((i) => i.key)).toEqual(['paramconfig:b']);

      await backend.put(tenant, { key: parseKey('paramconfig:a'), value: 'a', updatedBy: 'a' });
      await backend.put(tenant, { key: parseKey('paramconfig:c'), value: 'c', updatedBy: 'a' });
      await backend.delete(tenant, { key: parseKey('paramconfig:b'), deletedBy: 'a' });

      expect((await backend.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 10 })).items.map((i) => i.key)).toEqual(['paramconfig:a', 'paramconfig:c']);
    });

    it('skips indexed keys whose parameter is gone and still fills the page; forgets them once old', async () => {
      const tenant = freshTenant();
      for (const n of ['a', 'c', 'e']) await backend.put(tenant, { key: parseKey(`paramconfig:${n}`), value: n, updatedBy: 'a' });
      // Index rows with no parameter: a write that failed after indexing (fresh), a delete outside the API (old).
      const row = (name: string, indexedAt: number) =>
        dynamo.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: { tenantId: { S: tenant }, configKey: { S: `${PARAMETER_KEY_PREFIX}paramconfig:${name}` }, indexedAt: { N: String(indexedAt) } },
          }),
        );
      await row('b', Date.now());
      await row('d', Date.now() - 10 * 60_000);

      const first = await backend.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 2 });
      const second = await backend.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 2, cursor: first.cursor });
      const indexed = await keyIndex.keys(tenant, parseKeyPrefix('paramconfig:'), undefined, 10);

      expect(first.items.map((i) => i.key)).toEqual(['paramconfig:a', 'paramconfig:c']);
      expect(second.items.map((i) => i.key)).toEqual(['paramconfig:e']);
      expect(second.cursor).toBeUndefined();
      expect(indexed?.keys.map((k) => k.key)).toEqual(['paramconfig:a', 'paramconfig:b', 'paramconfig:c', 'paramconfig:e']);
    });

    it('indexes parameters written before the index existed on the first listing, and walks no more after it', async () => {
      const tenant = freshTenant();
      for (const n of ['z', 'y', 'x'])
        await bypass.send(new PutParameterCommand({ Name: paramName(tenant, `paramconfig:old/${n}`), Value: `"${n}"`, Type: 'String' }));
      const counted = counting(new SSMClient(localClientConfig(store.endpoint)));
      const lister = makeBackend({ client: counted.client });
      try {
        const first = await lister.list(tenant, parseKeyPrefix('paramconfig:old/'), { limit: 2 });
        const walks = counted.calls.get('GetParametersByPathCommand') ?? 0;
        const second = await lister.list(tenant, parseKeyPrefix('paramconfig:old/'), { limit: 2, cursor: first.cursor });

        expect([...first.items, ...second.items].map((i) => i.value)).toEqual(['x', 'y', 'z']);
        expect(walks).toBeGreaterThan(0);
        expect(counted.calls.get('GetParametersByPathCommand')).toBe(walks);
      } finally {
        counted.client.destroy();
      }
    });

    it('refuses a cursor for a key outside the listed prefix', async () => {
      const cursor = Buffer.from(JSON.stringify({ after: 'paramconfig:zzz' })).toString('base64url');

      expect(await rejection(backend.list(freshTenant(), parseKeyPrefix('paramconfig:db/'), { limit: 10, cursor }))).toBeInstanceOf(InvalidPageTokenError);
    });

    it('maps the index table being unreachable to BackendUnavailableError on a write, and writes nothing', async () => {
      await expectWriteRefusedWithTableDown((deadDynamo) => ({ keyIndex: new DynamoDbParameterKeyIndex({ client: deadDynamo, tableName: TABLE }) }));
    });
  });

  describe('concurrent If-Match writers', () => {
    const WRITERS = 10;
    /** Each writer retries ConflictError (lease busy) until it gets a definite answer. */
    const writeUntilDecided = async (b: SsmConfigBackend, tenant: TenantId, value: JsonValue) => {
      for (;;) {
        try {
          return await b.put(tenant, { key: parseKey('paramconfig:race'), value, expectedVersion: 1, updatedBy: `w${String(value)}` });
        } catch (e) {
          if (!(e instanceof ConflictError) || e instanceof ConcurrentWriteDetectedError) throw e;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };

    it('with the lease: exactly one wins, the others get 412, and nothing else is written', async () => {
      const tenant = freshTenant();
      await backend.put(tenant, { key: parseKey('paramconfig:race'), value: 'start', updatedBy: 'a' });

      const outcomes = await Promise.allSettled(Array.from({ length: WRITERS }, (_, i) => writeUntilDecided(backend, tenant, i)));

      const winners = outcomes.filter((o): o is PromiseFulfilledResult<Awaited<ReturnType<SsmConfigBackend['put']>>> => o.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PreconditionFailedError);
      const history = await backend.history(tenant, parseKey('paramconfig:race'), 100);
      expect(history.map((h) => h.version)).toEqual([2, 1]);
      expect(history[0].value).toEqual(winners[0].value.item.value);
    });

    it('without a lease, the version check alone still never lets two claim success, but losers’ values land', async () => {
      const tenant = freshTenant();
      const unleased = makeBackend({ lease: noLease });
      await unleased.put(tenant, { key: parseKey('paramconfig:race'), value: 'start', updatedBy: 'a' });

      const outcomes = await Promise.allSettled(Array.from({ length: WRITERS }, (_, i) => writeUntilDecided(unleased, tenant, i)));

      const successes = outcomes.filter((o) => o.status === 'fulfilled').length;
      const detected = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof ConcurrentWriteDetectedError).length;
      const landed = (await backend.history(tenant, parseKey('paramconfig:race'), 100)).length - 1;
      expect(successes).toBeLessThanOrEqual(1);
      // Every write that landed is either the one success or reported as a detected concurrent write.
      expect(landed).toBe(successes + detected);
    });
  });

  describe('a writer bypassing the API between our check and our write', () => {
    /** A backend whose next PutParameter is preceded by a bypassing write of the same parameter. */
    function interleaved(bypassInput: (name: string) => PutParameterCommandInput): SsmConfigBackend {
      const client = new SSMClient(localClientConfig(store.endpoint));
      let armed = true;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Name?: string };
          if (armed && context.commandName === 'PutParameterCommand' && input.Name) {
            armed = false;
            await bypass.send(new PutParameterCommand(bypassInput(input.Name)));
          }
          return next(args);
        },
        { step: 'initialize', name: 'interleaveBypassingWrite' },
      );
      return makeBackend({ client });
    }

    it('If-Match: reports ConcurrentWriteDetectedError (409), not success; our value is current, theirs in the history', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:contested');
      await backend.put(tenant, { key, value: 'v1', updatedBy: 'alice' });
      const racy = interleaved((Name) => ({ Name, Value: '"sneaky"', Overwrite: true }));

      const error = await rejection(racy.put(tenant, { key, value: 'mine', expectedVersion: 1, updatedBy: 'bob' }));

      expect(error).toBeInstanceOf(ConcurrentWriteDetectedError);
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ expectedVersion: 1, writtenVersion: 3 });
      expect((await backend.history(tenant, key, 10)).map((h) => [h.version, h.value])).toEqual([
        [3, 'mine'],
        [2, 'sneaky'],
        [1, 'v1'],
      ]);
    });

    it("If-None-Match: * (absent): Parameter Store refuses our create, reported as 412 with the bypasser's version", async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:first');
      const racy = interleaved((Name) => ({ Name, Value: '"theirs"', Type: 'String' }));

      const error = await rejection(racy.put(tenant, { key, value: 'mine', expectedVersion: 'absent', updatedBy: 'bob' }));

      expect(error).toBeInstanceOf(PreconditionFailedError);
      expect(error).toMatchObject({ currentVersion: 1 });
      expect(await backend.get(tenant, key)).toMatchObject({ value: 'theirs', version: 1 });
    });

    it('unconditional: succeeds with the version Parameter Store gave it', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:lww');
      await backend.put(tenant, { key, value: 'v1', updatedBy: 'alice' });
      const racy = interleaved((Name) => ({ Name, Value: '"sneaky"', Overwrite: true }));

      const result = await racy.put(tenant, { key, value: 'mine', updatedBy: 'bob' });

      expect(result).toMatchObject({ created: false, item: { version: 3, value: 'mine' } });
      expect(await backend.get(tenant, key)).toMatchObject({ version: 3, value: 'mine' });
    });

    it('unconditional, pushed one version up: the result and later reads show no comment (the note is stale)', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:lwwnoted');
      await backend.put(tenant, { key, value: 'v1', updatedBy: 'alice' });
      const racy = interleaved((Name) => ({ Name, Value: '"sneaky"', Overwrite: true }));

      const result = await racy.put(tenant, { key, value: 'mine', updatedBy: 'bob', comment: 'mine, with a note' });

      expect(result.item).toMatchObject({ version: 3, value: 'mine' });
      expect(result.item.comment).toBeUndefined();
      expect((await backend.get(tenant, key))?.comment).toBeUndefined();
    });
  });

  describe('the lease', () => {
    it('makes a writer that finds the key leased by another give up with ConflictError after a bounded wait', async () => {
      const tenant = freshTenant();
      const key = parseKey('paramconfig:busy');
      const impatient = makeBackend({ lease: new DynamoDbWriteLease({ client: dynamo, tableName: TABLE, maxWaitMs: 150 }) });
      let release!: () => void;
      const held = lease.run(tenant, key, () => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 50));

      const started = Date.now();
      const error = await rejection(impatient.put(tenant, { key, value: 1, updatedBy: 'a' }));
      const waited = Date.now() - started;
      release();
      await held;
      const after = await impatient.put(tenant, { key, value: 2, updatedBy: 'a' });

      expect(error).toBeInstanceOf(ConflictError);
      expect(waited).toBeLessThan(1000);
      expect(await backend.get(tenant, key)).toMatchObject({ value: 2, version: 1 });
      expect(after.item.version).toBe(1);
    });

    it('renews a lease that ran short (a slow first call) instead of writing at its edge', async () => {
      const tenant = freshTenant();
      let renewals = 0;
      // The real lease, reporting itself nearly spent until renewed.
      const spent: WriteLease = {
        run: (t, k, work) =>
          lease.run(t, k, (held) => {
            let renewed = false;
            return work({
              remainingMs: () => (renewed ? held.remainingMs() : 10),
              renew: async () => {
                renewals += 1;
                await held.renew();
                renewed = true;
              },
            });
          }),
      };

      const result = await makeBackend({ lease: spent }).put(tenant, { key: parseKey('paramconfig:slow'), value: 1, updatedBy: 'a' });

      expect(renewals).toBe(1);
      expect(result.item.version).toBe(1);
    });
  });

  describe('failures', () => {
    it('maps Parameter Store being unreachable to BackendUnavailableError in every call', async () => {
      const deadPort = await freePort();
      const deadSsm = new SSMClient({ ...localClientConfig(`http://127.0.0.1:${deadPort}`), maxAttempts: 1 });
      const dead = makeBackend({ client: deadSsm });
      const tenant = freshTenant();
      const key = parseKey('paramconfig:x');

      try {
        for (const call of [
          () => dead.get(tenant, key),
          () => dead.list(tenant, parseKeyPrefix('paramconfig:'), { limit: 10 }),
          () => dead.history(tenant, key, 10),
          () => dead.put(tenant, { key, value: 1, updatedBy: 'a' }),
          () => dead.delete(tenant, { key, deletedBy: 'a' }),
        ]) {
          expect(await rejection(call())).toBeInstanceOf(BackendUnavailableError);
        }
      } finally {
        deadSsm.destroy();
      }
    });

    it('maps the lease table being unreachable to BackendUnavailableError and writes nothing', async () => {
      await expectWriteRefusedWithTableDown((deadDynamo) => ({ lease: new DynamoDbWriteLease({ client: deadDynamo, tableName: TABLE }) }));
    });
  });
});

describeIf('moto_server')('SsmConfigBackend on moto_server (SSM and the lease table)', () => {
  let moto: RunningServer;
  let ssm: SSMClient;
  let dynamo: DynamoDBClient;
  let backend: SsmConfigBackend;

  beforeAll(async () => {
    moto = await startMoto();
    ssm = new SSMClient(localClientConfig(moto.endpoint));
    dynamo = new DynamoDBClient(localClientConfig(moto.endpoint));
    await dynamo.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    backend = new SsmConfigBackend({
      client: ssm,
      lease: new DynamoDbWriteLease({ client: dynamo, tableName: TABLE }),
      registry,
      root: ROOT,
      stage: STAGE,
      kmsKeyId: 'alias/tenant-config-test',
    });
  }, 30_000);
  afterAll(async () => {
    ssm?.destroy();
    dynamo?.destroy();
    await moto?.stop();
  });

  it('stores a secret tag as a SecureString under the configured key and reads it decrypted', async () => {
    const tenant = freshTenant();
    const key = parseKey('secretconfig:api/token');

    await backend.put(tenant, { key, value: { token: 'abc' }, updatedBy: 'admin' });
    const raw = await ssm.send(new GetParameterCommand({ Name: paramName(tenant, key.raw) }));
    const meta = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [paramName(tenant, key.raw)] }] }));

    expect(raw.Parameter?.Type).toBe('SecureString');
    expect(raw.Parameter?.Value).not.toBe('{"token":"abc"}');
    expect(meta.Parameters?.[0].KeyId).toBe('alias/tenant-config-test');
    expect(await backend.get(tenant, key)).toMatchObject({ value: { token: 'abc' }, updatedBy: 'admin' });
  });

  it("reads another tool's non-JSON text as a string, and reports its writer as 'unknown' (moto's LastModifiedUser is N/A)", async () => {
    const tenant = freshTenant();
    await ssm.send(new PutParameterCommand({ Name: paramName(tenant, 'paramconfig:cli'), Value: 'not { json', Type: 'String' }));

    expect(await backend.get(tenant, parseKey('paramconfig:cli'))).toMatchObject({ value: 'not { json', version: 1, updatedBy: 'unknown' });
  });
});
