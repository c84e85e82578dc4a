/**
 * A client of `GET /v1/events` as a browser page reads it: fetch() with the token in the
 * `Authorization` header and the body read as a stream, parsed as text/event-stream. It records
 * every event (name, id, parsed JSON data) and comment, and says when the stream ended.
 */
export interface SseEvent {
  readonly event: string;
  readonly id?: string;
  /** Parsed JSON: each test reads the shape it expects. */
  readonly data: any;
}

export interface SseItem {
  readonly tenantId: string;
  readonly key: string;
  readonly value?: unknown;
  readonly version: number;
  readonly source: string;
  readonly deleted?: boolean;
  readonly cursor?: string;
}

export class SseRecorder {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Resolves with the response (status and headers) once they arrive. */
  readonly response: Promise<Response>;
  /** Resolves once the body ended (or failed); the error, if any. */
  readonly ended: Promise<unknown>;
  isEnded = false;
  private readonly abort = new AbortController();
  private listeners: Array<() => void> = [];

  constructor(url: string, options: { token?: string; lastEventId?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    this.response = fetch(url, { headers, signal: this.abort.signal });
    this.ended = this.response.then(
      (res) => this.read(res),
      (error: unknown) => error,
    );
    void this.ended.then(() => {
      this.isEnded = true;
      this.notify();
    });
  }

  get changes(): SseItem[] {
    return this.events.filter((e) => e.event === 'change').map((e) => e.data as SseItem);
  }

  get snapshotItems(): SseItem[] {
    return this.events.filter((e) => e.event === 'snapshot').flatMap((e) => e.data.items as SseItem[]);
  }

  /** True once the last page of a snapshot arrived. */
  get snapshotDone(): boolean {
    return this.events.some((e) => e.event === 'snapshot' && e.data.more === false);
  }

  /** The id of the newest event that carries one: what a client resumes from. */
  get lastEventId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].id) return this.events[i].id;
    return undefined;
  }

  until(predicate: (r: this) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.event))}, ended ${this.isEnded}`));
      }, timeoutMs);
      this.listeners.push(check);
    });
  }

  cancel(): void {
    this.abort.abort();
  }

  private async read(res: Response): Promise<unknown> {
    if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return undefined;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parseBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.notify();
      }
    } catch (error) {
      return error;
    }
  }

  private parseBlock(block: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) this.events.push({ event, id, data: JSON.parse(data.join('\n')) });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
