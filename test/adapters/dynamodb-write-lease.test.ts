import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { DynamoDbWriteLease, leaseSortKey } from '../../adapters/dynamodb/dynamodb-write-lease';
import { ConflictError } from '../../core/errors';
import { parseKey } from '../../core/key';
import { parseTenantId, type TenantId } from '../../core/tenant';
import { localClientConfig, startDynalite, type RunningServer } from '../support/servers';

const TABLE = 'tenants';
const key = parseKey('paramconfig:db/pool');
let counter = 0;
const freshTenant = (): TenantId => parseTenantId(`lease${++counter}`);

/** A lease row as another writer would have left it, written straight into the table. */
const otherWritersLease = (tenant: string, owner: string, expiresAtSeconds: number) => ({
  tenantId: { S: tenant },
  configKey: { S: leaseSortKey(key) },
  leaseOwner: { S: owner },
  leaseExpiresAt: { N: String(expiresAtSeconds) },
});

describe('DynamoDbWriteLease (dynalite)', () => {
  let dynalite: RunningServer;
  let dynamo: DynamoDBClient;
  let lease: DynamoDbWriteLease;
  const leaseRow = async (tenant: TenantId) =>
    (await dynamo.send(new GetItemCommand({ TableName: TABLE, Key: { tenantId: { S: tenant }, configKey: { S: leaseSortKey(key) } }, ConsistentRead: true })))
      .Item;

  beforeAll(async () => {
    dynalite = await startDynalite({ inMemory: true });
    dynamo = new DynamoDBClient(localClientConfig(dynalite.endpoint));
    await dynamo.send(new CreateTableCommand(createTenantTableInput(TABLE)));
    lease = new DynamoDbWriteLease({ client: dynamo, tableName: TABLE, maxWaitMs: 200 });
  });
  afterAll(async () => {
    dynamo.destroy();
    await dynalite.stop();
  });

  it('holds a row #lease#<key> in the tenant partition while working, with an epoch-seconds expiry, and removes it after', async () => {
    const tenant = freshTenant();
    let during: Awaited<ReturnType<typeof leaseRow>>;

    const result = await lease.run(tenant, key, async (held) => {
      during = await leaseRow(tenant);
      expect(held.remainingMs()).toBeGreaterThan(4000);
      return 'done';
    });

    expect(result).toBe('done');
    expect(during!.configKey.S).toBe('#lease#paramconfig:db/pool');
    expect(during!.leaseOwner.S).toMatch(/^[0-9a-f-]{36}$/);
    const expiresAt = Number(during!.leaseExpiresAt.N);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 4);
    expect(expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 6);
    expect(await leaseRow(tenant)).toBeUndefined();
  });

  it('lets one holder at a time work on a key: the others wait their turn or give up with ConflictError', async () => {
    const tenant = freshTenant();
    const patient = new DynamoDbWriteLease({ client: dynamo, tableName: TABLE, maxWaitMs: 5000 });
    let inside = 0;
    let maxInside = 0;

    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        patient.run(tenant, key, async () => {
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 20));
          inside -= 1;
        }),
      ),
    );

    expect(maxInside).toBe(1);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  });

  it('refuses with ConflictError when the holder keeps the lease past the wait, and keeps working for other keys and tenants', async () => {
    const tenant = freshTenant();
    let release!: () => void;
    const holder = lease.run(tenant, key, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 30));

    const started = Date.now();
    const blocked = await lease.run(tenant, key, async () => 'never').catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    const otherKey = await lease.run(tenant, parseKey('paramconfig:other'), async () => 'other key');
    const otherTenant = await lease.run(freshTenant(), key, async () => 'other tenant');
    release();
    await holder;

    expect(blocked).toBeInstanceOf(ConflictError);
    expect(elapsed).toBeLessThan(1000);
    expect([otherKey, otherTenant]).toEqual(['other key', 'other tenant']);
  });

  it('takes over a lease whose holder crashed once it has expired', async () => {
    const tenant = freshTenant();
    await dynamo.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: otherWritersLease(tenant, 'crashed-writer', Math.floor(Date.now() / 1000) - 5),
      }),
    );

    await expect(lease.run(tenant, key, async () => 'taken over')).resolves.toBe('taken over');
    expect(await leaseRow(tenant)).toBeUndefined();
  });

  it('releases after a failure of the work, and passes the failure on', async () => {
    const tenant = freshTenant();

    await expect(
      lease.run(tenant, key, async () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await leaseRow(tenant)).toBeUndefined();
  });

  it('never releases a lease that has passed to another owner', async () => {
    const tenant = freshTenant();

    await lease.run(tenant, key, async () => {
      // Our lease "expired" and another writer took it over while we worked.
      await dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: otherWritersLease(tenant, 'next-writer', Math.ceil(Date.now() / 1000) + 5),
        }),
      );
    });

    expect((await leaseRow(tenant))?.leaseOwner.S).toBe('next-writer');
  });

  it('renews: pushes the expiry out while the lease is ours, and refuses once it has passed to another owner', async () => {
    const tenant = freshTenant();
    const short = new DynamoDbWriteLease({ client: dynamo, tableName: TABLE, leaseMs: 2000 });

    const outcome = await short.run(tenant, key, async (held) => {
      const before = Number((await leaseRow(tenant))!.leaseExpiresAt.N);
      await new Promise((r) => setTimeout(r, 1100));
      await held.renew();
      const after = Number((await leaseRow(tenant))!.leaseExpiresAt.N);
      const remaining = held.remainingMs();
      await dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { tenantId: { S: tenant }, configKey: { S: leaseSortKey(key) }, leaseOwner: { S: 'thief' }, leaseExpiresAt: { N: String(after + 5) } },
        }),
      );
      const lost = await held.renew().catch((e: unknown) => e);
      return { before, after, remaining, lost };
    });

    expect(outcome.after).toBeGreaterThan(outcome.before);
    // Without the renewal at most 2000 - 1100 ms would be left; the margin absorbs a loaded machine.
    expect(outcome.remaining).toBeGreaterThan(1000);
    expect(outcome.lost).toBeInstanceOf(ConflictError);
  });

  it('refuses a lease shorter than the expiry resolution allows', () => {
    expect(() => new DynamoDbWriteLease({ client: dynamo, tableName: TABLE, leaseMs: 500 })).toThrow(/leaseMs/);
  });
});
