/**
 * Which tenants one Watch follows, from `WatchRequest.tenants` and the rights of the principal
 * (core/access-policy.ts decides; this only reads the request):
 * - empty: the token's own tenant; a service or an operator has none and must name tenants;
 * - ids: each parsed strictly (malformed → INVALID_ARGUMENT), at most `maxTenants` of them
 *   (more → INVALID_ARGUMENT: follow "*" instead), each one the principal may act on
 *   (a tenant principal naming another tenant → PERMISSION_DENIED);
 * - `"*"` alone: every tenant, present and future, for principals that may act on any tenant.
 *
 * A selection of exactly one tenant is a single-tenant stream whatever the principal: `c1`
 * cursors, changes encoded once for every stream of the tenant, snapshots in one message
 * allowed. Several tenants or `"*"` make a multi-tenant stream (`m1` cursors, paged snapshots).
 */
import { accessTo, mayActOnAnyTenant } from '../core/access-policy';
import { ForbiddenError, InvalidRequestError, isConfigError } from '../core/errors';
import { isTenantPrincipal, type Principal } from '../core/principal';
import { parseTenantId, type TenantId } from '../core/tenant';

export const ALL_TENANTS = '*';

export type TenantSelection =
  | { readonly kind: 'one'; readonly tenant: TenantId }
  /** Two or more tenants. */
  | { readonly kind: 'list'; readonly tenants: ReadonlySet<TenantId> }
  | { readonly kind: 'all' };

export function resolveTenants(principal: Principal, requested: readonly string[], maxTenants: number): TenantSelection {
  if (requested.length === 0) {
    if (!isTenantPrincipal(principal)) {
      throw new ForbiddenError(
        `a ${principal.kind} watches no tenant of its own: list the tenant ids to follow in WatchRequest.tenants, or "${ALL_TENANTS}" for every tenant`,
      );
    }
    return { kind: 'one', tenant: accessTo(principal).tenant };
  }
  if (requested.length > maxTenants) {
    throw new InvalidRequestError(
      `at most ${maxTenants} tenants may be listed in one Watch, got ${requested.length}; follow every tenant with "${ALL_TENANTS}" instead`,
    );
  }
  if (requested.includes(ALL_TENANTS)) {
    if (requested.some((t) => t !== ALL_TENANTS))
      throw new InvalidRequestError(`"${ALL_TENANTS}" stands alone in WatchRequest.tenants: it already means every tenant`);
    if (!mayActOnAnyTenant(principal)) throw new ForbiddenError(`only a service or an operator may watch every tenant ("${ALL_TENANTS}")`);
    return { kind: 'all' };
  }
  const tenants = new Set<TenantId>();
  for (const [i, raw] of requested.entries()) {
    let tenant: TenantId;
    try {
      tenant = parseTenantId(raw);
    } catch (error) {
      // A malformed id in a request is bad input (the tenant claim's own error is a refusal).
      if (!isConfigError(error)) throw error;
      throw new InvalidRequestError(`tenants[${i}] is not a tenant id: expected 1-64 characters of [A-Za-z0-9_-] starting with a letter or digit`);
    }
    tenants.add(accessTo(principal, tenant).tenant);
  }
  if (tenants.size === 1) return { kind: 'one', tenant: [...tenants][0] };
  return { kind: 'list', tenants };
}

export function follows(selection: TenantSelection, tenant: string): boolean {
  switch (selection.kind) {
    case 'one':
      return selection.tenant === tenant;
    case 'list':
      return selection.tenants.has(tenant as TenantId);
    case 'all':
      return true;
  }
}

/** The log shards a selection's changes are in, ascending. */
export function shardsOf(selection: TenantSelection, shardCount: number, shardOf: (tenant: string) => number): number[] {
  switch (selection.kind) {
    case 'one':
      return [shardOf(selection.tenant)];
    case 'list':
      return [...new Set([...selection.tenants].map(shardOf))].sort((a, b) => a - b);
    case 'all':
      return Array.from({ length: shardCount }, (_, i) => i);
  }
}

/** What a log line names: the tenant ids, or "*". */
export function describeTenants(selection: TenantSelection): string | readonly string[] {
  switch (selection.kind) {
    case 'one':
      return [selection.tenant];
    case 'list':
      return [...selection.tenants].sort();
    case 'all':
      return ALL_TENANTS;
  }
}
