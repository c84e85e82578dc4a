/**
 * Child process: clients that open Watch streams and never read them (bare HTTP/2: no
 * flow-control window is ever given back), and a probe that times another tenant's snapshot.
 * IPC:
 * - `{type:'stall', target, token, count, perConnection, paged}` → `{type:'stalled', streams, connections}`;
 * - `{type:'probe', target, token}` → `{type:'probed', ms, ok}` (Watch opened → snapshot received);
 * - `{type:'ended'}` → `{type:'ended', ended}` (stalled streams the server has ended: status or reset);
 * - `{type:'disconnect'}` → every stalled connection destroyed, `{type:'disconnected'}`.
 */
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { ConfigWatchClient } from '../../proto/generated/tenantconfig/v1/ConfigWatch';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import { loadConfigProto } from '../../proto/load';
import { openUnreadWatch } from '../../test/fanout/raw-watch';

const sessions: http2.ClientHttp2Session[] = [];
const streams: http2.ClientHttp2Stream[] = [];

function stall(target: string, token: string, count: number, perConnection: number, paged: boolean): void {
  for (let i = 0; i < count; i++) {
    if (i % perConnection === 0) {
      const s = http2.connect(`http://${target}`);
      s.on('error', () => undefined);
      sessions.push(s);
    }
    streams.push(openUnreadWatch(sessions[sessions.length - 1], token, paged));
  }
}

function probe(target: string, token: string): Promise<{ ms: number; ok: boolean }> {
  const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
  const client: ConfigWatchClient = new ConfigWatch(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  const started = performance.now();
  return new Promise((resolve) => {
    const call = client.Watch({ prefixes: [] }, md);
    const done = (ok: boolean) => {
      call.cancel();
      client.close();
      resolve({ ms: performance.now() - started, ok });
    };
    call.on('data', (e: WatchEvent__Output) => {
      if (e.snapshot && !e.snapshot.more) done(true);
    });
    call.on('error', () => done(false));
  });
}

process.on('message', (m: { type: string; target?: string; token?: string; count?: number; perConnection?: number; paged?: boolean }) => {
  if (m.type === 'stall') {
    stall(m.target!, m.token!, m.count!, m.perConnection!, m.paged === true);
    process.send?.({ type: 'stalled', streams: streams.length, connections: sessions.length });
  } else if (m.type === 'probe') {
    void probe(m.target!, m.token!).then((r) => process.send?.({ type: 'probed', ...r }));
  } else if (m.type === 'ended') {
    // Node sets `closed` when the server's trailers or reset arrive, even on a paused stream.
    process.send?.({ type: 'ended', ended: streams.filter((s) => s.closed).length });
  } else if (m.type === 'disconnect') {
    for (const s of sessions) s.destroy();
    process.send?.({ type: 'disconnected' });
  } else if (m.type === 'stop') {
    for (const s of sessions) s.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
