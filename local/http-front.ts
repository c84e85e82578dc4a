/**
 * The local API Gateway: a node:http server that does what the HTTP API with its Cognito
 * JWT authorizer does in front of the config-api Lambda — match the route, check the
 * token, build the payload format 2.0 event, call the handler, and write its structured
 * result back. The same handler runs here and on AWS; this file only stands in for the gateway.
 *
 * Gateway behaviours copied on purpose (a handler tested here sees what it will see on AWS):
 * - unmatched routes are 404 `{"message":"Not Found"}` before any authorization;
 * - a missing or bad token is 401 `{"message":"Unauthorized"}` with `www-authenticate`;
 * - the path is delivered percent-decoded (`rawPath` and path parameters alike);
 * - claims arrive as strings, arrays flattened to `[a b]`, null claims left out; `scopes` is
 *   null because no route declares authorization scopes;
 * - headers lower-cased, repeats joined with `,`; cookies moved to `cookies`;
 * - text bodies as UTF-8, anything else base64 with `isBase64Encoded: true`;
 * - every response carries `apigw-requestid`.
 */
import { randomBytes } from 'node:crypto';
import { listenHttp } from './listen';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { ROUTE_KEYS } from '../lambda/config-api/routes';
import type { JwtAuthorizer } from './jwt-authorizer';

/** The Lambda integration the front invokes: the config-api handler, called as API Gateway calls it. */
export type LambdaIntegration = (event: APIGatewayProxyEventV2WithJWTAuthorizer) => Promise<APIGatewayProxyResultV2>;

/** API Gateway's own ceiling for an HTTP API request body (10 MB); Lambda's 6 MB event limit is lower still. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
/** How long close() lets requests in flight finish before it ends their connections. */
const CLOSE_GRACE_MS = 1000;

export interface HttpFrontOptions {
  readonly handler: LambdaIntegration;
  readonly authorizer: JwtAuthorizer;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default ROUTE_KEYS of lambda/config-api/routes.ts */
  readonly routeKeys?: readonly string[];
  /** @default DEFAULT_MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
  /** Where gateway-side failures (a handler that throws) are reported. @default stderr */
  readonly log?: (line: string) => void;
  /**
   * JSON documents served to anyone on GET, outside the API and its authorizer, e.g. the
   * user pool's JWKS at `/.well-known/jwks.json` (Cognito serves its own the same way).
   */
  readonly publicDocuments?: Readonly<Record<string, unknown>>;
  /** Handlers tried before the routes, outside the API and its authorizer (the console's static files). @default none */
  readonly sites?: readonly LocalSite[];
}

/** A handler the front tries before its routes, given the decoded path; true when it answered. */
export type LocalSite = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

