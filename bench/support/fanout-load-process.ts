/**
 * Child process: the load client of the fanout benchmark. Opens Watch streams multiplexed over
 * channels (each channel its own HTTP/2 connection), waits for every snapshot, and records when
 * each change reaches each stream. IPC:
 * - `{type:'open', target, token, count, perChannel}` → `{type:'opened', streams, failed}`;
 * - `{type:'await', version, timeoutMs}` → `{type:'arrived', version, count, first, last}`
 *   (wall-clock ms of the first and the last stream to receive that version).
 */
import * as grpc from '@grpc/grpc-js';
import type { ConfigWatchClient } from '../../proto/generated/tenantconfig/v1/ConfigWatch';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import { openInWaves, WatchChannels } from './watch-streams';

const wallClock = () => performance.timeOrigin + performance.now();

const wire = new WatchChannels();
const calls = wire.calls;
const arrivals = new Map<number, { count: number; first: number; last: number }>();
let streamErrors = 0;

function openStream(client: ConfigWatchClient, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const call = client.Watch({ prefixes: [], resume_cursor: '' }, metadata);
    let settled = false;
    call.on('data', (event: WatchEvent__Output) => {
      if (event.snapshot && !settled) {
        settled = true;
        resolve(true);
      } else if (event.change) {
        const at = wallClock();
        const v = Number(event.change.version);
        const a = arrivals.get(v);
        if (a) {
          a.count += 1;
          a.last = at;
        } else arrivals.set(v, { count: 1, first: at, last: at });
      }
    });
    call.on('error', () => {
      streamErrors += 1;
      if (!settled) {
        settled = true;
        resolve(false);
      }
    });
    calls.push(call);
  });
}

process.on('message', (m: { type: string; target?: string; token?: string; count?: number; perChannel?: number; version?: number; timeoutMs?: number }) => {
  if (m.type === 'open') {
    void (async () => {
      const start = calls.length;
      // In waves, so the server is not handed 10,000 handshakes in one tick.
      const failed = await openInWaves(m.count!, (i) => openStream(wire.channelFor(start + i, m.target!, m.perChannel!), m.token!));
      process.send?.({ type: 'opened', streams: calls.length - streamErrors, failed, channels: wire.channels.length });
    })();
  } else if (m.type === 'await') {
    const deadline = Date.now() + (m.timeoutMs ?? 10_000);
    const expected = calls.length - streamErrors;
    const poll = () => {
      const a = arrivals.get(m.version!);
      if ((a && a.count >= expected) || Date.now() > deadline) {
        process.send?.({ type: 'arrived', version: m.version, count: a?.count ?? 0, expected, first: a?.first ?? 0, last: a?.last ?? 0 });
      } else setTimeout(poll, 2);
    };
    poll();
  } else if (m.type === 'stop') {
    wire.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
