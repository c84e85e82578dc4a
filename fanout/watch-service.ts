/**
 * tenantconfig.v1.ConfigWatch/Watch on @grpc/grpc-js: authenticate from the `authorization`
 * metadata, take the tenant from the token, check the prefixes and the resume cursor, then
 * hand the call to a {@link WatchStream}. Every failure leaves through one status table.
 *
 * Two limits keep one client from taking the process: concurrent Watch streams per connection
 * (checked before the token, so refused calls cost no verification) and per watcher identity
 * in this process. Both refuse with RESOURCE_EXHAUSTED and say which limit was hit.
 */
import { status as grpcStatus, type handleServerStreamingCall } from '@grpc/grpc-js';
import { parseTenantCursor } from '../core/change-log';
import { InvalidRequestError } from '../core/errors';
import { parseKeyPrefix, type KeyPrefix } from '../core/key';
import type { TagRegistry } from '../core/tag-registry';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest__Output } from '../proto/generated/tenantconfig/v1/WatchRequest';
import { DEFAULT_ADMIN_GROUP, DEFAULT_TENANT_CLAIM } from '../core/principal';
import { authenticate } from './authenticate';
import { GrpcStatusError } from './grpc-status';
import { connectionOf } from './http2-call';
import { ConcurrencyLimiter, watcherIdentity } from './stream-limits';
import type { TokenVerifier } from './token-verifier';
import { WatchStream, type WatchStreamDeps, type WatchStreamSettings, type WatchStreamStats } from './watch-stream';

export interface WatchServiceSettings extends WatchStreamSettings {
  /** The claim holding the tenant id. @default 'tenant_id' */
  readonly tenantClaim: string;
  /** Most prefixes one Watch may name. @default 32 */
  readonly maxPrefixes: number;
  /**
   * Most Watch streams open at once on one connection; the server also advertises a little
   * more than this as HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS. @default 100
   */
  readonly maxStreamsPerConnection: number;
  /** Most Watch streams open at once in this process for one watcher identity (today: one tenant). @default 1000 */
  readonly maxStreamsPerIdentity: number;
}

export const DEFAULT_WATCH_SETTINGS: WatchServiceSettings = {
  tenantClaim: DEFAULT_TENANT_CLAIM,
  maxPrefixes: 32,
  heartbeatIntervalMs: 15_000,
  maxQueueEvents: 1024,
  catchUpPageSize: 500,
  maxStreamAgeMs: 30 * 60_000,
  streamAgeSpread: 0.2,
  snapshotPageBytes: 64 * 1024,
  slowConsumerGraceMs: 1000,
  maxStreamsPerConnection: 100,
  maxStreamsPerIdentity: 1000,
};

export interface WatchServiceDeps extends WatchStreamDeps {
  readonly verifier: TokenVerifier;
  readonly registry: TagRegistry;
}

export class WatchService {
  private readonly streams = new Set<WatchStream>();
  private draining = false;
  private readonly perConnection: ConcurrencyLimiter<object | string>;
  private readonly perIdentity: ConcurrencyLimiter<string>;

  constructor(
    private readonly deps: WatchServiceDeps,
    private readonly settings: WatchServiceSettings = DEFAULT_WATCH_SETTINGS,
  ) {
    this.perConnection = new ConcurrencyLimiter(settings.maxStreamsPerConnection);
    this.perIdentity = new ConcurrencyLimiter(settings.maxStreamsPerIdentity);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Streams open per watcher identity. */
  streamsOf(identity: string): number {
    return this.perIdentity.count(identity);
  }

  streamStats(): WatchStreamStats[] {
    return [...this.streams].map((s) => s.stats);
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
    // Slots are given back when the stream ends, however it ends (cancel included).
    const releases: Array<() => void> = [];
    const stream = new WatchStream(call, this.deps, this.settings, (s) => {
      this.streams.delete(s);
      for (const release of releases) release();
    });
    if (this.draining) {
      stream.fail(new GrpcStatusError(grpcStatus.UNAVAILABLE, 'the server is draining; reconnect'));
      return;
    }
    const max = this.settings;
    const connectionSlot = this.perConnection.tryAcquire(connectionOf(call));
    if (!connectionSlot) {
      this.deps.metrics.streamRefused('connection');
      stream.fail(
        new GrpcStatusError(
          grpcStatus.RESOURCE_EXHAUSTED,
          `too many Watch streams on this connection: the limit is ${max.maxStreamsPerConnection} at once per connection; ` +
            'end one, or open another connection',
        ),
      );
      return;
    }
    releases.push(connectionSlot);
    this.streams.add(stream);
    try {
      const watcher = await authenticate(call.metadata, this.deps.verifier, { tenantClaim: this.settings.tenantClaim, adminGroup: DEFAULT_ADMIN_GROUP });
      const prefixes = this.parsePrefixes(call.request.prefixes ?? []);
      const rawCursor = call.request.resume_cursor ?? '';
      const resume = rawCursor === '' ? undefined : parseTenantCursor(rawCursor, watcher.tenant, this.deps.log.shardCount);
      // Cancelled while authenticating: its slots are already given back, take no new one.
      if (stream.isEnded) return;
      const identitySlot = this.perIdentity.tryAcquire(watcherIdentity(watcher));
      if (!identitySlot) {
        this.deps.metrics.streamRefused('identity');
        throw new GrpcStatusError(
          grpcStatus.RESOURCE_EXHAUSTED,
          `too many Watch streams for tenant '${watcher.tenant}' on this server: the limit is ${max.maxStreamsPerIdentity} at once ` +
            'per tenant per fanout process; end some, or retry later with backoff',
        );
      }
      releases.push(identitySlot);
      const pagedSnapshot = call.request.paged_snapshots === true;
      await stream.run({ tenant: watcher.tenant, expiresAtMs: watcher.expiresAtMs, prefixes, resume, pagedSnapshot });
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
