/**
 * The config-api handler behind API Gateway HTTP API (payload v2) and the local front, over
 * the dependencies it is given (the Lambda entry that builds them is main.ts). Thin: it reads
 * the request, calls ConfigService, and shapes the response; every failure becomes a
 * problem+json response in one place (lambda/shared/problem.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MAX_PAGE_LIMIT, type ConfigService } from '../../core/config-service';
import { InvalidRequestError, NotFoundError, PreconditionFailedError } from '../../core/errors';
import type { ConfigItem, ExpectedVersion } from '../../core/item';
import { parseKey } from '../../core/key';
import { accessTo, type TenantAccess } from '../../core/access-policy';
import { principalFromClaims, type PrincipalOptions } from '../../core/principal';
import type { TagRegistry } from '../../core/tag-registry';
import { problemFromError } from '../shared/problem';
import { verifiedClaims } from '../shared/verified-claims';
import { formatEtag, noneMatchHolds, parseIfMatch, parseIfNoneMatch } from './etag';
import { header, MAX_REQUEST_BODY_BYTES, parseLimit, readPutValue, readQuery } from './request';
import { matchRoute, type MatchedRoute, type RouteName } from './routes';

export interface ConfigApiDeps {
  readonly service: ConfigService;
  /** The registry the service routes with; the handler asks it which tags are secret. */
  readonly registry: TagRegistry;
  readonly principal: PrincipalOptions;
  readonly logger: Logger;
  /** @default MAX_REQUEST_BODY_BYTES (64 KiB) */
  readonly maxBodyBytes?: number;
  /** Releases what the dependencies hold open (the cache connection). */
  readonly dispose?: () => Promise<void>;
  /** Milliseconds, for the latency in the access log. @default performance.now */
  readonly now?: () => number;
}

export type ConfigApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ConfigApiResult = APIGatewayProxyStructuredResultV2;
export type ConfigApiLambdaHandler = (event: ConfigApiEvent, context?: Context) => Promise<ConfigApiResult>;

interface Call {
  readonly event: ConfigApiEvent;
  /** Who calls, and the tenant the call acts on. */
  readonly access: TenantAccess;
  readonly route: MatchedRoute;
  readonly deps: ConfigApiDeps;
}

/** Responses carrying tenant data may be kept by the caller's own cache, never a shared one. */
const REVALIDATE = 'private, no-cache';
const NO_STORE = 'no-store';

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ConfigApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': NO_STORE, ...headers },
    body: JSON.stringify(body),
  };
}

const itemBody = (item: ConfigItem) => ({
  key: item.key,
  value: item.value,
  version: item.version,
  updatedAt: item.updatedAt,
  updatedBy: item.updatedBy,
});

/** The key of a key route; the router guarantees one is there. */
const keyOf = (call: Call): string => call.route.key ?? '';

/** Secret values must not linger in any cache, not even the caller's. */
function cacheControlFor(call: Call, key: string): string {
  return call.deps.registry.resolve(parseKey(key)).secret ? NO_STORE : REVALIDATE;
}

const ROUTES: Readonly<Record<RouteName, (call: Call) => Promise<ConfigApiResult>>> = {
  async getItem(call) {
    readQuery(call.event, []);
    const condition = parseIfNoneMatch(header(call.event.headers, 'if-none-match'));
    const item = await call.deps.service.get(call.access, keyOf(call));
    const headers = { etag: formatEtag(item.version), 'cache-control': cacheControlFor(call, item.key) };
    if (!noneMatchHolds(condition, item.version)) return { statusCode: 304, headers };
    return json(200, itemBody(item), headers);
  },

  async listItems(call) {
    const query = readQuery(call.event, ['prefix', 'limit', 'nextToken']);
    const page = await call.deps.service.list(call.access, {
      prefix: query.prefix,
      limit: parseLimit(query.limit, MAX_PAGE_LIMIT),
      nextToken: query.nextToken,
    });
    const items = page.items.map(itemBody);
    return json(200, page.nextToken ? { items, nextToken: page.nextToken } : { items });
  },

  async putItem(call) {
    const { event, deps, access } = call;
    readQuery(event, []);
    const condition = putCondition(event);
    // Key and tag errors come before body errors: the key says what the body must be.
    deps.registry.resolve(parseKey(keyOf(call)));
    const value = readPutValue(event, deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES);
    const expected = condition === 'exists' ? await currentVersion(call) : condition;
    const { item, created } = await deps.service.put(access, keyOf(call), value, expected);
    const headers: Record<string, string> = { etag: formatEtag(item.version) };
    if (created) headers.location = `${call.route.basePath}${call.route.familyPath}/config/${item.key}`;
    return json(created ? 201 : 200, itemBody(item), headers);
  },

  async deleteItem(call) {
    const { event, deps, access } = call;
    readQuery(event, []);
    if (header(event.headers, 'if-none-match') !== undefined) {
      throw new InvalidRequestError('If-None-Match is not supported on DELETE; use If-Match');
    }
    const condition = parseIfMatch(header(event.headers, 'if-match'));
    try {
      await deps.service.delete(access, keyOf(call), condition.kind === 'version' ? condition.version : undefined);
    } catch (error) {
      // `If-Match: *` is a precondition: a missing key fails it (412) before DELETE's own 404.
      if (condition.kind === 'exists' && error instanceof NotFoundError) {
        throw new PreconditionFailedError(`key '${keyOf(call)}' does not exist; If-Match: * requires it to`);
      }
      throw error;
    }
    return { statusCode: 204, headers: { 'cache-control': NO_STORE } };
  },

  async getHistory(call) {
    const query = readQuery(call.event, ['limit']);
    const entries = await call.deps.service.history(call.access, keyOf(call), parseLimit(query.limit, MAX_PAGE_LIMIT));
    return json(200, { items: entries.map((e) => ({ version: e.version, value: e.value, updatedAt: e.updatedAt, updatedBy: e.updatedBy })) });
  },
};

