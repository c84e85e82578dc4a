/**
 * Where a command's keys live: the caller's own tenant (`/v1/config`), a named tenant
 * (`/v1/tenants/{t}/config`), the platform defaults (`/v1/defaults`) or a segment's defaults
 * (`/v1/segments/plan=gold`). Every layer has the same item, listing, history and restore
 * routes (lambda/config-api/routes.ts); only their paths differ.
 */
import { keyPath } from './api';
import { usageError } from './errors';

export interface Layer {
  /** For messages: `tenant acme`, `your tenant`, `platform defaults`, `segment plan=gold`. */
  readonly label: string;
  /** The listing path; items are `<itemsPath>/<key>`. */
  readonly itemsPath: string;
  /** Prefix of history paths: `<historyPath>/<key>`. */
  readonly historyPath: string;
}

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SEGMENT = /^[A-Za-z][A-Za-z0-9_-]*=[^/=\s]+$/;

export function parseTenant(value: string): string {
  if (!TENANT_ID.test(value)) throw usageError(`not a tenant id: '${value}' (1-64 of [A-Za-z0-9_-], starting with a letter or digit)`);
  return value;
}

export function parseSegment(value: string): string {
  if (!SEGMENT.test(value)) throw usageError(`not a segment: '${value}' (expected attribute=value, e.g. plan=gold)`);
  return value;
}

export function tenantLayer(tenant: string | undefined): Layer {
  if (tenant === undefined) return { label: 'your tenant', itemsPath: '/v1/config', historyPath: '/v1/history' };
  const t = encodeURIComponent(parseTenant(tenant));
  return { label: `tenant ${tenant}`, itemsPath: `/v1/tenants/${t}/config`, historyPath: `/v1/tenants/${t}/history` };
}

export const platformLayer = (): Layer => ({ label: 'platform defaults', itemsPath: '/v1/defaults', historyPath: '/v1/history/defaults' });

export function segmentLayer(segment: string): Layer {
  const s = encodeURIComponent(parseSegment(segment));
  return { label: `segment ${segment}`, itemsPath: `/v1/segments/${s}`, historyPath: `/v1/history/segments/${s}` };
}

/** A key as given on the command line: `<tag>:<name>`. The API checks the rest. */
export function parseKey(key: string): string {
  if (!/^[^:/\s]+:./.test(key)) throw usageError(`not a key: '${key}' (expected <tag>:<name>, e.g. tenantconfig:limits)`);
  return key;
}

export const itemPath = (layer: Layer, key: string): string => `${layer.itemsPath}/${keyPath(key)}`;
export const historyPath = (layer: Layer, key: string): string => `${layer.historyPath}/${keyPath(key)}`;
