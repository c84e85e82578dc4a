import { InvalidTenantError } from './errors';

/** A tenant id that passed {@link parseTenantId}; the brand keeps raw strings out of backend calls. */
export type TenantId = string & { readonly __brand: 'TenantId' };

/**
 * Letters, digits, `_` and `-`, starting with a letter or digit, at most 64 characters.
 * Strict on purpose: the id becomes a DynamoDB partition key and a Parameter Store
 * path segment, so `/`, `#`, `:` or an empty id must never get through.
 */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function parseTenantId(raw: unknown): TenantId {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new InvalidTenantError('the token carries no tenant claim');
  }
  if (!TENANT_ID_PATTERN.test(raw)) {
    throw new InvalidTenantError('the tenant claim is malformed: expected 1-64 characters of [A-Za-z0-9_-] starting with a letter or digit');
  }
  return raw as TenantId;
}
