/** A thin fetch wrapper for end-to-end tests against the local HTTP API. */

// Tests assert response bodies field by field; `any` keeps those assertions short.
type Body = any;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the body is JSON (problem+json included), the text otherwise, undefined when empty. */
  readonly body: Body;
  readonly text: string;
}

export interface CallOptions {
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** Sent as JSON unless a string. */
  readonly body?: unknown;
}

export class LocalApi {
  constructor(readonly baseUrl: string) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed = text && /json/.test(type) ? JSON.parse(text) : text || undefined;
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(path: string, token?: string, headers?: Record<string, string>) {
    return this.call('GET', path, { token, headers });
  }

  put(path: string, token: string, value: unknown, headers?: Record<string, string>) {
    return this.call('PUT', path, { token, headers, body: { value } });
  }

  delete(path: string, token: string, headers?: Record<string, string>) {
    return this.call('DELETE', path, { token, headers });
  }

  /** Every item of a listing, following nextToken; also returns how many pages it took. */
  async listAll(query: string, token: string): Promise<{ keys: string[]; pages: number; items: Body[] }> {
    const items: Body[] = [];
    let pages = 0;
    let next: string | undefined;
    do {
      const sep = query ? '&' : '';
      const res = await this.get(`/v1/config?${query}${next ? `${sep}nextToken=${encodeURIComponent(next)}` : ''}`, token);
      if (res.status !== 200) throw new Error(`list failed with ${res.status}: ${res.text}`);
      items.push(...res.body.items);
      next = res.body.nextToken;
      pages += 1;
      if (pages > 100) throw new Error('listing does not end');
    } while (next);
    return { keys: items.map((i) => i.key), pages, items };
  }
}
