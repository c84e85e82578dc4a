/**
 * The standard gRPC health service (grpc.health.v1, proto/grpc/health/v1/health.proto):
 * SERVING while the fanout takes streams, NOT_SERVING from the moment it drains, so a
 * load balancer's health check takes the task out before its streams are ended.
 */
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILE, PROTO_LOADER_OPTIONS } from '../proto/load';

/**
 * Beside tenantconfig/v1/config.proto under the same root (proto/ here, the image's /app in the
 * bundle), so one rule places both files wherever the code runs.
 */
export const HEALTH_PROTO_FILE = join(dirname(PROTO_FILE), '..', '..', 'grpc', 'health', 'v1', 'health.proto');

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthCheckRequest {
  service: string;
}
export interface HealthCheckResponse {
  status: ServingStatus;
}

/** The service definition and a client constructor, loaded with the same options as tenantconfig.v1. */
export interface HealthProto {
  readonly service: grpc.ServiceDefinition;
  readonly Client: grpc.ServiceClientConstructor;
}

let cached: HealthProto | undefined;

export function loadHealthProto(): HealthProto {
  if (!cached) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO_FILE, PROTO_LOADER_OPTIONS));
    // The loaded package is untyped: walk it down to the one constructor we need.
    const Health = ((pkg.grpc as grpc.GrpcObject).health as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const Client = Health.Health as grpc.ServiceClientConstructor;
    cached = { service: Client.service, Client };
  }
  return cached;
}

/** Serving status per service name; `''` is the server as a whole. */
export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<{ service: string; call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse> }>();

  constructor(services: readonly string[]) {
    for (const s of ['', ...services]) this.statuses.set(s, 'SERVING');
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Sets every known service at once: the fanout is healthy or draining as a whole. */
  setAll(status: ServingStatus): void {
    for (const service of this.statuses.keys()) this.statuses.set(service, status);
    for (const w of this.watchers) w.call.write({ status: this.statuses.get(w.service) ?? 'SERVICE_UNKNOWN' });
  }

  /** Ends every Watch call (they would otherwise hold their connection open through a drain). */
  endWatches(): void {
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  handlers(): grpc.UntypedServiceImplementation {
    const check: grpc.handleUnaryCall<HealthCheckRequest, HealthCheckResponse> = (call, callback) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service '${call.request.service}'` });
        return;
      }
      callback(null, { status });
    };
    const watch: grpc.handleServerStreamingCall<HealthCheckRequest, HealthCheckResponse> = (call) => {
      const watcher = { service: call.request.service, call };
      this.watchers.add(watcher);
      call.on('cancelled', () => this.watchers.delete(watcher));
      call.write({ status: this.statuses.get(watcher.service) ?? 'SERVICE_UNKNOWN' });
    };
    return { Check: check, Watch: watch };
  }
}
