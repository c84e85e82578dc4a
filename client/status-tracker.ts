/**
 * The client's status and the source of its state, and who hears when they change. An outage
 * reads `interrupted` at once and `stale` once the grace has run out since the outage began.
 */
import type { ConfigClientLogger, ConfigClientStatus, StateSource, StatusListener, StatusReport } from './types';
import { errorMessage } from './token';

export class StatusTracker {
  private current: ConfigClientStatus = 'initializing';
  private source: StateSource = 'none';
  private since = Date.now();
  private lastError?: string;
  /** When the current outage began; the grace is counted from here, not from the status change. */
  private outageSince?: number;
  private staleTimer?: NodeJS.Timeout;
  private readonly listeners = new Set<StatusListener>();

  constructor(
    private readonly staleAfterMs: number,
    private readonly logger: ConfigClientLogger,
  ) {}

  get status(): ConfigClientStatus {
    return this.current;
  }

  get report(): StatusReport {
    return { status: this.current, source: this.source, since: this.since, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The stream is not up from now on (start, or a stream that was up is gone); the status changes only when that is an outage. */
  outageBegins(): void {
    this.outageSince = Date.now();
  }

  live(): void {
    this.outageSince = undefined;
    this.lastError = undefined;
    this.clearStaleTimer();
    this.set('live', 'stream');
  }

  /** Outage: `interrupted` now (unless already so), `stale` once the grace has run out since the outage began. */
  interrupted(reason: string): void {
    this.lastError = reason;
    if (this.current === 'interrupted' || this.current === 'stale') return;
    const since = this.outageSince ?? Date.now();
    this.outageSince = since;
    this.set('interrupted');
    this.clearStaleTimer();
    this.staleTimer = setTimeout(
      () => {
        this.staleTimer = undefined;
        if (this.current === 'interrupted') this.set('stale');
      },
      Math.max(0, since + this.staleAfterMs - Date.now()),
    );
  }

  /** Offline (or a test double): `live` on the values given, never connecting. */
  offline(): void {
    this.outageSince = undefined;
    this.clearStaleTimer();
    this.set('live', 'bootstrap');
  }

  /** A test double's status, set by the test: `stale` and `interrupted` without any timer. */
  force(status: ConfigClientStatus, reason?: string): void {
    this.clearStaleTimer();
    this.lastError = status === 'live' ? undefined : reason;
    this.set(status);
  }

  /** Why the stream is down, while it is (undefined while live). */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Why the stream is down, without changing the status (a retry under way during start). */
  recordError(reason: string): void {
    this.lastError = reason;
  }

  /** The state now comes from `source`; the status is unchanged. */
  sourceIs(source: StateSource): void {
    this.set(this.current, source);
  }

  close(): void {
    this.clearStaleTimer();
  }

  private clearStaleTimer(): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  private set(status: ConfigClientStatus, source: StateSource = this.source): void {
    if (status === this.current && source === this.source) return;
    if (status !== this.current) this.since = Date.now();
    this.current = status;
    this.source = source;
    const report = this.report;
    for (const listener of [...this.listeners]) {
      try {
        listener(status, report);
      } catch (e) {
        this.logger.error('config-client: a status listener threw', { error: errorMessage(e) });
      }
    }
  }
}
