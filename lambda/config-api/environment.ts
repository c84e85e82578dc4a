/**
 * The config-api's settings, read from the environment once per process and checked
 * before anything is built: a missing or malformed setting fails with its name.
 */
import {
  CLAIM_NAME,
  ConfigurationError,
  getBooleanFromEnv,
  getOptionalStringFromEnv,
  getPathSegmentFromEnv,
  getStringFromEnv,
  TABLE_NAME,
  type Env,
} from '../../adapters/environment/env-vars';
import { DEFAULT_ADMIN_GROUP, DEFAULT_TENANT_CLAIM } from '../../core/principal';

export { ConfigurationError };

export interface ConfigApiEnvironment {
  /** DynamoDB tenant table (PK tenantId, SK configKey). */
  readonly tableName: string;
  /** First segment of every parameter: `/<ssmRoot>/<stage>/tenants/<tenantId>/<name>`. */
  readonly ssmRoot: string;
  readonly stage: string;
  /**
   * HMAC secret of `nextToken`s; every instance must share it. At least 16 characters.
   * Given directly (PAGE_TOKEN_SECRET, local runs) or read once at cold start from
   * PAGE_TOKEN_SECRET_PARAMETER (a SecureString, or `/aws/reference/secretsmanager/<id>`).
   */
  readonly pageTokenSecret?: string;
  readonly pageTokenSecretParameter?: string;
  /** @default 'tenant_id' */
  readonly tenantClaim: string;
  /** @default 'config-admins' */
  readonly adminGroup: string;
  /** KMS key for SecureString parameters of secret tags; the account's `alias/aws/ssm` when absent. */
  readonly ssmKmsKeyId?: string;
  /**
   * REQUIRE_TENANT_REGISTRATION (`true` | `false`, default false): serve only tenants in the
   * registry (403 for others), instead of serving an unregistered tenant the platform defaults.
   */
  readonly requireTenantRegistration: boolean;
}

/** Cognito group names: no whitespace. */
const GROUP_NAME = /^\S{1,128}$/;
/** A page-token secret shorter than this is too easy to guess. */
const MIN_SECRET_LENGTH = 16;

export function readConfigApiEnvironment(env: Env = process.env): ConfigApiEnvironment {
  const pageTokenSecret = env.PAGE_TOKEN_SECRET ?? '';
  const pageTokenSecretParameter = getOptionalStringFromEnv(env, { key: 'PAGE_TOKEN_SECRET_PARAMETER' });
  if (pageTokenSecret.length === 0 && !pageTokenSecretParameter) {
    throw new ConfigurationError('PAGE_TOKEN_SECRET', 'is not set (nor PAGE_TOKEN_SECRET_PARAMETER)');
  }
  if (pageTokenSecret.length > 0 && pageTokenSecret.length < MIN_SECRET_LENGTH) {
    throw new ConfigurationError('PAGE_TOKEN_SECRET', `must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  return {
    tableName: getStringFromEnv(env, { key: 'TABLE_NAME', pattern: TABLE_NAME, what: 'a DynamoDB table name' }),
    ssmRoot: getPathSegmentFromEnv(env, 'SSM_ROOT'),
    stage: getPathSegmentFromEnv(env, 'STAGE'),
    pageTokenSecret: pageTokenSecret || undefined,
    pageTokenSecretParameter: pageTokenSecret ? undefined : pageTokenSecretParameter,
    tenantClaim: getStringFromEnv(env, { key: 'TENANT_CLAIM', defaultValue: DEFAULT_TENANT_CLAIM, pattern: CLAIM_NAME, what: 'a claim name' }),
    adminGroup: getStringFromEnv(env, { key: 'ADMIN_GROUP', defaultValue: DEFAULT_ADMIN_GROUP, pattern: GROUP_NAME, what: 'a group name without whitespace' }),
    ssmKmsKeyId: getOptionalStringFromEnv(env, { key: 'SSM_KMS_KEY_ID' }),
    requireTenantRegistration: getBooleanFromEnv(env, { key: 'REQUIRE_TENANT_REGISTRATION', defaultValue: false }),
  };
}
