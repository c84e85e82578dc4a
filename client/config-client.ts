/**
 * ConfigClient: what a consuming microservice embeds (DESIGN §4, "Client SDK"). It holds the
 * tenant's configuration in memory, kept live by one Watch stream; `get` is synchronous and
 * never touches the network.
 *
 * Connection life: every attempt opens a fresh channel (so grpc-js's own connection backoff never
 * stacks on ours) and asks for a snapshot, or resumes from the last cursor. A stream that ends is
 * re-opened: after a `reconnect` notice or a clean end, promptly with jitter and without leaving
 * `live`; after a failure, with full-jitter exponential backoff, `interrupted` and, past the grace,
 * `stale`. While attempts fail, the HTTP fallback (if configured) keeps the state current, and a
 * cold start with the service down is served from the last-known-good snapshot file.
 */
import * as grpc from '@grpc/grpc-js';
import type * as http from 'node:http';
import { loadConfigProto } from '../proto/load';
import type { ConfigWatchClient } from '../proto/generated/tenantconfig/v1/ConfigWatch';
import { fullJitterDelay } from './backoff';
import { ConfigStore } from './config-store';
import { ConfigClientAuthError, ConfigClientClosedError } from './errors';
import { createHttpAgent, listAllItems } from './http-fallback';
import { resolveOptions, type ConfigClientOptions, type ResolvedOptions } from './options';
import { SnapshotFile } from './snapshot-file';
import type {
  ChangeListener,
  ClientItem,
  ConfigChange,
  ConfigClientStatus,
  StateSource,
  StatusListener,
  StatusReport,
} from './types';
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

interface ChangeSubscription {
  readonly listener: ChangeListener;
  readonly prefix: string;
}

interface ActiveAttempt {
  readonly channel: ConfigWatchClient;
  readonly resuming: boolean;
  call?: WatchCall;
  accepted: boolean;
  connectTimer?: NodeJS.Timeout;
}

