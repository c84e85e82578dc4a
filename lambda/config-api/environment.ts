/**
 * The config-api's settings, read from the environment once per process and checked
 * before anything is built: a missing or malformed setting fails with its name.
 */
import { DEFAULT_ADMIN_GROUP, DEFAULT_TENANT_CLAIM } from '../../core/principal';

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
}

export class ConfigurationError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigurationError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(name, 'is not set');
  return value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function matching(name: string, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new ConfigurationError(name, `must be ${what}, got '${value.slice(0, 64)}'`);
  return value;
}

/** Path segment of Parameter Store names: no slashes, no spaces. */
const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;
/** A JWT claim name, e.g. `tenant_id` or `custom:tenant_id`. */
const CLAIM_NAME = /^[A-Za-z0-9_:.-]{1,128}$/;
/** Cognito group names: no whitespace (HTTP API flattens the groups claim to `[a b]`). */
const GROUP_NAME = /^\S{1,128}$/;

export function readConfigApiEnvironment(env: Env = process.env): ConfigApiEnvironment {
  const tableName = matching('TABLE_NAME', required(env, 'TABLE_NAME'), /^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name');
  const ssmRoot = matching('SSM_ROOT', required(env, 'SSM_ROOT').replace(/^\/+|\/+$/g, ''), PATH_SEGMENT, 'one path segment of [A-Za-z0-9_.-]');
  const stage = matching('STAGE', required(env, 'STAGE'), PATH_SEGMENT, 'one path segment of [A-Za-z0-9_.-]');
  const pageTokenSecret = env.PAGE_TOKEN_SECRET ?? '';
  const pageTokenSecretParameter = optional(env, 'PAGE_TOKEN_SECRET_PARAMETER');
  if (pageTokenSecret.length === 0 && !pageTokenSecretParameter) {
    throw new ConfigurationError('PAGE_TOKEN_SECRET', 'is not set (nor PAGE_TOKEN_SECRET_PARAMETER)');
  }
  if (pageTokenSecret.length > 0 && pageTokenSecret.length < 16) throw new ConfigurationError('PAGE_TOKEN_SECRET', 'must be at least 16 characters');
  const tenantClaim = matching('TENANT_CLAIM', optional(env, 'TENANT_CLAIM') ?? DEFAULT_TENANT_CLAIM, CLAIM_NAME, 'a claim name');
  const adminGroup = matching('ADMIN_GROUP', optional(env, 'ADMIN_GROUP') ?? DEFAULT_ADMIN_GROUP, GROUP_NAME, 'a group name without whitespace');
  return {
    tableName,
    ssmRoot,
    stage,
    pageTokenSecret: pageTokenSecret || undefined,
    pageTokenSecretParameter: pageTokenSecret ? undefined : pageTokenSecretParameter,
    tenantClaim,
    adminGroup,
    ssmKmsKeyId: optional(env, 'SSM_KMS_KEY_ID'),
  };
}
