/**
 * The config-api handler behind API Gateway HTTP API (payload v2) and the local front, over
 * the dependencies it is given (the Lambda entry that builds them is main.ts). Thin: it reads
 * the request, calls ConfigService, and shapes the response; every failure becomes a
 * problem+json response in one place (lambda/shared/problem.ts).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ConfigService, MAX_PAGE_LIMIT, type ReadLayer } from '../../core/config-service';
import { percentOf, type Rollout } from '../../core/rollout';
import { MAX_ROLLOUT_PAGE_LIMIT, type RolloutService } from '../../core/rollout-service';
import { InvalidRequestError, NotFoundError, PreconditionFailedError } from '../../core/errors';
import type { ConfigItem, ExpectedVersion, HistoryEntry } from '../../core/item';
import { parseKey } from '../../core/key';
import { accessTo, authorizeOperation, type TenantAccess } from '../../core/access-policy';
import { attributesItem } from '../../core/layer-reads';
import { layerName, parseSegment, PLATFORM, segmentLayer, type Layer, type Source } from '../../core/layers';
import { evaluateTenantFlag } from '../../core/flag-reads';
import { DEFAULT_OFFBOARDING_DEADLINE_MS, offboardTenant, type OffboardingDependencies } from '../../core/offboarding';
import { principalFromClaims, type Principal, type PrincipalOptions } from '../../core/principal';
import type { TagRegistry } from '../../core/tag-registry';
import { TenantSchema } from '../../core/tenant-attributes';
import { ATTRIBUTES_KEY, type TenantRecord } from '../../core/tenant-registry';
import { MAX_TENANT_PAGE_LIMIT, type TenantService } from '../../core/tenant-service';
import type { TenantId } from '../../core/tenant';
import { EdgeProblem, problemFromError } from '../shared/problem';
import { verifiedClaims } from '../shared/verified-claims';
import { formatEtag, noneMatchHolds, parseIfMatch, parseIfNoneMatch } from './etag';
import {
  header,
  MAX_REQUEST_BODY_BYTES,
  parseLimit,
  readFlagContext,
  readPutBody,
  readQuery,
  readRestoreBody,
  readRolloutBody,
  readTenantBody,
} from './request';
import { matchRoute, type MatchedRoute, type RouteName } from './routes';

/** Seconds a caller should wait before repeating a DELETE of a tenant whose offboarding is still running (202). */
export const OFFBOARDING_RETRY_AFTER_SECONDS = 1;

