// Original file: proto/tenantconfig/v1/config.proto

import type { Snapshot as _tenantconfig_v1_Snapshot, Snapshot__Output as _tenantconfig_v1_Snapshot__Output } from '../../tenantconfig/v1/Snapshot';
import type { Change as _tenantconfig_v1_Change, Change__Output as _tenantconfig_v1_Change__Output } from '../../tenantconfig/v1/Change';
import type { Heartbeat as _tenantconfig_v1_Heartbeat, Heartbeat__Output as _tenantconfig_v1_Heartbeat__Output } from '../../tenantconfig/v1/Heartbeat';
import type { Reconnect as _tenantconfig_v1_Reconnect, Reconnect__Output as _tenantconfig_v1_Reconnect__Output } from '../../tenantconfig/v1/Reconnect';

export interface WatchEvent {
  'snapshot'?: (_tenantconfig_v1_Snapshot | null);
  'change'?: (_tenantconfig_v1_Change | null);
  'heartbeat'?: (_tenantconfig_v1_Heartbeat | null);
  'reconnect'?: (_tenantconfig_v1_Reconnect | null);
  'event'?: "snapshot"|"change"|"heartbeat"|"reconnect";
}

export interface WatchEvent__Output {
  'snapshot'?: (_tenantconfig_v1_Snapshot__Output | null);
  'change'?: (_tenantconfig_v1_Change__Output | null);
  'heartbeat'?: (_tenantconfig_v1_Heartbeat__Output | null);
  'reconnect'?: (_tenantconfig_v1_Reconnect__Output | null);
  'event'?: "snapshot"|"change"|"heartbeat"|"reconnect";
}
