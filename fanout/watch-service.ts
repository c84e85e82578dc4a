/**
 * tenantconfig.v1.ConfigWatch/Watch on @grpc/grpc-js: authenticate from the `authorization`
 * metadata, resolve the tenants from `WatchRequest.tenants` and the principal's rights
 * (tenant-selection.ts), narrow the prefixes to the tags the principal may read, check the
 * resume cursor, then hand the call to a {@link WatchStream}. Every failure leaves through one
 * status table. Every Watch of a service or an operator is logged with the principal's kind,
 * its subject and the tenants (or "*") it follows.
 *
 * Two limits keep one client from taking the process: concurrent Watch streams per connection
 * (checked before the token, so refused calls cost no verification) and per watcher identity
 * (the principal: its tenant, or the service's or operator's subject) in this process. Both
 * refuse with RESOURCE_EXHAUSTED and say which limit was hit.
 */
import { status as grpcStatus, type handleServerStreamingCall, type Metadata } from '@grpc/grpc-js';
import { mayRead } from '../core/access-policy';
import { parseMultiCursor, parseTenantCursor, tenantSetId, type ParsedCursor } from '../core/change-log';
import { ForbiddenError, InvalidRequestError } from '../core/errors';
import { parseKeyPrefix, type KeyPrefix } from '../core/key';
import { isTenantPrincipal, SCOPES, type Principal } from '../core/principal';
import type { TagRegistry } from '../core/tag-registry';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest__Output } from '../proto/generated/tenantconfig/v1/WatchRequest';
import { DEFAULT_ADMIN_GROUP, DEFAULT_TENANT_CLAIM } from '../core/principal';
import { authenticate } from './authenticate';
import { GrpcStatusError } from './grpc-status';
import { connectionOf } from './http2-call';
import type { WatchCall } from './stream-sender';
import { ConcurrencyLimiter, describeIdentity, watcherIdentity } from './stream-limits';
import { describeTenants, resolveTenants, shardsOf, type TenantSelection } from './tenant-selection';
import type { TokenVerifier } from './token-verifier';
import { watchSetupTrace } from './tracing';
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
  /**
   * Most Watch streams open at once in this process for one watcher identity: a tenant (its
   * readers and admins together), a service or an operator. A stream counts once however many
   * tenants it follows. @default 1000
   */
  readonly maxStreamsPerIdentity: number;
  /** Most tenant ids one Watch may list; beyond, "*" is the way to follow many. @default 1000 */
  readonly maxTenantsPerWatch: number;
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
  maxTenantsPerWatch: 1000,
};

export interface WatchServiceDeps extends WatchStreamDeps {
  readonly verifier: TokenVerifier;
  readonly registry: TagRegistry;
}

/**
 * A Watch as the service takes it: who asks (the `authorization` metadata), what (the request),
 * on which connection (`getPeer`, unique per open TCP connection) and where its events go. A
 * grpc-js server call is one; the events endpoint builds one from an HTTP request
 * (fanout/events/sse-watch-call.ts), so both edges share every check below.
 */
export interface WatchServiceCall extends WatchCall {
  readonly metadata: Metadata;
  readonly request: WatchRequest__Output;
  getPeer(): string;
  /** Called once the Watch passed every check (token, tenants, prefixes, cursor, limits), before its first event. */
  accepted?(): void;
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

  /** Opens a Watch for a call of any edge; it ends the call itself, with a status, however it ends. */
  open(call: WatchServiceCall): Promise<void> {
    return this.watch(call);
  }

  /** Sends `reconnect` to every open stream and ends it; new calls are refused from now on. */
  reconnectAll(reason: string): void {
    this.draining = true;
    for (const stream of [...this.streams]) stream.reconnect(reason);
  }

