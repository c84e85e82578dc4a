/**
 * Domain errors. Each class names one failure the caller can act on; the edges
 * (HTTP handler, gRPC server) map them to a status once, in one table.
 * Backends translate SDK errors into these where the SDK is called.
 */
export type ErrorKind =
  | 'invalid-key'
  | 'unknown-tag'
  | 'invalid-value'
  | 'value-too-large'
  | 'invalid-request'
  | 'invalid-page-token'
  | 'unauthenticated'
  | 'invalid-tenant'
  | 'forbidden'
  | 'not-found'
  | 'precondition-failed'
  | 'conflict'
  | 'backend-unavailable'
  | 'throttled';

export abstract class ConfigError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidKeyError extends ConfigError {
  readonly kind = 'invalid-key';
}
export class UnknownTagError extends ConfigError {
  readonly kind = 'unknown-tag';
}
export class InvalidValueError extends ConfigError {
  readonly kind = 'invalid-value';
}
export class ValueTooLargeError extends ConfigError {
  readonly kind = 'value-too-large';
}
/** Malformed request parts that are not keys or values: headers, query parameters, bodies. */
export class InvalidRequestError extends ConfigError {
  readonly kind = 'invalid-request';
}
export class InvalidPageTokenError extends ConfigError {
  readonly kind = 'invalid-page-token';
}
export class UnauthenticatedError extends ConfigError {
  readonly kind = 'unauthenticated';
}
/** A verified token whose tenant claim is missing or malformed. Never falls back to a default tenant. */
export class InvalidTenantError extends ConfigError {
  readonly kind = 'invalid-tenant';
}
export class ForbiddenError extends ConfigError {
  readonly kind = 'forbidden';
}
export class NotFoundError extends ConfigError {
  readonly kind = 'not-found';
}
/** An If-Match / If-None-Match condition did not hold. `currentVersion` is absent when the key does not exist. */
export class PreconditionFailedError extends ConfigError {
  readonly kind = 'precondition-failed';
  constructor(
    message: string,
    readonly currentVersion?: number,
  ) {
    super(message);
  }
}
/** Another writer holds the key right now (Parameter Store write lease); safe to retry. */
export class ConflictError extends ConfigError {
  readonly kind = 'conflict';
}
export class BackendUnavailableError extends ConfigError {
  readonly kind: 'backend-unavailable' | 'throttled' = 'backend-unavailable';
}
/**
 * The store refused the request rate (throttling, a throughput quota such as Parameter Store's
 * shared 40 TPS). Its own kind, so the edges can say "slow down" (HTTP 429 with Retry-After)
 * rather than "down" (503); still a BackendUnavailableError, so code that retries or counts an
 * unavailable store treats it as one. A quota no retry lifts (ParameterLimitExceeded) is not
 * throttling: it stays a plain BackendUnavailableError (503) that names the quota.
 */
export class ThrottledError extends BackendUnavailableError {
  override readonly kind = 'throttled';
}

export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;
