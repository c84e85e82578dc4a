/**
 * RFC 9457 problem details: the one place where a failure becomes an HTTP status.
 * Every domain error kind (core/errors.ts) and every failure the HTTP edge itself
 * detects has exactly one row here, with a stable `type` URI clients can switch on.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConfigError, PreconditionFailedError, type ErrorKind } from '../../core/errors';
import { formatEtag } from '../config-api/etag';

/** Failures only the HTTP edge can detect: they have no domain error class. */
export type EdgeProblemKind = 'route-not-found' | 'method-not-allowed' | 'request-too-large' | 'internal';
export type ProblemKind = ErrorKind | EdgeProblemKind;

export const PROBLEM_TYPE_BASE = 'https://tenant-config.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Seconds a client should wait before retrying a 409 (write lease held), a 429 (a store is
 * throttling: its quotas are per second, and the SDK has already backed off inside the request)
 * or a 503.
 */
export const RETRY_AFTER_SECONDS = { conflict: 1, throttled: 2, unavailable: 5 } as const;

interface ProblemRow {
  readonly status: number;
  readonly title: string;
}

/** The mapping table. A new ErrorKind fails to compile until it has a row. */
export const PROBLEMS: Readonly<Record<ProblemKind, ProblemRow>> = {
  'invalid-key': { status: 400, title: 'Invalid configuration key' },
  'unknown-tag': { status: 400, title: 'Unknown tag' },
  'invalid-value': { status: 400, title: 'Invalid value' },
  'value-too-large': { status: 413, title: 'Value too large' },
  'invalid-request': { status: 400, title: 'Invalid request' },
  'invalid-page-token': { status: 400, title: 'Invalid page token' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  'invalid-tenant': { status: 403, title: 'Invalid tenant' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Configuration key not found' },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  conflict: { status: 409, title: 'Concurrent write in progress' },
  'backend-unavailable': { status: 503, title: 'Storage backend unavailable' },
  // "Slow down", not "down": a store refused the request rate (Parameter Store's shared TPS, DynamoDB throughput).
  throttled: { status: 429, title: 'Too many requests' },
  'route-not-found': { status: 404, title: 'No such route' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-too-large': { status: 413, title: 'Request body too large' },
  internal: { status: 500, title: 'Internal error' },
};

/** A failure the HTTP edge detects itself (no route, wrong method, oversized body). */
export class EdgeProblem extends Error {
  constructor(
    readonly kind: EdgeProblemKind,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'EdgeProblem';
  }
}

export const problemType = (kind: ProblemKind): string => `${PROBLEM_TYPE_BASE}${kind}`;

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Extension member: quote it when reporting a problem; the logs carry the same id. */
  readonly requestId?: string;
}

/** The generic detail of a 500: nothing of the underlying error reaches the caller. */
export const INTERNAL_DETAIL = 'the request failed unexpectedly; quote the requestId when reporting it';

export function problemResponse(
  kind: ProblemKind,
  detail: string,
  options: { requestId?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyStructuredResultV2 {
  const { status, title } = PROBLEMS[kind];
  const body: ProblemBody = { type: problemType(kind), title, status, detail, requestId: options.requestId };
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
    ...options.headers,
  };
  if (kind === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
  if (kind === 'conflict') headers['retry-after'] = String(RETRY_AFTER_SECONDS.conflict);
  if (kind === 'throttled') headers['retry-after'] = String(RETRY_AFTER_SECONDS.throttled);
  if (kind === 'backend-unavailable') headers['retry-after'] = String(RETRY_AFTER_SECONDS.unavailable);
  return { statusCode: status, headers, body: JSON.stringify(body) };
}

/**
 * Turns any thrown value into a problem response. Domain errors keep their message as
 * `detail` (they are written for callers); anything else is a 500 with a generic detail.
 */
export function problemFromError(error: unknown, requestId?: string): { response: APIGatewayProxyStructuredResultV2; kind: ProblemKind } {
  if (error instanceof ConfigError) {
    const headers: Record<string, string> = {};
    if (error instanceof PreconditionFailedError && error.currentVersion !== undefined) {
      headers.etag = formatEtag(error.currentVersion);
    }
    return { response: problemResponse(error.kind, error.message, { requestId, headers }), kind: error.kind };
  }
  if (error instanceof EdgeProblem && error.kind !== 'internal') {
    return { response: problemResponse(error.kind, error.message, { requestId, headers: { ...error.headers } }), kind: error.kind };
  }
  return { response: problemResponse('internal', INTERNAL_DETAIL, { requestId }), kind: 'internal' };
}
