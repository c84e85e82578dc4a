import { ConflictError } from '../../core/errors';

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
