// Original file: proto/tenantconfig/v1/config.proto

import type { Item as _tenantconfig_v1_Item, Item__Output as _tenantconfig_v1_Item__Output } from '../../tenantconfig/v1/Item';

// Original file: proto/tenantconfig/v1/config.proto

export const _tenantconfig_v1_Snapshot_Reason = {
  REASON_UNSPECIFIED: 'REASON_UNSPECIFIED',
  INITIAL: 'INITIAL',
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
} as const;

export type _tenantconfig_v1_Snapshot_Reason =
  | 'REASON_UNSPECIFIED'
  | 0
  | 'INITIAL'
  | 1
  | 'CURSOR_EXPIRED'
  | 2

export type _tenantconfig_v1_Snapshot_Reason__Output = typeof _tenantconfig_v1_Snapshot_Reason[keyof typeof _tenantconfig_v1_Snapshot_Reason]

export interface Snapshot {
  'items'?: (_tenantconfig_v1_Item)[];
  'cursor'?: (string);
  'reason'?: (_tenantconfig_v1_Snapshot_Reason);
  'more'?: (boolean);
}

export interface Snapshot__Output {
  'items': (_tenantconfig_v1_Item__Output)[];
  'cursor': (string);
  'reason': (_tenantconfig_v1_Snapshot_Reason__Output);
  'more': (boolean);
}
