/**
 * `GET /v1/events`: the Watch as server-sent events, against a real fanout server (harness) and
 * read as a browser reads it (fetch + streaming body): snapshot pages then changes with their
 * cursors as ids, resume by `Last-Event-ID` or `?cursor=`, a trimmed cursor answered with a
 * fresh snapshot, heartbeats, the problems of a refused stream, CORS, and drain.
 */
import { request, type IncomingMessage } from 'node:http';
import { SCOPES } from '../../core/principal';
import { SseRecorder } from '../support/sse-client';
import { harnessPerSuite, sleep, waitFor, type FanoutHarness } from './harness';

const ORIGIN = 'https://console.example.com';

describe('events endpoint (SSE)', () => {
  let h: FanoutHarness;
  harnessPerSuite({ anyServiceClient: true, watch: { heartbeatIntervalMs: 300 }, events: { allowedOrigins: [ORIGIN] } }, (x) => (h = x));
  const events = (query = '') => `${h.eventsUrl}/v1/events${query}`;
  const open: SseRecorder[] = [];
  const sse = (...args: ConstructorParameters<typeof SseRecorder>) => {
    const r = new SseRecorder(...args);
    open.push(r);
    return r;
  };
  afterEach(() => {
    for (const r of open.splice(0)) r.cancel();
  });

  it('sends the snapshot, then each change with its cursor as the event id', async () => {
    // Arrange
    await h.writer.put('sse1', 'tenantconfig:a', { n: 1 });
    const stream = sse(events(), { token: h.token('sse1') });

    // Act
    const res = await stream.response;
    await stream.until((r) => r.snapshotDone, 5000, 'the snapshot');
    await h.writer.put('sse1', 'tenantconfig:b', 'two');
    await h.writer.remove('sse1', 'tenantconfig:a');
    await stream.until((r) => r.changes.length === 2, 5000, 'two changes');

    // Assert
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const snapshot = stream.events.find((e) => e.event === 'snapshot')!;
    expect(snapshot.data).toMatchObject({
      reason: 'INITIAL',
      more: false,
      items: [{ tenantId: 'sse1', key: 'tenantconfig:a', value: { n: 1 }, version: 1, source: 'tenant' }],
    });
    expect(snapshot.id).toBe(snapshot.data.cursor);
    const [put, removed] = stream.changes;
    expect(put).toMatchObject({ tenantId: 'sse1', key: 'tenantconfig:b', value: 'two', version: 1, deleted: false, source: 'tenant' });
    expect(removed).toMatchObject({ tenantId: 'sse1', key: 'tenantconfig:a', deleted: true });
    expect(removed).not.toHaveProperty('value');
    expect(stream.events.filter((e) => e.event === 'change').map((e) => e.id)).toEqual([put.cursor, removed.cursor]);
  });

  it('resumes from Last-Event-ID (or ?cursor=) with only the changes after it, no snapshot', async () => {
    // Arrange
    await h.writer.put('sse2', 'tenantconfig:a', 1);
    const first = sse(events(), { token: h.token('sse2') });
    await first.until((r) => r.snapshotDone);
    const cursor = first.lastEventId!;
    first.cancel();
    await h.writer.put('sse2', 'tenantconfig:a', 2);

    // Act
    const byHeader = sse(events(), { token: h.token('sse2'), lastEventId: cursor });
    const byQuery = sse(events(`?cursor=${encodeURIComponent(cursor)}`), { token: h.token('sse2') });
    await byHeader.until((r) => r.changes.length === 1);
    await byQuery.until((r) => r.changes.length === 1);

    // Assert
    for (const r of [byHeader, byQuery]) {
      expect(r.events.map((e) => e.event)).toEqual(['change']);
      expect(r.changes[0]).toMatchObject({ key: 'tenantconfig:a', value: 2, version: 2 });
    }
  });

  it('sends heartbeats with the newest cursor while idle, after a comment that opens the stream', async () => {
    // Arrange
    const stream = sse(events(), { token: h.token('sse3') });

    // Act
    await stream.until((r) => r.events.filter((e) => e.event === 'heartbeat').length >= 2, 5000, 'two heartbeats');

    // Assert
    expect(stream.comments[0]).toBe('stream open');
    const beat = stream.events.find((e) => e.event === 'heartbeat')!;
    expect(beat.id).toBe(beat.data.cursor);
    expect(beat.data.cursor).toMatch(/^c1\./);
  });

  it('follows named tenants for a service, narrowed by prefix, each item with its tenantId', async () => {
    // Arrange
    await h.writer.put('sse4a', 'tenantconfig:x/1', 1);
    await h.writer.put('sse4b', 'tenantconfig:x/2', 2);
    await h.writer.put('sse4b', 'tenantconfig:y', 3);
    const token = h.signer.signServiceToken({ service: 'svc', scopes: [SCOPES.read] });

    // Act
    const stream = sse(events('?tenants=sse4a,sse4b&prefix=tenantconfig:x/'), { token });
    await stream.until((r) => r.snapshotDone);

    // Assert
    expect(stream.snapshotItems.map((i) => `${i.tenantId}/${i.key}`).sort()).toEqual(['sse4a/tenantconfig:x/1', 'sse4b/tenantconfig:x/2']);
    expect(stream.lastEventId).toMatch(/^m1\./);
  });

  it.each([
    ['no token', undefined, '', 401, 'unauthenticated'],
    ['a malformed token', 'not-a-jwt', '', 401, 'unauthenticated'],
    ['another tenant', 'acme', '?tenants=globex', 403, 'forbidden'],
    ['an unknown parameter', 'acme', '?tenant=acme', 400, 'invalid-request'],
    ['a malformed cursor', 'acme', '?cursor=nope', 400, 'invalid-request'],
    ['a malformed prefix', 'acme', '?prefix=NoTag', 400, 'invalid-request'],
  ])('refuses %s with a problem before the stream starts', async (_what, tenant, query, status, kind) => {
    // Arrange
    const token = tenant === undefined ? undefined : tenant === 'not-a-jwt' ? 'not-a-jwt' : h.token(tenant);

    // Act
    const res = await fetch(events(query), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body = (await res.json()) as { type: string; status: number; detail: string };

    // Assert
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body.status).toBe(status);
    expect(body.type).toBe(`https://tenant-config.dev/problems/${kind}`);
    expect(body.detail.length).toBeGreaterThan(0);
  });

  it('answers the preflight of a configured origin only, and names that origin on the stream', async () => {
    // Act
    const allowed = await fetch(events(), {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    const other = await fetch(events(), { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    const stream = sse(events(), { token: h.token('sse5'), headers: { origin: ORIGIN } });
    const res = await stream.response;

    // Assert
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('answers other paths and methods with problems, and /healthz while serving', async () => {
    // Act
    const missing = await fetch(`${h.eventsUrl}/v1/nothing`);
    const post = await fetch(events(), { method: 'POST' });
    const health = await fetch(`${h.eventsUrl}/healthz`);

    // Assert
    expect(missing.status).toBe(404);
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, OPTIONS');
    expect(health.status).toBe(200);
  });
});

describe('events endpoint with a trimmed cursor', () => {
  let h: FanoutHarness;
  harnessPerSuite({ cache: { shards: 1, logMaxLen: 5 }, events: {} }, (x) => (h = x));

  it('answers a cursor trimmed from the log with a CURSOR_EXPIRED snapshot', async () => {
    // Arrange
    await h.writer.put('trim', 'tenantconfig:a', 1);
    const first = new SseRecorder(`${h.eventsUrl}/v1/events`, { token: h.token('trim') });
    await first.until((r) => r.snapshotDone);
    first.cancel();
    for (let i = 0; i < 10; i++) await h.writer.put('trim', `tenantconfig:k${i}`, i);

    // Act
    const second = new SseRecorder(`${h.eventsUrl}/v1/events`, { token: h.token('trim'), lastEventId: first.lastEventId });
    await second.until((r) => r.snapshotDone);
    second.cancel();

    // Assert
    expect(second.events[0]).toMatchObject({ event: 'snapshot', data: { reason: 'CURSOR_EXPIRED' } });
    expect(second.snapshotItems).toHaveLength(11);
  });
});

describe('events endpoint on drain', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { heartbeatIntervalMs: 60_000 }, connection: { drainDeadlineMs: 3000 }, events: {} }, (x) => (h = x));

  it('sends reconnect to every SSE stream and ends it, and takes no new connection', async () => {
    // Arrange
    const streams = [
      new SseRecorder(`${h.eventsUrl}/v1/events`, { token: h.token('drain') }),
      new SseRecorder(`${h.eventsUrl}/v1/events`, { token: h.token('other') }),
    ];
    for (const s of streams) await s.until((r) => r.snapshotDone);
    expect((await fetch(`${h.eventsUrl}/healthz`)).status).toBe(200);

    // Act
    const drained = h.server.drain();
    for (const s of streams) await s.ended;
    await drained;

    // Assert
    for (const s of streams) {
      expect(s.isEnded).toBe(true);
      expect(s.events.at(-1)).toMatchObject({ event: 'reconnect', data: { reason: expect.stringMatching(/draining/) } });
    }
    await expect(fetch(`${h.eventsUrl}/healthz`)).rejects.toThrow();
  });
});

describe('events endpoint with a consumer that stops reading', () => {
  let h: FanoutHarness;
  harnessPerSuite({ watch: { maxQueueEvents: 64, heartbeatIntervalMs: 60_000 }, events: { endGraceMs: 200 } }, (x) => (h = x));

  it('cuts it off once a whole queue is waiting (write() backpressure), closes its connection, and the others keep receiving', async () => {
    // Arrange: a raw HTTP client that stops reading after the snapshot.
    const token = h.token('stuck');
    let stuck: IncomingMessage | undefined;
    const closed = new Promise<void>((resolve) => {
      const req = request(`${h.eventsUrl}/v1/events`, { agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
        stuck = res;
        res.once('data', () => res.pause());
        res.on('error', () => resolve());
        res.once('close', () => resolve());
      });
      req.on('error', () => resolve());
      req.end();
    });
    const normal = new SseRecorder(`${h.eventsUrl}/v1/events`, { token });
    await normal.until((r) => r.snapshotDone);
    const padding = 'x'.repeat(64 * 1024);
    const total = 300;

    // Act: far more than the kernel's socket buffers and the queue hold.
    for (let i = 0; i < total; i++) {
      await h.writer.put('stuck', `tenantconfig:k${i % 10}`, { i, padding });
      await new Promise((r) => setImmediate(r));
    }
    await normal.until((r) => r.changes.length === total, 20_000, 'every change at the normal consumer');
    await waitFor(() => h.metrics.slowConsumersCut === 1, 'the cut-off');
    // Past the grace the server has dropped the connection; reading again, the client learns it.
    await sleep(400);
    stuck!.resume();
    await closed;
    normal.cancel();

    // Assert
    expect(h.metrics.slowConsumersCut).toBe(1);
    expect(normal.changes.map((c) => (c.value as { i: number }).i)).toEqual(Array.from({ length: total }, (_, i) => i));
  }, 60_000);
});