export interface ConfigApiDeps {
  readonly service: ConfigService;
  /** The registry the service routes with; the handler asks it which tags are secret. */
  readonly registry: TagRegistry;
  readonly principal: PrincipalOptions;
  readonly logger: Logger;
  /** The tenant registry's use cases (`/v1/tenants`, `/v1/tenants/{tenantId}`). Without it those routes are 404. */
  readonly tenants?: TenantService;
  /** The attribute schema segments are parsed with (`/v1/segments/{segment}`). @default TenantSchema.default() */
  readonly tenantSchema?: TenantSchema;
  /** The rollouts' use cases (`/v1/rollouts...`). Without it those routes are 404. */
  readonly rollouts?: RolloutService;
  /** What `DELETE /v1/tenants/{tenantId}` offboards with. Without it that route is 404. */
  readonly offboarding?: OffboardingDependencies & {
    /** How long one DELETE works before it answers 202; below API Gateway's 29 s. @default 20000 */
    readonly deadlineMs?: number;
  };
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
  readonly principal: Principal;
  /**
   * Who calls, and the owner of the keys the call acts on: a tenant, or a layer of defaults.
   * For the registry routes: the tenant the path names (no access decision made yet).
   */
  readonly access: TenantAccess;
  /** Where the items of this route come from: `tenant`, `platform` or `segment:<a>=<v>`. */
  readonly source: Source;
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

/** An item as served: its `comment` when it has one, and the layer it comes from (when given). */
const itemBody = (item: ConfigItem, source: Source | undefined) => ({
  key: item.key,
  value: item.value,
  version: item.version,
  updatedAt: item.updatedAt,
  updatedBy: item.updatedBy,
  ...(item.comment ? { comment: item.comment } : {}),
  ...(source ? { source } : {}),
});

const historyBody = (e: HistoryEntry) => ({
  version: e.version,
  value: e.value,
  updatedAt: e.updatedAt,
  updatedBy: e.updatedBy,
  ...(e.comment ? { comment: e.comment } : {}),
});

const tenantBody = (record: TenantRecord) => ({
  tenantId: record.tenantId,
  attributes: record.attributes,
  version: record.version,
  createdAt: record.createdAt,
  updatedAt: record.updatedAt,
  updatedBy: record.updatedBy,
  ...(record.offboarding ? { offboarding: record.offboarding } : {}),
});

/** `?layer=`: `tenant` (the tenant's own value alone) or `effective` (the default), on tenant routes only. */
function readLayer(call: Call): ReadLayer {
  const tenantRoute = call.route.family === 'own' || call.route.family === 'tenant';
  const query = readQuery(call.event, tenantRoute ? ['layer'] : []);
  if (query.layer === undefined || query.layer === 'effective') return 'effective';
  if (query.layer === 'tenant') return 'tenant';
  throw new InvalidRequestError("layer must be 'tenant' (the tenant's own value) or 'effective'");
}

/** The tenant a registry route names; the router guarantees one on those routes. */
const tenantOf = (call: Call): TenantId => call.route.tenant as TenantId;

/** A page of a listing as every list route answers it: `items`, and `nextToken` when more follow. */
function pageBody<T, B>(page: { readonly items: readonly T[]; readonly nextToken?: string }, body: (item: T) => B): { items: B[]; nextToken?: string } {
  const items = page.items.map((item) => body(item));
  return page.nextToken ? { items, nextToken: page.nextToken } : { items };
}

function rolloutsOf(deps: ConfigApiDeps): RolloutService {
  if (!deps.rollouts) throw new EdgeProblem('route-not-found', 'this deployment does not serve rollouts');
  return deps.rollouts;
}

/** A rollout as the API shows it: the record with its current percent, without the store's bookkeeping. */
const rolloutBody = (r: Rollout) => {
  const { revision: _revision, settled: _settled, ...shown } = r;
  return { ...shown, percent: percentOf(r) };
};

function tenantsOf(deps: ConfigApiDeps): TenantService {
  if (!deps.tenants) throw new EdgeProblem('route-not-found', 'this deployment does not serve the tenant registry');
  return deps.tenants;
}

/** The key of a key route; the router guarantees one is there. */
const keyOf = (call: Call): string => call.route.key ?? '';

/** Secret values must not linger in any cache, not even the caller's. */
function cacheControlFor(call: Call, key: string): string {
  return call.deps.registry.resolve(parseKey(key)).secret ? NO_STORE : REVALIDATE;
}

const ROUTES: Readonly<Record<RouteName, (call: Call) => Promise<ConfigApiResult>>> = {
  async getItem(call) {
    const layer = readLayer(call);
    const condition = parseIfNoneMatch(header(call.event.headers, 'if-none-match'));
    const item = await call.deps.service.get(call.access, keyOf(call), layer);
    const headers = { etag: formatEtag(item.version), 'cache-control': cacheControlFor(call, item.key) };
    if (!noneMatchHolds(condition, item.version)) return { statusCode: 304, headers };
    return json(200, itemBody(item, item.source), headers);
  },

  async listItems(call) {
    const query = readQuery(call.event, ['prefix', 'limit', 'nextToken']);
    const page = await call.deps.service.list(call.access, {
      prefix: query.prefix,
      limit: parseLimit(query.limit, MAX_PAGE_LIMIT),
      nextToken: query.nextToken,
    });
    return json(
      200,
      pageBody(page, (i) => itemBody(i, i.source)),
    );
  },

  async putItem(call) {
    const { event, deps, access } = call;
    readQuery(event, []);
    const condition = putCondition(event);
    // Key and tag errors come before body errors: the key says what the body must be.
    deps.registry.resolve(parseKey(keyOf(call)));
    const { value, comment } = readPutBody(event, deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES);
    const expectedVersion = condition === 'exists' ? await currentVersion(call) : condition;
    const { item, created } = await deps.service.put(access, keyOf(call), value, { expectedVersion, comment });
    return itemWritten(call, item, created);
  },

  async restoreItem(call) {
    const { event, deps, access } = call;
    readQuery(event, []);
    if (header(event.headers, 'if-none-match') !== undefined) {
      throw new InvalidRequestError('If-None-Match is not supported on restore; use If-Match');
    }
    const condition = parseIfMatch(header(event.headers, 'if-match'));
    deps.registry.resolve(parseKey(keyOf(call)));
    const { version, comment } = readRestoreBody(event, deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES);
    const expectedVersion = condition.kind === 'version' ? condition.version : condition.kind === 'exists' ? await currentVersion(call) : undefined;
    const { item, created } = await deps.service.restore(access, keyOf(call), version, { comment, expectedVersion });
    return itemWritten(call, item, created);
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
    return json(200, { items: entries.map(historyBody) });
  },

  async evaluateFlag(call) {
    const context = readFlagContext(call.event);
    const name = keyOf(call).slice('flags:'.length);
    const result = await evaluateTenantFlag(call.deps.service, call.access, name, context);
    // A flag that does not exist is a 404, as every read of a missing key is (OpenFeature's FLAG_NOT_FOUND; OFREP answers 404 too).
    if (result.errorCode === 'FLAG_NOT_FOUND') throw new NotFoundError(`flag '${name}' does not exist (FLAG_NOT_FOUND): no layer holds 'flags:${name}'`);
    return json(200, result);
  },

  async startRollout(call) {
    const { event, deps, principal } = call;
    readQuery(event, []);
    // Who may start a rollout is known before the body is read.
    authorizeOperation(principal, 'starting a rollout');
    const body = readRolloutBody(event, deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES);
    const rollout = await rolloutsOf(deps).start(principal, body);
    return json(201, rolloutBody(rollout), { location: `${call.route.basePath}/v1/rollouts/${rollout.id}` });
  },

  async listRollouts(call) {
    const query = readQuery(call.event, ['limit', 'nextToken']);
    const page = await rolloutsOf(call.deps).list(call.principal, { limit: parseLimit(query.limit, MAX_ROLLOUT_PAGE_LIMIT), nextToken: query.nextToken });
    return json(200, pageBody(page, rolloutBody));
  },

  async getRollout(call) {
    readQuery(call.event, []);
    return json(200, rolloutBody(await rolloutsOf(call.deps).get(call.principal, call.route.rolloutId ?? '')));
  },

  async commandRollout(call) {
    readQuery(call.event, []);
    if (call.event.body) throw new InvalidRequestError(`POST /v1/rollouts/{rolloutId}/${call.route.command} takes no body`);
    const rollout = await rolloutsOf(call.deps).command(call.principal, call.route.rolloutId ?? '', call.route.command!);
    return json(200, rolloutBody(rollout));
  },

  async getTenant(call) {
    readQuery(call.event, []);
    const condition = parseIfNoneMatch(header(call.event.headers, 'if-none-match'));
    const record = await tenantsOf(call.deps).get(call.principal, tenantOf(call));
    const headers = { etag: formatEtag(record.version) };
    if (!noneMatchHolds(condition, record.version)) return { statusCode: 304, headers: { ...headers, 'cache-control': NO_STORE } };
    return json(200, tenantBody(record), headers);
  },

  async putTenant(call) {
    const { event, deps, principal } = call;
    const tenants = tenantsOf(deps);
    readQuery(event, []);
    // Who may change the registry is known before the body is read.
    authorizeOperation(principal, 'changing the tenant registry');
    const condition = putCondition(event);
    const body = readTenantBody(event, deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES);
    let expected: number | 'absent' | undefined = condition === 'exists' ? undefined : condition;
    if (condition === 'exists') {
      try {
        expected = (await tenants.get(principal, tenantOf(call))).version;
      } catch (error) {
        if (error instanceof NotFoundError) throw new PreconditionFailedError(`tenant '${tenantOf(call)}' is not registered; If-Match: * requires it to be`);
        throw error;
      }
    }
    const { record, created } = await tenants.put(principal, tenantOf(call), body, expected);
    const headers: Record<string, string> = { etag: formatEtag(record.version) };
    if (created) headers.location = `${call.route.basePath}/v1/tenants/${record.tenantId}`;
    return json(created ? 201 : 200, tenantBody(record), headers);
  },

  async listTenants(call) {
    const query = readQuery(call.event, ['limit', 'nextToken']);
    const page = await tenantsOf(call.deps).list(call.principal, { limit: parseLimit(query.limit, MAX_TENANT_PAGE_LIMIT), nextToken: query.nextToken });
    return json(200, pageBody(page, tenantBody));
  },

  async deleteTenant(call) {
    const { event, deps, principal } = call;
    readQuery(event, []);
    authorizeOperation(principal, 'offboarding a tenant');
    if (header(event.headers, 'if-match') !== undefined || header(event.headers, 'if-none-match') !== undefined) {
      throw new InvalidRequestError('DELETE /v1/tenants/{tenantId} takes no If-Match or If-None-Match: offboarding is idempotent, repeat it to resume');
    }
    const offboarding = deps.offboarding;
    if (!offboarding) throw new EdgeProblem('route-not-found', 'this deployment does not serve offboarding');
    const access = { caller: principal, tenant: tenantOf(call) };
    const progress = await offboardTenant(offboarding, access, { deadlineMs: offboarding.deadlineMs ?? DEFAULT_OFFBOARDING_DEADLINE_MS });
    // The record now says offboarded: the cached attributes must too, or writes would still be let through.
    const record = await offboarding.registry.get(access.tenant);
    if (record) await offboarding.reader?.onWrite?.(access, ATTRIBUTES_KEY, { item: attributesItem(record) });
    const body = { tenantId: access.tenant, ...progress };
    if (progress.state === 'complete') return json(200, body);
    return json(202, body, { 'retry-after': String(OFFBOARDING_RETRY_AFTER_SECONDS) });
  },
};

/**
 * 201 with Location for a new key, else 200; the item and its ETag either way. A write on a
 * tenant route answers with the item exactly as §4.1 has it (a write is always the tenant's own
 * value); a write of a layer says which layer (`source`), as its reads do.
 */
function itemWritten(call: Call, item: ConfigItem, created: boolean): ConfigApiResult {
  const headers: Record<string, string> = { etag: formatEtag(item.version) };
  if (created) headers.location = `${call.route.basePath}${call.route.itemsPath}/${item.key}`;
  const tenantRoute = call.route.family === 'own' || call.route.family === 'tenant';
  return json(created ? 201 : 200, itemBody(item, tenantRoute ? undefined : call.source), headers);
}

/**
 * The owner a route acts on: the caller's own tenant or the one the path names (tenant
 * principals only their own), a layer of defaults (every principal reads; operators write), or
 * for the registry the tenant named (only operators get further: the routes check).
 */
function accessFor(principal: Principal, route: MatchedRoute, schema: TenantSchema): { access: TenantAccess; source: Source } {
  switch (route.family) {
    case 'own':
    case 'tenant':
      return { access: accessTo(principal, route.tenant), source: 'tenant' };
    case 'platform':
    case 'segment': {
      const layer: Layer = route.family === 'platform' ? PLATFORM : segmentLayer(parseSegment(route.segment ?? '', schema));
      return { access: ConfigService.layerAccess(principal, layer), source: layerName(layer) };
    }
    case 'registry':
    case 'rollouts':
      return { access: { caller: principal, tenant: (route.tenant ?? '') as TenantId }, source: 'tenant' };
  }
}

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
    return (await call.deps.service.get(call.access, keyOf(call), 'tenant')).version;
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
  const schema = deps.tenantSchema ?? TenantSchema.default();
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
      const { access, source } = accessFor(principal, route, schema);
      log.tenant = access.tenant || undefined;
      response = await ROUTES[route.name]({ event, principal, access, source, route, deps });
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
