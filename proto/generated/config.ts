import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Change as _tenantconfig_v1_Change, Change__Output as _tenantconfig_v1_Change__Output } from './tenantconfig/v1/Change';
import type { ConfigWatchClient as _tenantconfig_v1_ConfigWatchClient, ConfigWatchDefinition as _tenantconfig_v1_ConfigWatchDefinition } from './tenantconfig/v1/ConfigWatch';
import type { Heartbeat as _tenantconfig_v1_Heartbeat, Heartbeat__Output as _tenantconfig_v1_Heartbeat__Output } from './tenantconfig/v1/Heartbeat';
import type { Item as _tenantconfig_v1_Item, Item__Output as _tenantconfig_v1_Item__Output } from './tenantconfig/v1/Item';
import type { Reconnect as _tenantconfig_v1_Reconnect, Reconnect__Output as _tenantconfig_v1_Reconnect__Output } from './tenantconfig/v1/Reconnect';
import type { Snapshot as _tenantconfig_v1_Snapshot, Snapshot__Output as _tenantconfig_v1_Snapshot__Output } from './tenantconfig/v1/Snapshot';
import type { WatchEvent as _tenantconfig_v1_WatchEvent, WatchEvent__Output as _tenantconfig_v1_WatchEvent__Output } from './tenantconfig/v1/WatchEvent';
import type { WatchRequest as _tenantconfig_v1_WatchRequest, WatchRequest__Output as _tenantconfig_v1_WatchRequest__Output } from './tenantconfig/v1/WatchRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tenantconfig: {
    v1: {
      Change: MessageTypeDefinition<_tenantconfig_v1_Change, _tenantconfig_v1_Change__Output>
      ConfigWatch: SubtypeConstructor<typeof grpc.Client, _tenantconfig_v1_ConfigWatchClient> & { service: _tenantconfig_v1_ConfigWatchDefinition }
      Heartbeat: MessageTypeDefinition<_tenantconfig_v1_Heartbeat, _tenantconfig_v1_Heartbeat__Output>
      Item: MessageTypeDefinition<_tenantconfig_v1_Item, _tenantconfig_v1_Item__Output>
      Reconnect: MessageTypeDefinition<_tenantconfig_v1_Reconnect, _tenantconfig_v1_Reconnect__Output>
      Snapshot: MessageTypeDefinition<_tenantconfig_v1_Snapshot, _tenantconfig_v1_Snapshot__Output>
      WatchEvent: MessageTypeDefinition<_tenantconfig_v1_WatchEvent, _tenantconfig_v1_WatchEvent__Output>
      WatchRequest: MessageTypeDefinition<_tenantconfig_v1_WatchRequest, _tenantconfig_v1_WatchRequest__Output>
    }
  }
}

