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
import { loadConfigProto } from '../../proto/load';

const wallClock = () => performance.timeOrigin + performance.now();

const channels: ConfigWatchClient[] = [];
const calls: grpc.ClientReadableStream<WatchEvent__Output>[] = [];
const arrivals = new Map<number, { count: number; first: number; last: number }>();
let streamErrors = 0;

function channelFor(index: number, target: string, perChannel: number): ConfigWatchClient {
  const c = Math.floor(index / perChannel);
  while (channels.length <= c) {
    const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
    // A private subchannel pool: otherwise grpc-js shares one connection between all clients.
    channels.push(new ConfigWatch(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  }
  return channels[c];
}

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
      let failed = 0;
      // In waves, so the server is not handed 10,000 handshakes in one tick.
      const wave = 500;
      for (let i = 0; i < m.count!; i += wave) {
        const n = Math.min(wave, m.count! - i);
        const results = await Promise.all(Array.from({ length: n }, (_, j) => openStream(channelFor(start + i + j, m.target!, m.perChannel!), m.token!)));
        failed += results.filter((ok) => !ok).length;
      }
      process.send?.({ type: 'opened', streams: calls.length - streamErrors, failed, channels: channels.length });
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
    for (const call of calls) call.cancel();
    for (const c of channels) c.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
