/**
 * The routes of docs/design.md §4.1 and how a request finds one. API Gateway sends the matched
 * route in `routeKey` (`GET /v1/config/{key+}`); the local front, a `$default` route or
 * an `ANY` route do not, and then the method and path decide.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidKeyError, InvalidRequestError, InvalidTenantError } from '../../core/errors';
import { parseTenantId, type TenantId } from '../../core/tenant';
import { EdgeProblem } from '../shared/problem';

export type RouteName = 'getItem' | 'listItems' | 'putItem' | 'deleteItem' | 'getHistory';
type Method = 'GET' | 'PUT' | 'DELETE';

interface RouteTemplate {
  /** As written in the API Gateway route key. */
  readonly path: string;
  /** The literal part before the greedy `{key+}` (after any tenant prefix); absent for a path without a key. */
  readonly keyAfter?: string;
  readonly methods: Readonly<Partial<Record<Method, RouteName>>>;
  /** Under `/v1/tenants/{tenantId}`: the tenant is named by the path, not implied by the token. */
  readonly tenantScoped: boolean;
}

const OWN_TENANT_TEMPLATES: readonly RouteTemplate[] = [
  { path: '/v1/config', methods: { GET: 'listItems' }, tenantScoped: false },
  { path: '/v1/config/{key+}', keyAfter: '/v1/config/', methods: { GET: 'getItem', PUT: 'putItem', DELETE: 'deleteItem' }, tenantScoped: false },
  { path: '/v1/history/{key+}', keyAfter: '/v1/history/', methods: { GET: 'getHistory' }, tenantScoped: false },
];

const TENANT_PREFIX = '/v1/tenants/{tenantId}';

/** Every route, and its twin under `/v1/tenants/{tenantId}` with the same semantics for a named tenant. */
export const ROUTE_TEMPLATES: readonly RouteTemplate[] = [
  ...OWN_TENANT_TEMPLATES,
  ...OWN_TENANT_TEMPLATES.map((t) => ({ ...t, path: `${TENANT_PREFIX}${t.path.slice('/v1'.length)}`, tenantScoped: true })),
];

/** The route keys the HTTP API declares, all behind the JWT authorizer (the local front keeps the same list). */
export const ROUTE_KEYS: readonly string[] = ROUTE_TEMPLATES.flatMap((t) => Object.keys(t.methods).map((m) => `${m} ${t.path}`));

export interface MatchedRoute {
  readonly name: RouteName;
  /** `METHOD /template`, for logs. */
  readonly routeKey: string;
  /** The key from the path, percent-decoded once and not yet parsed; only for key routes. */
  readonly key?: string;
  /** The stage segment stripped from the path (a named stage), for building Location. */
  readonly basePath: string;
  /** The tenant the path names (`/v1/tenants/{tenantId}/...`); absent on the caller's own-tenant routes. */
  readonly tenant?: TenantId;
  /** The path prefix of this route's family, for building Location: `/v1` or `/v1/tenants/<id>`. */
  readonly familyPath: string;
}

type RouteEvent = Pick<APIGatewayProxyEventV2, 'routeKey' | 'rawPath' | 'pathParameters'> & {
  readonly requestContext: Pick<APIGatewayProxyEventV2['requestContext'], 'stage' | 'http'>;
};

const ROUTE_KEY = /^([A-Z]+) (\/\S*)$/;

/** A named stage's segment prefixes `rawPath` (`/dev/v1/...`); `$default` adds none. */
function splitStage(event: RouteEvent): { basePath: string; path: string } {
  const rawPath = event.rawPath || '/';
  const stage = event.requestContext.stage;
  if (stage && stage !== '$default' && (rawPath === `/${stage}` || rawPath.startsWith(`/${stage}/`))) {
    return { basePath: `/${stage}`, path: rawPath.slice(stage.length + 1) || '/' };
  }
  return { basePath: '', path: rawPath };
}

/** `/v1/tenants/<segment>/rest` → the raw tenant segment and `/v1/rest`; other paths pass through. */
function splitTenant(path: string): { tenantSegment?: string; rest: string } {
  const m = /^\/v1\/tenants\/([^/]*)(\/.*)?$/.exec(path);
  return m ? { tenantSegment: m[1], rest: `/v1${m[2] ?? ''}` } : { rest: path };
}

function templateForPath(path: string): { template: RouteTemplate; rawKey?: string } | undefined {
  for (const template of OWN_TENANT_TEMPLATES) {
    if (template.keyAfter) {
      if (path.startsWith(template.keyAfter)) return { template, rawKey: path.slice(template.keyAfter.length) };
    } else if (path === template.path) {
      return { template };
    }
  }
  return undefined;
}

