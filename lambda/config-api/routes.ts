/**
 * The routes of docs/design.md §4.1 and how a request finds one. API Gateway sends the matched
 * route in `routeKey` (`GET /v1/config/{key+}`); the local front, a `$default` route or
 * an `ANY` route do not, and then the method and path decide.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidKeyError } from '../../core/errors';
import { EdgeProblem } from '../shared/problem';

export type RouteName = 'getItem' | 'listItems' | 'putItem' | 'deleteItem' | 'getHistory';
type Method = 'GET' | 'PUT' | 'DELETE';

interface RouteTemplate {
  /** As written in the API Gateway route key. */
  readonly path: string;
  /** The literal part before the greedy `{key+}`; absent for a path without a key. */
  readonly keyAfter?: string;
  readonly methods: Readonly<Partial<Record<Method, RouteName>>>;
}

export const ROUTE_TEMPLATES: readonly RouteTemplate[] = [
  { path: '/v1/config', methods: { GET: 'listItems' } },
  { path: '/v1/config/{key+}', keyAfter: '/v1/config/', methods: { GET: 'getItem', PUT: 'putItem', DELETE: 'deleteItem' } },
  { path: '/v1/history/{key+}', keyAfter: '/v1/history/', methods: { GET: 'getHistory' } },
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

function templateForPath(path: string): { template: RouteTemplate; rawKey?: string } | undefined {
  for (const template of ROUTE_TEMPLATES) {
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
  const { basePath, path } = splitStage(event);
  const declared = ROUTE_KEY.exec(event.routeKey ?? '');
  const declaredTemplate = declared && declared[1] !== 'ANY' ? ROUTE_TEMPLATES.find((t) => t.path === declared[2]) : undefined;
  const method = (declaredTemplate ? declared![1] : event.requestContext.http.method).toUpperCase();

  let template: RouteTemplate;
  let rawKey: string | undefined;
  if (declaredTemplate) {
    template = declaredTemplate;
    if (template.keyAfter) {
      const at = path.indexOf(template.keyAfter);
      // A custom-domain base path may precede the route; the key is what follows the route's literal part.
      if (at < 0) throw new EdgeProblem('route-not-found', `the path does not match the route ${event.routeKey}`);
      rawKey = path.slice(at + template.keyAfter.length);
    }
  } else {
    const found = templateForPath(path);
    if (!found) throw new EdgeProblem('route-not-found', `no route for ${printablePath(path)}: the API serves /v1/config and /v1/history/{key}`);
    ({ template, rawKey } = found);
  }

  const name = template.methods[method as Method];
  if (!name) {
    const allow = Object.keys(template.methods).join(', ');
    throw new EdgeProblem('method-not-allowed', `${printableMethod(method)} is not allowed on ${template.path}; allowed: ${allow}`, { allow });
  }
  const key = rawKey === undefined ? undefined : keyFromPath(rawKey, declaredTemplate ? event.pathParameters?.key : undefined);
  return { name, routeKey: `${method} ${template.path}`, key, basePath };
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
