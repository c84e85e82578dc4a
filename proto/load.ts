/**
 * Loads tenantconfig.v1 at run time with the same options the generated types
 * (proto/generated, `npm run proto:gen`) were made with, so the two agree.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/config';

export const PROTO_FILE = join(__dirname, 'tenantconfig', 'v1', 'config.proto');

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number, // versions stay far below 2^53
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

export function loadConfigProto(): ProtoGrpcType {
  cached ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILE, PROTO_LOADER_OPTIONS)) as unknown as ProtoGrpcType;
  return cached;
}
