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
