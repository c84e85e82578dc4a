/**
 * The HTTP fallback's schedule: while the stream cannot be had, the whole state is loaded with
 * `GET /v1/config` (see http-fallback.ts) and reloaded every `httpRefreshMs`; once the stream
 * is back, polling stops and a load under way is abandoned.
 */
import type * as http from 'node:http';
import { createHttpAgent, listAllItems } from './http-fallback';
import { errorMessage, fetchToken } from './token';
import type { ClientItem, ConfigClientLogger } from './types';

export interface HttpPollerSettings {
  readonly baseUrl: URL;
  readonly prefixes: readonly string[];
  readonly token: () => string | Promise<string>;
  readonly refreshMs: number;
  readonly timeoutMs: number;
  readonly logger: ConfigClientLogger;
}

export class HttpFallbackPoller {
  private active = false;
  private closed = false;
  /** Counts each stop: a load begun before the stream came back must not overwrite the stream's state. */
  private epoch = 0;
  private timer?: NodeJS.Timeout;
  private inFlight?: AbortController;
  private agent?: http.Agent;

  constructor(
    private readonly settings: HttpPollerSettings,
    private readonly loaded: (items: ClientItem[]) => void,
  ) {}

  /** Begins polling (a load now), unless it already is. */
  start(): void {
    if (this.closed || this.active) return;
    this.active = true;
    void this.load();
  }

  /** The stream is back: no more loads, and the one under way is thrown away. */
  stop(): void {
    this.active = false;
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
      this.settings.logger.info('config-client: state loaded over HTTP while the stream is down', { keys: items.length });
      this.loaded(items);
    } catch (e) {
      if (!inFlight.signal.aborted) this.settings.logger.warn('config-client: HTTP fallback failed', { error: errorMessage(e) });
    } finally {
      if (this.inFlight === inFlight) this.inFlight = undefined;
      if (this.active && epoch === this.epoch) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (this.active) void this.load();
        }, this.settings.refreshMs);
      }
    }
  }
}
