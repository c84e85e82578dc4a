/**
 * A tenant table full of items, written with BatchWriteItem straight to dynalite (not through
 * the stream proxy: seeding is not a change anyone should be told about), several batches at once.
 */
import { BatchWriteItemCommand, CreateTableCommand, type BatchWriteItemCommandOutput, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { encodeStoredItem } from '../../adapters/dynamodb/item-codec';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';

export interface SeedSpec {
  readonly tenants: number;
  readonly keysPerTenant: number;
}

export const tenantName = (i: number): string => `t${String(i).padStart(5, '0')}`;
export const keyName = (j: number): string => `tenantconfig:bench/k${String(j).padStart(2, '0')}`;
export const SEED_TIME = '2026-01-01T00:00:00.000Z';

export async function createTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(new CreateTableCommand(createTenantTableInput(table)));
}

/** Every (tenant, key) at version 1. Resolves with the seconds it took. */
export async function seedTable(client: DynamoDBClient, table: string, spec: SeedSpec, concurrency = 8): Promise<number> {
  const started = Date.now();
  const total = spec.tenants * spec.keysPerTenant;
  let next = 0;
  const batch = (): WriteRequest[] => {
    const out: WriteRequest[] = [];
    while (out.length < 25 && next < total) {
      const t = Math.floor(next / spec.keysPerTenant);
      const k = next % spec.keysPerTenant;
      next += 1;
      out.push({
        PutRequest: {
          Item: encodeStoredItem({
            tenantId: tenantName(t),
            configKey: keyName(k),
            version: 1,
            deleted: false,
            valueJson: JSON.stringify({ limit: k, plan: 'standard' }),
            updatedAt: SEED_TIME,
            updatedBy: 'seed',
            history: [],
            hasVersionAttribute: true,
          }),
        },
      });
    }
    return out;
  };
  const worker = async () => {
    for (let requests = batch(); requests.length > 0; requests = batch()) {
      let pending: WriteRequest[] | undefined = requests;
      while (pending && pending.length > 0) {
        const result: BatchWriteItemCommandOutput = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = result.UnprocessedItems?.[table];
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (Date.now() - started) / 1000;
}
