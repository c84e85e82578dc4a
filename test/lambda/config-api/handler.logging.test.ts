/**
 * The access log: structured JSON with tenant, request id, route, status and latency,
 * and never a value — above all not the value of a secret tag.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { apiEvent, operatorClaims, readerClaims, serviceClaims } from '../support/api-event';
import { createHarness, valueBody } from '../support/harness';

/** Runs `act` while capturing everything written to stdout and stderr (where Powertools writes). */
async function captureOutput(act: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

const logLines = (output: string): Array<Record<string, unknown>> =>
  output
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('config-api handler: logging', () => {
  const SECRET = 'pa55-w0rd-that-must-never-be-logged';

  it('a PUT to a secret tag logs the request but not the value, even when it fails', async () => {
    const logger = new Logger({ serviceName: 'config-api', logLevel: 'DEBUG' });
    const api = createHarness({ logger });

    const output = await captureOutput(async () => {
      const ok = await api.call({ method: 'PUT', path: '/v1/config/secretconfig:db/password', body: valueBody(SECRET) });
      expect(ok.status).toBe(201);
      const read = await api.call({ method: 'GET', path: '/v1/config/secretconfig:db/password' });
      expect(read.body.value).toBe(SECRET);
      await api.call({ method: 'GET', path: '/v1/history/secretconfig:db/password' });
      await api.call({ method: 'GET', path: '/v1/config', query: { prefix: 'secretconfig:' } });
      // Failures too: a malformed body, an oversized one, and a backend blowing up mid-write.
      await api.call({ method: 'PUT', path: '/v1/config/secretconfig:db/password', body: `{"value":"${SECRET}", "x": 1}` });
      await api.call({ method: 'PUT', path: '/v1/config/secretconfig:db/password', body: valueBody(SECRET.repeat(200)) });
      api.backends.ssm.failNext('put', new Error('boom'));
      const failed = await api.call({ method: 'PUT', path: '/v1/config/secretconfig:db/password', body: valueBody(SECRET) });
      expect(failed.status).toBe(500);
    });

    const lines = logLines(output);
    expect(lines.length).toBeGreaterThanOrEqual(7);
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain('pa55');
  });

  it('one structured line per request with tenant, request id, route, key, status and latency', async () => {
    const logger = new Logger({ serviceName: 'config-api', logLevel: 'INFO' });
    const api = createHarness({ logger });

    const output = await captureOutput(() => api.call({ method: 'PUT', path: '/v1/config/tenantconfig:plan', body: valueBody('gold') }));

    const [line] = logLines(output);
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'request',
      service: 'config-api',
      tenant: 'acme',
      subject: 'admin-of-acme',
      requestId: expect.stringMatching(/^req-/),
      route: 'PUT /v1/config/{key+}',
      key: 'tenantconfig:plan',
      method: 'PUT',
      status: 201,
      latencyMs: expect.any(Number),
    });
    expect(JSON.stringify(line)).not.toContain('gold');
  });

  it('a 4xx names the problem kind; a 500 logs the error with the request id (the caller gets neither)', async () => {
    const logger = new Logger({ serviceName: 'config-api', logLevel: 'INFO' });
    const api = createHarness({ logger });
    api.backends.dynamodb.failNext('get', new Error('socket hang up'));

    const output = await captureOutput(async () => {
      await api.call({ method: 'GET', path: '/v1/config/nosuchtag:x' });
      await api.call({ method: 'GET', path: '/v1/config/tenantconfig:x' });
    });

    const lines = logLines(output);
    expect(lines.find((l) => l.status === 400)).toMatchObject({ problem: 'unknown-tag', level: 'INFO' });
    const failure = lines.find((l) => l.message === 'unexpected error');
    expect(failure).toMatchObject({ level: 'ERROR', requestId: expect.stringMatching(/^req-/) });
    expect(JSON.stringify(failure)).toContain('socket hang up');
    expect(lines.find((l) => l.status === 500)).toMatchObject({ problem: 'internal', level: 'WARN' });
  });

  it('adds the Lambda context when the runtime passes one', async () => {
    const logger = new Logger({ serviceName: 'config-api', logLevel: 'INFO' });
    const api = createHarness({ logger });
    const context = {
      functionName: 'config-api-dev',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:config-api-dev',
      memoryLimitInMB: '512',
      awsRequestId: 'lambda-req-1',
      logGroupName: '/aws/lambda/config-api-dev',
      logStreamName: 's',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => 1000,
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } as Context;

    const output = await captureOutput(() => api.handler(apiEvent({ method: 'GET', path: '/v1/config' }), context));

    expect(logLines(output)[0]).toMatchObject({ function_name: 'config-api-dev', function_request_id: 'lambda-req-1' });
  });
  it.each([
    [
      'an operator writing another tenant',
      { method: 'PUT', path: '/v1/tenants/globex/config/tenantconfig:plan', body: valueBody(1), claims: operatorClaims('alice') },
      { principal: 'operator', subject: 'alice', tenant: 'globex', status: 201 },
    ],
    [
      'a service reading a tenant',
      { method: 'GET', path: '/v1/tenants/acme/config/tenantconfig:plan', claims: serviceClaims('billing') },
      { principal: 'service', subject: 'billing', tenant: 'acme', status: 404 },
    ],
    [
      'a tenant reader refused another tenant',
      { method: 'GET', path: '/v1/tenants/globex/config', claims: readerClaims('acme') },
      { principal: 'tenant-reader', subject: 'reader-of-acme', tenant: 'globex', status: 403, problem: 'forbidden' },
    ],
  ] as const)('the access log line of %s names the principal kind, the subject and the tenant acted on', async (_what, request, expected) => {
    const api = createHarness({ logger: new Logger({ serviceName: 'config-api', logLevel: 'INFO' }) });

    const output = await captureOutput(() => api.call(request));

    const line = logLines(output).find((l) => l.message === 'request');
    expect(line).toMatchObject({ ...expected, route: expect.stringMatching(/^[A-Z]+ \/v1\/tenants\/\{tenantId\}\//) });
  });
});
