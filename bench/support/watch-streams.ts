/**
 * The load side shared by the Watch benchmarks' load processes: channels (each its own HTTP/2
 * connection) with Watch streams multiplexed over them, opened in waves; and, for the layers and
 * rollouts benchmarks, per-tenant streams that record when a change of one key to one value
 * arrives, and any other change of that key.
 *
 * {@link serveKeyWatchLoad} runs such a load process: it answers
 * - `{type:'open', target, tokensFile, streams, perChannel, key, prefixes}` with
 *   `{type:'opened', streams, failed, channels, snapshotSources}` (stream i is tenant i mod N's);
 * - `{type:'stop'}` by cancelling every stream and exiting;
 * and hands every other message to the benchmark's own handler.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { ConfigWatchClient } from '../../proto/generated/tenantconfig/v1/ConfigWatch';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import { loadConfigProto } from '../../proto/load';
import type { TenantToken } from './in-memory-fanout';

const wallClock = () => performance.timeOrigin + performance.now();

/** Channels opened on demand, `perChannel` streams each. */
export class WatchChannels {
  readonly channels: ConfigWatchClient[] = [];
  readonly calls: grpc.ClientReadableStream<WatchEvent__Output>[] = [];

  /** The channel of the `index`-th stream. */
  channelFor(index: number, target: string, perChannel: number): ConfigWatchClient {
    const c = Math.floor(index / perChannel);
    while (this.channels.length <= c) {
      const { ConfigWatch } = loadConfigProto().tenantconfig.v1;
      // A private subchannel pool: otherwise grpc-js shares one connection between all clients.
      this.channels.push(new ConfigWatch(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    }
    return this.channels[c];
  }

  close(): void {
    for (const call of this.calls) call.cancel();
    for (const c of this.channels) c.close();
  }
}

/**
 * Opens `count` streams (`openOne(i)` resolving to whether stream i got its snapshot) in waves of
 * 500, so the server is not handed 10,000 handshakes in one tick; resolves to the number that failed.
 */
export async function openInWaves(count: number, openOne: (i: number) => Promise<boolean>): Promise<number> {
  let failed = 0;
  const wave = 500;
  for (let i = 0; i < count; i += wave) {
    const n = Math.min(wave, count - i);
    const results = await Promise.all(Array.from({ length: n }, (_, j) => openOne(i + j)));
    failed += results.filter((ok) => !ok).length;
  }
  return failed;
}

/** One tenant's stream of the watched key. */
export interface KeyStream {
  readonly tenant: string;
  readonly overrides: boolean;
  /** The source of the key in the snapshot (`tenant`, `platform`, or none). */
  snapshotSource?: string;
  /** Whether the armed change must reach this stream (set by the benchmark when it arms). */
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

/** Per-tenant Watch streams of one key, and the arrivals of the armed value. */
export class KeyWatchStreams {
  readonly streams: KeyStream[] = [];
  private readonly wire = new WatchChannels();
  private armed: string | undefined;
  private watchedKey = '';

  get key(): string {
    return this.watchedKey;
  }

  async open(m: { target: string; tokensFile: string; streams: number; perChannel: number; key: string; prefixes: string[] }): Promise<void> {
    const tokens = JSON.parse(readFileSync(m.tokensFile, 'utf8')) as TenantToken[];
    this.watchedKey = m.key;
    const failed = await openInWaves(m.streams, (i) => this.openStream(this.wire.channelFor(i, m.target, m.perChannel), tokens[i % tokens.length], m.prefixes));
    const snapshotSources: Record<string, number> = {};
    for (const s of this.streams) {
      const k = `${s.overrides ? 'overriding' : 'inheriting'}:${s.snapshotSource ?? 'none'}`;
      snapshotSources[k] = (snapshotSources[k] ?? 0) + 1;
    }
    process.send?.({ type: 'opened', streams: this.streams.length - failed, failed, channels: this.wire.channels.length, snapshotSources });
  }

  /** From now on a change of the key to `value` is an arrival; `expectedOf` marks the streams it must reach. */
  arm(value: unknown, expectedOf: (s: KeyStream) => boolean = () => false): void {
    // The wire form of the value, as the server encodes it (JSON.stringify of a number or string).
    this.armed = JSON.stringify(value);
    for (const s of this.streams) {
      s.expected = expectedOf(s);
      s.arrivedAt = undefined;
      s.changesOfKey = 0;
      s.otherChanges = 0;
    }
  }

  /**
   * Waits until every one of `expected` has its arrival or `timeoutMs` passed, then `quietMs`
   * more, and answers `{type:'arrived', arrivals, expected, reached, …wrongly, duplicates,
   * otherChanges, failedToOpen, endedAfterSnapshot}` with `wrongly` the benchmark's counts of
   * streams the change must not have reached.
   */
  answerArrived(expected: readonly KeyStream[], wrongly: () => Record<string, number>, timeoutMs = 30_000, quietMs = 1000): void {
    const deadline = Date.now() + timeoutMs;
    const report = () => {
      const arrivals = expected.filter((s) => s.arrivedAt !== undefined).map((s) => s.arrivedAt!);
      process.send?.({
        type: 'arrived',
        arrivals,
        expected: expected.length,
        reached: arrivals.length,
        ...wrongly(),
        duplicates: expected.filter((s) => s.changesOfKey > 1).length,
        otherChanges: this.streams.reduce((n, s) => n + s.otherChanges, 0),
        failedToOpen: this.streams.filter((s) => s.failed).length,
        endedAfterSnapshot: this.streams.filter((s) => s.ended).length,
      });
    };
    const poll = () => {
      if (expected.every((s) => s.arrivedAt !== undefined) || Date.now() > deadline) setTimeout(report, quietMs);
      else setTimeout(poll, 2);
    };
    poll();
  }

  close(): void {
    this.wire.close();
  }

  private openStream(client: ConfigWatchClient, t: TenantToken, prefixes: string[]): Promise<boolean> {
    const state: KeyStream = { tenant: t.tenant, overrides: t.overrides, expected: false, changesOfKey: 0, otherChanges: 0, failed: false, ended: false };
    this.streams.push(state);
    return new Promise((resolve) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${t.token}`);
      const call = client.Watch({ prefixes, resume_cursor: '' }, metadata);
      let settled = false;
      call.on('data', (event: WatchEvent__Output) => {
        if (event.snapshot) {
          const item = event.snapshot.items.find((i) => i.key === this.watchedKey);
          if (item) state.snapshotSource = item.source || 'tenant';
          if (!event.snapshot.more && !settled) {
            settled = true;
            resolve(true);
          }
        } else if (event.change && this.armed !== undefined) {
          if (event.change.key !== this.watchedKey) {
            state.otherChanges += 1;
            return;
          }
          state.changesOfKey += 1;
          if (state.arrivedAt === undefined && !event.change.deleted && event.change.value_json === this.armed) state.arrivedAt = wallClock();
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
      this.wire.calls.push(call);
    });
  }
}

/** The messages every key-watch load process takes (`open`, and the fields of `arm` and `await`). */
export interface KeyWatchMessage {
  type: string;
  target?: string;
  tokensFile?: string;
  streams?: number;
  perChannel?: number;
  key?: string;
  prefixes?: string[];
  value?: unknown;
  timeoutMs?: number;
  quietMs?: number;
}

/** Runs this process as a key-watch load process: `open` and `stop` here, every other message to `handle`. */
export function serveKeyWatchLoad<M extends KeyWatchMessage>(handle: (m: M, streams: KeyWatchStreams) => void): void {
  const streams = new KeyWatchStreams();
  process.on('message', (m: M) => {
    if (m.type === 'open') {
      void streams.open({
        target: m.target!,
        tokensFile: m.tokensFile!,
        streams: m.streams!,
        perChannel: m.perChannel!,
        key: m.key!,
        prefixes: m.prefixes!,
      });
    } else if (m.type === 'stop') {
      streams.close();
      process.exit(0);
    } else {
      handle(m, streams);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready' });
}
