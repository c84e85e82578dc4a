/** The fanout's settings (read once, defaults filled, a bad or missing one named), server options, metrics. */
import { readFanoutEnvironment } from '../../fanout/environment';
import { EmfFanoutMetrics } from '../../fanout/metrics';
import { DEFAULT_CONNECTION_SETTINGS, encodeSharedMessagesOnce, serverOptions } from '../../fanout/server';
import { loadConfigProto } from '../../proto/load';
import { Metrics } from '@aws-lambda-powertools/metrics';

const minimal = {
  JWT_ISSUER: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
  JWT_AUDIENCE: 'client-a, client-b',
  CACHE_REDIS_URL: 'rediss://user:secret@cache.example:6380',
  TABLE_NAME: 'tenant-config-dev',
  SSM_ROOT: '/tenant-config/',
  STAGE: 'dev',
};

describe('readFanoutEnvironment', () => {
  it('fills the defaults from a minimal environment', () => {
    const env = readFanoutEnvironment(minimal);
    expect(env.host).toBe('0.0.0.0');
    expect(env.port).toBe(50051);
    expect(env.jwt).toEqual({
      issuer: minimal.JWT_ISSUER,
      audience: ['client-a', 'client-b'],
      jwksUri: undefined,
      jwks: undefined,
      tokenUse: 'access',
    });
    expect(env.redis).toMatchObject({ host: 'cache.example', port: 6380, tls: true, username: 'user', password: 'secret' });
    expect(env.backends).toEqual({ tableName: 'tenant-config-dev', ssmRoot: 'tenant-config', stage: 'dev', ssmKmsKeyId: undefined });
    expect(env.watch).toEqual({ tenantClaim: 'tenant_id' });
    expect(env.metrics).toBe('emf');
    expect(env.eventsPort).toBeUndefined();
    expect(env.events).toEqual({ allowedOrigins: [] });
  });

  it('reads the tuning variables', () => {
    const env = readFanoutEnvironment({
      ...minimal,
      GRPC_PORT: '6000',
      TENANT_CLAIM: 'custom:tenant_id',
      WATCH_HEARTBEAT_MS: '5000',
      WATCH_MAX_QUEUE_EVENTS: '2048',
      WATCH_MAX_STREAM_AGE_MS: '0',
      WATCH_MAX_STREAMS_PER_CONNECTION: '50',
      WATCH_MAX_STREAMS_PER_IDENTITY: '200',
      WATCH_SNAPSHOT_PAGE_BYTES: '131072',
      WATCH_SLOW_CONSUMER_GRACE_MS: '250',
      GRPC_MAX_CONNECTION_AGE_MS: '600000',
      DRAIN_DEADLINE_MS: '25000',
      JWT_TOKEN_USE: 'any',
      EVENTS_PORT: '8081',
      EVENTS_ALLOWED_ORIGINS: 'https://console.example.com, http://localhost:5173',
    });
    expect(env.port).toBe(6000);
    expect(env.eventsPort).toBe(8081);
    expect(env.events).toEqual({ allowedOrigins: ['https://console.example.com', 'http://localhost:5173'] });
    expect(env.watch).toEqual({
      tenantClaim: 'custom:tenant_id',
      heartbeatIntervalMs: 5000,
      maxQueueEvents: 2048,
      maxStreamAgeMs: 0,
      maxStreamsPerConnection: 50,
      maxStreamsPerIdentity: 200,
      snapshotPageBytes: 131072,
      slowConsumerGraceMs: 250,
    });
    expect(env.connection).toEqual({ maxConnectionAgeMs: 600000, drainDeadlineMs: 25000 });
    expect(env.jwt.tokenUse).toBeNull();
  });

  it.each([
    ['JWT_ISSUER', { JWT_ISSUER: undefined }, /JWT_ISSUER is not set/],
    ['JWT_ISSUER', { JWT_ISSUER: 'not a url' }, /JWT_ISSUER must be an http\(s\) URL/],
    ['JWT_AUDIENCE', { JWT_AUDIENCE: ' , ' }, /JWT_AUDIENCE/],
    ['CACHE_REDIS_URL', { CACHE_REDIS_URL: undefined }, /CACHE_REDIS_URL is not set/],
    ['TABLE_NAME', { TABLE_NAME: undefined }, /TABLE_NAME is not set/],
    ['STAGE', { STAGE: 'a/b' }, /STAGE must be/],
    ['GRPC_PORT', { GRPC_PORT: '70000' }, /GRPC_PORT must be an integer/],
    ['WATCH_MAX_QUEUE_EVENTS', { WATCH_MAX_QUEUE_EVENTS: '2' }, /WATCH_MAX_QUEUE_EVENTS must be an integer from 16/],
    ['JWT_TOKEN_USE', { JWT_TOKEN_USE: 'refresh' }, /JWT_TOKEN_USE/],
    [
      'WATCH_MAX_STREAMS_PER_CONNECTION',
      { WATCH_MAX_STREAMS_PER_CONNECTION: '0' },
      /WATCH_MAX_STREAMS_PER_CONNECTION must be an integer from 1 to 10000, got '0'/,
    ],
    ['WATCH_MAX_STREAMS_PER_IDENTITY', { WATCH_MAX_STREAMS_PER_IDENTITY: 'many' }, /WATCH_MAX_STREAMS_PER_IDENTITY must be an integer from 1/],
    ['WATCH_SNAPSHOT_PAGE_BYTES', { WATCH_SNAPSHOT_PAGE_BYTES: '100' }, /WATCH_SNAPSHOT_PAGE_BYTES must be an integer from 1024 to 4194304/],
    ['WATCH_SLOW_CONSUMER_GRACE_MS', { WATCH_SLOW_CONSUMER_GRACE_MS: '-1' }, /WATCH_SLOW_CONSUMER_GRACE_MS must be an integer from 0/],
    ['JWT_JWKS_FILE', { JWT_JWKS_FILE: '/nonexistent/jwks.json' }, /JWT_JWKS_FILE cannot be read/],
    ['TENANT_CLAIM', { TENANT_CLAIM: 'has space' }, /TENANT_CLAIM must be a claim name/],
    ['EVENTS_PORT', { EVENTS_PORT: 'http' }, /EVENTS_PORT must be an integer from 0 to 65535/],
    ['EVENTS_ALLOWED_ORIGINS', { EVENTS_ALLOWED_ORIGINS: '*' }, /EVENTS_ALLOWED_ORIGINS must list origins/],
    ['EVENTS_ALLOWED_ORIGINS', { EVENTS_ALLOWED_ORIGINS: 'https://console.example.com/app' }, /EVENTS_ALLOWED_ORIGINS must list origins/],
  ])('fails fast naming %s', (_name, change, message) => {
    expect(() => readFanoutEnvironment({ ...minimal, ...change })).toThrow(message);
  });
});

