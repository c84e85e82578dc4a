import { configBackendContract } from '../contract/config-backend.contract';
import { describeIf, startMoto } from '../support/servers';
import { backendOn, createTestTable } from './dynamodb-test-table';

// moto is an independent implementation of DynamoDB: the same contract must hold on it.
describeIf('moto_server')('DynamoDB backend on moto_server', () => {
  configBackendContract(
    'DynamoDB on moto_server',
    async () => {
      const server = await startMoto();
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
    },
    { atomicConditionalWrites: false },
  );
});
