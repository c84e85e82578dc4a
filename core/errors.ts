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
  | 'backend-unavailable';

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
  readonly kind = 'backend-unavailable';
}
/**
 * The store refused the request rate (throttling, a throughput quota). The same kind and status
 * as any unavailable backend (503, Retry-After), its own class so callers and metrics can tell
 * "slow down" from "down".
 */
export class ThrottledError extends BackendUnavailableError {}

export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;
