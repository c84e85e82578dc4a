import { ParameterLimitExceeded } from '@aws-sdk/client-ssm';
import { translateSdkError } from '../../../adapters/sdk-errors';
import * as errors from '../../../core/errors';
import { EdgeProblem, INTERNAL_DETAIL, PROBLEMS, problemFromError, problemType } from '../../../lambda/shared/problem';

type ErrorClass = new (message: string) => errors.ConfigError;

/** Every concrete ConfigError class core/errors.ts exports. */
const errorClasses: ErrorClass[] = Object.values(errors as Record<string, unknown>).filter(
  (v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof errors.ConfigError,
);

describe('problem details', () => {
  it('maps every domain error class to its own row, type and status', () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(14);
    for (const ErrorClass of errorClasses) {
      const error = new ErrorClass('what went wrong');
      const { response, kind } = problemFromError(error, 'r-1');
      const body = JSON.parse(response.body!);
      expect(kind).toBe(error.kind);
      expect(response.statusCode).toBe(PROBLEMS[error.kind].status);
      expect(body).toEqual({
        type: problemType(error.kind),
        title: PROBLEMS[error.kind].title,
        status: response.statusCode,
        detail: 'what went wrong',
        requestId: 'r-1',
      });
      expect(response.headers!['content-type']).toBe('application/problem+json');
    }
  });

  it('has stable type URIs, one per kind', () => {
    const types = Object.keys(PROBLEMS).map((k) => problemType(k as keyof typeof PROBLEMS));
    expect(new Set(types).size).toBe(types.length);
    expect(problemType('invalid-key')).toBe('https://tenant-config.dev/problems/invalid-key');
  });

  it.each([
    [new errors.InvalidKeyError('x'), 400],
    [new errors.UnknownTagError('x'), 400],
    [new errors.InvalidValueError('x'), 400],
    [new errors.ValueTooLargeError('x'), 413],
    [new errors.InvalidRequestError('x'), 400],
    [new errors.InvalidPageTokenError('x'), 400],
    [new errors.UnauthenticatedError('x'), 401],
    [new errors.InvalidTenantError('x'), 403],
    [new errors.ForbiddenError('x'), 403],
    [new errors.NotFoundError('x'), 404],
    [new errors.PreconditionFailedError('x'), 412],
    [new errors.ConflictError('x'), 409],
    [new errors.BackendUnavailableError('x'), 503],
    [new errors.ThrottledError('x'), 429],
  ])('%p → %i', (error, status) => {
    expect(problemFromError(error).response.statusCode).toBe(status);
  });

  it('412 carries the current version as ETag when it is known', () => {
    expect(problemFromError(new errors.PreconditionFailedError('x', 4)).response.headers!.etag).toBe('"4"');
    expect(problemFromError(new errors.PreconditionFailedError('x')).response.headers!.etag).toBeUndefined();
  });

  it('409 and 503 tell the caller when to retry; 401 names the scheme', () => {
    expect(Number(problemFromError(new errors.ConflictError('x')).response.headers!['retry-after'])).toBeGreaterThan(0);
    expect(Number(problemFromError(new errors.BackendUnavailableError('x')).response.headers!['retry-after'])).toBeGreaterThan(0);
    expect(problemFromError(new errors.UnauthenticatedError('x')).response.headers!['www-authenticate']).toBe('Bearer');
  });

  it('throttling is a 429 with its own type and a Retry-After; a used-up quota stays a 503 that names it', () => {
    const throttling = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const throttled = problemFromError(translateSdkError(throttling, 'Parameter Store', 'reading a parameter'), 'r-2');
    expect(throttled.kind).toBe('throttled');
    expect(throttled.response.statusCode).toBe(429);
    expect(JSON.parse(throttled.response.body!)).toMatchObject({
      type: 'https://tenant-config.dev/problems/throttled',
      title: 'Too many requests',
      status: 429,
      detail: expect.stringMatching(/Parameter Store is throttling requests while reading a parameter \(ThrottlingException\)/),
    });
    expect(Number(throttled.response.headers!['retry-after'])).toBeGreaterThan(0);

    const quota = new ParameterLimitExceeded({ message: 'limit', $metadata: { httpStatusCode: 400 } });
    const full = problemFromError(translateSdkError(quota, 'Parameter Store', "writing 'paramconfig:x'"));
    expect(full.kind).toBe('backend-unavailable');
    expect(full.response.statusCode).toBe(503);
    expect(JSON.parse(full.response.body!).detail).toMatch(/parameter quota is used up \(10,000 standard parameters per region\).*advanced tier/);
    expect(Number(full.response.headers!['retry-after'])).toBeGreaterThan(0);
  });

  it('edge problems keep their kind and headers', () => {
    const { response } = problemFromError(new EdgeProblem('method-not-allowed', 'no', { allow: 'GET' }));
    expect(response.statusCode).toBe(405);
    expect(response.headers!.allow).toBe('GET');
  });

  it.each([new Error('password=hunter2 at db:5432'), new TypeError('x is undefined'), 'a thrown string', undefined])(
    'anything else (%p) is a 500 that reveals nothing',
    (thrown) => {
      const { response, kind } = problemFromError(thrown, 'r-9');
      expect(kind).toBe('internal');
      expect(response.statusCode).toBe(500);
      expect(JSON.parse(response.body!)).toEqual({
        type: problemType('internal'),
        title: 'Internal error',
        status: 500,
        detail: INTERNAL_DETAIL,
        requestId: 'r-9',
      });
    },
  );
});
