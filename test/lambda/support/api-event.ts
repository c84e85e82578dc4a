/**
 * Payload v2 events shaped like the ones API Gateway HTTP API sends after its JWT
 * authorizer has verified a token, built independently of the handler's own router.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { flattenClaims } from '../../../local/http-front';

/** A token's claims as Cognito issues them (arrays as arrays, numbers as numbers). */
export type Claims = Record<string, unknown>;

export interface ApiRequest {
  readonly method: string;
  /** The path as the client sent it (percent-encoded), without the query string. */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  /**
   * The verified token's claims: sent as the bearer token in `authorization` and, flattened
   * as HTTP API does, in the authorizer context. `null` = no authorizer at all; default: an
   * admin of tenant `acme`.
   */
  readonly claims?: Claims | null;
  /** The `authorization` header instead of the bearer token of `claims`; `null` sends none. */
  readonly authorization?: string | null;
  /**
   * - 'route': a declared route key such as `GET /v1/config/{key+}` with `pathParameters.key` (the default);
   * - '$default': the catch-all route, no path parameters.
   */
  readonly routing?: 'route' | '$default';
  /**
   * How `rawPath` arrives: 'encoded' as the client sent it, or 'decoded' (what HTTP API
   * and the local front are reported to do). Path parameters are always decoded.
   */
  readonly rawPathStyle?: 'encoded' | 'decoded';
  /** A named stage prefixes `rawPath` with `/<stage>`. @default '$default' */
  readonly stage?: string;
}

export const adminClaims = (tenant: string, sub = `admin-of-${tenant}`): Claims => ({
  sub,
  tenant_id: tenant,
  'cognito:groups': ['config-admins'],
  token_use: 'access',
  client_id: 'local-dev-client',
});

export const readerClaims = (tenant: string, sub = `reader-of-${tenant}`): Claims => ({
  sub,
  tenant_id: tenant,
  'cognito:groups': ['readers'],
  token_use: 'access',
  client_id: 'local-dev-client',
});

/** A consuming service's client-credentials access token (Cognito: sub = client_id, no username). */
export const serviceClaims = (clientId: string, scopes: readonly string[] = ['tenant-config/read']): Claims => ({
  sub: clientId,
  client_id: clientId,
  token_use: 'access',
  scope: scopes.join(' '),
});

/** A platform operator: in the operator group, no tenant claim. */
export const operatorClaims = (name: string): Claims => ({
  sub: name,
  username: name,
  'cognito:groups': ['platform-operators'],
  token_use: 'access',
  client_id: 'local-dev-client',
});

let counter = 0;

