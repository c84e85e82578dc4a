/** The one place the page talks HTTP to the API: bearer token, JSON in and out, problems as ApiError. */
import { ApiError, type Problem } from './problem';

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
  /** The version the answer carries (`ETag: "3"` → 3). */
  readonly version?: number;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export function versionOf(etag: string | null | undefined): number | undefined {
  const m = /^(?:W\/)?"(\d+)"$/.exec(etag ?? '');
  return m ? Number(m[1]) : undefined;
}

export class HttpClient {
  constructor(
    /** '' for the page's own origin (npm start), else the API Gateway URL. */
    private readonly baseUrl: string,
    private readonly token: () => string | undefined,
  ) {}

  url(path: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}${path}`;
  }

  authHeaders(): Record<string, string> {
    const token = this.token();
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...this.authHeaders(), ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.url(path), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
    const text = res.status === 204 ? '' : await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const problem = parsed && typeof parsed === 'object' ? (parsed as Problem) : undefined;
      // API Gateway's own 401/404 bodies are {"message": ...}, not problems.
      const message = (parsed as { message?: string } | undefined)?.message;
      throw new ApiError(
        res.status,
        problem?.detail || problem?.title ? problem : { title: message ?? res.statusText, status: res.status },
        res.headers.get('etag') ?? undefined,
      );
    }
    return { status: res.status, body: parsed as T, version: versionOf(res.headers.get('etag')) };
  }

  get<T>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}
