import { BackendUnavailableError, ConfigError, ConflictError } from '../../core/errors';

/**
 * An If-Match write landed, but not as the version that follows the one it was checked
 * against: somebody wrote the parameter between our check and our write without going
 * through the API (or after our lease ran out). The value written is in place as
 * `writtenVersion`; the compare-and-set may have been violated, so this is not a success.
 * A ConflictError (409): re-read, then decide; a blind retry with the old If-Match gets 412.
 */
export class ConcurrentWriteDetectedError extends ConflictError {
  constructor(
    readonly keyRaw: string,
    readonly expectedVersion: number,
    readonly writtenVersion: number,
  ) {
    super(
      `'${keyRaw}' was written as version ${writtenVersion}, not ${expectedVersion + 1}: another writer changed it at the same ` +
        `time outside the API, so the If-Match condition may not have held. Re-read the key and check its value.`,
    );
  }
}

/** Errors meaning "try again later": throttling, service faults, the network. */
const UNAVAILABLE_NAMES = new Set([
  'ThrottlingException',
  'TooManyUpdates',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'TimeoutError',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function isSdkError(e: unknown, name: string): boolean {
  return e instanceof Error && e.name === name;
}

/**
 * Turns an SDK failure into a domain error where one applies; anything else (a bug,
 * missing permissions) is returned unchanged so it surfaces as a server fault.
 */
export function translateSdkError(e: unknown, service: string, doing: string): unknown {
  if (e instanceof ConfigError || !(e instanceof Error)) return e;
  const shape = e as SdkErrorShape;
  if (
    UNAVAILABLE_NAMES.has(shape.name ?? '') ||
    shape.$fault === 'server' ||
    NETWORK_CODES.has(shape.code ?? '') ||
    Boolean(shape.$retryable) ||
    // Went through the SDK but no HTTP answer came back (connection refused, reset, DNS): the
    // original code may be lost when the SDK re-wraps a socket error, the missing status is not.
    (shape.$metadata !== undefined && shape.$metadata.httpStatusCode === undefined && shape.$fault === undefined)
  ) {
    return new BackendUnavailableError(`${service} is unavailable while ${doing} (${shape.code ?? shape.name}); try again`, { cause: e });
  }
  return e;
}
