/** Domain errors → gRPC status: the gRPC twin of the HTTP problem table (fanout/grpc-status.ts). */
import { status } from '@grpc/grpc-js';
import * as errors from '../../core/errors';
import { GrpcStatusError, THROTTLED_PUSHBACK_MS, toStatus } from '../../fanout/grpc-status';

describe('toStatus', () => {
  it.each([
    [new errors.InvalidKeyError('bad key'), status.INVALID_ARGUMENT],
    [new errors.UnauthenticatedError('no token'), status.UNAUTHENTICATED],
    [new errors.ForbiddenError('not yours'), status.PERMISSION_DENIED],
    [new errors.NotFoundError('gone'), status.NOT_FOUND],
    [new errors.ConflictError('leased'), status.ABORTED],
    [new errors.BackendUnavailableError('down'), status.UNAVAILABLE],
    [new errors.ThrottledError('slow down'), status.UNAVAILABLE],
  ])('%p → %i, with its message', (error, code) => {
    expect(toStatus(error)).toMatchObject({ code, details: error.message });
  });

  it('a throttled store is UNAVAILABLE with a retry pushback; any other unavailable store has none', () => {
    const throttled = toStatus(new errors.ThrottledError('Parameter Store is throttling requests while reading a parameter'));
    expect(throttled.code).toBe(status.UNAVAILABLE);
    expect(throttled.metadata.get('grpc-retry-pushback-ms')).toEqual([String(THROTTLED_PUSHBACK_MS)]);
    expect(toStatus(new errors.BackendUnavailableError('down')).metadata.get('grpc-retry-pushback-ms')).toEqual([]);
  });

  it('keeps raised statuses and hides anything else behind INTERNAL', () => {
    expect(toStatus(new GrpcStatusError(status.RESOURCE_EXHAUSTED, 'slow consumer'))).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'slow consumer',
    });
    expect(toStatus(new Error('password=hunter2'))).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
  });
});