export interface HttpFront {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Route {
  readonly routeKey: string;
  readonly method: string;
  readonly segments: readonly string[];
}

interface RouteMatch {
  readonly route: Route;
  readonly pathParameters?: Record<string, string>;
}

export async function startHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const routes = (options.routeKeys ?? ROUTE_KEYS).map(parseRouteKey);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const nextRequestId = requestIds();
  const server = createServer((req, res) => {
    const requestId = nextRequestId();
    res.setHeader('apigw-requestid', requestId);
    serve(req, res, requestId).catch((e: unknown) => {
      log(`http-front: request ${requestId} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) sendMessage(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const encodedPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const rawQueryString = queryAt < 0 ? '' : target.slice(queryAt + 1);
    let path: string;
    try {
      path = decodeURIComponent(encodedPath);
    } catch {
      return sendMessage(res, 400, 'Bad Request');
    }
    const document = options.publicDocuments?.[path];
    if (document !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
      return void res.end(req.method === 'HEAD' ? undefined : JSON.stringify(document));
    }
    if (options.sites?.some((site) => site(req, res, path))) return;
    const match = matchRoute(routes, req.method ?? 'GET', path);
    if (!match) return sendMessage(res, 404, 'Not Found');

    const auth = await options.authorizer.authorize(req.headers.authorization);
    if (!auth.authorized) {
      res.setHeader('www-authenticate', auth.wwwAuthenticate);
      // Drain the body so a keep-alive connection stays usable.
      req.resume();
      return sendMessage(res, 401, 'Unauthorized');
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') return sendMessage(res, 413, 'Request Entity Too Large');

    const event = buildEvent({ req, requestId, path, rawQueryString, match, body, claims: auth.claims });
    const result = await options.handler(event);
    writeResult(res, result);
  }

  const { endpoint, port } = await listenHttp(server, options.port, options.host);
  return {
    endpoint,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Idle keep-alive sockets would hold close() open for seconds, and a client that keeps
        // reusing its connection would hold it open for ever: in-flight requests get a moment.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      }),
  };
}

function parseRouteKey(routeKey: string): Route {
  const [method, path] = routeKey.split(' ');
  if (!method || !path?.startsWith('/')) throw new Error(`bad route key '${routeKey}': expected 'METHOD /path'`);
  return { routeKey, method, segments: path.split('/').slice(1) };
}

/** Exact routes win over parameterised ones, as in API Gateway; `{name+}` takes the rest of the path. */
function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch | undefined {
  const parts = path.split('/').slice(1);
  let best: RouteMatch | undefined;
  let bestScore = -1;
  for (const route of routes) {
    if (route.method !== method && route.method !== 'ANY') continue;
    const params: Record<string, string> = {};
    let score = 0;
    let matched = true;
    for (let i = 0; i < route.segments.length; i++) {
      const seg = route.segments[i];
      const greedy = /^\{(.+)\+\}$/.exec(seg);
      if (greedy && i === route.segments.length - 1) {
        const rest = parts.slice(i).join('/');
        if (rest.length === 0) matched = false;
        else params[greedy[1]] = rest;
        break;
      }
      if (i >= parts.length) {
        matched = false;
        break;
      }
      const param = /^\{(.+)\}$/.exec(seg);
      if (param) {
        if (parts[i].length === 0) matched = false;
        else params[param[1]] = parts[i];
      } else if (seg === parts[i]) {
        score += 2;
      } else {
        matched = false;
      }
      if (!matched) break;
    }
    const greedyRoute = /\+\}$/.test(route.segments[route.segments.length - 1] ?? '');
    if (matched && !greedyRoute && parts.length !== route.segments.length) matched = false;
    if (matched && score > bestScore) {
      bestScore = score;
      best = { route, pathParameters: Object.keys(params).length > 0 ? params : undefined };
    }
  }
  return best;
}

/** A request's body, or 'too-large' past `maxBytes` (the rest drained, so a keep-alive connection stays usable). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      req.resume();
      return 'too-large';
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Content types API Gateway passes through as text; everything else arrives base64-encoded. */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

function buildEvent(input: {
  req: IncomingMessage;
  requestId: string;
  path: string;
  rawQueryString: string;
  match: RouteMatch;
  body: Buffer;
  claims: Record<string, unknown>;
}): APIGatewayProxyEventV2WithJWTAuthorizer {
  const { req, requestId, path, rawQueryString, match, body } = input;
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]},${raw[i + 1]}` : raw[i + 1];
  }
  const cookies = headers.cookie ? headers.cookie.split(/;\s*/).filter((c) => c.length > 0) : undefined;
  delete headers.cookie;
  const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString.length > 0) {
    queryStringParameters = {};
    for (const [name, value] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
    }
  }

  const now = new Date();
  const hasBody = body.length > 0;
  const text = isTextContentType(headers['content-type']);
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath: path,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: { jwt: { claims: flattenClaims(input.claims), scopes: null } },
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(hasBody ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

/**
 * HTTP API hands claims to the integration as strings: numbers and booleans stringified,
 * arrays as `[a b]` (so `cognito:groups` arrives as `"[config-admins other]"`), objects as
 * JSON text, and null claims dropped.
 */
export function flattenClaims(claims: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      flat[name] = `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')}]`;
    } else if (typeof value === 'object') {
      flat[name] = JSON.stringify(value);
    } else {
      flat[name] = String(value);
    }
  }
  return flat;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function clfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function sendMessage(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Writes the handler's answer as API Gateway does: a structured result as given; anything
 * else (a result without `statusCode`) as a 200 JSON body.
 */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result !== 'object' || result === null || typeof (result as { statusCode?: unknown }).statusCode !== 'number') {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const { statusCode, headers, cookies, body, isBase64Encoded } = result as {
    statusCode: number;
    headers?: Record<string, string | number | boolean>;
    cookies?: string[];
    body?: string;
    isBase64Encoded?: boolean;
  };
  for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, String(value));
  if (cookies && cookies.length > 0) res.setHeader('set-cookie', cookies);
  const bodyless = statusCode === 204 || statusCode === 304 || statusCode < 200;
  const payload = bodyless || body === undefined ? Buffer.alloc(0) : Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
  if (payload.length > 0 && !res.hasHeader('content-type')) res.setHeader('content-type', 'application/json');
  if (!bodyless) res.setHeader('content-length', payload.length);
  res.writeHead(statusCode);
  res.end(payload);
}

/** API Gateway-shaped request ids (10 bytes, base64): a random per-server prefix and a counter, unique without a syscall per request. */
function requestIds(): () => string {
  const id = Buffer.alloc(10);
  randomBytes(6).copy(id);
  let counter = 0;
  return () => {
    id.writeUInt32BE(counter, 6);
    counter = (counter + 1) >>> 0;
    return id.toString('base64');
  };
}