  private async watch(call: WatchServiceCall): Promise<void> {
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
    // Spans only when tracing is configured (fanout/tracing.ts); `phase` is skipped otherwise.
    const trace = watchSetupTrace();
    const phase = <T>(name: Parameters<NonNullable<typeof trace>['phase']>[0], run: () => T | Promise<T>): T | Promise<T> =>
      trace ? trace.phase(name, run) : run();
    try {
      const watcher = await phase('authenticate', () =>
        authenticate(call.metadata, this.deps.verifier, { tenantClaim: this.settings.tenantClaim, adminGroup: DEFAULT_ADMIN_GROUP }),
      );
      const { principal } = watcher;
      const { tenants, pagedSnapshot, prefixes, resume } = await phase('resolve tenants', () => {
        const tenants = resolveTenants(principal, call.request.tenants ?? [], this.settings.maxTenantsPerWatch);
        const pagedSnapshot = call.request.paged_snapshots === true;
        if (tenants.kind !== 'one' && !pagedSnapshot) {
          // One message holding many tenants' configuration has no useful bound.
          throw new InvalidRequestError('a Watch of several tenants sends its snapshot in pages: set paged_snapshots');
        }
        if (tenants.kind === 'all' && !this.deps.tenants) {
          throw new GrpcStatusError(grpcStatus.UNIMPLEMENTED, 'this server cannot list tenants, so it cannot watch every tenant ("*"); list the tenant ids');
        }
        const prefixes = this.readablePrefixes(principal, this.parsePrefixes(call.request.prefixes ?? []));
        const rawCursor = call.request.resume_cursor ?? '';
        const resume = rawCursor === '' ? undefined : this.parseResume(rawCursor, tenants);
        return { tenants, pagedSnapshot, prefixes, resume };
      });
      trace?.annotate({
        'watch.principal': principal.kind,
        'watch.tenants': tenants.kind === 'one' ? 1 : tenants.kind === 'list' ? tenants.tenants.size : '*',
        'watch.prefixes': prefixes.length,
        'watch.resumed': resume !== undefined,
      });
      // Cancelled while authenticating: its slots are already given back, take no new one.
      if (stream.isEnded) {
        trace?.end();
        return;
      }
      const identitySlot = this.perIdentity.tryAcquire(watcherIdentity(principal));
      if (!identitySlot) {
        this.deps.metrics.streamRefused('identity');
        throw new GrpcStatusError(
          grpcStatus.RESOURCE_EXHAUSTED,
          `too many Watch streams for ${describeIdentity(principal)} on this server: the limit is ${max.maxStreamsPerIdentity} at once ` +
            `per ${isTenantPrincipal(principal) ? 'tenant' : principal.kind} per fanout process; end some, or retry later with backoff ` +
            '(one stream follows any number of tenants)',
        );
      }
      releases.push(identitySlot);
      if (!isTenantPrincipal(principal)) {
        this.deps.logger?.info('cross-tenant watch', {
          principalKind: principal.kind,
          subject: principal.subject,
          tenants: describeTenants(tenants),
          prefixes: prefixes.map((p) => p.raw),
          resumed: resume !== undefined,
        });
      }
      const mayReadTag = (tag: string): boolean => {
        try {
          return mayRead(principal, this.deps.registry.resolve(tag));
        } catch {
          // A tag the registry does not know is nobody's to read.
          return false;
        }
      };
      call.accepted?.();
      // Attributes only of the tenants resolved above: those the principal may follow.
      const includeAttributes = call.request.include_attributes === true;
      await stream.run({ principal, tenants, expiresAtMs: watcher.expiresAtMs, prefixes, mayReadTag, resume, pagedSnapshot, trace, includeAttributes });
      trace?.end();
    } catch (error) {
      trace?.end(error);
      stream.fail(error);
    }
  }

  /**
   * Old single-tenant cursors work as before (`c1`, checked against the tenant's shard); a
   * stream of several tenants takes only its own `m1` cursors (same tenant set, every shard).
   */
  private parseResume(raw: string, tenants: TenantSelection): ReadonlyMap<number, ParsedCursor> {
    const log = this.deps.log;
    if (tenants.kind === 'one') {
      const cursor = parseTenantCursor(raw, tenants.tenant, log.shardCount);
      return new Map([[cursor.shard, cursor]]);
    }
    const setId = tenantSetId(tenants.kind === 'all' ? '*' : [...tenants.tenants]);
    return parseMultiCursor(
      raw,
      setId,
      shardsOf(tenants, log.shardCount, (t) => log.shardOf(t)),
      log.shardCount,
    );
  }

  /**
   * Secret tags stay with those who may read them: a named prefix of a tag the principal may not
   * read is refused (as the HTTP listing refuses it); no prefix means every tag it may read.
   */
  private readablePrefixes(principal: Principal, prefixes: KeyPrefix[]): KeyPrefix[] {
    const registry = this.deps.registry;
    for (const p of prefixes) {
      const tag = registry.resolve(p);
      if (mayRead(principal, tag)) continue;
      throw new ForbiddenError(
        principal.kind === 'service'
          ? `watching '${tag.name}:' keys requires the scope${tag.secret ? `s '${SCOPES.read}' and '${SCOPES.readSecrets}'` : ` '${SCOPES.read}'`}`
          : `'${tag.name}:' keys are secret: watching them requires membership of the admin group`,
      );
    }
    // No prefix: every key, read as the watcher (the listing passes over tags it may not read)
    // and every change checked against its tag (WatchStream.mayReadKey).
    return prefixes;
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
