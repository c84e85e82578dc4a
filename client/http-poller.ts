/**
 * The HTTP fallback's schedule: while the stream cannot be had, the whole state is loaded with
 * `GET /v1/config` (see http-fallback.ts) and reloaded every `httpRefreshMs`. A load that got no
 * answer (or a 5xx) is retried much sooner, within `httpRetryCapMs`: the first load that succeeds
 * is how the client learns the service is back, and it retries the stream then. Once the stream
 * is back, polling stops and a load under way is abandoned.
 */
import type * as http from 'node:http';
import { fullJitterDelay } from './backoff';
import { HttpFallbackError } from './errors';
import { createHttpAgent, listAllItems } from './http-fallback';
import { errorMessage, fetchToken } from './token';
import type { ClientItem, ConfigClientLogger } from './types';

export interface HttpPollerSettings {
  readonly baseUrl: URL;
  readonly prefixes: readonly string[];
  readonly token: () => string | Promise<string>;
  readonly refreshMs: number;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
  readonly timeoutMs: number;
  readonly logger: ConfigClientLogger;
  readonly random: () => number;
}

export interface HttpPollerSink {
  /** A whole state, loaded while the stream is down. */
  loaded(items: ClientItem[]): void;
  /** Each load's outcome: true when it succeeded (the service answers), false otherwise. */
  answered(ok: boolean): void;
}

/** A 4xx (the service answered, and refused) is not retried early: the next try is a refresh away. */
function worthRetryingSoon(e: unknown): boolean {
  return !(e instanceof HttpFallbackError && e.status !== undefined && e.status >= 400 && e.status < 500);
}

export class HttpFallbackPoller {
  private active = false;
  private closed = false;
  /** Counts each stop: a load begun before the stream came back must not overwrite the stream's state. */
  private epoch = 0;
  private timer?: NodeJS.Timeout;
  private inFlight?: AbortController;
  private agent?: http.Agent;
  /** Consecutive loads without an answer; drives the early retries. */
  private failures = 0;
  private lastFailure?: string;

  constructor(
    private readonly settings: HttpPollerSettings,
    private readonly sink: HttpPollerSink,
  ) {}

  /** Why the last load failed; undefined once one succeeds (or before any). */
  get lastError(): string | undefined {
    return this.lastFailure;
  }

  /** Begins polling (a load now), unless it already is. */
  start(): void {
    if (this.closed || this.active) return;
    this.active = true;
    void this.load();
  }

  /** The stream is back: no more loads, and the one under way is thrown away. */
  stop(): void {
    this.active = false;
    this.failures = 0;
    this.epoch += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort();
  }

  close(): void {
    this.closed = true;
    this.stop();
    this.agent?.destroy();
  }

  private async load(): Promise<void> {
    const inFlight = new AbortController();
    this.inFlight = inFlight;
    const epoch = this.epoch;
    let nextMs = this.settings.refreshMs;
    try {
      const token = await fetchToken(this.settings.token);
      if (token instanceof Error) throw token;
      this.agent ??= createHttpAgent(this.settings.baseUrl);
      const items = await listAllItems({
        baseUrl: this.settings.baseUrl,
        prefixes: this.settings.prefixes,
        token,
        timeoutMs: this.settings.timeoutMs,
        agent: this.agent,
        signal: inFlight.signal,
      });
      if (epoch !== this.epoch) return;
      this.failures = 0;
      this.lastFailure = undefined;
      this.settings.logger.info('config-client: state loaded over HTTP while the stream is down', { keys: items.length });
      this.sink.loaded(items);
      if (epoch === this.epoch) this.sink.answered(true);
    } catch (e) {
      if (inFlight.signal.aborted || epoch !== this.epoch) return;
      this.lastFailure = errorMessage(e);
      this.settings.logger.warn('config-client: HTTP fallback failed', { error: this.lastFailure });
      if (worthRetryingSoon(e)) {
        nextMs = fullJitterDelay(this.failures, { baseMs: this.settings.retryBaseMs, capMs: this.settings.retryCapMs }, this.settings.random);
        this.failures += 1;
      }
      this.sink.answered(false);
    } finally {
      if (this.inFlight === inFlight) this.inFlight = undefined;
      if (this.active && epoch === this.epoch && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (this.active) void this.load();
        }, nextMs);
      }
    }
  }
}
