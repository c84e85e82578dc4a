/**
 * The Watch stream's connection life, one attempt at a time. Every attempt opens a fresh channel
 * (so grpc-js's own connection backoff never stacks on ours) and asks for a snapshot, or resumes
 * from the last cursor. A stream that ends is re-opened: after a `reconnect` notice or a clean
 * end, promptly with jitter and without an outage; after a break, once promptly with jitter, then
 * with full-jitter exponential backoff. That backoff's ceiling drops while the HTTP fallback
 * answers (the service is up, only the stream is missing), and a wait under way is cut short when
 * the fallback starts answering. UNAUTHENTICATED is retried at once with a fresh token, a bounded
 * number of times. What it learns goes to one {@link WatchSink}; it holds no configuration state.
 */
import * as grpc from '@grpc/grpc-js';
import { loadWatchProto } from './watch-proto';
import type { ConfigWatchClient } from '../proto/generated/tenantconfig/v1/ConfigWatch';
import { streamRetryDelay } from './backoff';
import type { IncomingChange } from './config-store';
import { ConfigClientAuthError, ConfigClientPermissionError } from './errors';
import type { ResolvedOptions } from './options';
import { errorMessage, fetchToken } from './token';
import type { ReconnectEvent } from './types';
import { openWatch, type DecodedEvent, type TenantAttributesUpdate, type TenantItem, type WatchCall } from './watch-call';

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Pings on the open stream notice a dead peer within ~80 s, and keep an NLB (350 s idle
  // timeout) from dropping a quiet connection. The grpc-js server sets no ping rate limit.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  // A private subchannel per channel: a fresh attempt must not inherit a shared subchannel's backoff.
  'grpc.use_local_subchannel_pool': 1,
  // A snapshot of a tenant with many keys can pass the 4 MiB default.
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

/** Where a WatchConnection reports; the client's façade implements it. */
export interface WatchSink {
  /**
   * A snapshot arrived: it replaces the state held of the tenants the request named (`tenants`;
   * empty for the token's own, `*` for all). The cursor is already updated.
   */
  snapshot(items: readonly TenantItem[], tenants: readonly string[], attributes: readonly TenantAttributesUpdate[]): void;
  /** A change arrived, in log order. */
  change(change: IncomingChange, tenantId: string): void;
  /** A tenant's registry attributes changed (kept apart from its keys). */
  attributes(update: TenantAttributesUpdate): void;
  /** The stream is up and its state applied (a snapshot, or a resume the server accepted). */
  up(): void;
  /** The stream that was up is gone. Whether that is an outage comes next (`interrupted`, `attemptFailed`), or not at all for a planned reconnect. */
  down(): void;
  /** An established stream broke; a retry follows soon. */
  interrupted(reason: string): void;
  /** An attempt gave no stream; the next one waits out the backoff. */
  attemptFailed(reason: string): void;
  /** The token was refused; the next attempt, at once, asks the provider for a fresh one. */
  tokenRefused(reason: string, wasLive: boolean): void;
  /** Refused more than `maxAuthRetries` times in a row. Returning true stops the connection (the client closes). */
  authExhausted(error: ConfigClientAuthError): boolean;
  /** The service refused the tenants asked for. Returning true stops the connection (the client closes). */
  permissionDenied?(error: ConfigClientPermissionError): boolean;
  /** A reconnect is scheduled (for metrics). */
  reconnecting?(event: ReconnectEvent): void;
}

/** Which tenants a request names. Absent: the token's own tenant, always. */
export interface WatchScope {
  /**
   * The tenants of the next request; `resuming` says whether it resumes (no snapshot) or asks
   * for one. Undefined: nothing to watch, the connection stays idle until `open()` again.
   */
  tenantsFor(resuming: boolean): readonly string[] | undefined;
}

/** What a side Watch (on the live connection) reports. */
export interface SideWatchHandlers {
  event(event: DecodedEvent): void;
  /** Called once when it is over, whatever the reason (its own end, cancel, the connection gone). */
  ended(status: grpc.StatusObject): void;
}

interface Attempt {
  readonly channel: ConfigWatchClient;
  resuming: boolean;
  /** The tenants the current call named. */
  tenants: readonly string[];
  call?: WatchCall;
  accepted: boolean;
  connectTimer?: NodeJS.Timeout;
  /** Called once the current call's state is in, for a call re-issued on the live channel. */
  onReissued?: () => void;
  /** Side Watches on this channel; they end with it. */
  readonly sides: Set<WatchCall>;
}

type Settings = Pick<
  ResolvedOptions,
  | 'grpcTarget'
  | 'credentials'
  | 'prefixes'
  | 'token'
  | 'connectTimeoutMs'
  | 'backoffBaseMs'
  | 'backoffCapMs'
  | 'backoffCapWhileHttpUpMs'
  | 'reconnectJitterMs'
  | 'maxAuthRetries'
  | 'logger'
  | 'random'
>;

export class WatchConnection {
  private attempt?: Attempt;
  /** Bumped whenever an attempt ends: late events of an older attempt are ignored. */
  private generation = 0;
  private cursorHeld?: string;
  private isLive = false;
  /** Consecutive failed attempts; drives the backoff, reset when live. */
  private failures = 0;
  private authFailures = 0;
  /** A `reconnect` notice (or a clean end) is being obeyed: the gap is planned. */
  private plannedReconnect = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** When the pending retry is due, and whether it waits out a backoff (not a notice or a token refresh). */
  private retryDueAt = 0;
  private waitingOutBackoff = false;
  /** The HTTP fallback's last load succeeded: the service answers. */
  private httpUp = false;
  private closed = false;
  /** Nothing to watch (the scope named no tenant): no attempt until `open()`. */
  private isIdle = false;

  constructor(
    private readonly settings: Settings,
    private readonly sink: WatchSink,
    private readonly scope: WatchScope = { tenantsFor: () => [] },
  ) {}

  /** The position in the change log the state is consistent with; what a resume sends. */
  get cursor(): string | undefined {
    return this.cursorHeld;
  }

  get live(): boolean {
    return this.isLive;
  }

  /** True while nothing is watched: no attempt is made or pending. */
  get idle(): boolean {
    return this.isIdle;
  }

  /** The first attempt; again after the scope had nothing to watch. */
  open(): void {
    this.isIdle = false;
    this.connect();
  }

  /**
   * Re-issues the Watch on the live connection with the scope's tenants now: the status stays
   * live and no new connection is made. A multi-tenant cursor names its tenant set, so a new set
   * starts over with a snapshot of it; until that snapshot is in, the state held keeps serving.
   * `done` is called once the new call's state is in. False when there is no live stream to
   * re-issue (the next attempt asks the scope anyway).
   */
  reissue(done: () => void): boolean {
    const attempt = this.attempt;
    if (!attempt || !this.isLive || this.closed) return false;
    const generation = ++this.generation;
    this.cursorHeld = undefined;
    attempt.call?.cancel();
    attempt.call = undefined;
    void fetchToken(this.settings.token).then((token) => {
      if (generation !== this.generation || this.closed || this.attempt !== attempt) return;
      if (token instanceof Error) {
        // The old call is already gone: this is a broken stream like any other.
        this.onEnded(attempt, { code: grpc.status.UNAVAILABLE, details: `token provider failed: ${token.message}`, metadata: new grpc.Metadata() });
        return;
      }
      const tenants = this.scope.tenantsFor(false) ?? [];
      attempt.resuming = false;
      attempt.accepted = false;
      attempt.onReissued = done;
      this.startCall(attempt, generation, token, tenants);
    });
    return true;
  }

  /**
   * A second Watch on the live connection (one HTTP/2 connection, another stream), for `tenants`
   * from a snapshot; it ends with the connection. Undefined when there is no live connection.
   */
  openSide(tenants: readonly string[], handlers: SideWatchHandlers): WatchCall | undefined {
    const attempt = this.attempt;
    if (!attempt || !this.isLive || this.closed) return undefined;
    let call: WatchCall | undefined;
    let cancelled = false;
    let over = false;
    const end = (status: grpc.StatusObject): void => {
      if (over) return;
      over = true;
      if (call) attempt.sides.delete(call);
      handlers.ended(status);
    };
    const side: WatchCall = {
      cancel: () => {
        cancelled = true;
        if (call) call.cancel();
        else end({ code: grpc.status.CANCELLED, details: 'cancelled', metadata: new grpc.Metadata() });
      },
    };
    void fetchToken(this.settings.token).then((token) => {
      if (cancelled || over) return;
      if (token instanceof Error || this.attempt !== attempt || this.closed) {
        end({
          code: grpc.status.UNAVAILABLE,
          details: token instanceof Error ? `token provider failed: ${token.message}` : 'the connection is gone',
          metadata: new grpc.Metadata(),
        });
        return;
      }
      call = openWatch(
        attempt.channel,
        { prefixes: this.settings.prefixes, token, tenants },
        {
          accepted: () => undefined,
          event: (e) => {
            if (!over) handlers.event(e);
          },
          ended: end,
        },
        this.settings.logger,
      );
      attempt.sides.add(call);
    });
    return side;
  }

  /**
   * What the HTTP fallback learnt. A success means the service answers: a backoff under way is
   * cut short (a retry within the reconnect jitter, which spreads a fleet) and later ones are
   * capped by `backoffCapWhileHttpUpMs`.
   */
  httpAnswered(ok: boolean): void {
    this.httpUp = ok;
    if (!ok || this.closed || !this.reconnectTimer || !this.waitingOutBackoff) return;
    const delayMs = this.jitter(this.settings.reconnectJitterMs);
    if (Date.now() + delayMs >= this.retryDueAt) return;
    this.settings.logger.info('config-client: the service answers over HTTP; retrying the stream now', { delayMs });
    this.scheduleReconnect(delayMs, 'the service answers over HTTP');
  }

  /** Cancels the stream and the retry timer, closes the channel. Nothing is reported afterwards but `down`. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.teardownAttempt();
  }

  private connect(): void {
    this.teardownAttempt();
    if (this.closed) return;
    this.plannedReconnect = false;
    if (this.scope.tenantsFor(this.cursorHeld !== undefined) === undefined) {
      this.isIdle = true;
      return;
    }
    const generation = this.generation;
    void fetchToken(this.settings.token).then((token) => {
      if (generation !== this.generation || this.closed) return;
      if (token instanceof Error) {
        this.attemptFailed(`token provider failed: ${token.message}`);
        return;
      }
      try {
        this.openAttempt(generation, token);
      } catch (e) {
        // grpc-js throws here only for a target or credentials it cannot use at all.
        this.teardownAttempt();
        this.attemptFailed(`cannot open a channel to ${this.settings.grpcTarget}: ${errorMessage(e)}`);
      }
    });
  }

  private openAttempt(generation: number, token: string): void {
    const { ConfigWatch } = loadWatchProto().tenantconfig.v1;
    const channel = new ConfigWatch(this.settings.grpcTarget, this.settings.credentials, CHANNEL_OPTIONS);
    const resumeCursor = this.cursorHeld;
    const tenants = this.scope.tenantsFor(resumeCursor !== undefined) ?? [];
    const attempt: Attempt = { channel, resuming: resumeCursor !== undefined, tenants, accepted: false, sides: new Set() };
    this.attempt = attempt;
    attempt.connectTimer = setTimeout(() => {
      attempt.connectTimer = undefined;
      if (generation !== this.generation || attempt.accepted) return;
      // Connected but quiet is a resume with nothing new yet: only a missing connection is a failure.
      if (channel.getChannel().getConnectivityState(false) === grpc.connectivityState.READY) return;
      this.teardownAttempt();
      this.attemptFailed(`no connection to ${this.settings.grpcTarget} within ${this.settings.connectTimeoutMs} ms`);
    }, this.settings.connectTimeoutMs);
    this.startCall(attempt, generation, token, tenants);
  }

  private startCall(attempt: Attempt, generation: number, token: string, tenants: readonly string[]): void {
    const resumeCursor = this.cursorHeld;
    attempt.tenants = tenants;
    this.settings.logger.debug('config-client: opening Watch', { target: this.settings.grpcTarget, resumeCursor, tenants: tenants.length });
    attempt.call = openWatch(
      attempt.channel,
      { prefixes: this.settings.prefixes, resumeCursor, token, tenants },
      {
        accepted: () => {
          if (generation === this.generation) this.onAccepted(attempt);
        },
        event: (event) => {
          if (generation === this.generation) this.onEvent(event, attempt);
        },
        ended: (status) => {
          if (generation === this.generation) this.onEnded(attempt, status);
        },
      },
      this.settings.logger,
    );
  }

  /** Ends the current attempt, if any; its late events are ignored from here on. */
  private teardownAttempt(): void {
    this.generation += 1;
    const attempt = this.attempt;
    this.attempt = undefined;
    if (!attempt) return;
    if (attempt.connectTimer) clearTimeout(attempt.connectTimer);
    attempt.call?.cancel();
    for (const side of [...attempt.sides]) side.cancel();
    attempt.channel.close();
    if (this.isLive) this.leaveLive();
  }

  private onAccepted(attempt: Attempt): void {
    attempt.accepted = true;
    if (attempt.connectTimer) {
      clearTimeout(attempt.connectTimer);
      attempt.connectTimer = undefined;
    }
    // A resume has no snapshot to wait for: the server took the cursor, the state is current.
    if (!attempt.resuming) return;
    this.goLive();
    this.reissued(attempt);
  }

  private reissued(attempt: Attempt): void {
    const done = attempt.onReissued;
    attempt.onReissued = undefined;
    done?.();
  }

  private onEvent(event: DecodedEvent, attempt: Attempt): void {
    switch (event.kind) {
      case 'snapshot':
        if (event.reason === 'CURSOR_EXPIRED') {
          this.settings.logger.warn('config-client: the resume cursor left the change log; state replaced by a fresh snapshot', { cursor: this.cursorHeld });
        }
        // A snapshot without a cursor (an empty log) leaves nothing to resume from: the next attempt asks for a snapshot.
        this.cursorHeld = event.cursor || undefined;
        this.sink.snapshot(event.items, attempt.tenants, event.attributes);
        this.goLive();
        this.reissued(attempt);
        return;
      case 'change':
        this.sink.change(event.change, event.tenantId);
        if (event.cursor) this.cursorHeld = event.cursor;
        return;
      case 'attributes':
        this.sink.attributes(event.update);
        if (event.cursor) this.cursorHeld = event.cursor;
        return;
      case 'cursor':
        if (event.cursor) this.cursorHeld = event.cursor;
        return;
      case 'reconnect':
        this.obeyReconnect(`the server asked to reconnect${event.reason ? ` (${event.reason})` : ''}`);
        return;
    }
  }

  private onEnded(attempt: Attempt, status: grpc.StatusObject): void {
    if (attempt.connectTimer) clearTimeout(attempt.connectTimer);
    for (const side of [...attempt.sides]) side.cancel();
    attempt.channel.close();
    this.attempt = undefined;
    this.generation += 1;
    const wasLive = this.isLive;
    if (wasLive) this.leaveLive();
    if (this.closed) return;
    const reason = `Watch ended: ${grpc.status[status.code] ?? status.code}${status.details ? ` (${status.details})` : ''}`;

    // The notice's timer reconnects; the server closing the old stream meanwhile is expected.
    if (this.plannedReconnect && this.reconnectTimer) return;

    if (status.code === grpc.status.UNAUTHENTICATED) {
      this.onUnauthenticated(reason, wasLive);
      return;
    }
    if (status.code === grpc.status.PERMISSION_DENIED && this.sink.permissionDenied) {
      const error = new ConfigClientPermissionError(
        `the service refused to watch ${describeTenants(attempt.tenants)} with this token (${reason}); every tenant or another tenant's needs a service token with the read scope`,
      );
      if (this.sink.permissionDenied(error)) return;
    }
    if (wasLive && status.code === grpc.status.OK) {
      this.obeyReconnect('the server ended the stream');
      return;
    }
    if (wasLive && status.code === grpc.status.RESOURCE_EXHAUSTED) {
      // Cut off as a slow consumer: what it dropped is in the log after our cursor.
      this.settings.logger.warn('config-client: cut off as a slow consumer; resuming from the cursor', { cursor: this.cursorHeld, details: status.details });
      this.sink.interrupted(reason);
      this.scheduleReconnect(this.jitter(this.settings.reconnectJitterMs), 'resync after being cut off');
      return;
    }
    if (status.code === grpc.status.INVALID_ARGUMENT && this.cursorHeld !== undefined) {
      this.settings.logger.error('config-client: the service rejected the resume cursor; asking for a snapshot', {
        cursor: this.cursorHeld,
        details: status.details,
      });
      this.cursorHeld = undefined;
    }
    if (wasLive) {
      // An established stream broke (a task died, most likely): retry within the reconnect jitter,
      // as after a notice, and no HTTP load yet; a retry that fails starts the backoff and the fallback.
      this.sink.interrupted(reason);
      this.scheduleReconnect(this.jitter(this.settings.reconnectJitterMs), reason);
      return;
    }
    this.attemptFailed(reason);
  }

  private onUnauthenticated(reason: string, wasLive: boolean): void {
    this.authFailures += 1;
    if (this.authFailures <= this.settings.maxAuthRetries) {
      // An expired token, most likely: the next attempt asks the provider for a fresh one.
      this.settings.logger.info('config-client: token refused; retrying with a fresh one', { retry: this.authFailures });
      this.sink.tokenRefused(reason, wasLive);
      this.scheduleReconnect(0, 'fresh token');
      return;
    }
    const error = new ConfigClientAuthError(`the service refused the token ${this.authFailures} times in a row, fresh tokens included (${reason})`);
    if (this.sink.authExhausted(error)) return;
    this.settings.logger.error('config-client: the service keeps refusing the token; retrying with backoff', { error: error.message });
    this.attemptFailed(reason);
  }

  /** An attempt gave no stream: back off, and let the fallbacks serve meanwhile. */
  private attemptFailed(reason: string): void {
    this.settings.logger.warn('config-client: cannot watch', { reason });
    this.sink.attemptFailed(reason);
    this.scheduleBackoff(reason);
  }

  private scheduleBackoff(reason: string): void {
    const policy = { baseMs: this.settings.backoffBaseMs, capMs: this.settings.backoffCapMs, capWhileHttpUpMs: this.settings.backoffCapWhileHttpUpMs };
    const delayMs = streamRetryDelay(this.failures, policy, this.httpUp, this.settings.random);
    this.settings.logger.debug('config-client: reconnecting after backoff', { attempt: this.failures, delayMs, reason, httpUp: this.httpUp });
    this.failures += 1;
    this.scheduleReconnect(delayMs, reason);
    this.waitingOutBackoff = true;
  }

  private obeyReconnect(reason: string): void {
    if (this.plannedReconnect) return;
    this.plannedReconnect = true;
    const delayMs = this.jitter(this.settings.reconnectJitterMs);
    this.settings.logger.info('config-client: reconnecting', { reason, delayMs });
    this.scheduleReconnect(delayMs, reason);
  }

  private scheduleReconnect(delayMs: number, reason: string): void {
    if (this.closed) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.waitingOutBackoff = false;
    this.retryDueAt = Date.now() + delayMs;
    this.sink.reconnecting?.({ reason, delayMs, failures: this.failures, planned: this.plannedReconnect });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.waitingOutBackoff = false;
      this.settings.logger.debug('config-client: reconnect', { reason });
      this.connect();
    }, delayMs);
  }

  private jitter(spreadMs: number): number {
    return Math.floor(Math.min(Math.max(this.settings.random(), 0), 1) * spreadMs);
  }

  private goLive(): void {
    if (this.isLive) return;
    this.isLive = true;
    this.failures = 0;
    // The next outage learns afresh whether the service answers.
    this.httpUp = false;
    this.authFailures = 0;
    this.sink.up();
  }

  private leaveLive(): void {
    this.isLive = false;
    this.sink.down();
  }
}

function describeTenants(tenants: readonly string[]): string {
  if (tenants.length === 0) return "the token's own tenant";
  if (tenants.includes('*')) return 'every tenant';
  return tenants.length <= 3 ? `tenant(s) ${tenants.join(', ')}` : `${tenants.length} tenants`;
}
