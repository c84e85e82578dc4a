/**
 * The Watch API's gRPC client class, built from the descriptor embedded in `proto-descriptor.ts`
 * (generated from proto/tenantconfig/v1/config.proto) with the options the generated types in
 * proto/generated were made with. Nothing is read from disk: the SDK works the same from this
 * checkout, a CommonJS or an ESM bundle, wherever it is installed.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../proto/generated/config';
import { CONFIG_PROTO_DESCRIPTOR } from './proto-descriptor';

/** As proto/load.ts (the server's), so both sides decode alike. */
export const WATCH_PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number, // versions stay far below 2^53
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

export function loadWatchProto(): ProtoGrpcType {
  cached ??= grpc.loadPackageDefinition(
    protoLoader.fromJSON(CONFIG_PROTO_DESCRIPTOR as unknown as Parameters<typeof protoLoader.fromJSON>[0], WATCH_PROTO_OPTIONS),
  ) as unknown as ProtoGrpcType;
  return cached;
}
