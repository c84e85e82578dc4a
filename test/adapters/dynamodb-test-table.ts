/** A fresh tenant table on a local DynamoDB endpoint (dynalite or moto_server), and a backend on it. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbConfigBackend, type DynamoDbConfigBackendOptions } from '../../adapters/dynamodb/dynamodb-config-backend';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { TagRegistry } from '../../core/tag-registry';
import { localClientConfig } from '../support/servers';

let tables = 0;

export async function createTestTable(endpoint: string): Promise<{ client: DynamoDBClient; tableName: string }> {
  const client = new DynamoDBClient(localClientConfig(endpoint));
  tables += 1;
  const tableName = `tenant-config-test-${process.pid}-${tables}`;
  await client.send(new CreateTableCommand(createTenantTableInput(tableName)));
  return { client, tableName };
}

export function backendOn(table: { client: DynamoDBClient; tableName: string }, extra: Partial<DynamoDbConfigBackendOptions> = {}): DynamoDbConfigBackend {
  return new DynamoDbConfigBackend({ client: table.client, tableName: table.tableName, registry: TagRegistry.default(), ...extra });
}
