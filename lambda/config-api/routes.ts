/**
 * The routes of docs/design.md §4.1 and §8.2 and how a request finds one. API Gateway sends the
 * matched route in `routeKey` (`GET /v1/config/{key+}`); the local front, a `$default` route or
 * an `ANY` route do not, and then the method and path decide.
 *
 * Families of routes, by whose keys they act on:
 * - `own`: the caller's own tenant (`/v1/config`, `/v1/history/{key}`);
 * - `tenant`: a tenant named by the path, the twins of `own` under `/v1/tenants/{tenantId}`;
 * - `platform`: the platform defaults (`/v1/defaults/{key}`);
 * - `segment`: a segment's defaults (`/v1/segments/{segment}/{key}`, `{segment}` = `plan=gold`);
 * - `registry`: the tenant registry (`/v1/tenants`, `/v1/tenants/{tenantId}`);
 * - `rollouts`: staged rollouts of defaults (`/v1/rollouts`, `/v1/rollouts/{rolloutId}`,
 *   `POST /v1/rollouts/{rolloutId}/{command}` with command pause, resume or rollback).
 *
 * Two rules keep the greedy `{key+}` from swallowing other routes:
 * - History of a layer lives under `/v1/history/`, named like the item's own path without its
 *   `/v1`: `/v1/history/defaults/{key}`, `/v1/history/segments/{segment}/{key}`. A key always
 *   starts with `<tag>:` and a tag has no `/`, so `defaults/...` and `segments/...` are never
 *   keys of `/v1/history/{key+}`; the longer literal route wins, as in API Gateway.
 * - Restore is `POST <item path>/restore`. POST is the only method of restore and no other key route
 *   takes POST (the rollouts' POSTs are under `/v1/rollouts`, never a key path), so the route `POST /v1/config/{key+}` (and its twins and the layers') is restore
 *   whenever its path ends in `/restore`, and the suffix is stripped to get the key; any other
 *   POST path is a 404. A key may itself end in `/restore` (`tenantconfig:a/restore`): GET, PUT
 *   and DELETE name it as usual, and it is restored with `POST .../tenantconfig:a/restore/restore`.
 * - `/v1/tenants/{tenantId}` (the registry record) has exactly three segments; the twins all have
 *   more, so they never meet.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidKeyError, InvalidRequestError, InvalidTenantError } from '../../core/errors';
import { parseTenantId, type TenantId } from '../../core/tenant';
import { EdgeProblem } from '../shared/problem';

export type RouteName =
  | 'getItem'
  | 'listItems'
  | 'putItem'
  | 'deleteItem'
  | 'getHistory'
  | 'restoreItem'
  | 'getTenant'
  | 'putTenant'
  | 'deleteTenant'
  | 'listTenants'
  | 'evaluateFlag'
  | 'startRollout'
  | 'listRollouts'
  | 'getRollout'
  | 'commandRollout';
type Method = 'GET' | 'PUT' | 'DELETE' | 'POST';
export type RouteFamily = 'own' | 'tenant' | 'platform' | 'segment' | 'registry' | 'rollouts';

interface RouteTemplate {
  /** As written in the API Gateway route key. */
  readonly path: string;
  readonly methods: Readonly<Partial<Record<Method, RouteName>>>;
  readonly family: RouteFamily;
}

/** The suffix that turns `POST <item path>` into a restore. */
export const RESTORE_SUFFIX = '/restore';
/** The suffix of `GET /v1/flags/{name}/evaluate`; the route's key is then `flags:<name>`. */
export const EVALUATE_SUFFIX = '/evaluate';

const ITEM_METHODS = { GET: 'getItem', PUT: 'putItem', DELETE: 'deleteItem', POST: 'restoreItem' } as const;

const OWN_TENANT_TEMPLATES: readonly RouteTemplate[] = [
  { path: '/v1/config', methods: { GET: 'listItems' }, family: 'own' },
  { path: '/v1/config/{key+}', methods: ITEM_METHODS, family: 'own' },
  { path: '/v1/history/{key+}', methods: { GET: 'getHistory' }, family: 'own' },
  // `GET /v1/flags/{name}/evaluate`: API Gateway's greedy parameter must end the route, and a flag name may hold '/'.
  { path: '/v1/flags/{key+}', methods: { GET: 'evaluateFlag' }, family: 'own' },
];

const TENANT_PREFIX = '/v1/tenants/{tenantId}';

