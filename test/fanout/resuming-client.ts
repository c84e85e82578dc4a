/**
 * A raw gRPC Watch client that does what DESIGN §4 asks of any client: keep the cursor of
 * the last event, and on `reconnect` or any end of the stream, call Watch again with that
 * cursor (after a short jittered delay), wherever the service address now points.
 * It records every version it applies, per key, to check for gaps and duplicates.
 */
import * as grpc from '@grpc/grpc-js';
import type { WatchEvent__Output } from '../../proto/generated/tenantconfig/v1/WatchEvent';
import { watchClient, type WatchClient } from './harness';

export class ResumingWatcher {
  /** Versions applied per key, in the order applied (snapshot items included). */
  readonly applied = new Map<string, number[]>();
  readonly state = new Map<string, { version: number; valueJson: string }>();
  readonly statuses: grpc.StatusObject[] = [];
  reconnectsReceived = 0;
  snapshotReasons: string[] = [];
  cursor = '';
  private client?: { address: string; client: WatchClient };
  private call?: grpc.ClientReadableStream<WatchEvent__Output>;
  private stopped = false;
  private listeners: Array<() => void> = [];

  constructor(
    private readonly target: () => string,
    private readonly token: () => string,
    private readonly prefixes: string[],
  ) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.call?.cancel();
    this.client?.client.close();
  }

  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out waiting for ${what}; statuses ${JSON.stringify(this.statuses.map((s) => [s.code, s.details]))}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const address = this.target();
    if (this.client?.address !== address) {
      this.client?.client.close();
      this.client = { address, client: watchClient(address) };
    }
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.token()}`);
    const call = this.client.client.Watch({ prefixes: this.prefixes, resume_cursor: this.cursor }, md);
    this.call = call;
    call.on('data', (e: WatchEvent__Output) => this.apply(e));
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => {
      this.statuses.push(s);
      this.notify();
      // Jittered, short: the test's deploy takes seconds, not minutes.
      setTimeout(() => this.connect(), 20 + Math.random() * 80);
    });
  }

  private apply(e: WatchEvent__Output): void {
    if (e.snapshot) {
      this.snapshotReasons.push(e.snapshot.reason);
      this.state.clear();
      for (const item of e.snapshot.items) {
        this.state.set(item.key, { version: item.version, valueJson: item.value_json });
        this.push(item.key, item.version);
      }
      this.cursor = e.snapshot.cursor;
    } else if (e.change) {
      const c = e.change;
      if (c.deleted) this.state.delete(c.key);
      else this.state.set(c.key, { version: c.version, valueJson: c.value_json });
      this.push(c.key, c.version);
      this.cursor = c.cursor;
    } else if (e.heartbeat) {
      this.cursor = e.heartbeat.cursor;
    } else if (e.reconnect) {
      this.reconnectsReceived += 1;
    }
    this.notify();
  }

  private push(key: string, version: number): void {
    const list = this.applied.get(key) ?? [];
    list.push(version);
    this.applied.set(key, list);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
