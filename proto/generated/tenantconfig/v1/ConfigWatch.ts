// Original file: proto/tenantconfig/v1/config.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { WatchEvent as _tenantconfig_v1_WatchEvent, WatchEvent__Output as _tenantconfig_v1_WatchEvent__Output } from '../../tenantconfig/v1/WatchEvent';
import type { WatchRequest as _tenantconfig_v1_WatchRequest, WatchRequest__Output as _tenantconfig_v1_WatchRequest__Output } from '../../tenantconfig/v1/WatchRequest';

export interface ConfigWatchClient extends grpc.Client {
  Watch(argument: _tenantconfig_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tenantconfig_v1_WatchEvent__Output>;
  Watch(argument: _tenantconfig_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tenantconfig_v1_WatchEvent__Output>;
  watch(argument: _tenantconfig_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tenantconfig_v1_WatchEvent__Output>;
  watch(argument: _tenantconfig_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tenantconfig_v1_WatchEvent__Output>;
  
}

export interface ConfigWatchHandlers extends grpc.UntypedServiceImplementation {
  Watch: grpc.handleServerStreamingCall<_tenantconfig_v1_WatchRequest__Output, _tenantconfig_v1_WatchEvent>;
  
}

export interface ConfigWatchDefinition extends grpc.ServiceDefinition {
  Watch: MethodDefinition<_tenantconfig_v1_WatchRequest, _tenantconfig_v1_WatchEvent, _tenantconfig_v1_WatchRequest__Output, _tenantconfig_v1_WatchEvent__Output>
}