/** Every route; the `own` ones also under `/v1/tenants/{tenantId}`, with the same semantics for a named tenant. */
export const ROUTE_TEMPLATES: readonly RouteTemplate[] = [
  ...OWN_TENANT_TEMPLATES,
  ...OWN_TENANT_TEMPLATES.map((t) => ({ ...t, path: `${TENANT_PREFIX}${t.path.slice('/v1'.length)}`, family: 'tenant' as const })),
  { path: '/v1/defaults', methods: { GET: 'listItems' }, family: 'platform' },
  { path: '/v1/defaults/{key+}', methods: ITEM_METHODS, family: 'platform' },
  { path: '/v1/history/defaults/{key+}', methods: { GET: 'getHistory' }, family: 'platform' },
  { path: '/v1/segments/{segment}', methods: { GET: 'listItems' }, family: 'segment' },
  { path: '/v1/segments/{segment}/{key+}', methods: ITEM_METHODS, family: 'segment' },
  { path: '/v1/history/segments/{segment}/{key+}', methods: { GET: 'getHistory' }, family: 'segment' },
  { path: '/v1/tenants', methods: { GET: 'listTenants' }, family: 'registry' },
  { path: TENANT_PREFIX, methods: { GET: 'getTenant', PUT: 'putTenant', DELETE: 'deleteTenant' }, family: 'registry' },
  { path: '/v1/rollouts', methods: { GET: 'listRollouts', POST: 'startRollout' }, family: 'rollouts' },
  { path: '/v1/rollouts/{rolloutId}', methods: { GET: 'getRollout' }, family: 'rollouts' },
  { path: '/v1/rollouts/{rolloutId}/{command}', methods: { POST: 'commandRollout' }, family: 'rollouts' },
];

/** The commands of `POST /v1/rollouts/{rolloutId}/{command}`. */
export const ROLLOUT_COMMANDS = ['pause', 'resume', 'rollback'] as const;
export type RolloutCommandName = (typeof ROLLOUT_COMMANDS)[number];

/** The route keys the HTTP API declares, all behind the JWT authorizer (the local front keeps the same list). */
export const ROUTE_KEYS: readonly string[] = ROUTE_TEMPLATES.flatMap((t) => Object.keys(t.methods).map((m) => `${m} ${t.path}`));

