/**
 * What each kind of principal may do, as one table, and the checks every use case makes with
 * it (HTTP routes and the Watch stream alike). Which tags need which scope comes from the tag
 * registry (`secret`) and registry/principals.json, so a new tag or scope is data, not an `if`.
 */
import { ForbiddenError } from './errors';
import { isTenantPrincipal, SCOPES, type Principal, type PrincipalKind } from './principal';
import type { RegisteredTag } from './tag-registry';
import type { TenantId } from './tenant';

export type Action = 'read' | 'write';

interface Rights {
  /** `own`: only the principal's own tenant; `any`: every tenant. */
  readonly tenants: 'own' | 'any';
  /** Which tags it reads: all, the non-secret ones, or as its OAuth scopes say. */
  readonly reads: 'all' | 'non-secret' | 'by-scope';
  readonly writes: boolean;
  /** Platform operations: defaults of every layer, the tenant registry, rollouts. */
  readonly operates: boolean;
}

export const RIGHTS: Readonly<Record<PrincipalKind, Rights>> = {
  'tenant-reader': { tenants: 'own', reads: 'non-secret', writes: false, operates: false },
  'tenant-admin': { tenants: 'own', reads: 'all', writes: true, operates: false },
  service: { tenants: 'any', reads: 'by-scope', writes: false, operates: false },
  operator: { tenants: 'any', reads: 'all', writes: true, operates: true },
};

/** A caller acting on one tenant: what every use case is handed. */
export interface TenantAccess {
  readonly caller: Principal;
  readonly tenant: TenantId;
}

/**
 * The tenant a request acts on. `requested` is the tenant a route names (`/v1/tenants/{id}/...`,
 * `WatchRequest.tenants`); without one, a tenant principal acts on its own tenant and anyone
 * else must name one. A tenant principal naming another tenant is refused.
 */
export function accessTo(caller: Principal, requested?: TenantId): TenantAccess {
  if (isTenantPrincipal(caller)) {
    if (requested !== undefined && requested !== caller.tenant) throw new ForbiddenError('a tenant principal may act on its own tenant only');
    return { caller, tenant: caller.tenant };
  }
  if (requested === undefined) {
    throw new ForbiddenError(`a ${caller.kind} acts on no tenant of its own: name the tenant (/v1/tenants/{tenantId}/...)`);
  }
  return { caller, tenant: requested };
}

/** Whether the caller may follow every tenant at once (`WatchRequest.tenants: ['*']`). */
export const mayActOnAnyTenant = (caller: Principal): boolean => RIGHTS[caller.kind].tenants === 'any';

/** Whether the caller may read keys of `tag` (of a tenant it may act on). */
export function mayRead(caller: Principal, tag: Pick<RegisteredTag, 'secret'>): boolean {
  switch (RIGHTS[caller.kind].reads) {
    case 'all':
      return true;
    case 'non-secret':
      return !tag.secret;
    case 'by-scope': {
      const scopes = caller.kind === 'service' ? caller.scopes : new Set<string>();
      return scopes.has(SCOPES.read) && (!tag.secret || scopes.has(SCOPES.readSecrets));
    }
  }
}

/** Throws {@link ForbiddenError}, saying what is missing, unless the caller may do `action` on `tag`. */
export function authorize(access: TenantAccess, tag: Pick<RegisteredTag, 'name' | 'secret'>, action: Action): void {
  const { caller } = access;
  if (action === 'write') {
    if (RIGHTS[caller.kind].writes) return;
    throw new ForbiddenError(
      caller.kind === 'service' ? 'a service may read configuration, never write it' : 'writing configuration requires membership of the admin group',
    );
  }
  if (mayRead(caller, tag)) return;
  throw new ForbiddenError(
    caller.kind === 'service'
      ? `reading '${tag.name}:' keys requires the scope${tag.secret ? `s '${SCOPES.read}' and '${SCOPES.readSecrets}'` : ` '${SCOPES.read}'`}`
      : `'${tag.name}:' keys are secret: reading them requires membership of the admin group`,
  );
}

/** Throws {@link ForbiddenError} unless the caller may run platform operations (`what` names the operation). */
export function authorizeOperation(caller: Principal, what: string): void {
  if (RIGHTS[caller.kind].operates) return;
  throw new ForbiddenError(`${what} requires a platform operator (membership of the operator group)`);
}
