/**
 * `GET /v1/events`: the Watch as server-sent events over HTTP/1.1, for browsers, which cannot
 * speak gRPC. It is the same Watch service (token, tenants, prefixes, cursor, limits, snapshot,
 * changes, heartbeats, drain) reached through another edge: each request becomes a Watch call
 * (sse-watch-call.ts), so nothing of delivery is written twice.
 *
 * The token comes in the `Authorization` header only (never in the URL, where logs and
 * histories keep it): browsers read the stream with fetch(), not EventSource. CORS answers the
 * preflight and names the origin only for the configured origins, never `*`; no cookie is read.
 * `GET /healthz` is 200 while serving and 503 from the drain on, for the load balancer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GenericLogger } from '../../core/logger';
import { toStatus } from '../grpc-status';
import type { WatchService } from '../watch-service';
import { edgeProblem, problemHeaders, problemOfStatus, type EventsProblem } from './events-problem';
import { watchRequestOf } from './events-request';
import { SseWatchCall } from './sse-watch-call';

export const EVENTS_PATH = '/v1/events';
export const EVENTS_HEALTH_PATH = '/healthz';

export interface EventsServerSettings {
  /** Origins (`scheme://host[:port]`, exactly as browsers send them) whose pages may read the stream. @default none */
  readonly allowedOrigins: readonly string[];
  /** A stream ended with an error gets this long to take its last frame before its connection closes. @default 1000 */
  readonly endGraceMs: number;
}

export const DEFAULT_EVENTS_SETTINGS: EventsServerSettings = { allowedOrigins: [], endGraceMs: 1000 };

export interface EventsServer {
  readonly port: number;
  /** Health 503, no new connections; resolves once every connection has closed. */
  close(): Promise<void>;
  /** Ends every connection now. */
  forceClose(): void;
}

/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export async function startEventsServer(
  watch: WatchService,
  listen: { host: string; port: number },
  settings: EventsServerSettings = DEFAULT_EVENTS_SETTINGS,
  logger?: GenericLogger,
): Promise<EventsServer> {
  const origins = new Set(settings.allowedOrigins);
  let draining = false;

  const server: Server = createServer((req, res) => {
    try {
      serve(req, res);
    } catch (error) {
      logger?.error('events request failed', { error: String(error) });
      if (!res.headersSent) send(res, problemOfStatus(toStatus(error).code, ''), {});
      else res.destroy();
    }
  });

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://events');
    const cors = corsHeaders(req, origins);
    if (url.pathname === EVENTS_HEALTH_PATH) {
      res.writeHead(draining ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ status: draining ? 'NOT_SERVING' : 'SERVING' }));
    }
    if (url.pathname !== EVENTS_PATH)
      return send(res, edgeProblem('route-not-found', `no route ${url.pathname.slice(0, 128)}; the events are at ${EVENTS_PATH}`), cors);
    if (req.method === 'OPTIONS') return preflight(req, res, cors);
    if (req.method !== 'GET') return send(res, edgeProblem('method-not-allowed', `${EVENTS_PATH} takes GET`), { ...cors, allow: 'GET, OPTIONS' });
    let request;
    try {
      request = watchRequestOf(url.searchParams, req.headers);
    } catch (error) {
      const status = toStatus(error);
      return send(res, problemOfStatus(status.code, status.details), cors);
    }
    const call = new SseWatchCall(res, {
      request,
      authorization: req.headers.authorization,
      peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      headers: cors,
      endGraceMs: settings.endGraceMs,
    });
    // Once the stream has ended on drain, its idle keep-alive connection must not hold the close.
    res.once('finish', () => {
      if (draining) server.closeIdleConnections();
    });
    void watch.open(call);
  }

  function preflight(req: IncomingMessage, res: ServerResponse, cors: Record<string, string>): void {
    if (!cors['access-control-allow-origin']) {
      return send(res, edgeProblem('origin-not-allowed', `origin '${String(req.headers.origin ?? '').slice(0, 128)}' may not read ${EVENTS_PATH}`), cors);
    }
    res.writeHead(204, {
      ...cors,
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'authorization, last-event-id',
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    });
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger?.info('events listening', { host: listen.host, port });

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        draining = true;
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
    forceClose: () => {
      draining = true;
      server.close();
      server.closeAllConnections();
    },
  };
}

/** CORS for a configured origin only: `Vary: Origin` always, since the answer depends on it. */
function corsHeaders(req: IncomingMessage, origins: ReadonlySet<string>): Record<string, string> {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origins.has(origin)) return { vary: 'Origin', 'access-control-allow-origin': origin };
  return { vary: 'Origin' };
}

function send(res: ServerResponse, problem: EventsProblem, headers: Record<string, string>): void {
  const body = JSON.stringify(problem);
  res.writeHead(problem.status, { ...headers, ...problemHeaders(problem), 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