export interface MatchedRoute {
  readonly name: RouteName;
  readonly family: RouteFamily;
  /** `METHOD /template`, for logs. */
  readonly routeKey: string;
  /** The key from the path, percent-decoded once and not yet parsed (the `/restore` suffix removed); only for key routes. */
  readonly key?: string;
  /** The stage segment stripped from the path (a named stage), for building Location. */
  readonly basePath: string;
  /** The tenant the path names (`/v1/tenants/{tenantId}...`); absent on the other routes. */
  readonly tenant?: TenantId;
  /** The raw `{segment}` of a segment route (`plan=gold`), decoded once; parsed by the handler against the schema. */
  readonly segment?: string;
  /** The `{rolloutId}` of a rollout route, decoded once (the use case checks its syntax: 404 when malformed). */
  readonly rolloutId?: string;
  /** The command of `POST /v1/rollouts/{rolloutId}/{command}`. */
  readonly command?: RolloutCommandName;
  /**
   * The path prefix of this route's items, for building Location: `/v1/config`,
   * `/v1/tenants/<id>/config`, `/v1/defaults`, `/v1/segments/<segment>` or `/v1/tenants`.
   */
  readonly itemsPath: string;
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

interface PathMatch {
  /** Raw (still encoded) values of the single-segment parameters. */
  readonly params: Readonly<Record<string, string>>;
  /** The raw rest of the path for `{key+}`; may be empty (then the key is malformed: 400). */
  readonly rawKey?: string;
  /** Literal segments matched: the more, the more specific the route. */
  readonly score: number;
}

/** Matches a path against a template's segments; a parameter may be empty (the handler says why it is malformed). */
function matchTemplate(template: RouteTemplate, path: string): PathMatch | undefined {
  const want = template.path.split('/').slice(1);
  const parts = path.split('/').slice(1);
  const params: Record<string, string> = {};
  let score = 0;
  for (let i = 0; i < want.length; i++) {
    const seg = want[i];
    if (seg === '{key+}') {
      if (i >= parts.length) return undefined;
      return { params, rawKey: parts.slice(i).join('/'), score };
    }
    if (i >= parts.length) return undefined;
    const param = /^\{(\w+)\}$/.exec(seg);
    if (param) params[param[1]] = parts[i];
    else if (seg === parts[i]) score += 1;
    else return undefined;
  }
  return parts.length === want.length ? { params, score } : undefined;
}

/** The most specific template the path matches, whatever the method (the method decides 405). */
function templateForPath(path: string): { template: RouteTemplate; match: PathMatch } | undefined {
  let best: { template: RouteTemplate; match: PathMatch } | undefined;
  for (const template of ROUTE_TEMPLATES) {
    const match = matchTemplate(template, path);
    if (match && (!best || match.score > best.match.score)) best = { template, match };
  }
  return best;
}

/** A declared route's template against the path; a custom-domain base path may precede the route (`/config-api/v1/...`). */
function matchDeclared(template: RouteTemplate, path: string): PathMatch | undefined {
  // Only the first `/v1/`: a key containing `/v1/` must not make another route's path match.
  const at = path.indexOf('/v1/');
  return at < 0 ? undefined : matchTemplate(template, path.slice(at));
}

const notFound = (detail: string) => new EdgeProblem('route-not-found', detail);

/** Finds the route, or throws the 404/405 problem. */
export function matchRoute(event: RouteEvent): MatchedRoute {
  const { basePath, path } = splitStage(event);
  const declared = ROUTE_KEY.exec(event.routeKey ?? '');
  const declaredTemplate = declared && declared[1] !== 'ANY' ? ROUTE_TEMPLATES.find((t) => t.path === declared[2]) : undefined;
  const method = (declaredTemplate ? declared![1] : event.requestContext.http.method).toUpperCase();

  let template: RouteTemplate;
  let match: PathMatch;
  if (declaredTemplate) {
    template = declaredTemplate;
    const found = matchDeclared(template, path);
    if (!found) throw notFound(`the path does not match the route ${event.routeKey}`);
    match = found;
  } else {
    const found = templateForPath(path);
    if (!found) {
      throw notFound(
        `no route for ${printablePath(path)}: the API serves /v1/config, /v1/history/{key}, /v1/defaults, /v1/segments/{segment}, /v1/tenants, /v1/rollouts and the twins under /v1/tenants/{tenantId}`,
      );
    }
    ({ template, match } = found);
  }

  const name = template.methods[method as Method];
  if (!name) {
    const allow = Object.keys(template.methods).join(', ');
    throw new EdgeProblem('method-not-allowed', `${printableMethod(method)} is not allowed on ${template.path}; allowed: ${allow}`, { allow });
  }

  const gateway = declaredTemplate ? event.pathParameters : undefined;
  let rawKey = match.rawKey;
  let gatewayKey = gateway?.key;
  if (name === 'restoreItem') {
    // POST serves restore only: the path names the item, then `/restore`.
    if (rawKey === undefined || !rawKey.endsWith(RESTORE_SUFFIX)) {
      throw notFound(`POST serves only restore: POST ${template.path.replace('{key+}', '{key}')}${RESTORE_SUFFIX} with {"version": N}`);
    }
    rawKey = rawKey.slice(0, -RESTORE_SUFFIX.length);
    if (gatewayKey !== undefined) gatewayKey = gatewayKey.endsWith(RESTORE_SUFFIX) ? gatewayKey.slice(0, -RESTORE_SUFFIX.length) : undefined;
  }
  if (name === 'evaluateFlag') {
    // `/v1/flags/` names a flag, then `/evaluate`; the key is the flag's (`flags:<name>`), checked by the key grammar.
    if (rawKey === undefined || !rawKey.endsWith(EVALUATE_SUFFIX)) throw notFound(`GET /v1/flags/{name}${EVALUATE_SUFFIX} evaluates a flag`);
    rawKey = `flags:${rawKey.slice(0, -EVALUATE_SUFFIX.length)}`;
    if (gatewayKey !== undefined) gatewayKey = gatewayKey.endsWith(EVALUATE_SUFFIX) ? `flags:${gatewayKey.slice(0, -EVALUATE_SUFFIX.length)}` : undefined;
  }
  const key = rawKey === undefined ? undefined : keyFromPath(rawKey, gatewayKey);
  const tenant = match.params.tenantId === undefined ? undefined : tenantFromPath(match.params.tenantId, gateway?.tenantId);
  const segment = match.params.segment === undefined ? undefined : segmentFromPath(match.params.segment, gateway?.segment);
  const rolloutId = match.params.rolloutId === undefined ? undefined : segmentFromPath(match.params.rolloutId, gateway?.rolloutId);
  let command: RolloutCommandName | undefined;
  if (name === 'commandRollout') {
    const raw = segmentFromPath(match.params.command ?? '', gateway?.command);
    if (!(ROLLOUT_COMMANDS as readonly string[]).includes(raw)) {
      throw notFound(`POST /v1/rollouts/{rolloutId}/{command} takes the command ${ROLLOUT_COMMANDS.join(', ')}`);
    }
    command = raw as RolloutCommandName;
  }
  return {
    name,
    family: template.family,
    routeKey: `${method} ${template.path}`,
    key,
    basePath,
    ...(tenant !== undefined ? { tenant } : {}),
    ...(segment !== undefined ? { segment } : {}),
    ...(rolloutId !== undefined ? { rolloutId } : {}),
    ...(command !== undefined ? { command } : {}),
    itemsPath: itemsPathOf(template.family, tenant, segment),
  };
}

function itemsPathOf(family: RouteFamily, tenant: TenantId | undefined, segment: string | undefined): string {
  switch (family) {
    case 'own':
      return '/v1/config';
    case 'tenant':
      return `/v1/tenants/${tenant}/config`;
    case 'platform':
      return '/v1/defaults';
    case 'segment':
      return `/v1/segments/${segment}`;
    case 'registry':
      return '/v1/tenants';
    case 'rollouts':
      return '/v1/rollouts';
  }
}

/** The tenant id of a `/v1/tenants/{tenantId}...` path: decoded once, then the same strict syntax as a token's. */
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

/** The `{segment}` of a segment route, decoded once (`plan%3Dgold` is `plan=gold`); its syntax is checked against the schema later. */
export function segmentFromPath(segment: string, gatewaySegment: string | undefined): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError('the segment in the path is not valid percent-encoding');
  }
  if (gatewaySegment !== undefined && gatewaySegment !== decoded) throw new InvalidRequestError('the segment in the path is ambiguous');
  return decoded;
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
