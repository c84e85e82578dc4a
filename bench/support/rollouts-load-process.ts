/**
 * Child process: the load client of the rollouts benchmark (bench/support/layers-load-process.ts
 * with the bucket rule). Opens Watch streams, `streamsPerTenant` per tenant, `perChannel` per
 * channel (each channel its own HTTP/2 connection), waits for every snapshot, and records per
 * stream when a change of one key to one value arrives, and any other change of that key. IPC:
 * - `{type:'open', target, tokensFile, streams, perChannel, key, prefixes}` → `{type:'opened', streams, failed, channels, snapshotSources}`;
 * - `{type:'arm', value, percent}` → `{type:'armed', expected}`: from now on a change of `key` to
 *   `value` is an arrival, expected on the streams of tenants without their own value whose
 *   bucket (core/bucket.ts `rolloutBucket`) is below `percent`;
 * - `{type:'await', timeoutMs, quietMs}` → waits until every expected stream has its arrival or
 *   the timeout passes, then `quietMs` more, and answers `{type:'arrived', arrivals, expected,
 *   reached, wronglyNotified, duplicates, otherChanges}`: `arrivals` the wall-clock ms of each
 *   expected stream's arrival, `wronglyNotified` the other streams that got any change of the key.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ConfigWatchClient } from '../../proto/generated/tenantconfig/v1/ConfigWatch';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import { loadConfigProto } from '../../proto/load';
import { rolloutBucket } from '../../core/bucket';
import type { TenantToken } from './rollouts-server-process';

const wallClock = () => performance.timeOrigin + performance.now();

interface StreamState {
  readonly tenant: string;
  readonly overrides: boolean;
  /** The source of the key in the snapshot (`tenant`, `platform`, or none). */
  snapshotSource?: string;
  /** Whether the armed change must reach this stream. */
  expected: boolean;
  /** Wall-clock ms of the first change of the key to the armed value. */
  arrivedAt?: number;
  /** Changes of the key since arming (any value). */
  changesOfKey: number;
  /** Changes of any other key since arming. */
  otherChanges: number;
  /** Ended before its snapshot (not counted as expected). */
  failed: boolean;
  /** Ended after its snapshot (counted: it cannot be reached). */
  ended: boolean;
}

const channels: ConfigWatchClient[] = [];
const calls: grpc.ClientReadableStream<WatchEvent__Output>[] = [];
const streams: StreamState[] = [];
let armed: string | undefined;
let watchedKey = '';

function channelFor(index: number, target: string, perChannel: number): ConfigWatchClient {
  const c = Math.floor(index / perChannel);
  while (channels.length <= c) {
    const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
    // A private subchannel pool: otherwise grpc-js shares one connection between all clients.
    channels.push(new ConfigWatch(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  }
  return channels[c];
}

function openStream(client: ConfigWatchClient, t: TenantToken, prefixes: string[]): Promise<boolean> {
  const state: StreamState = { tenant: t.tenant, overrides: t.overrides, expected: false, changesOfKey: 0, otherChanges: 0, failed: false, ended: false };
  streams.push(state);
  return new Promise((resolve) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${t.token}`);
    const call = client.Watch({ prefixes, resume_cursor: '' }, metadata);
    let settled = false;
    call.on('data', (event: WatchEvent__Output) => {
      if (event.snapshot) {
        const item = event.snapshot.items.find((i) => i.key === watchedKey);
        if (item) state.snapshotSource = item.source || 'tenant';
        if (!event.snapshot.more && !settled) {
          settled = true;
          resolve(true);
        }
      } else if (event.change && armed !== undefined) {
        if (event.change.key !== watchedKey) {
          state.otherChanges += 1;
          return;
        }
        state.changesOfKey += 1;
        if (state.arrivedAt === undefined && !event.change.deleted && event.change.value_json === armed) state.arrivedAt = wallClock();
      }
    });
    call.on('error', () => {
      if (settled) state.ended = true;
      else state.failed = true;
      if (!settled) {
        settled = true;
        resolve(false);
      }
    });
    calls.push(call);
  });
}

interface Message {
  type: string;
  target?: string;
  tokensFile?: string;
  streams?: number;
  perChannel?: number;
  key?: string;
  prefixes?: string[];
  value?: unknown;
  /** The armed change reaches the streams of tenants without their own value whose bucket is below this. */
  percent?: number;
  timeoutMs?: number;
  quietMs?: number;
}

process.on('message', (m: Message) => {
  if (m.type === 'open') {
    void (async () => {
      const tokens = JSON.parse(readFileSync(m.tokensFile!, 'utf8')) as TenantToken[];
      watchedKey = m.key!;
      let failed = 0;
      // In waves, so the server is not handed 10,000 handshakes in one tick. Stream i is tenant i mod N's.
      const wave = 500;
      for (let i = 0; i < m.streams!; i += wave) {
        const n = Math.min(wave, m.streams! - i);
        const results = await Promise.all(
          Array.from({ length: n }, (_, j) => openStream(channelFor(i + j, m.target!, m.perChannel!), tokens[(i + j) % tokens.length], m.prefixes!)),
        );
        failed += results.filter((ok) => !ok).length;
      }
      const snapshotSources: Record<string, number> = {};
      for (const s of streams) {
        const k = `${s.overrides ? 'overriding' : 'inheriting'}:${s.snapshotSource ?? 'none'}`;
        snapshotSources[k] = (snapshotSources[k] ?? 0) + 1;
      }
      process.send?.({ type: 'opened', streams: streams.length - failed, failed, channels: channels.length, snapshotSources });
    })();
  } else if (m.type === 'arm') {
    // The wire form of the value, as the server encodes it (JSON.stringify of a number or string).
    armed = JSON.stringify(m.value);
    for (const s of streams) {
      s.expected = !s.failed && !s.overrides && rolloutBucket(watchedKey, s.tenant) < m.percent!;
      s.arrivedAt = undefined;
      s.changesOfKey = 0;
      s.otherChanges = 0;
    }
    process.send?.({ type: 'armed', expected: streams.filter((s) => s.expected).length });
  } else if (m.type === 'await') {
    const expected = streams.filter((s) => s.expected);
    const deadline = Date.now() + (m.timeoutMs ?? 30_000);
    const report = () => {
      const arrivals = expected.filter((s) => s.arrivedAt !== undefined).map((s) => s.arrivedAt!);
      process.send?.({
        type: 'arrived',
        arrivals,
        expected: expected.length,
        reached: arrivals.length,
        // Streams the change must not reach (out of the wave, or with the tenant's own value) that got a change of the key.
        wronglyNotified: streams.filter((s) => !s.failed && !s.expected && s.changesOfKey > 0).length,
        wronglyNotifiedOverriding: streams.filter((s) => !s.failed && s.overrides && s.changesOfKey > 0).length,
        duplicates: expected.filter((s) => s.changesOfKey > 1).length,
        otherChanges: streams.reduce((n, s) => n + s.otherChanges, 0),
        failedToOpen: streams.filter((s) => s.failed).length,
        endedAfterSnapshot: streams.filter((s) => s.ended).length,
      });
    };
    const poll = () => {
      if (expected.every((s) => s.arrivedAt !== undefined) || Date.now() > deadline) setTimeout(report, m.quietMs ?? 1000);
      else setTimeout(poll, 2);
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
