/**
 * One Watch call: opens it with the token, decodes the wire events (JSON values, oneof) into
 * what the client applies, and reports its end once, through the call's `status`. It asks for
 * paged snapshots (no single message has to hold a big tenant) and hands on a snapshot only once
 * its last page is in, as one whole state. It also asks for the tenants' registry attributes
 * (`include_attributes`): their `@attributes` items and changes are decoded apart from the keys,
 * so they never reach a store of configuration.
 */
import * as grpc from '@grpc/grpc-js';
import type { ConfigWatchClient } from '../proto/generated/tenantconfig/v1/ConfigWatch';
import type { Item__Output } from '../proto/generated/tenantconfig/v1/Item';
import type { WatchEvent__Output } from '../proto/generated/tenantconfig/v1/WatchEvent';
import type { IncomingChange } from './config-store';
import type { ClientItem, ConfigClientLogger } from './types';

export type SnapshotReason = 'INITIAL' | 'CURSOR_EXPIRED' | 'REASON_UNSPECIFIED';

/** An item with the tenant it belongs to (empty from a server that predates multi-tenant streams). */
export interface TenantItem {
  readonly tenantId: string;
  readonly item: ClientItem;
}

/** The key the service sends a tenant's registry attributes under (not a configuration key: tags start with a letter). */
export const ATTRIBUTES_KEY = '@attributes';

/** A tenant's registry attributes as the stream sends them; `attributes` absent: the tenant left the registry. */
export interface TenantAttributesUpdate {
  readonly tenantId: string;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly version: number;
}

export type DecodedEvent =
  | {
      readonly kind: 'snapshot';
      readonly items: TenantItem[];
      /** The registry attributes of the snapshot's tenants that have any (a tenant without: none). */
      readonly attributes: TenantAttributesUpdate[];
      readonly cursor: string;
      readonly reason: SnapshotReason;
    }
  | { readonly kind: 'change'; readonly change: IncomingChange; readonly tenantId: string; readonly cursor: string }
  | { readonly kind: 'attributes'; readonly update: TenantAttributesUpdate; readonly cursor: string }
  /** A heartbeat, or a change that could not be decoded: either way only the cursor moves. */
  | { readonly kind: 'cursor'; readonly cursor: string }
  | { readonly kind: 'reconnect'; readonly reason: string };

export interface WatchCallHandlers {
  /** The server answered: response headers or a first event. */
  accepted(): void;
  event(event: DecodedEvent): void;
  /** Called exactly once, when the call is over for any reason. */
  ended(status: grpc.StatusObject): void;
}

export interface WatchCall {
  cancel(): void;
}

export interface WatchRequestParams {
  readonly prefixes: readonly string[];
  readonly resumeCursor?: string;
  readonly token: string;
  /** Empty: the token's own tenant. */
  readonly tenants?: readonly string[];
}

