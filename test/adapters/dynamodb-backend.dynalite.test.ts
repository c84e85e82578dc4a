import { configBackendContract } from '../contract/config-backend.contract';
import { startDynalite } from '../support/servers';
import { backendOn, createTestTable } from './dynamodb-test-table';

configBackendContract('DynamoDB on dynalite', async () => {
  const server = await startDynalite({ inMemory: true });
  const table = await createTestTable(server.endpoint);
  return {
    backend: backendOn(table),
    tag: 'tenantconfig',
    monotonicAcrossDelete: true,
    cleanup: async () => {
      table.client.destroy();
      await server.stop();
    },
  };
});
