/**
 * The metrics hooks (`metrics: { onStatus, onLag, onReconnect }`): what a service wires to its
 * metrics library. Status changes, the lag from a change's `updatedAt` to its application, and
 * every reconnect scheduled, planned (a server's notice) or not; a throwing hook is only logged.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigClient, ConfigClientOptionsError, type ConfigClientStatus, type LagEvent, type ReconnectEvent } from '../../client';
import { changeEvent, endWith, item, reconnectEvent, type ScriptedWatchServer, snapshotEvent, scriptedServerPerTest } from './support/scripted-watch-server';
import { fastTestOptions, recordingLogger, waitUntil } from './support/wait';

let server: ScriptedWatchServer;
const clients: ConfigClient[] = [];
scriptedServerPerTest(clients, (s) => (server = s));

function changeWrittenAgo(ms: number, key: string, value: unknown, version: number, cursor: string) {
  const event = changeEvent(key, value, version, cursor);
  return { change: { ...event.change, updated_at: new Date(Date.now() - ms).toISOString() } };
}

describe('metrics hooks', () => {
  it('onStatus, onLag and onReconnect hear the client', async () => {
    const statuses: ConfigClientStatus[] = [];
    const lags: LagEvent[] = [];
    const reconnects: ReconnectEvent[] = [];
    server.script = (w, index) => {
      if (index === 0) {
        w.call.write(snapshotEvent([item('tenantconfig:plan', 'gold', 1)], '1-0'));
        w.call.write(changeWrittenAgo(250, 'tenantconfig:plan', 'platinum', 2, '2-0'));
        setTimeout(() => w.call.write(reconnectEvent('draining')), 50);
      } else if (index === 1) {
        w.call.write(snapshotEvent([item('tenantconfig:plan', 'platinum', 2)], '2-0'));
        setTimeout(() => endWith(w.call, grpc.status.UNAVAILABLE, 'task died'), 50);
      } else {
        w.call.write(snapshotEvent([item('tenantconfig:plan', 'platinum', 2)], '2-0'));
      }
    };
    const client = new ConfigClient({
      grpcTarget: server.target,
      ...fastTestOptions(),
      metrics: { onStatus: (s) => statuses.push(s), onLag: (e) => lags.push(e), onReconnect: (e) => reconnects.push(e) },
    });
    clients.push(client);

    await client.start();
    await waitUntil(() => server.watches.length >= 3 && client.status === 'live', 'the third stream live');

    expect(lags).toHaveLength(1);
    expect(lags[0]).toMatchObject({ key: 'tenantconfig:plan', version: 2 });
    expect(lags[0].lagMs).toBeGreaterThanOrEqual(250);
    expect(lags[0].lagMs).toBeLessThan(2_000);
    expect(reconnects[0]).toMatchObject({ planned: true, failures: 0, reason: expect.stringContaining('draining') });
    expect(reconnects[1]).toMatchObject({ planned: false, reason: expect.stringContaining('UNAVAILABLE') });
    expect(reconnects[1].delayMs).toBeLessThanOrEqual(20);
    expect(statuses).toEqual(['live', 'interrupted', 'live']);
  });

  it('a hook that throws is logged and changes nothing', async () => {
    server.script = (w) => {
      w.call.write(snapshotEvent([], '1-0'));
      w.call.write(changeWrittenAgo(0, 'tenantconfig:plan', 'gold', 1, '2-0'));
    };
    const logger = recordingLogger();
    const client = new ConfigClient({
      grpcTarget: server.target,
      ...fastTestOptions(),
      logger,
      metrics: {
        onLag: () => {
          throw new Error('metrics backend down');
        },
      },
    });
    clients.push(client);

    await client.start();
    await waitUntil(() => client.get('tenantconfig:plan') === 'gold', 'the change applied');

    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'config-client: the metrics hook onLag threw' }));
    expect(client.status).toBe('live');
  });

  it('the constructor names a hook that is not a function', () => {
    expect(() => new ConfigClient({ grpcTarget: '127.0.0.1:1', token: () => '', metrics: { onLag: 5 as never } })).toThrow(
      new ConfigClientOptionsError('ConfigClient: metrics.onLag must be a function'),
    );
  });
});
