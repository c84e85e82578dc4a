import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createTenantTableInput } from '../../adapters/dynamodb/table-definition';
import { DynamoDbWriteLease } from '../../adapters/dynamodb/dynamodb-write-lease';
import { DynamoDbParameterKeyIndex } from '../../adapters/dynamodb/parameter-key-index';
import { SsmConfigBackend } from '../../adapters/ssm/ssm-config-backend';
import { TagRegistry } from '../../core/tag-registry';
import { startLocalParameterStore } from '../../local/parameter-store';
import { configBackendContract, type ContractSubject } from '../contract/config-backend.contract';
import { describeIf, localClientConfig, startDynalite, startMoto } from '../support/servers';

const TABLE = 'tenant-config-test';

/** The backend on real servers: Parameter Store at `ssmEndpoint`, the lease and key-index table at `dynamoEndpoint`. */
async function subject(ssmEndpoint: string, dynamoEndpoint: string, stop: () => Promise<void>): Promise<ContractSubject> {
  const dynamo = new DynamoDBClient(localClientConfig(dynamoEndpoint));
  const ssm = new SSMClient(localClientConfig(ssmEndpoint));
  await dynamo.send(new CreateTableCommand(createTenantTableInput(TABLE)));
  return {
    backend: new SsmConfigBackend({
      client: ssm,
      lease: new DynamoDbWriteLease({ client: dynamo, tableName: TABLE }),
      keyIndex: new DynamoDbParameterKeyIndex({ client: dynamo, tableName: TABLE }),
      registry: TagRegistry.default(),
      root: 'tenant-config',
      stage: 'contract',
    }),
    tag: 'paramconfig',
    // Parameter Store restarts a re-created parameter at version 1.
    monotonicAcrossDelete: false,
    cleanup: async () => {
      ssm.destroy();
      dynamo.destroy();
      await stop();
    },
  };
}

configBackendContract('SSM Parameter Store: local Parameter Store, lease in dynalite', async () => {
  const [store, dynalite] = await Promise.all([startLocalParameterStore(), startDynalite({ inMemory: true })]);
  return subject(store.endpoint, dynalite.endpoint, async () => {
    await Promise.all([store.close(), dynalite.stop()]);
  });
});

describeIf('moto_server')('on moto_server', () => {
  // The lease lives in dynalite: moto's conditional PutItem is not atomic under concurrent
  // requests (see ContractOptions), and the lease is what serialises Parameter Store writers.
  configBackendContract('SSM Parameter Store: moto SSM, lease in dynalite', async () => {
    const [moto, dynalite] = await Promise.all([startMoto(), startDynalite({ inMemory: true })]);
    return subject(moto.endpoint, dynalite.endpoint, async () => {
      await Promise.all([moto.stop(), dynalite.stop()]);
    });
  });
});
