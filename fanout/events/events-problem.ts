/**
 * The events endpoint's failures as RFC 9457 problems, in one table. A Watch refused or ended
 * with a gRPC status (fanout/grpc-status.ts maps every domain error to one) becomes the HTTP
 * status a REST client expects; the `type` URIs are the HTTP API's where the failure is the same
 * (`unauthenticated`, `forbidden`, `invalid-request`), so a console handles both edges alike.
 */
import { status as grpcStatus } from '@grpc/grpc-js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_TYPE_BASE = 'https://tenant-config.dev/problems/';

export interface EventsProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
}

/** Failures only this HTTP edge detects. */
export type EdgeFailure = 'route-not-found' | 'method-not-allowed' | 'origin-not-allowed';

interface Row {
  readonly status: number;
  readonly kind: string;
  readonly title: string;
}

const BY_GRPC_STATUS: Readonly<Partial<Record<grpcStatus, Row>>> = {
  [grpcStatus.INVALID_ARGUMENT]: { status: 400, kind: 'invalid-request', title: 'Invalid request' },
  [grpcStatus.UNAUTHENTICATED]: { status: 401, kind: 'unauthenticated', title: 'Authentication required' },
  [grpcStatus.PERMISSION_DENIED]: { status: 403, kind: 'forbidden', title: 'Forbidden' },
  [grpcStatus.NOT_FOUND]: { status: 404, kind: 'not-found', title: 'Not found' },
  // A stream limit or a slow consumer cut off: retry later, from the last cursor.
  [grpcStatus.RESOURCE_EXHAUSTED]: { status: 429, kind: 'too-many-streams', title: 'Too many streams' },
  [grpcStatus.UNIMPLEMENTED]: { status: 501, kind: 'not-implemented', title: 'Not implemented' },
  // Draining, or a store that is down or throttling: retry with backoff.
  [grpcStatus.UNAVAILABLE]: { status: 503, kind: 'unavailable', title: 'Service unavailable' },
};

const EDGE: Readonly<Record<EdgeFailure, Row>> = {
  'route-not-found': { status: 404, kind: 'route-not-found', title: 'No such route' },
  'method-not-allowed': { status: 405, kind: 'method-not-allowed', title: 'Method not allowed' },
  'origin-not-allowed': { status: 403, kind: 'origin-not-allowed', title: 'Origin not allowed' },
};

const INTERNAL: Row = { status: 500, kind: 'internal', title: 'Internal error' };

/** Seconds to wait before retrying a 429 or a 503. */
export const RETRY_AFTER_SECONDS = 2;

/** The problem of a gRPC status; an unexpected code is a 500 whose detail says nothing of the cause. */
export function problemOfStatus(code: grpcStatus, details: string): EventsProblem {
  const row = BY_GRPC_STATUS[code] ?? INTERNAL;
  return problem(row, row === INTERNAL ? 'the stream failed unexpectedly' : details);
}

export function edgeProblem(failure: EdgeFailure, detail: string): EventsProblem {
  return problem(EDGE[failure], detail);
}

/** Headers that go with a problem response. */
export function problemHeaders(p: EventsProblem): Record<string, string> {
  return {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
    ...(p.status === 401 ? { 'www-authenticate': 'Bearer' } : {}),
    ...(p.status === 429 || p.status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
  };
}

function problem(row: Row, detail: string): EventsProblem {
  return { type: `${PROBLEM_TYPE_BASE}${row.kind}`, title: row.title, status: row.status, detail };
}
