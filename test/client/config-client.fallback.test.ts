/**
 * ConfigClient when the Watch stream cannot be had: the status goes interrupted then stale
 * after the grace, the HTTP fallback serves reads, the snapshot file restores a cold start,
 * and the stream takes over again when the service comes back on the same address.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigClient, type ConfigChange, type ConfigClientOptions, type ConfigClientStatus, type StatusReport } from '../../client';
import { SnapshotFile } from '../../client/snapshot-file';
import { freePort } from '../support/servers';
import { acceptResume, changeEvent, item, ScriptedWatchServer, snapshotEvent } from './support/scripted-watch-server';
import { ListRouteServer, listItem } from './support/list-route-server';
import { fastTestOptions, recordingLogger, waitUntil } from './support/wait';

const clients: ConfigClient[] = [];
const servers: Array<{ stop(): Promise<void> }> = [];
let dir: string;

function newClient(options: Partial<ConfigClientOptions> & { grpcTarget: string }): ConfigClient {
  const client = new ConfigClient({
    ...fastTestOptions(),
    ...options,
  });
  clients.push(client);
  return client;
}

async function watchServer(port?: number): Promise<ScriptedWatchServer> {
  const server = new ScriptedWatchServer();
  await server.start(port);
  servers.push(server);
  return server;
}

function recordStatuses(client: ConfigClient): Array<{ status: ConfigClientStatus; report: StatusReport; at: number }> {
  const seen: Array<{ status: ConfigClientStatus; report: StatusReport; at: number }> = [];
  client.onStatus((status, report) => seen.push({ status, report, at: Date.now() }));
  return seen;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-client-'));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ConfigClient when the stream is down', () => {
  it('goes interrupted when the service goes away, stale once the grace has run out, live when it is back', async () => {
    // Arrange
    const server = await watchServer();
    server.script = (w) => {
      if (w.resumeCursor) acceptResume(w.call);
      else w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
    };
    const client = newClient({ grpcTarget: server.target, staleAfterMs: 250, backoffCapMs: 300 });
    const statuses = recordStatuses(client);
    await client.start();

    // Act: the service goes down, long enough to pass the grace, and comes back.
    await server.stop();
    await waitUntil(() => client.status === 'stale', 'stale', 5_000);
    const back = await watchServer(server.port);
    back.script = server.script;
    await waitUntil(() => client.status === 'live', 'live again', 5_000);

    // Assert
    expect(statuses.map((s) => s.status)).toEqual(['live', 'interrupted', 'stale', 'live']);
    const interruptedAt = statuses[1].at;
    expect(statuses[2].at - interruptedAt).toBeGreaterThanOrEqual(240);
    expect(client.get('tenantconfig:plan')).toBe('gold');
    expect(back.watches[0].resumeCursor).toBe('1-0');
  });

  it('serves reads from the HTTP list route (every page, Bearer token) while gRPC is down, then returns to the stream', async () => {
    // Arrange: gRPC has nothing on its port yet; the HTTP API lists 5 matching keys in pages of 2.
    const grpcPort = await freePort();
    const http = new ListRouteServer(2);
    await http.start();
    servers.push(http);
    http.items = [
      listItem('tenantconfig:a', 1, 1),
      listItem('tenantconfig:b', { on: true }, 2),
      listItem('tenantconfig:c', 'c', 1),
      listItem('tenantconfig:d', 'd', 4),
      listItem('tenantconfig:e', null, 1),
      listItem('paramconfig:db/max', 5, 1),
    ];
    const client = newClient({ grpcTarget: `127.0.0.1:${grpcPort}`, httpBaseUrl: http.baseUrl, httpRefreshMs: 100, staleAfterMs: 3_000, backoffCapMs: 4_000 });
    const statuses = recordStatuses(client);
    const changes: ConfigChange[] = [];
    client.onChange((c) => changes.push(c));

    // Act
    await client.start();

    // Assert: the whole listing, over three pages, with the token.
    expect(client.keys()).toEqual(['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:c', 'tenantconfig:d', 'tenantconfig:e']);
    expect(client.get('tenantconfig:b')).toEqual({ on: true });
    expect(client.getItem('tenantconfig:d')?.version).toBe(4);
    expect(client.status).toBe('interrupted');
    expect(client.statusReport.source).toBe('http');
    expect(http.requests.slice(0, 3)).toEqual([
      { prefix: 'tenantconfig:', nextToken: null, limit: '100', authorization: 'Bearer token-1' },
      { prefix: 'tenantconfig:', nextToken: '2', limit: '100', authorization: 'Bearer token-1' },
      { prefix: 'tenantconfig:', nextToken: '4', limit: '100', authorization: 'Bearer token-1' },
    ]);

    // Act: a write lands while still down (the next HTTP load sees it), then gRPC comes back.
    http.items = http.items.map((i) => (i.key === 'tenantconfig:a' ? listItem('tenantconfig:a', 2, 2) : i));
    await waitUntil(() => client.get('tenantconfig:a') === 2, 'refreshed over HTTP');
    const grpcServer = await watchServer(grpcPort);
    grpcServer.script = (w) => w.call.write(snapshotEvent([item('tenantconfig:a', 3, 3), item('tenantconfig:b', { on: true }, 2)], '8-0'));
    await waitUntil(() => client.status === 'live', 'live over gRPC', 5_000);
    await new Promise((r) => setTimeout(r, 50)); // a request already on the wire when the stream came back
    const requestsWhenLive = http.requests.length;
    await new Promise((r) => setTimeout(r, 300)); // three refresh intervals

    // Assert: the stream's snapshot replaced the HTTP state, and HTTP polling stopped.
    expect(client.statusReport.source).toBe('stream');
    expect(client.keys()).toEqual(['tenantconfig:a', 'tenantconfig:b']);
    expect(changes.find((c) => c.key === 'tenantconfig:a' && c.version === 3)?.previous).toEqual({ value: 2, version: 2 });
    expect(changes.filter((c) => c.deleted).map((c) => c.key)).toEqual(['tenantconfig:c', 'tenantconfig:d', 'tenantconfig:e']);
    expect(http.requests.length).toBe(requestsWhenLive);
    expect(statuses.map((s) => [s.status, s.report.source])).toEqual([
      ['interrupted', 'none'],
      ['interrupted', 'http'],
      ['live', 'stream'],
    ]);
  });

  it('writes the snapshot file atomically and restores it on a cold start with the service down', async () => {
    // Arrange: a first process runs live with a snapshot file.
    const file = join(dir, 'state', 'config.json');
    const server = await watchServer();
    server.script = (w) => w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1), item('tenantconfig:max', 3, 2)], '1-0'));
    const first = newClient({ grpcTarget: server.target, snapshotFile: file, snapshotFileIntervalMs: 5_000 });
    await first.start();
    await waitUntil(() => existsSync(file), 'file written after the snapshot');
    server.latest.call.write(changeEvent('tenantconfig:plan', 'platinum', 2, '2-0'));
    await waitUntil(() => first.cursor === '2-0', 'change applied');
    // The change is not on disk yet (interval 5 s): close() must write it.
    await first.close();
    await server.stop();

    // Act: a cold start with the service down and no HTTP fallback.
    const grpcPort = await freePort();
    const second = newClient({ grpcTarget: `127.0.0.1:${grpcPort}`, snapshotFile: file });
    await second.start();

    // Assert
    expect(second.get('tenantconfig:plan')).toBe('platinum');
    expect(second.get('tenantconfig:max')).toBe(3);
    expect(second.status).toBe('interrupted');
    expect(second.statusReport.source).toBe('snapshot-file');
    expect(readdirSync(join(dir, 'state'))).toEqual(['config.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'tenantconfig.client.snapshot/v1', cursor: '2-0', prefixes: ['tenantconfig:'] });
  });

  it('a restored state is replaced by the first snapshot once the service is up, the differences reported', async () => {
    const file = join(dir, 'config.json');
    await new SnapshotFile(file, recordingLogger()).write({
      prefixes: ['tenantconfig:'],
      savedAt: '2026-11-22T00:00:00.000Z',
      items: [{ key: 'tenantconfig:plan', value: 'gold', version: 1, updatedAt: '', updatedBy: '' }],
    });
    const server = await watchServer();
    server.script = (w) => w.call.write(snapshotEvent([item('tenantconfig:plan', 'silver', 2)], '4-0'));
    const client = newClient({ grpcTarget: server.target, snapshotFile: file });
    const changes: ConfigChange[] = [];
    client.onChange((c) => changes.push(c));

    await client.start();

    expect(client.status).toBe('live');
    expect(server.latest.resumeCursor).toBe('');
    expect(changes).toEqual([{ key: 'tenantconfig:plan', value: 'silver', version: 2, deleted: false, previous: { value: 'gold', version: 1 } }]);
  });

  it('ignores a snapshot file saved for other prefixes', async () => {
    const file = join(dir, 'config.json');
    const snapshotFile = new SnapshotFile(file, recordingLogger());
    await snapshotFile.write({ prefixes: ['paramconfig:'], savedAt: 'x', items: [] });

    expect(await snapshotFile.read(['tenantconfig:'])).toBeUndefined();
    expect(await snapshotFile.read(['paramconfig:'])).toMatchObject({ prefixes: ['paramconfig:'] });
  });
});
