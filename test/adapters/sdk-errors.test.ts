/**
 * One translation of AWS SDK failures for every adapter: the same failure of the same store
 * becomes the same domain error whichever adapter met it (the DynamoDB backend or the
 * Parameter Store write lease, which live in one table).
 */
import { DynamoDBClient, ProvisionedThroughputExceededException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { ParameterLimitExceeded, TooManyUpdates } from '@aws-sdk/client-ssm';
import { DynamoDbConfigBackend } from '../../adapters/dynamodb/dynamodb-config-backend';
import { DynamoDbWriteLease } from '../../adapters/dynamodb/dynamodb-write-lease';
import { translateSdkError } from '../../adapters/sdk-errors';
import { BackendUnavailableError, ThrottledError } from '../../core/errors';
import { parseKey } from '../../core/key';
import { TagRegistry } from '../../core/tag-registry';
import { parseTenantId } from '../../core/tenant';
import { freePort, localClientConfig, startDynalite, type RunningServer } from '../support/servers';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

const tenant = parseTenantId('errors');
const key = parseKey('tenantconfig:x');
const ssmKey = parseKey('paramconfig:x');

describe('translateSdkError', () => {
  it.each([
    ['Parameter Store TooManyUpdates', new TooManyUpdates({ message: 'slow down', $metadata: {} })],
    [
      'ThrottlingException (either store)',
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'DynamoDB ProvisionedThroughputExceededException',
      new ProvisionedThroughputExceededException({ message: 'too fast', $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'DynamoDB RequestLimitExceeded',
      Object.assign(new Error('account limit'), { name: 'RequestLimitExceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'an error the SDK marks as throttling',
      Object.assign(new Error('x'), { name: 'SomethingNew', $retryable: { throttling: true }, $metadata: { httpStatusCode: 400 } }),
    ],
  ])('maps %s to ThrottledError: kind throttled (429), still an unavailable store to code that retries', (_what, error) => {
    const translated = translateSdkError(error, 'Store', 'reading');

    expect(translated).toBeInstanceOf(ThrottledError);
    expect(translated).toBeInstanceOf(BackendUnavailableError);
    expect((translated as ThrottledError).kind).toBe('throttled');
    expect((translated as Error).cause).toBe(error);
  });

  it('maps ParameterLimitExceeded to BackendUnavailableError that says which quota is used up', () => {
    const error = new ParameterLimitExceeded({ message: 'limit', $metadata: { httpStatusCode: 400 } });

    const translated = translateSdkError(error, 'Parameter Store', "writing 'paramconfig:x'");

    expect(translated).toBeInstanceOf(BackendUnavailableError);
    expect(translated).not.toBeInstanceOf(ThrottledError);
    expect((translated as BackendUnavailableError).kind).toBe('backend-unavailable');
    expect((translated as Error).message).toMatch(/parameter quota/);
  });

  it('maps service faults and 5xx to BackendUnavailableError, and leaves client errors alone', () => {
    const fault = Object.assign(new Error('boom'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    const gateway = Object.assign(new Error('bad gateway'), { name: 'UnknownError', $metadata: { httpStatusCode: 502 } });
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    // A message that merely mentions a socket is not a network failure: names and status decide, not text.
    const validation = Object.assign(new Error('socket option invalid'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

    expect(translateSdkError(fault, 'DynamoDB', 'reading')).toBeInstanceOf(BackendUnavailableError);
    expect(translateSdkError(gateway, 'DynamoDB', 'reading')).toBeInstanceOf(BackendUnavailableError);
    expect(translateSdkError(denied, 'Parameter Store', 'reading')).toBe(denied);
    expect(translateSdkError(validation, 'DynamoDB', 'reading')).toBe(validation);
    expect(
      translateSdkError(new ResourceNotFoundException({ message: 'no table', $metadata: { httpStatusCode: 400 } }), 'DynamoDB', 'reading'),
    ).not.toBeInstanceOf(BackendUnavailableError);
  });
});

describe('one table, one translation (dynalite)', () => {
  let dynalite: RunningServer;
  let client: DynamoDBClient;
  beforeAll(async () => {
    dynalite = await startDynalite({ inMemory: true });
    client = new DynamoDBClient(localClientConfig(dynalite.endpoint));
  });
  afterAll(async () => {
    client.destroy();
    await dynalite.stop();
  });

  it('a missing table is the same failure from the DynamoDB backend and from the write lease: a configuration fault, not "unavailable"', async () => {
    const backend = new DynamoDbConfigBackend({ client, tableName: 'no-such-table', registry: TagRegistry.default() });
    const lease = new DynamoDbWriteLease({ client, tableName: 'no-such-table' });

    const fromBackend = await rejectionOf(backend.put(tenant, { key, value: 1, updatedBy: 'w' }));
    const fromLease = await rejectionOf(lease.run(tenant, ssmKey, async () => 'never'));

    expect((fromBackend as Error).name).toBe('ResourceNotFoundException');
    expect((fromLease as Error).name).toBe('ResourceNotFoundException');
    expect(fromBackend).not.toBeInstanceOf(BackendUnavailableError);
  });

  it('an unreachable table is BackendUnavailableError from both', async () => {
    const dead = new DynamoDBClient({ ...localClientConfig(`http://127.0.0.1:${await freePort()}`), maxAttempts: 1 });
    try {
      const backend = new DynamoDbConfigBackend({ client: dead, tableName: 't', registry: TagRegistry.default() });
      const lease = new DynamoDbWriteLease({ client: dead, tableName: 't' });

      expect(await rejectionOf(backend.get(tenant, key))).toBeInstanceOf(BackendUnavailableError);
      expect(await rejectionOf(lease.run(tenant, ssmKey, async () => 'never'))).toBeInstanceOf(BackendUnavailableError);
    } finally {
      dead.destroy();
    }
  });
});
