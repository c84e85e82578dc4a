/**
 * A tiny node:http server speaking the HTTP API's list route:
 * `GET /v1/config?prefix=&limit=&nextToken=` → `{items, nextToken?}`, Bearer token required,
 * pages of `pageSize` items so the client has to follow nextToken.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ListItem {
  readonly key: string;
  readonly value: unknown;
  readonly version: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface RecordedListRequest {
  readonly prefix: string | null;
  readonly nextToken: string | null;
  readonly limit: string | null;
  readonly authorization: string | undefined;
}

export class ListRouteServer {
  readonly requests: RecordedListRequest[] = [];
  items: ListItem[] = [];
  /** The token the route accepts; anything else is a 401 problem. */
  acceptedToken = 'token-1';
  private server?: Server;
  port = 0;

  constructor(private readonly pageSize = 2) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on `port` (0: a free one), so a test can bring the "service" back on the same address. */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const problem = (status: number, title: string): void => {
      res.writeHead(status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: `https://example.test/problems/${status}`, title, status }));
    };
    if (req.method !== 'GET' || url.pathname !== '/v1/config') return problem(404, 'not found');
    this.requests.push({
      prefix: url.searchParams.get('prefix'),
      nextToken: url.searchParams.get('nextToken'),
      limit: url.searchParams.get('limit'),
      authorization: req.headers.authorization,
    });
    if (req.headers.authorization !== `Bearer ${this.acceptedToken}`) return problem(401, 'unauthorized');
    const prefix = url.searchParams.get('prefix') ?? '';
    const matching = this.items.filter((i) => i.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    const start = Number(url.searchParams.get('nextToken') ?? '0');
    const page = matching.slice(start, start + this.pageSize);
    const next = start + this.pageSize < matching.length ? String(start + this.pageSize) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items: page, ...(next ? { nextToken: next } : {}) }));
  }
}

export function listItem(key: string, value: unknown, version: number): ListItem {
  return { key, value, version, updatedAt: '2026-11-22T09:00:00.000Z', updatedBy: 'http' };
}
