/**
 * tenantconfig.v1.ConfigWatch/Watch on @grpc/grpc-js: authenticate from the `authorization`
 * metadata, take the tenant from the token, check the prefixes and the resume cursor, then
 * hand the call to a {@link WatchStream}. Every failure leaves through one status table.
 */
import { status as grpcStatus, type handleServerStreamingCall } from '@grpc/grpc-js';
import { parseTenantCursor } from '../core/change-log';
import { InvalidRequestError } from '../core/errors';
import { parseKeyPrefix, type KeyPrefix } from '../core/key';
import type { TagRegistry } from '../core/tag-registry';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest__Output } from '../proto/generated/tenantconfig/v1/WatchRequest';
import { authenticate, DEFAULT_TENANT_CLAIM } from './authenticate';
import { GrpcStatusError } from './grpc-status';
import type { TokenVerifier } from './token-verifier';
import { WatchStream, type WatchStreamDeps, type WatchStreamSettings } from './watch-stream';

export interface WatchServiceSettings extends WatchStreamSettings {
  /** The claim holding the tenant id. @default 'tenant_id' */
  readonly tenantClaim: string;
  /** Most prefixes one Watch may name. @default 32 */
  readonly maxPrefixes: number;
}

export const DEFAULT_WATCH_SETTINGS: WatchServiceSettings = {
  tenantClaim: DEFAULT_TENANT_CLAIM,
  maxPrefixes: 32,
  heartbeatIntervalMs: 15_000,
  maxQueueEvents: 1024,
  catchUpPageSize: 500,
  maxStreamAgeMs: 30 * 60_000,
  streamAgeSpread: 0.2,
};

export interface WatchServiceDeps extends WatchStreamDeps {
  readonly verifier: TokenVerifier;
  readonly registry: TagRegistry;
}

export class WatchService {
  private readonly streams = new Set<WatchStream>();
  private draining = false;

  constructor(
    private readonly deps: WatchServiceDeps,
    private readonly settings: WatchServiceSettings = DEFAULT_WATCH_SETTINGS,
  ) {}

  get openStreams(): number {
    return this.streams.size;
  }

  handlers(): { Watch: handleServerStreamingCall<WatchRequest__Output, WatchEvent> } {
    return { Watch: (call) => void this.watch(call) };
  }

  /** Sends `reconnect` to every open stream and ends it; new calls are refused from now on. */
  reconnectAll(reason: string): void {
    this.draining = true;
    for (const stream of [...this.streams]) stream.reconnect(reason);
  }

  private async watch(call: Parameters<handleServerStreamingCall<WatchRequest__Output, WatchEvent>>[0]): Promise<void> {
    const stream = new WatchStream(call, this.deps, this.settings, (s) => this.streams.delete(s));
    if (this.draining) {
      stream.fail(new GrpcStatusError(grpcStatus.UNAVAILABLE, 'the server is draining; reconnect'));
      return;
    }
    this.streams.add(stream);
    try {
      const watcher = await authenticate(call.metadata, this.deps.verifier, this.settings.tenantClaim);
      const prefixes = this.parsePrefixes(call.request.prefixes ?? []);
      const rawCursor = call.request.resume_cursor ?? '';
      const resume = rawCursor === '' ? undefined : parseTenantCursor(rawCursor, watcher.tenant, this.deps.log.shardCount);
      await stream.run({ tenant: watcher.tenant, expiresAtMs: watcher.expiresAtMs, prefixes, resume });
    } catch (error) {
      stream.fail(error);
    }
  }

  /** Checks each prefix and its tag; drops prefixes another one already covers. */
  private parsePrefixes(raw: readonly string[]): KeyPrefix[] {
    if (raw.length > this.settings.maxPrefixes) {
      throw new InvalidRequestError(`at most ${this.settings.maxPrefixes} prefixes may be watched at once, got ${raw.length}`);
    }
    const parsed = raw.map((p) => parseKeyPrefix(p));
    for (const p of parsed) this.deps.registry.resolve(p);
    return parsed.filter((p, i) => !parsed.some((q, j) => j !== i && p.raw.startsWith(q.raw) && (q.raw !== p.raw || j < i)));
  }
}
