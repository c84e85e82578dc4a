/**
 * Who is calling, from the claims of a token an edge has already verified (API Gateway's JWT
 * authorizer for HTTP, the fanout's own verifier for gRPC). Both edges call
 * {@link principalFromClaims}, so a token means the same thing on each: the claims are read
 * exactly as Cognito issued them (an array is an array, a number is not a string), and a
 * tenant comes from one configured claim and nowhere else — no fallback claim, no default
 * tenant, never the path, query or body. What each kind of principal may do is
 * core/access-policy.ts.
 */
import principalsData from '../registry/principals.json';
import { ForbiddenError, InvalidTenantError, UnauthenticatedError } from './errors';
import { parseTenantId, type TenantId } from './tenant';

/**
 * - `tenant-reader`, `tenant-admin`: a person of one tenant (the tenant claim; admins are in the admin group);
 * - `service`: a consuming service's client-credentials token (no tenant claim, no user), with OAuth scopes;
 * - `operator`: a person of the platform team (the operator group), across tenants.
 */
export type PrincipalKind = 'tenant-reader' | 'tenant-admin' | 'service' | 'operator';

interface PrincipalBase {
  readonly kind: PrincipalKind;
  /** The token's subject; recorded as `updatedBy` and in every access log line. */
  readonly subject: string;
}

export interface TenantPrincipal extends PrincipalBase {
  readonly kind: 'tenant-reader' | 'tenant-admin';
  readonly tenant: TenantId;
}

export interface ServicePrincipal extends PrincipalBase {
  readonly kind: 'service';
  /** The token's OAuth scopes, as issued (`tenant-config/read`, ...). */
  readonly scopes: ReadonlySet<string>;
}

export interface OperatorPrincipal extends PrincipalBase {
  readonly kind: 'operator';
}

export type Principal = TenantPrincipal | ServicePrincipal | OperatorPrincipal;

export const isTenantPrincipal = (p: Principal): p is TenantPrincipal => p.kind === 'tenant-reader' || p.kind === 'tenant-admin';

/** A verified token's payload, as issued. */
export type TokenClaims = Readonly<Record<string, unknown>>;

export interface PrincipalOptions {
  /** The claim holding the tenant id, e.g. `tenant_id` or `custom:tenant_id`. */
  readonly tenantClaim: string;
  /** Members of this Cognito group may write their own tenant. */
  readonly adminGroup: string;
  /** Members of this Cognito group act across tenants. @default 'platform-operators' */
  readonly operatorGroup?: string;
}

export const DEFAULT_TENANT_CLAIM = 'tenant_id';
export const DEFAULT_ADMIN_GROUP = principalsData.groups.tenantAdmin;
export const DEFAULT_OPERATOR_GROUP = principalsData.groups.operator;
export const GROUPS_CLAIM = 'cognito:groups';
/** Long enough for a real RS256 JWT with room to spare, and no longer: both edges refuse a longer bearer token. */
export const MAX_BEARER_TOKEN_LENGTH = 16 * 1024;

/** The OAuth scopes of the resource server, as tokens carry them (`<identifier>/<name>`). */
export const SCOPES = {
  read: `${principalsData.resourceServer.identifier}/${principalsData.scopes.read.name}`,
  readSecrets: `${principalsData.resourceServer.identifier}/${principalsData.scopes.readSecrets.name}`,
} as const;

/** User tokens carry `sub` (and `username`); `client_id` identifies a machine (client-credentials) caller. */
const SUBJECT_CLAIMS = ['sub', 'username', 'client_id'] as const;
const MAX_SUBJECT_LENGTH = 256;

function subjectOf(claims: TokenClaims): string {
  for (const name of SUBJECT_CLAIMS) {
    const value = claims[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SUBJECT_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) {
      throw new UnauthenticatedError(`the token's '${name}' claim is malformed`);
    }
    return value;
  }
  throw new UnauthenticatedError(`the token names no subject (${SUBJECT_CLAIMS.join(', ')})`);
}

/**
 * Cognito issues `cognito:groups` as an array of names. Membership is exact, element by
 * element: no splitting, trimming or JSON parsing, so no crafted group name can add another.
 */
function groupsOf(claims: TokenClaims): readonly string[] {
  const value = claims[GROUPS_CLAIM];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((g: unknown) => typeof g === 'string')) {
    throw new UnauthenticatedError(`the token's '${GROUPS_CLAIM}' claim is not an array of group names`);
  }
  return value as string[];
}

/** OAuth's `scope` is one string of names separated by single spaces (RFC 6749 §3.3). */
function scopesOf(claims: TokenClaims): ReadonlySet<string> {
  const value = claims.scope;
  if (value === undefined) return new Set();
  if (typeof value !== 'string') throw new UnauthenticatedError("the token's 'scope' claim is not a string");
  return new Set(value.split(' ').filter((s) => s.length > 0));
}

/**
 * `claims` undefined (or empty) means no verified token reached us: 401. Only access tokens
 * are accepted (an ID token is for the client app, not for calling APIs). An operator needs no
 * tenant claim; a token with neither a tenant claim nor the operator group is a service only
 * when it is a client-credentials token (no `username`) carrying the read scope. Anything else
 * is authenticated but allowed nowhere: 403.
 */
export function principalFromClaims(claims: unknown, options: PrincipalOptions): Principal {
  // A verified JWT always carries claims (iss, exp, ...): none at all means no token reached us.
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims) || Object.keys(claims).length === 0) {
    throw new UnauthenticatedError('a valid bearer token is required');
  }
  const verified = claims as TokenClaims;
  if (verified.token_use !== 'access') throw new UnauthenticatedError('only access tokens are accepted');
  const subject = subjectOf(verified);
  const groups = groupsOf(verified);
  const scopes = scopesOf(verified);
  if (groups.includes(options.operatorGroup ?? DEFAULT_OPERATOR_GROUP)) return { kind: 'operator', subject };

  const raw = verified[options.tenantClaim];
  if (raw === undefined || raw === '') {
    if (verified.username === undefined && scopes.size > 0) {
      if (!scopes.has(SCOPES.read)) throw new ForbiddenError(`a client-credentials token needs the scope '${SCOPES.read}'`);
      return { kind: 'service', subject, scopes };
    }
    throw new InvalidTenantError(`the token carries no '${options.tenantClaim}' claim`);
  }
  if (typeof raw !== 'string') throw new InvalidTenantError(`the token's '${options.tenantClaim}' claim is not a string`);
  const tenant = parseTenantId(raw);
  return { kind: groups.includes(options.adminGroup) ? 'tenant-admin' : 'tenant-reader', subject, tenant };
}
