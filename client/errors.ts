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

/** What a `start()` that timed out tried, each part as it stood at the deadline. */
export interface StartAttempts {
  readonly timeoutMs: number;
  /** The Watch stream: its address, and why it is not up (undefined: still connecting, no answer). */
  readonly stream: { readonly target: string; readonly lastError?: string };
  /** The HTTP fallback, when configured: its base URL and its last load's failure. */
  readonly http?: { readonly baseUrl: string; readonly lastError?: string };
  /** The last-known-good file, when configured: its path and whether it gave a state. */
  readonly snapshotFile?: { readonly path: string; readonly restored: boolean };
}

/**
 * `start()` got no first state in time: neither the stream, nor the HTTP fallback, nor the
 * snapshot file answered. `attempts` says what was tried and how each failed. The client is not
 * closed: it keeps trying (and `start()` stays rejected); call `close()` to give up.
 */
export class ConfigClientStartTimeoutError extends ConfigClientError {
  constructor(readonly attempts: StartAttempts) {
    const parts = [
      `the Watch stream at ${attempts.stream.target} (${attempts.stream.lastError ?? 'no answer yet'})`,
      attempts.http ? `the HTTP fallback at ${attempts.http.baseUrl} (${attempts.http.lastError ?? 'no answer yet'})` : 'no HTTP fallback (httpBaseUrl unset)',
      attempts.snapshotFile ? `the snapshot file ${attempts.snapshotFile.path} (absent or unusable)` : 'no snapshot file (snapshotFile unset)',
    ];
    super(`ConfigClient: no configuration within ${attempts.timeoutMs} ms; tried ${parts.join('; ')}`);
  }
}

/** What a typed getter expected of a value. */
export type ExpectedValue = 'number' | 'boolean' | 'string' | 'schema';

/** A typed getter (`getNumber`, `getBoolean`, `getString`, `getJson` with a schema) found a value of another type. */
export class ConfigValueTypeError extends ConfigClientError {
  constructor(
    readonly key: string,
    readonly expected: ExpectedValue,
    /** What was found, described (`a string ("12")`, `an object`, `null`...). */
    readonly found: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      `${key}: expected ${expected === 'schema' ? 'a value the schema accepts' : `a ${expected}`}, found ${found}${options?.detail ? ` (${options.detail})` : ''}`,
      options,
    );
  }
}