export function openWatch(client: ConfigWatchClient, params: WatchRequestParams, handlers: WatchCallHandlers, logger: ConfigClientLogger): WatchCall {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${params.token}`);
  const call = client.Watch(
    {
      prefixes: [...params.prefixes],
      resume_cursor: params.resumeCursor ?? '',
      paged_snapshots: true,
      tenants: [...(params.tenants ?? [])],
      // One small item per tenant, for flag rules on tenant.<attribute>; a server that predates the field ignores it.
      include_attributes: true,
    },
    metadata,
  );
  let accepted = false;
  /** Items of the pages of a snapshot received so far; the state is replaced only by the whole. */
  let pages: TenantItem[] = [];
  let pageAttributes: TenantAttributesUpdate[] = [];
  const accept = (): void => {
    if (accepted) return;
    accepted = true;
    handlers.accepted();
  };
  call.on('metadata', accept);
  call.on('data', (event: WatchEvent__Output) => {
    accept();
    const decoded = decodeEvent(event, logger);
    if (decoded?.kind === 'snapshot' && event.snapshot?.more) {
      pages.push(...decoded.items);
      pageAttributes.push(...decoded.attributes);
      return;
    }
    if (decoded?.kind === 'snapshot' && (pages.length > 0 || pageAttributes.length > 0)) {
      const items = pages.concat(decoded.items);
      const attributes = pageAttributes.concat(decoded.attributes);
      pages = [];
      pageAttributes = [];
      handlers.event({ ...decoded, items, attributes });
      return;
    }
    if (decoded) handlers.event(decoded);
  });
  // Every end, errors included, is reported once by 'status'; without a listener 'error' would throw.
  call.on('error', () => undefined);
  call.on('status', (status: grpc.StatusObject) => handlers.ended(status));
  return { cancel: () => call.cancel() };
}

function parseJson(text: string, key: string, logger: ConfigClientLogger): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    logger.error('config-client: the service sent a value that is not JSON; ignored', { key });
    return { ok: false };
  }
}

function decodeItem(item: Item__Output, logger: ConfigClientLogger): TenantItem | undefined {
  const parsed = parseJson(item.value_json, item.key, logger);
  if (!parsed.ok) return undefined;
  return {
    tenantId: item.tenant_id,
    item: {
      key: item.key,
      value: parsed.value,
      version: Number(item.version),
      updatedAt: item.updated_at,
      updatedBy: item.updated_by,
      ...(item.source ? { source: item.source } : {}),
    },
  };
}

/** An `@attributes` value: an object of strings, else undefined (logged, ignored). */
function decodeAttributes(valueJson: string, tenantId: string, logger: ConfigClientLogger): Readonly<Record<string, string>> | undefined {
  const parsed = parseJson(valueJson, ATTRIBUTES_KEY, logger);
  if (!parsed.ok) return undefined;
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    logger.error('config-client: the service sent tenant attributes that are not an object of strings; ignored', { tenantId });
    return undefined;
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

export function decodeEvent(event: WatchEvent__Output, logger: ConfigClientLogger): DecodedEvent | undefined {
  switch (event.event) {
    case 'snapshot': {
      const snapshot = event.snapshot;
      if (!snapshot) return undefined;
      const attributes: TenantAttributesUpdate[] = [];
      const items: TenantItem[] = [];
      for (const raw of snapshot.items) {
        if (raw.key === ATTRIBUTES_KEY) {
          const decoded = decodeAttributes(raw.value_json, raw.tenant_id, logger);
          if (decoded) attributes.push({ tenantId: raw.tenant_id, attributes: decoded, version: Number(raw.version) });
          continue;
        }
        const item = decodeItem(raw, logger);
        if (item) items.push(item);
      }
      return { kind: 'snapshot', items, attributes, cursor: snapshot.cursor, reason: snapshot.reason };
    }
    case 'change': {
      const c = event.change;
      if (!c) return undefined;
      if (c.key === ATTRIBUTES_KEY) {
        const update = { tenantId: c.tenant_id, version: Number(c.version) };
        if (c.deleted) return { kind: 'attributes', cursor: c.cursor, update };
        const attributes = decodeAttributes(c.value_json, c.tenant_id, logger);
        return attributes ? { kind: 'attributes', cursor: c.cursor, update: { ...update, attributes } } : { kind: 'cursor', cursor: c.cursor };
      }
      if (c.deleted) {
        return {
          kind: 'change',
          cursor: c.cursor,
          tenantId: c.tenant_id,
          change: {
            key: c.key,
            version: Number(c.version),
            deleted: true,
            updatedAt: c.updated_at,
            updatedBy: c.updated_by,
            ...(c.source ? { source: c.source } : {}),
          },
        };
      }
      const parsed = parseJson(c.value_json, c.key, logger);
      if (!parsed.ok) return { kind: 'cursor', cursor: c.cursor };
      return {
        kind: 'change',
        cursor: c.cursor,
        tenantId: c.tenant_id,
        change: {
          key: c.key,
          value: parsed.value,
          version: Number(c.version),
          deleted: false,
          updatedAt: c.updated_at,
          updatedBy: c.updated_by,
          ...(c.source ? { source: c.source } : {}),
        },
      };
    }
    case 'heartbeat':
      return event.heartbeat ? { kind: 'cursor', cursor: event.heartbeat.cursor } : undefined;
    case 'reconnect':
      return { kind: 'reconnect', reason: event.reconnect?.reason ?? '' };
    default:
      // An event kind added to the proto after this SDK was built: harmless to skip.
      logger.debug('config-client: unknown Watch event ignored', { event: event.event });
      return undefined;
  }
}
