/**
 * The HTTP fallback: the whole state through the HTTP API's list route
 * (`GET /v1/config?prefix=&limit=&nextToken=`), every page, so `get` keeps serving while the
 * stream cannot be had. Plain node:http(s): the SDK carries no HTTP library of its own.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { HttpFallbackError } from './errors';
import type { ClientItem } from './types';

export interface HttpListParams {
  readonly baseUrl: URL;
  /** Empty: every key (one listing without a prefix). */
  readonly prefixes: readonly string[];
  readonly token: string;
  readonly timeoutMs: number;
  readonly agent: http.Agent;
  /** Aborts the load between or during requests (the stream came back). */
  readonly signal?: AbortSignal;
}

/** The route's page size limit; fewer round trips for a tenant with many keys. */
const PAGE_LIMIT = 100;
/** A nextToken loop (a server bug) must not spin forever: 10,000 pages is a million keys. */
const MAX_PAGES = 10_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function createHttpAgent(baseUrl: URL): http.Agent {
  return baseUrl.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
}

export async function listAllItems(params: HttpListParams): Promise<ClientItem[]> {
  const items: ClientItem[] = [];
  for (const prefix of params.prefixes.length > 0 ? params.prefixes : [undefined]) {
    let nextToken: string | undefined;
    let pages = 0;
    do {
      params.signal?.throwIfAborted();
      if (++pages > MAX_PAGES) throw new HttpFallbackError(`GET /v1/config: more than ${MAX_PAGES} pages; giving up`);
      const page = await getPage(params, prefix, nextToken);
      items.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return items;
}

function listUrl(baseUrl: URL, prefix: string | undefined, nextToken: string | undefined): URL {
  // Keep a base path (an API stage, a proxy mount): resolve relative to it, not to the host root.
  const base = baseUrl.href.endsWith('/') ? baseUrl.href : `${baseUrl.href}/`;
  const url = new URL('v1/config', base);
  if (prefix !== undefined && prefix !== '') url.searchParams.set('prefix', prefix);
  url.searchParams.set('limit', String(PAGE_LIMIT));
  if (nextToken) url.searchParams.set('nextToken', nextToken);
  return url;
}

async function getPage(
  params: HttpListParams,
  prefix: string | undefined,
  nextToken: string | undefined,
): Promise<{ items: ClientItem[]; nextToken?: string }> {
  const url = listUrl(params.baseUrl, prefix, nextToken);
  const { status, body } = await request(url, params);
  if (status !== 200) {
    throw new HttpFallbackError(`GET ${url.pathname}: HTTP ${status}${problemTitle(body)}`, status);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new HttpFallbackError(`GET ${url.pathname}: the body is not JSON`, status, { cause });
  }
  return parsePage(parsed, url.pathname);
}

function problemTitle(body: string): string {
  try {
    const problem = JSON.parse(body) as { title?: unknown; detail?: unknown };
    const text = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : '';
    return text ? ` (${text})` : '';
  } catch {
    return '';
  }
}

function parsePage(body: unknown, path: string): { items: ClientItem[]; nextToken?: string } {
  const page = body as { items?: unknown; nextToken?: unknown };
  if (typeof page !== 'object' || page === null || !Array.isArray(page.items)) {
    throw new HttpFallbackError(`GET ${path}: the body has no items array`);
  }
  const items = page.items.map((raw: unknown): ClientItem => {
    const item = raw as Partial<Record<keyof ClientItem, unknown>>;
    if (typeof item?.key !== 'string' || typeof item.version !== 'number' || !('value' in item)) {
      throw new HttpFallbackError(`GET ${path}: an item lacks key, value or version`);
    }
    return {
      key: item.key,
      value: item.value,
      version: item.version,
      updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : '',
      updatedBy: typeof item.updatedBy === 'string' ? item.updatedBy : '',
      ...(typeof item.source === 'string' ? { source: item.source } : {}),
    };
  });
  const nextToken = typeof page.nextToken === 'string' && page.nextToken !== '' ? page.nextToken : undefined;
  return { items, nextToken };
}

function request(url: URL, params: HttpListParams): Promise<{ status: number; body: string }> {
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'GET',
        agent: params.agent,
        headers: { authorization: `Bearer ${params.token}`, accept: 'application/json' },
        timeout: params.timeoutMs,
        signal: params.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            req.destroy(new HttpFallbackError(`GET ${url.pathname}: body over ${MAX_BODY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (cause) => reject(new HttpFallbackError(`GET ${url.pathname}: ${cause.message}`, undefined, { cause })));
      },
    );
    req.on('timeout', () => req.destroy(new HttpFallbackError(`GET ${url.pathname}: no answer within ${params.timeoutMs} ms`)));
    req.on('error', (cause) =>
      reject(cause instanceof HttpFallbackError ? cause : new HttpFallbackError(`GET ${url.pathname}: ${cause.message}`, undefined, { cause })),
    );
    req.end();
  });
}
