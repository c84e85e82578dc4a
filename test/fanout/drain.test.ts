/**
 * grpc.health.v1 and the drain a deploy relies on: SERVING, then NOT_SERVING once draining;
 * `reconnect` to every open stream; no new streams; done before the deadline even when a
 * client has stopped reading.
 */
import * as grpc from '@grpc/grpc-js';
import { WATCH_SERVICE_NAME } from '../../fanout/server';
import { harnessPerSuite, healthClient, sleep, type FanoutHarness } from './harness';

type HealthResponse = { status: string };

function check(client: ReturnType<typeof healthClient>, service: string): Promise<{ error?: grpc.ServiceError; response?: HealthResponse }> {
  return new Promise((resolve) => {
    (client.Check as (req: object, cb: (e: grpc.ServiceError | null, r?: HealthResponse) => void) => void)({ service }, (error, response) =>
      resolve({ error: error ?? undefined, response }),
    );
  });
}

describe('health service and drain', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { heartbeatIntervalMs: 60_000 }, connection: { drainDeadlineMs: 3000 } }, (x) => (h = x));

  it('answers SERVING for the server and for ConfigWatch, NOT_FOUND for an unknown service', async () => {
    const client = healthClient(h.address);
    expect((await check(client, '')).response?.status).toBe('SERVING');
    expect((await check(client, WATCH_SERVICE_NAME)).response?.status).toBe('SERVING');
    expect((await check(client, 'no.such.Service')).error?.code).toBe(grpc.status.NOT_FOUND);
    client.close();
  });

  it('on drain: health turns NOT_SERVING, every stream gets reconnect and ends OK, new streams are refused', async () => {
    // Arrange
    await h.writer.put('drain', 'tenantconfig:a', 1);
    const watches = [h.watch(h.token('drain')), h.watch(h.token('drain')), h.watch(h.token('other'))];
    await Promise.all(watches.map((w) => w.until((r) => r.snapshots.length === 1)));
    const health = healthClient(h.address);
    const statuses: string[] = [];
    const healthWatch = (health.Watch as (req: object) => grpc.ClientReadableStream<HealthResponse>)({ service: '' });
    healthWatch.on('data', (r: HealthResponse) => statuses.push(r.status));
    healthWatch.on('error', () => undefined);
    await sleep(100);

    // Act
    const started = Date.now();
    await h.server.drain();
    const took = Date.now() - started;

    // Assert
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
    for (const w of watches) {
      const status = await w.status;
      expect(status.code).toBe(grpc.status.OK);
      expect(w.events.at(-1)?.event).toBe('reconnect');
      expect(w.events.at(-1)?.reconnect?.reason).toMatch(/draining/);
    }
    expect(took).toBeLessThan(3000);
    expect(h.metrics.eventsSentByKind.reconnect).toBe(3);
    expect(h.metrics.streamsOpen).toBe(0);
    const late = await h.watch(h.token('drain')).status;
    expect(late.code).toBe(grpc.status.UNAVAILABLE);
    health.close();
  });
});

describe('drain with a consumer that stopped reading', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { heartbeatIntervalMs: 60_000 }, connection: { drainDeadlineMs: 500 } }, (x) => (h = x));

  it('gives up waiting at the deadline and closes what is left', async () => {
    // Arrange: a paused client with its flow-control window full.
    const stuck = h.watch(h.token('stuck'));
    await stuck.until((r) => r.snapshots.length === 1);
    stuck.call.pause();
    const padding = 'z'.repeat(8000);
    for (let i = 0; i < 60; i++) {
      await h.writer.put('stuck', `tenantconfig:k${i % 3}`, { i, padding });
      await new Promise((r) => setImmediate(r));
    }
    await sleep(100);

    // Act
    const started = Date.now();
    await h.server.drain();
    const took = Date.now() - started;

    // Assert
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(1500);
    stuck.call.resume();
    const status = await stuck.status;
    expect(status.code).not.toBe(grpc.status.OK);
  });
});
