/** The WatchEvent messages of tenantconfig.v1, built from domain values in one place. */
import type { ChangeEvent } from '../core/change-log';
import type { ConfigItem } from '../core/item';
import type { EffectiveItem, Source } from '../core/layers';
import { ATTRIBUTES_KEY } from '../core/tenant-registry';
import type { Item } from '../proto/generated/tenantconfig/v1/Item';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';

export type SnapshotReason = 'INITIAL' | 'CURSOR_EXPIRED';

/** A snapshot item as sent: the value already JSON text, so its size is known before sending. */
export type WireItem = Required<Pick<Item, 'key' | 'value_json' | 'version' | 'updated_at' | 'updated_by' | 'tenant_id' | 'source'>>;

/** Every item names its tenant, on single- and multi-tenant streams alike, and the layer its value comes from. */
export function wireItem(item: ConfigItem, tenant: string, source: Source = 'tenant'): WireItem {
  return {
    key: item.key,
    value_json: JSON.stringify(item.value),
    version: item.version,
    updated_at: item.updatedAt,
    updated_by: item.updatedBy,
    tenant_id: tenant,
    source,
  };
}

/** Roughly the encoded size of an item: its strings plus a little for tags, lengths and the version. */
export function wireItemBytes(item: WireItem): number {
  return (
    item.key.length + item.value_json.length + item.updated_at.length + item.updated_by.length + (item.tenant_id?.length ?? 0) + (item.source?.length ?? 0) + 28
  );
}

/**
 * `more` is set on every page but the last of a snapshot sent in pages; only the last carries
 * the cursor, so a client that resumes after losing the stream mid-snapshot cannot skip items.
 */
export function snapshotEvent(items: readonly WireItem[], cursor: string, reason: SnapshotReason, more = false): WatchEvent {
  return { event: 'snapshot', snapshot: { items: [...items], cursor, reason, more } };
}

/** Roughly the encoded size of an event, for accounting what waits in the transport. */
export function approximateBytes(event: WatchEvent): number {
  switch (event.event) {
    case 'snapshot':
      return (event.snapshot?.items ?? []).reduce((n, i) => n + wireItemBytes(i as WireItem), 64);
    case 'change':
      return 64 + (event.change?.key?.length ?? 0) + (event.change?.value_json?.length ?? 0) + (event.change?.cursor?.length ?? 0);
    default:
      return 64;
  }
}

/**
 * `cursor` defaults to the change's own log cursor, which is the resume cursor of a
 * single-tenant stream (so one message serves every stream of the tenant); a multi-tenant
 * stream passes its own cursor, which holds a position per shard.
 */
export function changeEvent(change: ChangeEvent, cursor: string = change.cursor): WatchEvent {
  return {
    event: 'change',
    change: {
      key: change.key,
      value_json: change.deleted ? '' : (change.valueJson ?? ''),
      version: change.version,
      deleted: change.deleted,
      cursor,
      updated_at: change.updatedAt,
      updated_by: change.updatedBy,
      tenant_id: change.tenant,
      source: 'tenant',
    },
  };
}

/**
 * A change of a tenant's effective value that comes from a layer: a default's new value, a
 * default the tenant falls back to when its own value goes, or (`item` absent) the end of a
 * default it had. `version` and `source` are the layer's.
 */
export function effectiveChangeEvent(
  tenant: string,
  key: string,
  cursor: string,
  effective: EffectiveItem | undefined,
  deleted: { version: number; source: Source; updatedAt: string; updatedBy: string },
  /** `effective`'s value already as JSON (one serialization for many tenants). */
  valueJson?: string,
): WatchEvent {
  return {
    event: 'change',
    change: effective
      ? {
          key,
          value_json: valueJson ?? JSON.stringify(effective.value),
          version: effective.version,
          deleted: false,
          cursor,
          updated_at: effective.updatedAt,
          updated_by: effective.updatedBy,
          tenant_id: tenant,
          source: effective.source,
        }
      : {
          key,
          value_json: '',
          version: deleted.version,
          deleted: true,
          cursor,
          updated_at: deleted.updatedAt,
          updated_by: deleted.updatedBy,
          tenant_id: tenant,
          source: deleted.source,
        },
  };
}

/** The source of a tenant's `@attributes` item or change (`WatchRequest.include_attributes`). */
export const ATTRIBUTES_SOURCE = 'registry';

/** A tenant's registry attributes as a snapshot item: key `@attributes`, value the attributes object, version the record's. */
export function attributesWireItem(
  tenant: string,
  held: { attributes: Readonly<Record<string, string>>; version: number; updatedAt: string; updatedBy: string },
): WireItem {
  return {
    key: ATTRIBUTES_KEY,
    value_json: JSON.stringify(held.attributes),
    version: held.version,
    updated_at: held.updatedAt,
    updated_by: held.updatedBy,
    tenant_id: tenant,
    source: ATTRIBUTES_SOURCE,
  };
}

/** A change of a tenant's registry attributes; `attributes` undefined: the tenant left the registry (a delete). */
export function attributesChangeEvent(
  tenant: string,
  cursor: string,
  held: { attributes?: Readonly<Record<string, string>>; version: number; updatedAt: string; updatedBy: string },
): WatchEvent {
  return {
    event: 'change',
    change: {
      key: ATTRIBUTES_KEY,
      value_json: held.attributes ? JSON.stringify(held.attributes) : '',
      version: held.version,
      deleted: held.attributes === undefined,
      cursor,
      updated_at: held.updatedAt,
      updated_by: held.updatedBy,
      tenant_id: tenant,
      source: ATTRIBUTES_SOURCE,
    },
  };
}

export const heartbeatEvent = (cursor: string): WatchEvent => ({ event: 'heartbeat', heartbeat: { cursor } });

export const reconnectEvent = (reason: string): WatchEvent => ({ event: 'reconnect', reconnect: { reason } });
