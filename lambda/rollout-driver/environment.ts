/**
 * The rollout driver's settings, read once per process; a missing one fails with its name. It
 * writes layer keys like the config-api, so it reads the same store settings; the cache's are
 * the CACHE_* variables (adapters/redis/redis-environment.ts).
 */
import { getOptionalStringFromEnv, getPathSegmentFromEnv, getStringFromEnv, TABLE_NAME, type Env } from '../../adapters/environment/env-vars';

export interface RolloutDriverEnvironment {
  /** The tenant table: rollout records (`_rollouts`), the layers' DynamoDB keys, Parameter Store leases. */
  readonly tableName: string;
  /** First segment of every parameter: `/<ssmRoot>/<stage>/...`. */
  readonly ssmRoot: string;
  readonly stage: string;
  /** KMS key for SecureString parameters of secret tags; the account's `alias/aws/ssm` when absent. */
  readonly ssmKmsKeyId?: string;
}

export function readRolloutDriverEnvironment(env: Env = process.env): RolloutDriverEnvironment {
  return {
    tableName: getStringFromEnv(env, { key: 'TABLE_NAME', pattern: TABLE_NAME, what: 'a DynamoDB table name' }),
    ssmRoot: getPathSegmentFromEnv(env, 'SSM_ROOT'),
    stage: getPathSegmentFromEnv(env, 'STAGE'),
    ssmKmsKeyId: getOptionalStringFromEnv(env, { key: 'SSM_KMS_KEY_ID' }),
  };
}
