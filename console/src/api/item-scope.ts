/**
 * Where a key's items live: the caller's own tenant, a named tenant, the platform defaults or a
 * segment's defaults — and so which routes read, write, list and restore them (docs/design.md §8.2).
 */
export type ItemScope =
  | { readonly kind: 'own'; readonly tenant: string }
  | { readonly kind: 'tenant'; readonly tenant: string }
  | { readonly kind: 'platform' }
  | { readonly kind: 'segment'; readonly segment: string };

/** A key in a path: `/` stays a separator (the API refuses an encoded one), the rest is escaped. */
export const keyPath = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

export function itemsPath(scope: ItemScope): string {
  switch (scope.kind) {
    case 'own':
      return '/v1/config';
    case 'tenant':
      return `/v1/tenants/${encodeURIComponent(scope.tenant)}/config`;
    case 'platform':
      return '/v1/defaults';
    case 'segment':
      return `/v1/segments/${encodeURIComponent(scope.segment)}`;
  }
}

export const itemPath = (scope: ItemScope, key: string): string => `${itemsPath(scope)}/${keyPath(key)}`;

export function historyPath(scope: ItemScope, key: string): string {
  switch (scope.kind) {
    case 'own':
      return `/v1/history/${keyPath(key)}`;
    case 'tenant':
      return `/v1/tenants/${encodeURIComponent(scope.tenant)}/history/${keyPath(key)}`;
    case 'platform':
      return `/v1/history/defaults/${keyPath(key)}`;
    case 'segment':
      return `/v1/history/segments/${encodeURIComponent(scope.segment)}/${keyPath(key)}`;
  }
}

/** The layer's name as the API's `source` writes it. */
export function sourceOf(scope: ItemScope): string {
  return scope.kind === 'platform' ? 'platform' : scope.kind === 'segment' ? `segment:${scope.segment}` : 'tenant';
}

export function describeScope(scope: ItemScope): string {
  switch (scope.kind) {
    case 'own':
    case 'tenant':
      return `tenant ${scope.tenant}`;
    case 'platform':
      return 'platform defaults';
    case 'segment':
      return `segment ${scope.segment}`;
  }
}
