/**
 * `GET /v1/events` end to end on the local system, as the console reads it: through the local
 * front (same origin), with fetch and the token in a header. Writes go through the HTTP API and
 * arrive as SSE events with effective values and their source; resume by Last-Event-ID,
 * heartbeats, refusals as problems, and the drain's `reconnect`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSystem, type LocalSystem } from '../../local/system';
import { SseRecorder } from '../support/sse-client';
import { LocalApi } from './local-api';

describe('events endpoint end to end (local system)', () => {
  let dir: string;
  let system: LocalSystem;
  let api: LocalApi;
  const tokens: Record<string, string> = {};
  const open: SseRecorder[] = [];
  const sse = (query: string, token: string | undefined, lastEventId?: string) => {
    const r = new SseRecorder(`${system.endpoints.events}${query}`, { token, lastEventId });
    open.push(r);
    return r;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-events-'));
    system = await startLocalSystem({ dir, port: 0, grpcPort: 0, fanoutWatch: { heartbeatIntervalMs: 500 }, fanoutDrainMs: 3000 });
    api = new LocalApi(system.endpoints.http);
    tokens.admin = system.signer.signToken({ tenant: 'acme', admin: true });
    tokens.reader = system.signer.signToken({ tenant: 'acme' });
    tokens.operator = system.signer.signOperatorToken({ operator: 'alice' });
  });
  afterEach(() => {
    for (const r of open.splice(0)) r.cancel();
  });
  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the snapshot, then a change written with PUT, then a default as the effective value with its source', async () => {
    // Arrange
    expect((await api.put('/v1/config/tenantconfig:live/plan', tokens.admin, { tier: 'gold' })).status).toBe(201);
    const stream = sse('?prefix=tenantconfig:live/', tokens.reader);
    await stream.until((r) => r.snapshotDone, 10_000, 'the snapshot');

    // Act
    expect((await api.put('/v1/config/tenantconfig:live/plan', tokens.admin, { tier: 'platinum' })).status).toBe(200);
    expect((await api.put('/v1/defaults/tenantconfig:live/limits', tokens.operator, { seats: 10 })).status).toBe(201);
    await stream.until((r) => r.changes.length >= 2, 10_000, 'the change and the default');

    // Assert
    expect(stream.snapshotItems).toEqual([
      expect.objectContaining({ tenantId: 'acme', key: 'tenantconfig:live/plan', value: { tier: 'gold' }, version: 1, source: 'tenant' }),
    ]);
    expect(stream.changes[0]).toMatchObject({
      tenantId: 'acme',
      key: 'tenantconfig:live/plan',
      value: { tier: 'platinum' },
      version: 2,
      source: 'tenant',
      deleted: false,
    });
    expect(stream.changes[1]).toMatchObject({ tenantId: 'acme', key: 'tenantconfig:live/limits', value: { seats: 10 }, source: 'platform', deleted: false });
  });

  it('resumes from Last-Event-ID with the changes since, and no snapshot', async () => {
    // Arrange
    const first = sse('?prefix=tenantconfig:resume/', tokens.reader);
    await first.until((r) => r.snapshotDone, 10_000, 'the snapshot');
    const lastId = first.lastEventId!;
    first.cancel();
    await api.put('/v1/config/tenantconfig:resume/a', tokens.admin, 1);
    await api.put('/v1/config/tenantconfig:resume/a', tokens.admin, 2);

    // Act
    const resumed = sse('?prefix=tenantconfig:resume/', tokens.reader, lastId);
    await resumed.until((r) => r.changes.length >= 2, 10_000, 'both changes');

    // Assert
    expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);
    expect(resumed.changes.map((c) => [c.key, c.value, c.version])).toEqual([
      ['tenantconfig:resume/a', 1, 1],
      ['tenantconfig:resume/a', 2, 2],
    ]);
  });

  it('keeps an idle stream alive with heartbeats that carry the newest cursor', async () => {
    // Act
    const stream = sse('?prefix=tenantconfig:idle/', tokens.reader);
    await stream.until((r) => r.events.some((e) => e.event === 'heartbeat'), 10_000, 'a heartbeat');

    // Assert
    const beat = stream.events.find((e) => e.event === 'heartbeat')!;
    expect(beat.id).toBe(beat.data.cursor);
  });

  it.each([
    ['no token', undefined, '', 401],
    ['a reader naming another tenant', 'reader', '?tenants=globex', 403],
    ['a malformed cursor', 'reader', '?cursor=not-a-cursor', 400],
    ['an unknown parameter', 'reader', '?tenant=acme', 400],
  ])('refuses %s with application/problem+json through the local front', async (_what, who, query, status) => {
    // Act
    const res = await fetch(`${system.endpoints.events}${query}`, { headers: who ? { authorization: `Bearer ${tokens[who]}` } : {} });
    const body = (await res.json()) as { status: number; type: string; detail: string };

    // Assert
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/tenant-config\.dev\/problems\//), detail: expect.any(String) });
  });

  it('on drain, tells every stream to reconnect and ends it', async () => {
    // Arrange
    const stream = sse('', tokens.reader);
    await stream.until((r) => r.snapshotDone, 10_000, 'the snapshot');

    // Act
    await system.fanout.drain();
    await stream.ended;

    // Assert
    expect(stream.events.at(-1)).toMatchObject({ event: 'reconnect', data: { reason: expect.stringMatching(/reconnect/) } });
  });
});
