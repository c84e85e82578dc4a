/**
 * Who is calling, from the claims of a token an edge has already verified (API Gateway's JWT
 * authorizer for HTTP, the fanout's own verifier for gRPC). Both edges call
 * {@link principalFromClaims}, so a token means the same thing on each: the claims are read
 * exactly as Cognito issued them (an array is an array, a number is not a string), and the
 * tenant comes from one configured claim and nowhere else — no fallback claim, no default
 * tenant, never the path, query or body.
 */
import { InvalidTenantError, UnauthenticatedError } from './errors';
import { parseTenantId, type TenantId } from './tenant';

export interface Principal {
  readonly tenant: TenantId;
  /** The token's subject; recorded as `updatedBy`. */
  readonly subject: string;
  /** Member of the admin group: may write and delete. */
  readonly isAdmin: boolean;
}

/** A verified token's payload, as issued. */
export type TokenClaims = Readonly<Record<string, unknown>>;

export interface PrincipalOptions {
  /** The claim holding the tenant id, e.g. `tenant_id` or `custom:tenant_id`. */
  readonly tenantClaim: string;
  /** Members of this Cognito group may write. */
  readonly adminGroup: string;
}

export const DEFAULT_TENANT_CLAIM = 'tenant_id';
export const DEFAULT_ADMIN_GROUP = 'config-admins';
export const GROUPS_CLAIM = 'cognito:groups';
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

/**
 * `claims` undefined (or empty) means no verified token reached us: 401. Only access tokens
 * are accepted (an ID token is for the client app, not for calling APIs). A token whose
 * tenant claim is missing or malformed is authenticated but allowed nowhere: 403.
 */
export function principalFromClaims(claims: unknown, options: PrincipalOptions): Principal {
  // A verified JWT always carries claims (iss, exp, ...): none at all means no token reached us.
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims) || Object.keys(claims).length === 0) {
    throw new UnauthenticatedError('a valid bearer token is required');
  }
  const verified = claims as TokenClaims;
  if (verified.token_use !== 'access') throw new UnauthenticatedError('only access tokens are accepted');
  const subject = subjectOf(verified);
  const isAdmin = groupsOf(verified).includes(options.adminGroup);
  const raw = verified[options.tenantClaim];
  if (raw === undefined || raw === '') throw new InvalidTenantError(`the token carries no '${options.tenantClaim}' claim`);
  if (typeof raw !== 'string') throw new InvalidTenantError(`the token's '${options.tenantClaim}' claim is not a string`);
  return { tenant: parseTenantId(raw), subject, isAdmin };
}
