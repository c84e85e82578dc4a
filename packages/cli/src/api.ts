/** The HTTP API as the CLI calls it: bearer token, JSON in and out, problem+json turned into CliError. */
import * as http from 'node:http';
import * as https from 'node:https';
import { CliError, EXIT, exitCodeForStatus, type Problem } from './errors';

/**
 * node:http rather than fetch: a fresh process pays for loading undici on its first fetch (about
 * 0.4 s here, more than the rest of a `get`), and a CLI is nothing but fresh processes.
 * One keep-alive agent per protocol, so the pages of a listing share a connection; {@link closeConnections}
 * lets the process exit at once.
 */
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export function closeConnections(): void {
  agents.http.destroy();
  agents.https.destroy();
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number) {
  return new Promise<{ status: number; statusText: string; headers: ResponseHeaders; text: string }>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, { method, headers, agent: secure ? agents.https : agents.http, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = res.headers;
        const h: ResponseHeaders = {
          get: (name) => {
            const v = raw[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        };
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: h, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** A JSON body as the API returns it; commands read the fields they print. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The one thing commands read of response headers (not the global Headers: touching it loads undici). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface ApiResponse<T = Json> {
  readonly status: number;
  readonly headers: ResponseHeaders;
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
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const url = new URL(`${this.endpoint.replace(/\/+$/, '')}${path}`);
    let res: { status: number; statusText: string; headers: ResponseHeaders; text: string };
    try {
      res = await send(url, method, headers, body, this.timeoutMs);
    } catch (e) {
      throw new CliError(`cannot reach ${this.endpoint}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, EXIT.error);
    }
    const text = res.text;
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const ok = res.status >= 200 && res.status < 300;
    if (ok || options.accept?.includes(res.status)) return { status: res.status, headers: res.headers, body: parsed as T };
    const problem: Problem = typeof parsed === 'object' && parsed !== null ? (parsed as Problem) : { status: res.status, title: res.statusText };
    const title = problem.title ?? (res.statusText || `HTTP ${res.status}`);
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
