/**
 * The tenant id grammar, re-stated here because the SDK carries none of the server's code: the
 * id becomes a partition key and a path segment on the server, so nothing looser is ever sent
 * or trusted from a token.
 */
const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID.test(value);
}
