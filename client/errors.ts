/** The SDK's own errors: a consuming service catches these by class, never by message. */

export class ConfigClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option is missing or contradicts another; thrown by the constructor, naming the option. */
export class ConfigClientOptionsError extends ConfigClientError {}

/** `start()` was pending when `close()` ran, or the client was used after `close()`. */
export class ConfigClientClosedError extends ConfigClientError {
  constructor() {
    super('the config client is closed');
  }
}

/** The service kept refusing the token, fresh ones included. */
export class ConfigClientAuthError extends ConfigClientError {}

/** The HTTP fallback got an answer it cannot use (status, body, or no answer at all). */
export class HttpFallbackError extends ConfigClientError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The service refused the tenants asked for (PERMISSION_DENIED): `tenants: 'all'` or another
 * tenant's id with a tenant's own token, or a service token without the read scope.
 */
export class ConfigClientPermissionError extends ConfigClientError {}

/** `forTenant` got an id that is not a tenant id (`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`). */
export class InvalidTenantIdError extends ConfigClientError {}

/** Why `forRequest` refused an end user's token. */
export type UserTokenRefusal = 'malformed' | 'signature' | 'expired' | 'issuer' | 'client' | 'token-use' | 'tenant' | 'keys-unavailable';

/**
 * `forRequest` refused the end user's token: answer 401. `reason` says which check failed; the
 * message never holds the token.
 */
export class UserTokenError extends ConfigClientError {
  constructor(
    message: string,
    readonly reason: UserTokenRefusal,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
