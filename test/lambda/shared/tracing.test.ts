/**
 * The Lambda handler's tracing (lambda/shared/tracing.ts) with the real Powertools Tracer and
 * X-Ray SDK, as inside Lambda: a facade segment from `_X_AMZN_TRACE_ID`, and the subsegments
 * the SDK emits captured from a UDP socket standing in for the X-Ray daemon.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';

interface EmittedSubsegment {
  name: string;
  trace_id: string;
  annotations?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  fault?: boolean;
  error?: boolean;
  cause?: unknown;
}

let daemon: Socket;
const received: EmittedSubsegment[] = [];
let tracing: typeof import('../../../lambda/shared/tracing');

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    // `{"format":"json","version":1}\n{...segment...}`
    const [, body] = message.toString('utf8').split('\n');
    if (body) received.push(JSON.parse(body) as EmittedSubsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  const { port } = daemon.address() as AddressInfo;
  // What Lambda sets: read by the X-Ray SDK and the Tracer when they load.
  Object.assign(process.env, {
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: 'config-api',
    POWERTOOLS_TRACE_ENABLED: 'true',
    POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
    _X_AMZN_TRACE_ID: `Root=${ROOT};Parent=557abcec3ee5a047;Sampled=1`,
  });
  // Loaded only now, after the variables: the X-Ray SDK reads the daemon address when it loads.
  tracing = require('../../../lambda/shared/tracing') as typeof import('../../../lambda/shared/tracing');
});

afterAll(() => {
  daemon.close();
  for (const key of [
    'AWS_XRAY_DAEMON_ADDRESS',
    'LAMBDA_TASK_ROOT',
    'AWS_EXECUTION_ENV',
    'AWS_LAMBDA_FUNCTION_NAME',
    'POWERTOOLS_TRACE_ENABLED',
    '_X_AMZN_TRACE_ID',
  ]) {
    delete process.env[key];
  }
});

async function emitted(name: string): Promise<EmittedSubsegment> {
  for (let i = 0; i < 200; i++) {
    const found = received.find((s) => s.name === name);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no subsegment '${name}' reached the daemon; got ${JSON.stringify(received.map((s) => s.name))}`);
}

describe('traceHandler (Powertools Tracer, X-Ray)', () => {
  it('wraps an invocation in its subsegment with cold start, service and the handler’s annotations, and no response', async () => {
    // Arrange
    const tracer = tracing.createTracer('config-api');
    const handler = tracing.traceHandler(
      tracer,
      'config-api',
      async (event: { routeKey: string }) => ({ statusCode: 200, body: '{"value":"secret-value"}', route: event.routeKey }),
      (event, result) => ({ route: event.routeKey, tenant: 'acme', status: result?.statusCode, skipped: undefined }),
    );
    // Act
    const result = await handler({ routeKey: 'GET /config/{key+}' }, {});
    // Assert
    expect(result.statusCode).toBe(200);
    const subsegment = await emitted('## config-api');
    expect(subsegment.trace_id).toBe(ROOT);
    expect(subsegment.annotations).toEqual({ ColdStart: expect.any(Boolean), Service: 'config-api', route: 'GET /config/{key+}', tenant: 'acme', status: 200 });
    expect(JSON.stringify(subsegment)).not.toContain('secret-value');
    expect(tracer.getRootXrayTraceId()).toBe(ROOT);
  });

  it('records a thrown error on the subsegment and rethrows it', async () => {
    const tracer = tracing.createTracer('cache-refresh');
    const handler = tracing.traceHandler(tracer, 'cache-refresh', async () => {
      throw new Error('cache unavailable');
    });
    await expect(handler({}, {})).rejects.toThrow('cache unavailable');
    const subsegment = await emitted('## cache-refresh');
    expect(subsegment.annotations).toMatchObject({ ColdStart: expect.any(Boolean), Service: 'cache-refresh' });
    expect(subsegment.fault || subsegment.error).toBe(true);
    expect(JSON.stringify(subsegment.cause)).toContain('cache unavailable');
  });

  it('runs the handler as it is when tracing is off', async () => {
    const calls: string[] = [];
    const off = {
      isTracingEnabled: () => false,
      getSegment: () => {
        calls.push('getSegment');
        return undefined;
      },
    } as unknown as Parameters<typeof tracing.traceHandler>[0];
    const handler = tracing.traceHandler(off, 'x', async (event: number) => event + 1);
    expect(await handler(1, {})).toBe(2);
    expect(calls).toEqual([]);
  });
});
