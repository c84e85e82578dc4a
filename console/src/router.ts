/**
 * Hash routes (`#/config/acme/key/tenantconfig:plan`): a deep link works from any static host
 * without a rewrite rule, and the OAuth callback's `?code=` never meets a route.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ItemScope } from './api/item-scope';

export type Route =
  | { readonly view: 'home' }
  | { readonly view: 'tenants' }
  | { readonly view: 'keys'; readonly tenant: string }
  | { readonly view: 'key'; readonly scope: ItemScope; readonly key: string }
  | { readonly view: 'layers'; readonly layer?: string }
  | { readonly view: 'rollouts'; readonly id?: string }
  | { readonly view: 'live' };

const dec = decodeURIComponent;
const enc = encodeURIComponent;

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const [first, ...rest] = path.split('/');
  try {
    switch (first) {
      case 'tenants':
        return { view: 'tenants' };
      case 'config': {
        const tenant = dec(rest[0] ?? '');
        if (!tenant) return { view: 'home' };
        if (rest[1] === 'key' && rest.length > 2) return { view: 'key', scope: { kind: 'tenant', tenant }, key: dec(rest.slice(2).join('/')) };
        return { view: 'keys', tenant };
      }
      case 'layers': {
        const layer = rest[0] ? dec(rest[0]) : undefined;
        if (layer && rest[1] === 'key' && rest.length > 2) {
          const scope: ItemScope = layer === 'platform' ? { kind: 'platform' } : { kind: 'segment', segment: layer };
          return { view: 'key', scope, key: dec(rest.slice(2).join('/')) };
        }
        return { view: 'layers', layer };
      }
      case 'rollouts':
        return { view: 'rollouts', id: rest[0] ? dec(rest[0]) : undefined };
      case 'live':
        return { view: 'live' };
      default:
        return { view: 'home' };
    }
  } catch {
    return { view: 'home' };
  }
}

/** A key keeps its `/`s in the link, readable and copyable. */
const keyPart = (key: string) => key.split('/').map(enc).join('/');

export const links = {
  tenants: () => '#/tenants',
  keys: (tenant: string) => `#/config/${enc(tenant)}`,
  key(scope: ItemScope, key: string): string {
    switch (scope.kind) {
      case 'own':
      case 'tenant':
        return `#/config/${enc(scope.tenant)}/key/${keyPart(key)}`;
      case 'platform':
        return `#/layers/platform/key/${keyPart(key)}`;
      case 'segment':
        return `#/layers/${enc(scope.segment)}/key/${keyPart(key)}`;
    }
  },
  layers: (layer?: string) => (layer ? `#/layers/${enc(layer)}` : '#/layers'),
  rollouts: (id?: string) => (id ? `#/rollouts/${enc(id)}` : '#/rollouts'),
  live: () => '#/live',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
