/** The HTTP API as the CLI calls it: bearer token, JSON in and out, problem+json turned into CliError. */
import { CliError, EXIT, exitCodeForStatus, type Problem } from './errors';

/** A JSON body as the API returns it; commands read the fields they print. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse<T = Json> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Statuses returned as they are instead of thrown (e.g. 202 is always fine; 404 for `exists` checks). */
  readonly accept?: readonly number[];
}

/** `tenantconfig:a/b` → `tenantconfig%3Aa/b`: each segment encoded once, the `/` between them kept literal (the API refuses `%2F`). */
export const keyPath = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

export class Api {
  constructor(
    readonly endpoint: string,
    private readonly token: () => Promise<string>,
    private readonly timeoutMs = 30_000,
  ) {}

  async request<T = Json>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${await this.token()}`, ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const url = `${this.endpoint.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new CliError(`cannot reach ${this.endpoint}: ${cause}`, EXIT.error);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (res.ok || options.accept?.includes(res.status)) return { status: res.status, headers: res.headers, body: parsed as T };
    const problem: Problem = typeof parsed === 'object' && parsed !== null ? (parsed as Problem) : { status: res.status, title: res.statusText };
    const title = problem.title ?? res.statusText ?? `HTTP ${res.status}`;
    const message = `${title} (${res.status})${problem.detail ? `: ${problem.detail}` : ''}`;
    throw new CliError(message, exitCodeForStatus(res.status), { ...problem, status: res.status });
  }

  /** Every item of a paged listing (`{items, nextToken?}`), following nextToken. */
  async listAll<T = Json>(path: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const items: T[] = [];
    let nextToken: string | undefined;
    for (let page = 0; ; page++) {
      if (page > 10_000) throw new CliError(`${path}: the listing does not end`);
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
      params.set('limit', '100');
      if (nextToken) params.set('nextToken', nextToken);
      const res = await this.request<{ items: T[]; nextToken?: string }>('GET', `${path}?${params}`);
      items.push(...res.body.items);
      nextToken = res.body.nextToken;
      if (!nextToken) return items;
    }
  }
}