/**
 * What a PUT requires of the current state: If-Match `"<v>"` → compare-and-set;
 * `If-None-Match: *` → create only; `If-Match: *` → update only (`'exists'`).
 */
function putCondition(event: ConfigApiEvent): ExpectedVersion | 'exists' {
  const ifMatch = parseIfMatch(header(event.headers, 'if-match'));
  const ifNoneMatch = header(event.headers, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') {
      throw new InvalidRequestError('If-None-Match on PUT accepts only * (create only); use If-Match "<version>" for compare-and-set');
    }
    if (ifMatch.kind !== 'none') throw new InvalidRequestError('If-Match and If-None-Match cannot be combined');
    return 'absent';
  }
  if (ifMatch.kind === 'version') return ifMatch.version;
  return ifMatch.kind === 'exists' ? 'exists' : undefined;
}

/**
 * `If-Match: *` as a compare-and-set on the version read just before, so a key deleted
 * in between fails with 412 instead of being re-created.
 */
async function currentVersion(call: Call): Promise<number> {
  try {
    return (await call.deps.service.get(call.access, keyOf(call))).version;
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new PreconditionFailedError(`key '${keyOf(call)}' does not exist; If-Match: * requires it to`);
    }
    throw error;
  }
}

/** Keys are caller input: the access log keeps them short and printable. */
const loggableKey = (key: string | undefined): string | undefined =>
  key === undefined ? undefined : (key.length > 300 ? `${key.slice(0, 300)}…` : key).replace(/[^\x20-\x7e]/g, '?');

/**
 * The handler for the given dependencies. One access-log line per request: request id,
 * tenant, subject, route, key, status, latency. Values never reach the log.
 */
export function createHandler(deps: ConfigApiDeps): ConfigApiLambdaHandler {
  const now = deps.now ?? (() => performance.now());
  return async (event, context) => {
    const started = now();
    const requestId = event.requestContext?.requestId ?? context?.awsRequestId;
    if (context) deps.logger.addContext(context);
    const log: Record<string, string | number | undefined> = { requestId, method: event.requestContext?.http?.method };
    let response: ConfigApiResult;
    try {
      const principal = principalFromClaims(verifiedClaims(event), deps.principal);
      log.principal = principal.kind;
      log.subject = principal.subject;
      const route = matchRoute(event);
      log.route = route.routeKey;
      log.key = loggableKey(route.key);
      // The tenant asked for, even when the call is refused: an audit trail of cross-tenant attempts.
      log.tenant = route.tenant;
      const access = accessTo(principal, route.tenant);
      log.tenant = access.tenant;
      response = await ROUTES[route.name]({ event, access, route, deps });
    } catch (error) {
      const problem = problemFromError(error, requestId);
      response = problem.response;
      log.problem = problem.kind;
      if (problem.kind === 'internal') {
        deps.logger.error('unexpected error', { requestId, error: error instanceof Error ? error : String(error) });
      }
    }
    log.status = response.statusCode;
    log.latencyMs = Math.round((now() - started) * 10) / 10;
    if ((response.statusCode ?? 500) >= 500) deps.logger.warn('request', log);
    else deps.logger.info('request', log);
    return response;
  };
}
