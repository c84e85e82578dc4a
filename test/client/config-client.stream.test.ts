/**
 * ConfigClient against a real gRPC ConfigWatch server (scripted per test) on 127.0.0.1:
 * snapshot then changes, listeners, the version guard, resume, reconnect notices, expired
 * cursors, token refresh, and the backoff between failed attempts.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigClient, type ConfigChange, type ConfigClientOptions, type ConfigClientStatus } from '../../client';
import { ConfigClientAuthError } from '../../client/errors';
import { freePort } from '../support/servers';
import {
  acceptResume,
  changeEvent,
  deleteEvent,
  endWith,
  heartbeatEvent,
  item,
  reconnectEvent,
  type ScriptedWatchServer,
  snapshotEvent,
  scriptedServerPerTest,
} from './support/scripted-watch-server';
import { fastTestOptions, recordingLogger, sleep, waitUntil } from './support/wait';

let server: ScriptedWatchServer;
const clients: ConfigClient[] = [];

function newClient(options: Partial<ConfigClientOptions> = {}): ConfigClient {
  const client = new ConfigClient({
    grpcTarget: server.target,
    ...fastTestOptions(),
    ...options,
  });
  clients.push(client);
  return client;
}

function recordChanges(client: ConfigClient): ConfigChange[] {
  const changes: ConfigChange[] = [];
  client.onChange((c) => changes.push(c));
  return changes;
}

function recordStatuses(client: ConfigClient): ConfigClientStatus[] {
  const statuses: ConfigClientStatus[] = [];
  client.onStatus((s) => statuses.push(s));
  return statuses;
}

scriptedServerPerTest(clients, (s) => (server = s));

describe('ConfigClient over a Watch stream', () => {
  it('applies the snapshot, then changes in order; get, getItem and keys serve from memory', async () => {
    server.script = (w) => w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1), item('tenantconfig:limits', { max: 3 }, 3)], '1-0'));
    const client = newClient();

    await client.start();

    expect(client.status).toBe('live');
    expect(client.cursor).toBe('1-0');
    expect(client.get('tenantconfig:plan')).toBe('gold');
    expect(client.get<{ max: number }>('tenantconfig:limits')?.max).toBe(3);
    expect(client.getItem('tenantconfig:limits')).toEqual({
      key: 'tenantconfig:limits',
      value: { max: 3 },
      version: 3,
      updatedAt: '2026-11-22T10:00:00.000Z',
      updatedBy: 'tester',
    });
    expect(client.keys()).toEqual(['tenantconfig:limits', 'tenantconfig:plan']);
    expect(server.latest).toMatchObject({ prefixes: ['tenantconfig:'], resumeCursor: '', authorization: 'Bearer token-1' });

    server.latest.call.write(changeEvent('tenantconfig:plan', 'platinum', 2, '2-0'));
    server.latest.call.write(deleteEvent('tenantconfig:limits', 3, '3-0'));
    await waitUntil(() => client.cursor === '3-0', 'both changes applied');

    expect(client.get('tenantconfig:plan')).toBe('platinum');
    expect(client.get('tenantconfig:limits')).toBeUndefined();
    expect(client.keys()).toEqual(['tenantconfig:plan']);
  });

  it('assembles a paged snapshot and replaces the state only with the whole of it', async () => {
    // Arrange: the first state, then an expired cursor answered by a snapshot in three pages.
    let sendLastPage = (): void => undefined;
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:a', 'a1', 1), item('tenantconfig:z', 'z1', 1)], '5-0'));
        setTimeout(() => endWith(w.call, grpc.status.UNAVAILABLE, 'restart'), 20);
        return;
      }
      w.call.write(snapshotEvent([item('tenantconfig:a', 'a2', 2)], '', 'CURSOR_EXPIRED', true));
      w.call.write(snapshotEvent([item('tenantconfig:b', 'b1', 1)], '', 'CURSOR_EXPIRED', true));
      sendLastPage = () => w.call.write(snapshotEvent([item('tenantconfig:c', 'c1', 1)], '9-0', 'CURSOR_EXPIRED'));
    };
    const client = newClient();
    const changes = recordChanges(client);
    await client.start();
    await server.waitForWatches(2);
    await sleep(100);

    // Assert: two pages in, nothing applied yet (z, absent from the new snapshot, is still held).
    expect(server.watches.map((w) => w.pagedSnapshots)).toEqual([true, true]);
    expect(client.keys()).toEqual(['tenantconfig:a', 'tenantconfig:z']);
    expect(changes).toEqual([]);

    // Act
    sendLastPage();
    await waitUntil(() => client.cursor === '9-0', 'last page applied');

    // Assert: the union of the pages replaced the state; z's deletion is reported once.
    expect(client.keys()).toEqual(['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:c']);
    expect(client.get('tenantconfig:a')).toBe('a2');
    expect(changes.map((c) => [c.key, c.version, c.deleted])).toEqual([
      ['tenantconfig:a', 2, false],
      ['tenantconfig:b', 1, false],
      ['tenantconfig:c', 1, false],
      ['tenantconfig:z', 1, true],
    ]);
    expect(client.status).toBe('live');
  });

  it('calls change listeners with previous values; prefix filters, unsubscribe and a throwing listener', async () => {
    server.script = (w) => w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1), item('tenantconfig:db/max', 10, 4)], '1-0'));
    const client = newClient();
    const all = recordChanges(client);
    const db: ConfigChange<number>[] = [];
    client.onChange<number>((c) => db.push(c), { prefix: 'tenantconfig:db/' });
    client.onChange(() => {
      throw new Error('a buggy listener');
    });
    const unsubscribed: ConfigChange[] = [];
    const unsubscribe = client.onChange((c) => unsubscribed.push(c));
    await client.start();

    unsubscribe();
    server.latest.call.write(changeEvent('tenantconfig:plan', 'platinum', 2, '2-0'));
    server.latest.call.write(changeEvent('tenantconfig:db/max', 20, 5, '3-0'));
    server.latest.call.write(deleteEvent('tenantconfig:plan', 2, '4-0'));
    await waitUntil(() => client.cursor === '4-0', 'changes applied');

    // The first state (the snapshot) is loaded silently; then one call per applied change.
    expect(all).toEqual([
      { key: 'tenantconfig:plan', value: 'platinum', version: 2, deleted: false, previous: { value: 'gold', version: 1 } },
      { key: 'tenantconfig:db/max', value: 20, version: 5, deleted: false, previous: { value: 10, version: 4 } },
      { key: 'tenantconfig:plan', value: undefined, version: 2, deleted: true, previous: { value: 'platinum', version: 2 } },
    ]);
    expect(db.map((c) => c.value)).toEqual([20]);
    expect(unsubscribed).toEqual([]);
  });

  it('ignores duplicate and older versions, and a late write after a delete', async () => {
    server.script = (w) => w.call.write(snapshotEvent([item('tenantconfig:plan', 'v5', 5)], '1-0'));
    const client = newClient();
    const changes = recordChanges(client);
    await client.start();

    const call = server.latest.call;
    call.write(changeEvent('tenantconfig:plan', 'v5-again', 5, '2-0'));
    call.write(changeEvent('tenantconfig:plan', 'v4', 4, '3-0'));
    call.write(changeEvent('tenantconfig:plan', 'v6', 6, '4-0'));
    call.write(deleteEvent('tenantconfig:plan', 6, '5-0'));
    call.write(changeEvent('tenantconfig:plan', 'v6-late', 6, '6-0'));
    call.write(deleteEvent('tenantconfig:plan', 6, '7-0'));
    await waitUntil(() => client.cursor === '7-0', 'all events seen');

    expect(changes.map((c) => [c.version, c.deleted])).toEqual([
      [6, false],
      [6, true],
    ]);
    expect(client.get('tenantconfig:plan')).toBeUndefined();
  });

  it('resumes from the last cursor (a heartbeat moves it) after the stream drops, and gets only the changes', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
        w.call.write(changeEvent('tenantconfig:plan', 'silver', 2, '2-0'));
        w.call.write(heartbeatEvent('3-0'));
      } else {
        acceptResume(w.call);
        w.call.write(changeEvent('tenantconfig:plan', 'bronze', 3, '4-0'));
      }
    };
    const client = newClient();
    const statuses = recordStatuses(client);
    await client.start();
    await waitUntil(() => client.cursor === '3-0', 'heartbeat applied');

    endWith(server.watches[0].call, grpc.status.UNAVAILABLE, 'node going away');
    await server.waitForWatches(2);
    await waitUntil(() => client.cursor === '4-0', 'resumed change applied');

    expect(server.watches[1].resumeCursor).toBe('3-0');
    expect(client.get('tenantconfig:plan')).toBe('bronze');
    expect(client.status).toBe('live');
    expect(statuses).toEqual(['live', 'interrupted', 'live']);
  });

  it('obeys a reconnect notice: resumes from its cursor and stays live throughout', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
        w.call.write(changeEvent('tenantconfig:plan', 'silver', 2, '2-0'));
        w.call.write(reconnectEvent('deploy'));
        // A draining server closes the stream soon after its notice.
        setTimeout(() => w.call.end(), 5);
      } else {
        acceptResume(w.call);
        w.call.write(changeEvent('tenantconfig:plan', 'bronze', 3, '3-0'));
      }
    };
    const client = newClient({ reconnectJitterMs: 50 });
    const statuses = recordStatuses(client);

    await client.start();
    await server.waitForWatches(2);
    await waitUntil(() => client.get('tenantconfig:plan') === 'bronze', 'change after the reconnect');

    expect(server.watches[1].resumeCursor).toBe('2-0');
    expect(statuses).toEqual(['live']);
  });

  it('resumes from its cursor after being cut off as a slow consumer (RESOURCE_EXHAUSTED)', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
        w.call.write(changeEvent('tenantconfig:plan', 'silver', 2, '2-0'));
        setTimeout(() => endWith(w.call, grpc.status.RESOURCE_EXHAUSTED, 'slow consumer: resync'), 20);
      } else {
        acceptResume(w.call);
      }
    };
    const client = newClient();
    await client.start();

    await server.waitForWatches(2);
    await waitUntil(() => client.status === 'live' && server.watches.length === 2, 'live again');

    expect(server.watches[1].resumeCursor).toBe('2-0');
    expect(client.get('tenantconfig:plan')).toBe('silver');
  });

  it('replaces the state on a CURSOR_EXPIRED snapshot and reports every difference, deletions included', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:a', 'a1', 1), item('tenantconfig:b', 'b1', 1), item('tenantconfig:c', 'c1', 1)], '5-0'));
        setTimeout(() => endWith(w.call, grpc.status.UNAVAILABLE, 'restart'), 20);
      } else {
        w.call.write(
          snapshotEvent([item('tenantconfig:a', 'a1', 1), item('tenantconfig:b', 'b2', 2), item('tenantconfig:d', 'd1', 1)], '9-0', 'CURSOR_EXPIRED'),
        );
      }
    };
    const client = newClient();
    const changes = recordChanges(client);
    await client.start();

    await server.waitForWatches(2);
    await waitUntil(() => client.cursor === '9-0', 'fresh snapshot applied');

    expect(server.watches[1].resumeCursor).toBe('5-0');
    expect(changes).toEqual([
      { key: 'tenantconfig:b', value: 'b2', version: 2, deleted: false, previous: { value: 'b1', version: 1 } },
      { key: 'tenantconfig:c', value: undefined, version: 1, deleted: true, previous: { value: 'c1', version: 1 } },
      { key: 'tenantconfig:d', value: 'd1', version: 1, deleted: false },
    ]);
    expect(client.keys()).toEqual(['tenantconfig:a', 'tenantconfig:b', 'tenantconfig:d']);
  });

  it('asks for a snapshot when the service rejects its resume cursor (INVALID_ARGUMENT)', async () => {
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:a', 1, 1)], 'cursor-1'));
        setTimeout(() => endWith(w.call, grpc.status.UNAVAILABLE, 'restart'), 20);
      } else if (w.resumeCursor !== '') {
        endWith(w.call, grpc.status.INVALID_ARGUMENT, 'malformed cursor');
      } else {
        w.call.write(snapshotEvent([item('tenantconfig:a', 2, 2)], '7-0'));
      }
    };
    const client = newClient();
    await client.start();

    await waitUntil(() => client.cursor === '7-0', 'fresh snapshot after the rejected cursor');

    expect(server.watches.map((w) => w.resumeCursor)).toEqual(['', 'cursor-1', '']);
    expect(client.get('tenantconfig:a')).toBe(2);
  });

  it('fetches a fresh token and retries when the service says UNAUTHENTICATED', async () => {
    const tokens = ['expired', 'fresh'];
    server.script = (w) => {
      if (w.authorization !== 'Bearer fresh') endWith(w.call, grpc.status.UNAUTHENTICATED, 'token expired');
      else w.call.write(snapshotEvent([item('tenantconfig:a', 1, 1)], '1-0'));
    };
    const client = newClient({ token: () => tokens.shift() ?? 'fresh' });

    await client.start();

    expect(server.watches.map((w) => w.authorization)).toEqual(['Bearer expired', 'Bearer fresh']);
    expect(client.status).toBe('live');
  });

  it('gives up a pending start after the bounded token retries, with ConfigClientAuthError', async () => {
    server.script = (w) => endWith(w.call, grpc.status.UNAUTHENTICATED, 'bad signature');
    let asked = 0;
    const client = newClient({
      maxAuthRetries: 2,
      token: async () => {
        asked += 1;
        return `token-${asked}`;
      },
    });

    await expect(client.start()).rejects.toThrow(ConfigClientAuthError);

    expect(server.watches).toHaveLength(3);
    expect(asked).toBe(3);
    await sleep(100);
    expect(server.watches).toHaveLength(3);
  });

  it('spaces failed attempts with full-jitter exponential backoff up to the cap, then reports stale', async () => {
    // Arrange: nothing listens on the target; every draw of the jitter is 0.5.
    const port = await freePort();
    const logger = recordingLogger();
    const client = newClient({
      grpcTarget: `127.0.0.1:${port}`,
      backoffBaseMs: 40,
      backoffCapMs: 320,
      staleAfterMs: 250,
      random: () => 0.5,
      logger,
    });
    const statuses = recordStatuses(client);
    void client.start().catch(() => undefined);

    // Act
    const delays = (): number[] => logger.lines.filter((l) => l.message.includes('after backoff')).map((l) => l.details?.delayMs as number);
    await waitUntil(() => delays().length >= 6, 'six failed attempts', 10_000);

    // Assert: ceilings 40, 80, 160, 320, 320, 320, each halved by the 0.5 draw.
    expect(delays().slice(0, 6)).toEqual([20, 40, 80, 160, 160, 160]);
    expect(statuses).toEqual(['interrupted', 'stale']);
    expect(client.statusReport.lastError).toMatch(/UNAVAILABLE/);
  });
});
