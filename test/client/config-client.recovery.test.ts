/**
 * How soon an interrupted client comes back once the service answers again. The stream's own
 * schedule is made slow here (a 30 s base, every jitter draw at the top of its range): left to
 * it, the client would wait about 30 s. What brings it back within the recovery bound is the
 * HTTP fallback: retried on its own short schedule while it gets no answer, it retries the stream
 * as soon as it is answered, and while it answers the stream's backoff is capped low.
 */
import { ConfigClient, recoveryBoundMs, type ConfigClientOptions } from '../../client';
import { freePort } from '../support/servers';
import { acceptResume, item, ScriptedWatchServer, snapshotEvent } from './support/scripted-watch-server';
import { ListRouteServer, listItem } from './support/list-route-server';
import { fastTestOptions, recordingLogger, sleep, slowStreamRecovery, waitUntil } from './support/wait';

/** Slack for a loaded 2-core machine: servers starting, one HTTP load, one Watch round trip. */
const MARGIN_MS = 3_000;

const SLOW_STREAM = slowStreamRecovery({ backoffCapWhileHttpUpMs: 400, httpRetryCapMs: 300, reconnectJitterMs: 100 });
const BOUND_MS = recoveryBoundMs(SLOW_STREAM);

const clients: ConfigClient[] = [];
const servers: Array<{ stop(): Promise<void> }> = [];

function newClient(options: Partial<ConfigClientOptions> & { grpcTarget: string; httpBaseUrl: string }): ConfigClient {
  const client = new ConfigClient({ ...fastTestOptions(), ...SLOW_STREAM, ...options });
  clients.push(client);
  return client;
}

async function watchServer(port?: number): Promise<ScriptedWatchServer> {
  const server = new ScriptedWatchServer();
  server.script = (w) => {
    if (w.resumeCursor) acceptResume(w.call);
    else w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
  };
  await server.start(port);
  servers.push(server);
  return server;
}

async function listRoute(port?: number): Promise<ListRouteServer> {
  const http = new ListRouteServer();
  http.items = [listItem('tenantconfig:plan', 'gold', 1)];
  await http.start(port);
  servers.push(http);
  return http;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('ConfigClient recovery after an outage', () => {
  it('the bound of these settings is the lower stream cap (the HTTP retry plus jitter is shorter)', () => {
    expect(BOUND_MS).toBe(400);
  });

  it('retries the HTTP fallback on its own schedule while the service is down, and the stream as soon as HTTP answers', async () => {
    // Arrange: live, then the whole service goes away.
    const grpc = await watchServer();
    const http = await listRoute();
    const client = newClient({ grpcTarget: grpc.target, httpBaseUrl: http.baseUrl });
    await client.start();
    await grpc.stop();
    await http.stop();
    await waitUntil(() => client.status === 'interrupted', 'interrupted');
    await sleep(1_000); // several HTTP loads fail meanwhile

    // Act: the service comes back on the same addresses.
    const back = await watchServer(grpc.port);
    const httpBack = await listRoute(http.port);

    // Assert: HTTP was retried on its own schedule, then the stream was.
    await waitUntil(() => client.status === 'live', 'live again', BOUND_MS + MARGIN_MS);
    expect(httpBack.requests.length).toBeGreaterThanOrEqual(1);
    expect(back.watches[0].resumeCursor).toBe('1-0');
  });

  it('caps the stream backoff while HTTP answers, so the stream returns soon after the fanout does', async () => {
    // Arrange: the HTTP API answers throughout; nothing listens for gRPC yet.
    const grpcPort = await freePort();
    const http = await listRoute();
    const logger = recordingLogger();
    const client = newClient({ grpcTarget: `127.0.0.1:${grpcPort}`, httpBaseUrl: http.baseUrl, logger });
    await client.start();
    expect(client.statusReport.source).toBe('http');
    const delays = (): number[] => logger.lines.filter((l) => l.message.includes('after backoff')).map((l) => l.details?.delayMs as number);
    await waitUntil(() => delays().length >= 4, 'several stream retries while HTTP answers', 5_000);

    // Act: the fanout comes up.
    const grpc = await watchServer(grpcPort);

    // Assert: the first wait was the slow schedule's; once HTTP had answered, each stays below the lower cap.
    await waitUntil(() => client.status === 'live', 'live over the stream', BOUND_MS + MARGIN_MS);
    expect(delays()[0]).toBe(29_970);
    expect(
      delays()
        .slice(1)
        .every((d) => d < SLOW_STREAM.backoffCapWhileHttpUpMs),
    ).toBe(true);
    expect(grpc.watches.length).toBeGreaterThanOrEqual(1);
    expect(client.get('tenantconfig:plan')).toBe('gold');
  });

  it('does not retry early an HTTP load the service refused (4xx): the next try is a refresh away', async () => {
    const grpcPort = await freePort();
    const http = await listRoute();
    http.acceptedToken = 'another token';
    const client = newClient({ grpcTarget: `127.0.0.1:${grpcPort}`, httpBaseUrl: http.baseUrl, httpRefreshMs: 5_000 });
    void client.start().catch(() => undefined);

    await waitUntil(() => http.requests.length >= 1, 'a first HTTP load');
    await sleep(1_000);

    expect(http.requests).toHaveLength(1);
    expect(client.status).toBe('interrupted');
  });
});
