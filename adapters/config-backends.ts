/**
 * The backends the tag registry needs, built once per process from one set of settings.
 * Every runtime (config-api, fanout, the local system, benchmarks) builds them here, so a
 * new backend kind is wired in one place.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ConfigBackend } from '../core/backend-port';
import type { BackendKind, TagRegistry } from '../core/tag-registry';
import { DynamoDbConfigBackend } from './dynamodb/dynamodb-config-backend';
import { DynamoDbWriteLease } from './dynamodb/dynamodb-write-lease';
import { DynamoDbParameterKeyIndex } from './dynamodb/parameter-key-index';
import { SsmConfigBackend } from './ssm/ssm-config-backend';

export interface BackendSettings {
  /** The tenant table (also holds Parameter Store write leases and key index). */
  readonly tableName: string;
  readonly ssmRoot: string;
  readonly stage: string;
  /** KMS key of SecureString parameters for secret tags. @default the account's alias/aws/ssm */
  readonly ssmKmsKeyId?: string;
}

export interface BackendClients {
  readonly dynamodb: DynamoDBClient;
  readonly ssm: SSMClient;
}

/** Parameter Store writes take their per-key lease, and listings their key order, from the tenant table: both backends share the DynamoDB client. */
export function buildConfigBackends(settings: BackendSettings, clients: BackendClients, registry: TagRegistry): Record<BackendKind, ConfigBackend> {
  return {
    dynamodb: new DynamoDbConfigBackend({ client: clients.dynamodb, tableName: settings.tableName, registry }),
    ssm: new SsmConfigBackend({
      client: clients.ssm,
      lease: new DynamoDbWriteLease({ client: clients.dynamodb, tableName: settings.tableName }),
      keyIndex: new DynamoDbParameterKeyIndex({ client: clients.dynamodb, tableName: settings.tableName }),
      registry,
      root: settings.ssmRoot,
      stage: settings.stage,
      kmsKeyId: settings.ssmKmsKeyId,
    }),
  };
}
