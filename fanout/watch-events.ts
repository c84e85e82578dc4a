/** The WatchEvent messages of tenantconfig.v1, built from domain values in one place. */
import type { ChangeEvent } from '../core/change-log';
import type { ConfigItem } from '../core/item';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';

export type SnapshotReason = 'INITIAL' | 'CURSOR_EXPIRED';

export function snapshotEvent(items: readonly ConfigItem[], cursor: string, reason: SnapshotReason): WatchEvent {
  return {
    event: 'snapshot',
    snapshot: {
      items: items.map((item) => ({
        key: item.key,
        value_json: JSON.stringify(item.value),
        version: item.version,
        updated_at: item.updatedAt,
        updated_by: item.updatedBy,
      })),
      cursor,
      reason,
    },
  };
}

export function changeEvent(change: ChangeEvent): WatchEvent {
  return {
    event: 'change',
    change: {
      key: change.key,
      value_json: change.deleted ? '' : (change.valueJson ?? ''),
      version: change.version,
      deleted: change.deleted,
      cursor: change.cursor,
      updated_at: change.updatedAt,
      updated_by: change.updatedBy,
    },
  };
}

export const heartbeatEvent = (cursor: string): WatchEvent => ({ event: 'heartbeat', heartbeat: { cursor } });

export const reconnectEvent = (reason: string): WatchEvent => ({ event: 'reconnect', reconnect: { reason } });