describe('server options', () => {
  it('sets connection age with a grace longer than a stream lives, keepalive, and the ping policy', () => {
    const options = serverOptions(DEFAULT_CONNECTION_SETTINGS, 30 * 60_000);
    expect(options).toMatchObject({
      'grpc.max_connection_age_ms': 30 * 60_000,
      'grpc.max_connection_age_grace_ms': 31 * 60_000,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    });
  });
});

describe('encodeSharedMessagesOnce', () => {
  it('encodes a message object shared by many streams once, and equal bytes each time', () => {
    // Arrange
    const original = loadConfigProto().tenantconfig.v1.ConfigWatch.service;
    let encodes = 0;
    const counting = {
      Watch: {
        ...original.Watch,
        responseSerialize: (v: object) => {
          encodes += 1;
          return original.Watch.responseSerialize(v);
        },
      },
    } as unknown as typeof original;
    const service = encodeSharedMessagesOnce(counting);
    const message = { event: 'heartbeat' as const, heartbeat: { cursor: 'c1.0.aaaaaaaaaaaa.1-0' } };

    // Act
    const bytes = Array.from({ length: 1000 }, () => service.Watch.responseSerialize(message));
    const other = service.Watch.responseSerialize({ ...message });

    // Assert
    expect(encodes).toBe(2);
    expect(bytes.every((b) => b.equals(other))).toBe(true);
  });
});

describe('EmfFanoutMetrics', () => {
  it('publishes one EMF document with the interval counts', () => {
    // Arrange
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const metrics = new EmfFanoutMetrics(new Metrics({ namespace: 'TenantConfigTest', serviceName: 'fanout' }), 3_600_000);

    // Act
    metrics.streamOpened();
    metrics.streamOpened();
    metrics.streamClosed();
    metrics.eventSent('change');
    metrics.eventSent('heartbeat');
    metrics.slowConsumerCut();
    metrics.streamRefused('connection');
    metrics.streamRefused('identity');
    metrics.logLag(40);
    metrics.logLag(60);
    metrics.stop();
    spy.mockRestore();

    // Assert
    const doc = JSON.parse(lines.find((l) => l.includes('CloudWatchMetrics'))!) as Record<string, unknown>;
    expect(doc).toMatchObject({ StreamsOpen: 1, StreamsOpened: 2, EventsSent: 2, SlowConsumersCut: 1, StreamsRefused: 2, LogLagAvg: 50, LogLagMax: 60 });
  });
});
