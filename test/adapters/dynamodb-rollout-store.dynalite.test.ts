/**
 * DynamoDbRolloutStore on dynalite: the rollout records' partition of the tenant table, with
 * the semantics core/rollout-service.ts relies on (create once, compare-and-set on revision,
 * newest first, the driver's filter).
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbRolloutStore } from '../../adapters/dynamodb/dynamodb-rollout-store';
import { TENANT_TABLE_KEYS } from '../../adapters/dynamodb/table-definition';
import { ConflictError, InvalidPageTokenError, PreconditionFailedError } from '../../core/errors';
import { startRollout, type Rollout, type RolloutState } from '../../core/rollout';
import { newRolloutId } from '../../core/rollout-ids';
import { startDynalite, type RunningServer } from '../support/servers';
import { createTestTable } from './dynamodb-test-table';

describe('DynamoDbRolloutStore (dynalite)', () => {
  let server: RunningServer;
  let table: Awaited<ReturnType<typeof createTestTable>>;

  beforeAll(async () => {
    server = await startDynalite({ inMemory: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  let store: DynamoDbRolloutStore;
  beforeEach(async () => {
    table = await createTestTable(server.endpoint);
    store = new DynamoDbRolloutStore({ client: table.client, tableName: table.tableName });
  });
  afterEach(() => table.client.destroy());

  let clock = Date.parse('2026-12-01T00:00:00Z');
  function rollout(value: unknown = { v: 1 }, change: Partial<Rollout> = {}): Rollout {
    clock += 1000; // ids sort by creation time
    const now = new Date(clock);
    const r = startRollout(
      { key: 'tenantconfig:limits', layer: 'platform', value: value as never, waves: [1, 10, 100], bakeSeconds: 60 },
      { value: null },
      { id: newRolloutId(now), by: 'op', now },
    );
    return { ...r, ...change };
  }
  const withState = (r: Rollout, state: RolloutState, settled?: boolean): Rollout => ({
    ...r,
    state,
    revision: r.revision + 1,
    ...(settled === undefined ? {} : { settled }),
  });

  it('creates a record once, and gives back exactly what it stored (null, empty strings, deep values)', async () => {
    const r = rollout({ a: null, b: '', c: [{ d: { e: [1, 'x', false] } }] }, { alarm: 'errors-high' });
    await store.create(r);
    await expect(store.get(r.id)).resolves.toEqual(r);
    await expect(store.create({ ...r, value: 'other' })).rejects.toBeInstanceOf(ConflictError);
    await expect(store.get(r.id)).resolves.toEqual(r);
    await expect(store.get(newRolloutId())).resolves.toBeUndefined();
  });

  it('updates compare-and-set on revision: the second writer of the same revision fails', async () => {
    const r = rollout();
    await store.create(r);
    const paused = withState(r, 'paused');
    await store.update(paused);
    await expect(store.update(withState(r, 'rolled_back'))).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(store.update({ ...paused, revision: paused.revision + 5 })).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(store.get(r.id)).resolves.toEqual(paused);
  });

  it('lists newest first, page by page with the cursor, and nothing but rollouts', async () => {
    const made = [rollout(), rollout(), rollout(), rollout(), rollout()];
    for (const r of made) await store.create(r);
    // A tenant's row in the same table is nobody's rollout.
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: { [TENANT_TABLE_KEYS.partitionKey]: { S: 'acme' }, [TENANT_TABLE_KEYS.sortKey]: { S: 'tenantconfig:plan' } },
      }),
    );
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      ids.push(...page.items.map((r) => r.id));
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(ids).toEqual(made.map((r) => r.id).reverse());
    await expect(store.list({ limit: 2, cursor: 'acme' })).rejects.toBeInstanceOf(InvalidPageTokenError);
  });

  it('listActive: in progress, paused, and final records not yet settled; never settled ones', async () => {
    const running = rollout();
    const paused = rollout();
    const rolledBackUnsettled = rollout();
    const completeUnsettled = rollout();
    const rolledBackSettled = rollout();
    const completeSettled = rollout();
    for (const r of [running, paused, rolledBackUnsettled, completeUnsettled, rolledBackSettled, completeSettled]) await store.create(r);
    await store.update(withState(paused, 'paused'));
    await store.update(withState(rolledBackUnsettled, 'rolled_back'));
    await store.update(withState(completeUnsettled, 'complete', false));
    await store.update(withState(rolledBackSettled, 'rolled_back', true));
    await store.update(withState(completeSettled, 'complete', true));

    const active = await store.listActive();
    expect(active.map((r) => r.id).sort()).toEqual([running.id, paused.id, rolledBackUnsettled.id, completeUnsettled.id].sort());
  });
});
