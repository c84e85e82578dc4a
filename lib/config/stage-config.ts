/**
 * The deployment's settings, read once from CDK context (`-c name=value` or cdk.json) and
 * checked before any construct is built: a bad value fails synth with a message that names
 * the context key and says what is expected.
 */
import { validateServiceClients, type ServiceClientSpec } from './principals-data';

/** A context value as CDK hands it over: strings from `-c`, any JSON from cdk.json. */
export type ContextReader = (key: string) => unknown;

export interface StageConfig {
  /** Stage name: lower-case letters, digits and single hyphens, 1-16 characters, starting with a letter. */
  readonly stage: string;
  /** First level of every parameter: `/<ssmRoot>/<stage>/tenants/<tenantId>/...`. */
  readonly ssmRoot: string;
  /** Target account and region; both absent means environment-agnostic (synth needs no credentials). */
  readonly account?: string;
  readonly region?: string;
  /**
   * ACM certificate for the fanout's TLS listener (and the API's custom domain when `domainName` is set).
   * Without it the fanout listener is plain TCP and the load balancer is internal.
   */
  readonly certificateArn?: string;
  /** Custom domain of the HTTP API, e.g. `config.example.com`; needs `certificateArn` in the stack's region. */
  readonly domainName?: string;
  /** NAT gateways for the fanout's egress (the Cognito JWKS URL). Production defaults to one per AZ. */
  readonly natGateways: number;
  /** Production hardening: MFA required, NAT per AZ, longer log retention. Default: stage `prod`. */
  readonly production: boolean;
  /** Subscribed to the alarm topic when given. */
  readonly alarmEmail?: string;
  /**
   * Consuming services, each with its own client-credentials app client:
   * `-c services=billing:read,reports:read+read-secrets`, or a `[{ name, scopes }]` list in cdk.json.
   */
  readonly services: readonly ServiceClientSpec[];
  /** Cognito domain prefix of the token endpoint. Default: `tenant-config-<stage>-<account id>`. */
  readonly authDomainPrefix?: string;
  /**
   * Serve only tenants in the tenant registry (403 for others) instead of serving an unregistered
   * tenant the platform defaults: `-c requireTenantRegistration=true`. Default: false.
   */
  readonly requireTenantRegistration: boolean;
}

export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

export const DEFAULT_STAGE = 'dev';
export const DEFAULT_SSM_ROOT = 'tenant-config';

/**
 * Stage names end up in stack names, the ElastiCache name (lower case, ≤ 40 with the prefix,
 * no double hyphen) and Parameter Store paths, so the grammar is the strictest of the three.
 */
export const STAGE_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,15}$/;
/** One Parameter Store path segment that Parameter Store does not reserve (`aws*`, `ssm*`). */
const SSM_ROOT_PATTERN = /^(?![Aa][Ww][Ss]|[Ss][Ss][Mm])[A-Za-z0-9_.-]{1,64}$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const CERTIFICATE_ARN_PATTERN = /^arn:aws[a-z-]*:acm:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:certificate\/[A-Za-z0-9-]+$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/**
 * A Cognito prefix domain: lower-case letters, digits and inner hyphens, at most 63, and none of
 * the words Cognito refuses in a prefix.
 */
export const DOMAIN_PREFIX_PATTERN = /^(?!.*(?:aws|amazon|cognito))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const SERVICES_SYNTAX = '<name>:<scope>[+<scope>], comma-separated (e.g. billing:read,reports:read+read-secrets)';

