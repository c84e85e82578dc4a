/**
 * `GET /v1/events` (server-sent events) read with fetch(): EventSource cannot send the
 * `Authorization` header, and the token must never travel in a URL. Parses frames as the SSE
 * spec does, resumes with `Last-Event-ID` after a drop or a `reconnect` event, backs off on failures.
 */
import type { HttpClient } from './http-client';
import { ApiError, type Problem } from './problem';

export interface SseFrame {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Feeds text in, frames out; keeps a partial frame between chunks. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  push(text: string): SseFrame[] {
    this.buffer += text;
    const frames: SseFrame[] = [];
    let at: number;
    while ((at = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + (this.buffer.startsWith('\r\n', at) ? 2 : 1));
      if (line === '') {
        if (this.data.length > 0) frames.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.id = value;
    }
    return frames;
  }
}

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface EventStreamOptions {
  readonly query: URLSearchParams;
  onFrame(frame: SseFrame): void;
  onStatus(status: StreamStatus, detail?: string): void;
  /** A failure that retrying will not fix (4xx): the stream stops. */
  onFatal(error: ApiError): void;
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10000];

/** Follows the stream until `stop()`; reconnects on its own. */
export function followEvents(http: HttpClient, options: EventStreamOptions): { stop(): void } {
  let stopped = false;
  let controller: AbortController | undefined;
  let lastId: string | undefined;
  let failures = 0;

  const once = async (): Promise<'again' | 'stop'> => {
    controller = new AbortController();
    const res = await fetch(http.url(`/v1/events?${options.query}`), {
      headers: { accept: 'text/event-stream', ...http.authHeaders(), ...(lastId ? { 'last-event-id': lastId } : {}) },
      signal: controller.signal,
      cache: 'no-store',
    });
    if (!res.ok || !res.body) {
      const problem = (await res.json().catch(() => undefined)) as Problem | undefined;
      const error = new ApiError(res.status, problem ?? { title: res.statusText });
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        options.onFatal(error);
        return 'stop';
      }
      throw error;
    }
    options.onStatus('live');
    failures = 0;
    const parser = new SseParser();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'again';
      for (const frame of parser.push(value)) {
        if (frame.id) lastId = frame.id;
        if (frame.event === 'error') {
          const problem = JSON.parse(frame.data) as Problem;
          const error = new ApiError(problem.status ?? 500, problem);
          if ((problem.status ?? 500) < 500 && problem.status !== 429) {
            options.onFatal(error);
            return 'stop';
          }
        }
        options.onFrame(frame);
      }
    }
  };

  const loop = async () => {
    options.onStatus('connecting');
    while (!stopped) {
      try {
        if ((await once()) === 'stop') break;
        if (!stopped) options.onStatus('reconnecting', 'the stream ended; resuming from the last event');
      } catch (e) {
        if (stopped) break;
        const delay = BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)];
        options.onStatus('reconnecting', `${e instanceof Error ? e.message : String(e)}; retrying in ${delay / 1000} s`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    options.onStatus('stopped');
  };
  void loop();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
