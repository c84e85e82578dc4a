/**
 * Domain errors to gRPC status, in one table (the gRPC twin of the HTTP problem mapping).
 * Anything unexpected becomes INTERNAL with a fixed message: details never leak a stack.
 */
import { status, type StatusObject } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { isConfigError, type ErrorKind } from '../core/errors';

const STATUS_BY_KIND: Readonly<Record<ErrorKind, status>> = {
  'invalid-key': status.INVALID_ARGUMENT,
  'unknown-tag': status.INVALID_ARGUMENT,
  'invalid-value': status.INVALID_ARGUMENT,
  'value-too-large': status.INVALID_ARGUMENT,
  'invalid-request': status.INVALID_ARGUMENT,
  'invalid-page-token': status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  'invalid-tenant': status.PERMISSION_DENIED,
  forbidden: status.PERMISSION_DENIED,
  'not-found': status.NOT_FOUND,
  'precondition-failed': status.FAILED_PRECONDITION,
  conflict: status.ABORTED,
  'backend-unavailable': status.UNAVAILABLE,
  // UNAVAILABLE, not RESOURCE_EXHAUSTED: the quota that ran out is the store's, shared by the
  // account and region, not one of the caller's or one of this server's own limits. Here
  // RESOURCE_EXHAUSTED already means a stream limit or a slow consumer cut off, to which the SDK
  // answers with an immediate resync; UNAVAILABLE is what gRPC clients (and retry policies)
  // retry with backoff, which is what a throttled store needs. The pushback trailer and the
  // details say "slow down" to those that look.
  throttled: status.UNAVAILABLE,
};

/** How long a throttled caller should wait (`grpc-retry-pushback-ms`, gRFC A6); the HTTP edge's Retry-After is the same. */
export const THROTTLED_PUSHBACK_MS = 2000;

/** A status the handler raises on purpose, outside the domain errors (drain, slow consumer, cursor). */
export class GrpcStatusError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcStatusError';
  }
}

export function toStatus(error: unknown): StatusObject {
  if (error instanceof GrpcStatusError) return { code: error.code, details: error.message, metadata: new Metadata() };
  if (isConfigError(error)) {
    const kind = (error as { kind: string }).kind;
    // A kind this table does not know yet (added to core later) is a client error only if core says so.
    const code = STATUS_BY_KIND[kind as ErrorKind] ?? status.INTERNAL;
    const metadata = new Metadata();
    if (kind === 'throttled') metadata.set('grpc-retry-pushback-ms', String(THROTTLED_PUSHBACK_MS));
    return { code, details: code === status.INTERNAL ? 'internal error' : error.message, metadata };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() };
}
