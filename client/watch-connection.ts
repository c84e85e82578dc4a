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
import { loadConfigProto } from '../proto/load';
import type { ConfigWatchClient } from '../proto/generated/tenantconfig/v1/ConfigWatch';
import { streamRetryDelay } from './backoff';
import type { IncomingChange } from './config-store';
import { ConfigClientAuthError } from './errors';
import type { ResolvedOptions } from './options';
import { errorMessage, fetchToken } from './token';
import type { ClientItem } from './types';
import { openWatch, type DecodedEvent, type WatchCall } from './watch-call';

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
  /** A snapshot arrived: it replaces the state held. The cursor is already updated. */
  snapshot(items: readonly ClientItem[]): void;
  /** A change arrived, in log order. */
  change(change: IncomingChange): void;
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
}

interface Attempt {
  readonly channel: ConfigWatchClient;
  readonly resuming: boolean;
  call?: WatchCall;
  accepted: boolean;
  connectTimer?: NodeJS.Timeout;
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

  constructor(
    private readonly settings: Settings,
    private readonly sink: WatchSink,
  ) {}

  /** The position in the change log the state is consistent with; what a resume sends. */
  get cursor(): string | undefined {
    return this.cursorHeld;
  }

  get live(): boolean {
    return this.isLive;
  }

  /** The first attempt. */
  open(): void {
    this.connect();
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
    const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
    const channel = new ConfigWatch(this.settings.grpcTarget, this.settings.credentials, CHANNEL_OPTIONS);
    const resumeCursor = this.cursorHeld;
    const attempt: Attempt = { channel, resuming: resumeCursor !== undefined, accepted: false };
    this.attempt = attempt;
    attempt.connectTimer = setTimeout(() => {
      attempt.connectTimer = undefined;
      if (generation !== this.generation || attempt.accepted) return;
      // Connected but quiet is a resume with nothing new yet: only a missing connection is a failure.
      if (channel.getChannel().getConnectivityState(false) === grpc.connectivityState.READY) return;
      this.teardownAttempt();
      this.attemptFailed(`no connection to ${this.settings.grpcTarget} within ${this.settings.connectTimeoutMs} ms`);
    }, this.settings.connectTimeoutMs);
    this.settings.logger.debug('config-client: opening Watch', { target: this.settings.grpcTarget, resumeCursor });
    attempt.call = openWatch(
      channel,
      { prefixes: this.settings.prefixes, resumeCursor, token },
      {
        accepted: () => {
          if (generation === this.generation) this.onAccepted(attempt);
        },
        event: (event) => {
          if (generation === this.generation) this.onEvent(event);
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
    if (attempt.resuming) this.goLive();
  }

  private onEvent(event: DecodedEvent): void {
    switch (event.kind) {
      case 'snapshot':
        if (event.reason === 'CURSOR_EXPIRED') {
          this.settings.logger.warn('config-client: the resume cursor left the change log; state replaced by a fresh snapshot', { cursor: this.cursorHeld });
        }
        // A snapshot without a cursor (an empty log) leaves nothing to resume from: the next attempt asks for a snapshot.
        this.cursorHeld = event.cursor || undefined;
        this.sink.snapshot(event.items);
        this.goLive();
        return;
      case 'change':
        this.sink.change(event.change);
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
      this.settings.logger.error('config-client: the service rejected the resume cursor; asking for a snapshot', { cursor: this.cursorHeld, details: status.details });
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
    const error = new ConfigClientAuthError(
      `the service refused the token ${this.authFailures} times in a row, fresh tokens included (${reason})`,
    );
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
