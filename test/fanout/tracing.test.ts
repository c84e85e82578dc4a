/**
 * Fanout spans (fanout/tracing.ts) over a real server and real gRPC clients, exported to an
 * InMemorySpanExporter: one `Watch setup` span per Watch with its phases, and one
 * `deliver changes` span per hub batch, however many streams the batch reaches.
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { readFanoutEnvironment } from '../../fanout/environment';
import { FanoutTracing, useFanoutTracing } from '../../fanout/tracing';
import { startHarness, waitFor, type FanoutHarness } from './harness';

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

describe('fanout tracing (OpenTelemetry)', () => {
  let exporter: InMemorySpanExporter;
  let tracing: FanoutTracing;
  let h: FanoutHarness;

  beforeAll(async () => {
    exporter = new InMemorySpanExporter();
    tracing = FanoutTracing.withExporter(exporter, { simple: true });
    useFanoutTracing(tracing);
    h = await startHarness({ changeLog: (log) => tracing.traceChangeLog(log), watch: { heartbeatIntervalMs: 60_000 } });
  });

  afterAll(async () => {
    await h.close();
    useFanoutTracing(undefined);
    await tracing.shutdown();
  });

  beforeEach(() => exporter.reset());

  it('records the setup of a Watch: authenticate, resolve tenants and snapshot as children of one span', async () => {
    // Arrange
    await h.writer.put('acme', 'tenantconfig:plan', 'gold');
    // Act
    const watch = h.watch(h.token('acme'));
    await watch.until((r) => r.snapshots.length === 1, 5000, 'the snapshot');
    await waitFor(() => named(exporter.getFinishedSpans(), 'Watch setup').length === 1, 'the setup span');
    // Assert
    const spans = exporter.getFinishedSpans();
    const [setup] = named(spans, 'Watch setup');
    expect(setup.attributes).toMatchObject({ 'watch.principal': 'tenant-reader', 'watch.tenants': 1, 'watch.resumed': false });
    const children = spans.filter((s) => s.parentSpanContext?.spanId === setup.spanContext().spanId);
    expect(children.map((s) => s.name)).toEqual(['authenticate', 'resolve tenants', 'snapshot']);
    expect(children.every((s) => s.spanContext().traceId === setup.spanContext().traceId)).toBe(true);
    expect(named(spans, 'snapshot')[0].attributes).toEqual({ 'snapshot.reason': 'INITIAL' });
    // No token, key or value in any attribute.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/gold|tenantconfig:plan|Bearer/);
    watch.cancel();
  });

  it('marks a refused Watch’s setup as failed, at the phase that refused it', async () => {
    const watch = h.watch('not-a-token');
    await watch.status;
    await waitFor(() => named(exporter.getFinishedSpans(), 'Watch setup').length === 1, 'the setup span');
    const spans = exporter.getFinishedSpans();
    expect(named(spans, 'Watch setup')[0].status.code).toBe(2);
    expect(named(spans, 'authenticate')[0].status.code).toBe(2);
    expect(named(spans, 'snapshot')).toHaveLength(0);
  });

  it('makes one delivery span per hub batch, not one per stream', async () => {
    // Arrange: five live streams of one tenant.
    const watches = Array.from({ length: 5 }, () => h.watch(h.token('acme')));
    for (const w of watches) await w.until((r) => r.snapshots.length === 1, 5000, 'the snapshot');
    await waitFor(() => named(exporter.getFinishedSpans(), 'Watch setup').length === 5, 'five setup spans');
    exporter.reset();
    // Act
    await h.writer.put('acme', 'tenantconfig:plan', 'platinum');
    for (const w of watches) await w.until((r) => r.changes.length === 1, 5000, 'the change');
    // Assert
    const deliveries = named(exporter.getFinishedSpans(), 'deliver changes');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0].attributes).toEqual({ 'fanout.batch.events': 1, 'fanout.batch.shards': 1 });
    expect(exporter.getFinishedSpans().filter((s) => s.name !== 'deliver changes')).toEqual([]);
    for (const w of watches) w.cancel();
  });
});

describe('tracing settings', () => {
  const minimal = {
    JWT_ISSUER: 'https://issuer.example.com/pool',
    JWT_AUDIENCE: 'client',
    CACHE_REDIS_URL: 'redis://127.0.0.1:6379',
    TABLE_NAME: 'tenant-config',
    SSM_ROOT: 'tenant-config',
    STAGE: 'dev',
  };

  it('is off unless configured', () => {
    expect(readFanoutEnvironment(minimal).tracing).toBe('off');
  });

  it('is on with an OTLP endpoint, or with FANOUT_TRACING=otlp; FANOUT_TRACING=off wins', () => {
    expect(readFanoutEnvironment({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing).toBe('otlp');
    expect(readFanoutEnvironment({ ...minimal, FANOUT_TRACING: 'otlp' }).tracing).toBe('otlp');
    expect(readFanoutEnvironment({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', FANOUT_TRACING: 'off' }).tracing).toBe('off');
    expect(() => readFanoutEnvironment({ ...minimal, FANOUT_TRACING: 'xray' })).toThrow(/FANOUT_TRACING/);
  });
});
