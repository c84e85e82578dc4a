/**
 * The caller, from the claims of a token the API Gateway JWT authorizer (or the local
 * front) has already verified. The tenant comes from one configured claim and nowhere
 * else: no fallback claim, no default tenant, never the path, query or body.
 */
import { InvalidTenantError, UnauthenticatedError } from '../../core/errors';
import type { Principal } from '../../core/principal';
import { parseTenantId } from '../../core/tenant';

/** A claim as API Gateway HTTP API hands it over: arrays may arrive flattened to `[a b]`. */
export type ClaimValue = string | number | boolean | readonly string[];
export type Claims = Readonly<Record<string, ClaimValue | undefined>>;

export interface PrincipalOptions {
  /** The claim holding the tenant id, e.g. `tenant_id` or `custom:tenant_id`. */
  readonly tenantClaim: string;
  /** Members of this Cognito group may write. */
  readonly adminGroup: string;
}

export const DEFAULT_TENANT_CLAIM = 'tenant_id';
export const DEFAULT_ADMIN_GROUP = 'config-admins';
export const GROUPS_CLAIM = 'cognito:groups';
/** User tokens carry `sub`; `username` and `client_id` identify machine (client-credentials) callers. */
const SUBJECT_CLAIMS = ['sub', 'username', 'client_id'] as const;
const MAX_SUBJECT_LENGTH = 256;

/**
 * Group names from `cognito:groups` in any of the forms it arrives in: a real array
 * (a verifier that decoded the JWT), a JSON array string, or HTTP API's flattened
 * `[a b]`. Cognito group names contain no whitespace, so splitting on it is exact.
 */
export function parseGroups(claim: ClaimValue | undefined): string[] {
  if (claim === undefined) return [];
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim !== 'string') return [];
  const text = claim.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      // `[0]` or `[true]` is the flattened form of a group named "0" or "true", not JSON.
      if (Array.isArray(parsed) && parsed.every((g: unknown): g is string => typeof g === 'string')) return parsed;
    } catch {
      // Not JSON: the flattened form.
    }
    return splitWhitespace(text.slice(1, -1));
  }
  return splitWhitespace(text);
}

const splitWhitespace = (s: string): string[] => s.split(/\s+/).filter((g) => g.length > 0);

function subjectOf(claims: Claims): string {
  for (const name of SUBJECT_CLAIMS) {
    const value = claims[name];
    if (typeof value === 'string' && value.length > 0) {
      if (value.length > MAX_SUBJECT_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) {
        throw new UnauthenticatedError(`the token's '${name}' claim is malformed`);
      }
      return value;
    }
  }
  throw new UnauthenticatedError(`the token names no subject (${SUBJECT_CLAIMS.join(', ')})`);
}

/**
 * `claims` undefined means no verified token reached us (401). A token whose tenant
 * claim is missing or malformed is authenticated but not allowed anywhere (403).
 */
export function principalFromClaims(claims: Claims | undefined, options: PrincipalOptions): Principal {
  // A verified JWT always carries claims (iss, exp, ...): none at all means no token reached us.
  if (!claims || typeof claims !== 'object' || Object.keys(claims).length === 0) {
    throw new UnauthenticatedError('a valid bearer token is required');
  }
  const raw = claims[options.tenantClaim];
  if (raw === undefined || raw === '') {
    throw new InvalidTenantError(`the token carries no '${options.tenantClaim}' claim`);
  }
  if (typeof raw !== 'string') {
    throw new InvalidTenantError(`the token's '${options.tenantClaim}' claim is not a string`);
  }
  const tenant = parseTenantId(raw);
  const subject = subjectOf(claims);
  const isAdmin = parseGroups(claims[GROUPS_CLAIM]).includes(options.adminGroup);
  return { tenant, subject, isAdmin };
}