function text(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new StageConfigError(`context '${key}' must be a string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function matching(key: string, value: string | undefined, pattern: RegExp, what: string): string | undefined {
  if (value !== undefined && !pattern.test(value)) {
    throw new StageConfigError(`context '${key}' must be ${what}, got '${value.slice(0, 80)}'`);
  }
  return value;
}

function flag(read: ContextReader, key: string): boolean | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new StageConfigError(`context '${key}' must be true or false, got ${JSON.stringify(value)}`);
}

function integer(read: ContextReader, key: string, min: number, max: number): number | undefined {
  const value = read(key);
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new StageConfigError(`context '${key}' must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `billing:read,reports:read+read-secrets` (from `-c`), or a `[{ name, scopes }]` list (from cdk.json). */
function serviceClients(read: ContextReader, key: string): ServiceClientSpec[] {
  const value = read(key);
  if (value === undefined || value === null || value === '') return [];
  let specs: ServiceClientSpec[];
  if (typeof value === 'string') {
    specs = value.split(',').map((entry) => {
      const match = /^\s*([^:\s]+)\s*:\s*([^:\s]+)\s*$/.exec(entry);
      if (!match) throw new StageConfigError(`context '${key}' must be ${SERVICES_SYNTAX}, got '${entry.trim().slice(0, 80)}'`);
      return { name: match[1], scopes: match[2].split('+') };
    });
  } else if (Array.isArray(value)) {
    specs = value as ServiceClientSpec[];
  } else {
    throw new StageConfigError(`context '${key}' must be ${SERVICES_SYNTAX}, or a list of { name, scopes }, got ${JSON.stringify(value).slice(0, 80)}`);
  }
  try {
    return validateServiceClients(specs);
  } catch (error) {
    throw new StageConfigError(`context '${key}': ${(error as Error).message}`);
  }
}

/** Reads and checks every setting; throws {@link StageConfigError} naming the first bad one. */
export function readStageConfig(read: ContextReader): StageConfig {
  const stage = text(read, 'stage') ?? DEFAULT_STAGE;
  matching('stage', stage, STAGE_PATTERN, '1-16 lower-case letters, digits or single hyphens, starting with a letter (e.g. dev, prod, eu-test)');
  const ssmRoot = (text(read, 'ssmRoot') ?? DEFAULT_SSM_ROOT).replace(/^\/+|\/+$/g, '');
  matching('ssmRoot', ssmRoot, SSM_ROOT_PATTERN, "one Parameter Store path segment of [A-Za-z0-9_.-] not starting with 'aws' or 'ssm'");
  const account = matching('account', text(read, 'account'), ACCOUNT_PATTERN, 'a 12-digit AWS account id');
  const region = matching('region', text(read, 'region'), REGION_PATTERN, 'an AWS region name such as eu-west-1');
  const certificateArn = matching('certificateArn', text(read, 'certificateArn'), CERTIFICATE_ARN_PATTERN, 'an ACM certificate ARN');
  const domainName = matching('domainName', text(read, 'domainName')?.toLowerCase(), DOMAIN_PATTERN, 'a DNS name such as config.example.com');
  if (domainName && !certificateArn) {
    throw new StageConfigError(`context 'domainName' (${domainName}) needs 'certificateArn': a certificate for that name in the stack's region`);
  }
  if (certificateArn && region) {
    const certRegion = certificateArn.split(':')[3];
    if (certRegion !== region) {
      throw new StageConfigError(`context 'certificateArn' is in ${certRegion}, but the stacks deploy to ${region}: ACM certificates are regional`);
    }
  }
  const alarmEmail = matching('alarmEmail', text(read, 'alarmEmail'), EMAIL_PATTERN, 'an e-mail address');
  const production = flag(read, 'production') ?? stage === 'prod';
  const natGateways = integer(read, 'natGateways', 1, 3) ?? (production ? 2 : 1);
  const services = serviceClients(read, 'services');
  const what = "1-63 lower-case letters, digits or inner hyphens, without 'aws', 'amazon' or 'cognito'";
  const authDomainPrefix = matching('authDomainPrefix', text(read, 'authDomainPrefix'), DOMAIN_PREFIX_PATTERN, what);
  if (authDomainPrefix === undefined && !DOMAIN_PREFIX_PATTERN.test(resourcePrefix({ stage }))) {
    throw new StageConfigError(
      `context 'stage' (${stage}) would put a word Cognito reserves in the token endpoint's domain prefix: set 'authDomainPrefix' (${what})`,
    );
  }
  const requireTenantRegistration = flag(read, 'requireTenantRegistration') ?? false;
  return {
    stage,
    ssmRoot,
    account,
    region,
    certificateArn,
    domainName,
    natGateways,
    production,
    alarmEmail,
    services,
    authDomainPrefix,
    requireTenantRegistration,
  };
}

/** The name prefix of this stage's resources, e.g. `tenant-config-dev`. */
export const resourcePrefix = (config: Pick<StageConfig, 'stage'>): string => `tenant-config-${config.stage}`;

/** `/<root>/<stage>/tenants/`: the subtree holding every tenant's parameters, with both slashes. */
export const ssmTenantsPath = (config: Pick<StageConfig, 'stage' | 'ssmRoot'>): string => `/${config.ssmRoot}/${config.stage}/tenants/`;
