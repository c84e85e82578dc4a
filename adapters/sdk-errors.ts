/**
 * AWS SDK failures → domain errors, for every adapter (DynamoDB, Parameter Store, the write
 * lease): one list of names, so a failure of one store means the same status whoever called it.
 * Matches on error names, fault and status, never on message text (which AWS may reword).
 */
import { BackendUnavailableError, ConfigError, ThrottledError } from '../core/errors';

/** The store refused the rate of requests: retry with backoff. */
const THROTTLED_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  // Parameter Store: too many concurrent updates of one parameter.
  'TooManyUpdates',
  // DynamoDB: a provisioned table's or an account's throughput.
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** The store could not answer now: service faults and timeouts. */
const UNAVAILABLE_NAMES = new Set([
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Quotas that no retry of ours lifts, yet are the store's capacity rather than a bug of the request. */
const QUOTA_MESSAGES: Readonly<Record<string, string>> = {
  ParameterLimitExceeded:
    "the account's Parameter Store parameter quota is used up (10,000 standard parameters per region): delete unused parameters or have an operator enable the advanced tier",
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ECONNABORTED']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

/** True for an SDK error of the given name (the SDK's exception classes set `name`). */
export function isSdkError(e: unknown, name: string): boolean {
  return e instanceof Error && e.name === name;
}

/**
 * Turns an SDK failure into a domain error where one applies: throttling → ThrottledError,
 * service faults, timeouts and no answer at all → BackendUnavailableError (both 503). Anything
 * else (a bug, missing permissions, a table that does not exist) is returned unchanged, so it
 * surfaces as a server fault and is not retried as if it would pass.
 */
export function translateSdkError(e: unknown, service: string, doing: string): unknown {
  if (e instanceof ConfigError || !(e instanceof Error)) return e;
  const shape = e as SdkErrorShape;
  const name = shape.name ?? '';
  const what = shape.code ?? name;
  if (THROTTLED_NAMES.has(name) || shape.$retryable?.throttling === true) {
    return new ThrottledError(`${service} is throttling requests while ${doing} (${what}); try again shortly`, { cause: e });
  }
  if (name in QUOTA_MESSAGES) {
    return new BackendUnavailableError(`${service} cannot take this write while ${doing}: ${QUOTA_MESSAGES[name]} (${name})`, { cause: e });
  }
  const status = shape.$metadata?.httpStatusCode;
  if (
    UNAVAILABLE_NAMES.has(name) ||
    shape.$fault === 'server' ||
    (status !== undefined && status >= 500) ||
    NETWORK_CODES.has(shape.code ?? '') ||
    Boolean(shape.$retryable) ||
    // Went through the SDK but no HTTP answer came back (connection refused, reset, DNS): the
    // original code may be lost when the SDK re-wraps a socket error, the missing status is not.
    (shape.$metadata !== undefined && status === undefined && shape.$fault === undefined)
  ) {
    return new BackendUnavailableError(`${service} is unavailable while ${doing} (${what}); try again`, { cause: e });
  }
  return e;
}
