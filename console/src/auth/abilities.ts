/** What the page offers a principal (docs/design.md §8.1); the API enforces the same rules. */
import type { ItemScope } from '../api/item-scope';
import type { Identity } from './identity';

export const isOperator = (who: Identity): boolean => who.role === 'operator';

/** Operators write everything; a tenant admin its own tenant's keys; readers and services nothing. */
export function canWrite(who: Identity, scope: ItemScope): boolean {
  if (who.role === 'operator') return true;
  if (who.role !== 'admin') return false;
  return (scope.kind === 'own' || scope.kind === 'tenant') && scope.tenant === who.tenant;
}

/** The scope of a tenant's own keys as this principal reaches them: `/v1/config` for its own tenant. */
export function tenantScope(who: Identity, tenant: string): ItemScope {
  return who.tenant === tenant ? { kind: 'own', tenant } : { kind: 'tenant', tenant };
}