/** Finds the route, or throws the 404/405 problem. */
export function matchRoute(event: RouteEvent): MatchedRoute {
  const { basePath, path: fullPath } = splitStage(event);
  const declared = ROUTE_KEY.exec(event.routeKey ?? '');
  const declaredTemplate = declared && declared[1] !== 'ANY' ? ROUTE_TEMPLATES.find((t) => t.path === declared[2]) : undefined;
  const method = (declaredTemplate ? declared![1] : event.requestContext.http.method).toUpperCase();
  const { tenantSegment, rest: path } = splitTenant(fullPath);

  let template: RouteTemplate;
  let rawKey: string | undefined;
  if (declaredTemplate) {
    template = declaredTemplate;
    if (template.tenantScoped !== (tenantSegment !== undefined))
      throw new EdgeProblem('route-not-found', `the path does not match the route ${event.routeKey}`);
    if (template.keyAfter) {
      const at = path.indexOf(template.keyAfter);
      // A custom-domain base path may precede the route; the key is what follows the route's literal part.
      if (at < 0) throw new EdgeProblem('route-not-found', `the path does not match the route ${event.routeKey}`);
      rawKey = path.slice(at + template.keyAfter.length);
    }
  } else {
    const found = templateForPath(path);
    if (!found) {
      throw new EdgeProblem(
        'route-not-found',
        `no route for ${printablePath(fullPath)}: the API serves /v1/config, /v1/history/{key} and their twins under /v1/tenants/{tenantId}`,
      );
    }
    rawKey = found.rawKey;
    template = tenantSegment === undefined ? found.template : ROUTE_TEMPLATES[ROUTE_TEMPLATES.indexOf(found.template) + OWN_TENANT_TEMPLATES.length];
  }

  const name = template.methods[method as Method];
  if (!name) {
    const allow = Object.keys(template.methods).join(', ');
    throw new EdgeProblem('method-not-allowed', `${printableMethod(method)} is not allowed on ${template.path}; allowed: ${allow}`, { allow });
  }
  const key = rawKey === undefined ? undefined : keyFromPath(rawKey, declaredTemplate ? event.pathParameters?.key : undefined);
  const tenant = tenantSegment === undefined ? undefined : tenantFromPath(tenantSegment, declaredTemplate ? event.pathParameters?.tenantId : undefined);
  const familyPath = tenant === undefined ? '/v1' : `/v1/tenants/${tenant}`;
  return { name, routeKey: `${method} ${template.path}`, key, basePath, ...(tenant !== undefined ? { tenant } : {}), familyPath };
}

/** The tenant id of a `/v1/tenants/{tenantId}/...` path: decoded once, then the same strict syntax as a token's. */
export function tenantFromPath(segment: string, gatewayTenant: string | undefined): TenantId {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError('the tenant id in the path is not valid percent-encoding');
  }
  if (gatewayTenant !== undefined && gatewayTenant !== decoded) throw new InvalidRequestError('the tenant id in the path is ambiguous');
  try {
    return parseTenantId(decoded);
  } catch (e) {
    if (!(e instanceof InvalidTenantError)) throw e;
    throw new InvalidRequestError('the tenant id in the path is malformed: expected 1-64 characters of [A-Za-z0-9_-] starting with a letter or digit');
  }
}

/**
 * The key, percent-decoded exactly once. An encoded slash is refused: `a%2Fb` and `a/b`
 * would otherwise be one key to us but two different paths to every proxy and cache on
 * the way. When API Gateway also hands over the decoded `{key+}`, both readings must
 * agree, so a path decoded once upstream is never decoded a second time into a new key.
 */
export function keyFromPath(rawKey: string, gatewayKey: string | undefined): string {
  if (/%2f/i.test(rawKey)) {
    throw new InvalidKeyError(
      "the key in the path contains an encoded '/' (%2F): write the '/' between name segments literally, e.g. /v1/config/paramconfig:db/pool/max",
    );
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawKey);
  } catch {
    throw new InvalidKeyError('the key in the path is not valid percent-encoding');
  }
  if (gatewayKey !== undefined && gatewayKey !== decoded) {
    throw new InvalidKeyError('the key in the path is ambiguous: it must not contain percent-encoded percent signs or slashes');
  }
  return decoded;
}

const printablePath = (p: string): string => (p.length > 80 ? `${p.slice(0, 80)}…` : p).replace(/[^\x21-\x7e]/g, '?');
const printableMethod = (m: string): string => m.slice(0, 16).replace(/[^A-Z]/g, '?');