type StartState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'pending'; readonly promise: Promise<void>; resolve(): void; reject(e: Error): void }
  | { readonly phase: 'settled'; readonly promise: Promise<void> };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class ConfigClient {
  private readonly opts: ResolvedOptions;
  private readonly store = new ConfigStore();
  private readonly snapshotFile?: SnapshotFile;
  private readonly changeListeners = new Set<ChangeSubscription>();
  private readonly statusListeners = new Set<StatusListener>();

  private currentStatus: ConfigClientStatus = 'initializing';
  private source: StateSource = 'none';
  private statusSince = Date.now();
  private lastError?: string;
  private lastCursor?: string;
  /** False until a first state (stream, HTTP or file) is held: that first state is loaded silently. */
  private stateLoaded = false;

  private startState: StartState = { phase: 'idle' };
  private closed = false;
  private closing?: Promise<void>;

  private attempt?: ActiveAttempt;
  private generation = 0;
  /** True while a stream is up and its state applied (a snapshot, or a resume the server accepted). */
  private live = false;
  /** Counts each change of `live`: an HTTP load begun before the stream came back must not overwrite it. */
  private liveEpoch = 0;
  private outageSince?: number;
  /** Consecutive failed attempts; drives the backoff, reset when live. */
  private failures = 0;
  private authFailures = 0;
  /** A `reconnect` notice (or a clean end) is being obeyed: the gap is planned, status stays `live`. */
  private plannedReconnect = false;

  private reconnectTimer?: NodeJS.Timeout;
  private staleTimer?: NodeJS.Timeout;
  private httpTimer?: NodeJS.Timeout;
  private httpInFlight?: AbortController;
  private httpAgent?: http.Agent;
  private fileTimer?: NodeJS.Timeout;

  constructor(options: ConfigClientOptions) {
    this.opts = resolveOptions(options);
    if (this.opts.snapshotFile) this.snapshotFile = new SnapshotFile(this.opts.snapshotFile, this.opts.logger);
  }

  /** `initializing`, `live`, `interrupted` or `stale`. */
  get status(): ConfigClientStatus {
    return this.currentStatus;
  }

  get statusReport(): StatusReport {
    return { status: this.currentStatus, source: this.source, since: this.statusSince, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** The position in the change log the state is consistent with; what a resume sends. */
  get cursor(): string | undefined {
    return this.lastCursor;
  }

  /**
   * Connects. Resolves once the first state is held: a snapshot from the stream; or, when the
   * first attempt fails, the snapshot file's state or an HTTP load (status then says
   * `interrupted`, and `statusReport.source` where the state came from). With the service down and
   * neither fallback, it waits for the service. Rejects with ConfigClientAuthError when the
   * service refuses every token (the client is then closed), ConfigClientClosedError on `close()`.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new ConfigClientClosedError());
    if (this.startState.phase !== 'idle') return this.startState.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.startState = { phase: 'pending', promise, resolve, reject };
    this.outageSince = Date.now();
    void this.boot();
    return promise;
  }

  /** The value of `key`, from memory. */
  get<T = unknown>(key: string): T | undefined {
    return this.store.get(key)?.value as T | undefined;
  }

  /** The item with its version and provenance, from memory. */
  getItem<T = unknown>(key: string): ClientItem<T> | undefined {
    return this.store.get(key) as ClientItem<T> | undefined;
  }

  /** Keys held, sorted; only those starting with `prefix` when given. */
  keys(prefix?: string): string[] {
    return this.store.keys(prefix);
  }

  /**
   * Calls `listener` for every applied change (after the first state, which is loaded silently:
   * read it with `get`). A snapshot that replaces the state reports each difference, deletions
   * included. `prefix` narrows to matching keys. Returns the unsubscribe function.
   */
  onChange<T = unknown>(listener: ChangeListener<T>, filter: { prefix?: string } = {}): () => void {
    const subscription: ChangeSubscription = { listener: listener as ChangeListener, prefix: filter.prefix ?? '' };
    this.changeListeners.add(subscription);
    return () => {
      this.changeListeners.delete(subscription);
    };
  }

  /** Calls `listener` whenever the status or the source of the state changes. Returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  /** Cancels the stream and every timer, writes a pending snapshot file, closes the channel. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- start and connection attempts ----

  private async boot(): Promise<void> {
    if (this.snapshotFile) {
      const saved = await this.snapshotFile.read(this.opts.prefixes);
      if (this.closed) return;
      if (saved) {
        this.replaceState(saved.items, 'snapshot-file');
        this.opts.logger.info('config-client: state restored from the snapshot file', { path: this.snapshotFile.path, savedAt: saved.savedAt, keys: saved.items.length });
      }
    }
    this.connect();
  }

  private connect(): void {
    this.teardownAttempt();
    if (this.closed) return;
    this.plannedReconnect = false;
    const generation = this.generation;
    void this.fetchToken().then((token) => {
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
        this.attemptFailed(`cannot open a channel to ${this.opts.grpcTarget}: ${message(e)}`);
      }
    });
  }

  private async fetchToken(): Promise<string | Error> {
    try {
      const token = await this.opts.token();
      if (typeof token !== 'string' || token === '') return new Error('the token provider returned no token');
      return token;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }

  private openAttempt(generation: number, token: string): void {
    const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
    const channel = new ConfigWatch(this.opts.grpcTarget, this.opts.credentials, CHANNEL_OPTIONS);
    const resumeCursor = this.lastCursor;
    const attempt: ActiveAttempt = { channel, resuming: resumeCursor !== undefined, accepted: false };
    this.attempt = attempt;
    attempt.connectTimer = setTimeout(() => {
      attempt.connectTimer = undefined;
      if (generation !== this.generation || attempt.accepted) return;
      // Connected but quiet is a resume with nothing new yet: only a missing connection is a failure.
      if (channel.getChannel().getConnectivityState(false) === grpc.connectivityState.READY) return;
      this.teardownAttempt();
      this.attemptFailed(`no connection to ${this.opts.grpcTarget} within ${this.opts.connectTimeoutMs} ms`);
    }, this.opts.connectTimeoutMs);
    this.opts.logger.debug('config-client: opening Watch', { target: this.opts.grpcTarget, resumeCursor });
    attempt.call = openWatch(
      channel,
      { prefixes: this.opts.prefixes, resumeCursor, token },
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
      this.opts.logger,
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
    if (this.live) this.leaveLive();
  }

  private onAccepted(attempt: ActiveAttempt): void {
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
      case 'snapshot': {
        if (event.reason === 'CURSOR_EXPIRED') {
          this.opts.logger.warn('config-client: the resume cursor left the change log; state replaced by a fresh snapshot', { cursor: this.lastCursor });
        }
        this.replaceState(event.items, 'stream');
        // A snapshot without a cursor (an empty log) leaves nothing to resume from: the next attempt asks for a snapshot.
        this.lastCursor = event.cursor || undefined;
        this.goLive();
        this.writeSnapshotFileNow();
        return;
      }
      case 'change': {
        const applied = this.store.apply(event.change);
        if (event.cursor) this.lastCursor = event.cursor;
        if (applied) {
          this.emitChanges([applied]);
          this.scheduleSnapshotFileWrite();
        }
        return;
      }
      case 'cursor':
        if (event.cursor) this.lastCursor = event.cursor;
        return;
      case 'reconnect':
        this.obeyReconnect(`the server asked to reconnect${event.reason ? ` (${event.reason})` : ''}`);
        return;
    }
  }

  private onEnded(attempt: ActiveAttempt, status: grpc.StatusObject): void {
    if (attempt.connectTimer) clearTimeout(attempt.connectTimer);
    attempt.channel.close();
    this.attempt = undefined;
    this.generation += 1;
    const wasLive = this.live;
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
      this.opts.logger.warn('config-client: cut off as a slow consumer; resuming from the cursor', { cursor: this.lastCursor, details: status.details });
      this.lastError = reason;
      this.markInterrupted();
      this.scheduleReconnect(this.jitter(this.opts.reconnectJitterMs), 'resync after being cut off');
      return;
    }
    if (status.code === grpc.status.INVALID_ARGUMENT && this.lastCursor !== undefined) {
      this.opts.logger.error('config-client: the service rejected the resume cursor; asking for a snapshot', { cursor: this.lastCursor, details: status.details });
      this.lastCursor = undefined;
    }
    if (wasLive) {
      // An established stream broke: retry soon (attempt 0 of the backoff), no HTTP load yet.
      this.lastError = reason;
      this.markInterrupted();
      this.scheduleBackoff(reason);
      return;
    }
    this.attemptFailed(reason);
  }

  private onUnauthenticated(reason: string, wasLive: boolean): void {
    this.authFailures += 1;
    this.lastError = reason;
    if (this.authFailures <= this.opts.maxAuthRetries) {
      // An expired token, most likely: the next attempt asks the provider for a fresh one.
      this.opts.logger.info('config-client: token refused; retrying with a fresh one', { retry: this.authFailures });
      if (wasLive || this.startState.phase !== 'pending') this.markInterrupted();
      this.scheduleReconnect(0, 'fresh token');
      return;
    }
    const error = new ConfigClientAuthError(
      `the service refused the token ${this.authFailures} times in a row, fresh tokens included (${reason})`,
    );
    if (this.startState.phase === 'pending') {
      this.settleStart(error);
      void this.close();
      return;
    }
    this.opts.logger.error('config-client: the service keeps refusing the token; retrying with backoff', { error: error.message });
    this.attemptFailed(reason);
  }

  /** An attempt gave no stream: back off, and let the fallbacks serve meanwhile. */
  private attemptFailed(reason: string): void {
    this.lastError = reason;
    this.opts.logger.warn('config-client: cannot watch', { reason });
    this.markInterrupted();
    if (this.stateLoaded) this.settleStart();
    this.startHttpFallback();
    this.scheduleBackoff(reason);
  }

  private scheduleBackoff(reason: string): void {
    const delayMs = fullJitterDelay(this.failures, { baseMs: this.opts.backoffBaseMs, capMs: this.opts.backoffCapMs }, this.opts.random);
    this.opts.logger.debug('config-client: reconnecting after backoff', { attempt: this.failures, delayMs, reason });
    this.failures += 1;
    this.scheduleReconnect(delayMs, reason);
  }

  private obeyReconnect(reason: string): void {
    if (this.plannedReconnect) return;
    this.plannedReconnect = true;
    const delayMs = this.jitter(this.opts.reconnectJitterMs);
    this.opts.logger.info('config-client: reconnecting', { reason, delayMs });
    this.scheduleReconnect(delayMs, reason);
  }

  private scheduleReconnect(delayMs: number, reason: string): void {
    if (this.closed) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.opts.logger.debug('config-client: reconnect', { reason });
      this.connect();
    }, delayMs);
  }

  private jitter(spreadMs: number): number {
    return Math.floor(Math.min(Math.max(this.opts.random(), 0), 1) * spreadMs);
  }

  // ---- status ----

  private goLive(): void {
    if (this.live) return;
    this.live = true;
    this.liveEpoch += 1;
    this.failures = 0;
    this.authFailures = 0;
    this.outageSince = undefined;
    this.lastError = undefined;
    this.clearTimer('staleTimer');
    this.clearTimer('httpTimer');
    // The stream is the truth again: an HTTP load under way would only be thrown away.
    this.httpInFlight?.abort();
    this.setStatus('live', 'stream');
    this.settleStart();
  }

  private leaveLive(): void {
    this.live = false;
    this.liveEpoch += 1;
    this.outageSince = Date.now();
  }

  /** Outage from here: `interrupted` now, `stale` once the grace has run out since the outage began. */
  private markInterrupted(): void {
    if (this.currentStatus === 'interrupted' || this.currentStatus === 'stale') return;
    const since = this.outageSince ?? Date.now();
    this.outageSince = since;
    this.setStatus('interrupted');
    this.clearTimer('staleTimer');
    this.staleTimer = setTimeout(
      () => {
        this.staleTimer = undefined;
        if (!this.live && this.currentStatus === 'interrupted') this.setStatus('stale');
      },
      Math.max(0, since + this.opts.staleAfterMs - Date.now()),
    );
  }

  private setStatus(status: ConfigClientStatus, source: StateSource = this.source): void {
    if (status === this.currentStatus && source === this.source) return;
    if (status !== this.currentStatus) this.statusSince = Date.now();
    this.currentStatus = status;
    this.source = source;
    const report = this.statusReport;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(status, report);
      } catch (e) {
        this.opts.logger.error('config-client: a status listener threw', { error: message(e) });
      }
    }
  }

  private settleStart(error?: Error): void {
    if (this.startState.phase !== 'pending') return;
    const { promise, resolve, reject } = this.startState;
    this.startState = { phase: 'settled', promise };
    if (error) reject(error);
    else resolve();
  }

  // ---- state ----

  /** `source` 'stream' is announced by goLive, which always follows a snapshot. */
  private replaceState(items: readonly ClientItem[], source: StateSource): void {
    const changes = this.store.replaceAll(items);
    const silent = !this.stateLoaded;
    this.stateLoaded = true;
    if (source !== 'stream') this.setStatus(this.currentStatus, source);
    if (!silent) this.emitChanges(changes);
  }

  private emitChanges(changes: readonly ConfigChange[]): void {
    for (const change of changes) {
      for (const { listener, prefix } of [...this.changeListeners]) {
        if (!change.key.startsWith(prefix)) continue;
        try {
          listener(change);
        } catch (e) {
          // One faulty listener must not stop the stream nor the others.
          this.opts.logger.error('config-client: a change listener threw', { key: change.key, error: message(e) });
        }
      }
    }
  }

  // ---- HTTP fallback ----

  private startHttpFallback(): void {
    if (!this.opts.httpBaseUrl || this.httpTimer || this.httpInFlight !== undefined || this.live || this.closed) return;
    void this.loadOverHttp();
  }

  private async loadOverHttp(): Promise<void> {
    const baseUrl = this.opts.httpBaseUrl;
    if (!baseUrl || this.closed) return;
    const inFlight = new AbortController();
    this.httpInFlight = inFlight;
    const epoch = this.liveEpoch;
    try {
      const token = await this.fetchToken();
      if (token instanceof Error) throw token;
      this.httpAgent ??= createHttpAgent(baseUrl);
      const items = await listAllItems({
        baseUrl,
        prefixes: this.opts.prefixes,
        token,
        timeoutMs: this.opts.httpTimeoutMs,
        agent: this.httpAgent,
        signal: inFlight.signal,
      });
      if (this.closed || this.live || epoch !== this.liveEpoch) return;
      this.replaceState(items, 'http');
      this.writeSnapshotFileNow();
      this.opts.logger.info('config-client: state loaded over HTTP while the stream is down', { keys: items.length });
      this.settleStart();
    } catch (e) {
      if (!this.closed && !inFlight.signal.aborted) this.opts.logger.warn('config-client: HTTP fallback failed', { error: message(e) });
    } finally {
      this.httpInFlight = undefined;
      if (!this.closed && !this.live) {
        this.httpTimer = setTimeout(() => {
          this.httpTimer = undefined;
          if (!this.live) void this.loadOverHttp();
        }, this.opts.httpRefreshMs);
      }
    }
  }

  // ---- snapshot file ----

  private writeSnapshotFileNow(): void {
    if (!this.snapshotFile) return;
    this.clearTimer('fileTimer');
    void this.snapshotFile.write({ prefixes: this.opts.prefixes, cursor: this.lastCursor, savedAt: new Date().toISOString(), items: this.store.all() });
  }

  /** After changes: at most one write per interval, and never later than one interval after a change. */
  private scheduleSnapshotFileWrite(): void {
    if (!this.snapshotFile || this.fileTimer) return;
    this.fileTimer = setTimeout(() => {
      this.fileTimer = undefined;
      this.writeSnapshotFileNow();
    }, this.opts.snapshotFileIntervalMs);
  }

  // ---- shutdown ----

  private clearTimer(name: 'reconnectTimer' | 'staleTimer' | 'httpTimer' | 'fileTimer'): void {
    const timer = this[name];
    if (timer) clearTimeout(timer);
    this[name] = undefined;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    const fileWasPending = this.fileTimer !== undefined;
    for (const name of ['reconnectTimer', 'staleTimer', 'httpTimer', 'fileTimer'] as const) this.clearTimer(name);
    this.teardownAttempt();
    this.settleStart(new ConfigClientClosedError());
    this.httpInFlight?.abort();
    this.httpAgent?.destroy();
    if (this.snapshotFile) {
      if (fileWasPending) this.writeSnapshotFileNow();
      await this.snapshotFile.flush();
    }
  }
}