/** A malformed escape stays as it is: the test is then about the handler's own decoding. */
function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** What API Gateway would have matched, from the literal route tables of docs/design.md §4.1 and §8.2. */
function declaredRoute(method: string, decodedPath: string): { routeKey: string; params: Record<string, string> } | undefined {
  // The registry: exactly /v1/tenants and /v1/tenants/{tenantId}.
  if (decodedPath === '/v1/tenants' && method === 'GET') return { routeKey: 'GET /v1/tenants', params: {} };
  const record = /^\/v1\/tenants\/([^/]+)$/.exec(decodedPath);
  if (record) return ['GET', 'PUT', 'DELETE'].includes(method) ? { routeKey: `${method} /v1/tenants/{tenantId}`, params: { tenantId: record[1] } } : undefined;
  // Layers: the literal history routes are more specific than /v1/history/{key+}.
  const layered: Array<[RegExp, string, string[], (m: RegExpExecArray) => Record<string, string>]> = [
    [/^\/v1\/history\/defaults\/(.+)$/, '/v1/history/defaults/{key+}', ['GET'], (m) => ({ key: m[1] })],
    [/^\/v1\/history\/segments\/([^/]+)\/(.+)$/, '/v1/history/segments/{segment}/{key+}', ['GET'], (m) => ({ segment: m[1], key: m[2] })],
    [/^\/v1\/defaults$/, '/v1/defaults', ['GET'], () => ({})],
    [/^\/v1\/defaults\/(.+)$/, '/v1/defaults/{key+}', ['GET', 'PUT', 'DELETE', 'POST'], (m) => ({ key: m[1] })],
    [/^\/v1\/segments\/([^/]+)$/, '/v1/segments/{segment}', ['GET'], (m) => ({ segment: m[1] })],
    [/^\/v1\/segments\/([^/]+)\/(.+)$/, '/v1/segments/{segment}/{key+}', ['GET', 'PUT', 'DELETE', 'POST'], (m) => ({ segment: m[1], key: m[2] })],
  ];
  for (const [pattern, template, methods, params] of layered) {
    const m = pattern.exec(decodedPath);
    if (m) return methods.includes(method) ? { routeKey: `${method} ${template}`, params: params(m) } : undefined;
  }
  const scoped = /^\/v1\/tenants\/([^/]+)(\/.*)$/.exec(decodedPath);
  const path = scoped ? `/v1${scoped[2]}` : decodedPath;
  const family = scoped ? '/v1/tenants/{tenantId}' : '/v1';
  const tenant: Record<string, string> = scoped ? { tenantId: scoped[1] } : {};
  if (path === '/v1/config' && method === 'GET') return { routeKey: `GET ${family}/config`, params: tenant };
  const keyed: Array<[string, string[]]> = [
    ['/config/', ['GET', 'PUT', 'DELETE', 'POST']],
    ['/history/', ['GET']],
  ];
  for (const [literal, methods] of keyed) {
    const full = `/v1${literal}`;
    if (path.startsWith(full) && path.length > full.length && methods.includes(method)) {
      return { routeKey: `${method} ${family}${literal}{key+}`, params: { key: path.slice(full.length), ...tenant } };
    }
  }
  return undefined;
}

export function apiEvent(req: ApiRequest): APIGatewayProxyEventV2WithJWTAuthorizer {
  counter += 1;
  const decodedPath = safeDecode(req.path);
  const stagePrefix = req.stage && req.stage !== '$default' ? `/${req.stage}` : '';
  const rawPath = stagePrefix + ((req.rawPathStyle ?? 'encoded') === 'encoded' ? req.path : decodedPath);
  const declared = (req.routing ?? 'route') === 'route' ? declaredRoute(req.method, decodedPath) : undefined;
  const routeKey = declared?.routeKey ?? '$default';
  const query = req.query ?? {};
  const rawQueryString = new URLSearchParams(query).toString();
  const requestId = `req-${counter}`;
  const claims = req.claims === undefined ? adminClaims('acme') : req.claims;
  const authorization = req.authorization !== undefined ? req.authorization : claims === null ? null : `Bearer ${unsignedToken(claims)}`;
  const event = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers: {
      host: 'api.example.com',
      'content-type': 'application/json',
      ...(authorization !== null ? { authorization } : {}),
      ...(req.headers ?? {}),
    },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: { ...query } } : {}),
    ...(declared && Object.keys(declared.params).length > 0 ? { pathParameters: { ...declared.params } } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      ...(claims === null ? {} : { authorizer: { jwt: { claims: flattenClaims(claims), scopes: null } } }),
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: req.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'jest' },
      requestId,
      routeKey,
      stage: req.stage ?? '$default',
      time: '22/Nov/2026:19:00:00 +0000',
      timeEpoch: 1795374000000,
    },
    ...(req.body !== undefined ? { body: req.body } : {}),
    isBase64Encoded: req.isBase64Encoded ?? false,
  };
  // The type makes `authorizer` mandatory; events without one are exactly what some tests need.
  return event as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/**
 * A JWT carrying `claims`, signed by no one: the handler never checks signatures (the
 * authorizer did), it reads the payload the authorizer let through.
 */
export function unsignedToken(claims: Claims): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part(claims)}.c2lnbmF0dXJl`;
}
