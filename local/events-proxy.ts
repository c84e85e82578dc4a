/**
 * `GET /v1/events` on the local front: passed through to the fanout's events endpoint as it
 * streams (no buffering), so the console, served by the same front, reads it from its own
 * origin with no CORS. On AWS the browser reaches the fanout's load balancer itself.
 */
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { LocalSite } from './http-front';

const EVENTS_PATH = '/v1/events';
/** Headers of one hop only (RFC 9110 §7.6.1): each side of the proxy sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

/** `target()` is the fanout's events base URL (`http://host:port`), known once the fanout listens. */
export function eventsProxy(target: () => string | undefined): LocalSite {
  return (req, res, path) => {
    if (path !== EVENTS_PATH) return false;
    const base = target();
    if (!base) {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ message: 'the fanout is not listening yet' }));
      return true;
    }
    const upstream = request(`${base}${req.url ?? EVENTS_PATH}`, { method: req.method, headers: endToEnd(req.headers) }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      // The status line and headers now: a stream that has nothing to send yet must still open.
      res.flushHeaders();
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'the fanout did not answer' }));
    });
    // The browser went away: so does the stream behind it.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
    return true;
  };
}

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}
