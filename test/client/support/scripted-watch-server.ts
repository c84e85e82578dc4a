/**
 * A small real gRPC server implementing tenantconfig.v1.ConfigWatch from the proto, driven by
 * the test: each Watch is recorded (prefixes, cursor, token) and handed to the test's script,
 * which writes events, drops the stream with a status, or refuses it. It listens on 127.0.0.1
 * (port 0 unless a port is given, so a test can bring the "service" back on the same address).
 */
import * as grpc from '@grpc/grpc-js';
import { loadConfigProto } from '../../../proto/load';
import type { WatchEvent } from '../../../proto/generated/tenantconfig/v1/WatchEvent';
import type { WatchRequest__Output } from '../../../proto/generated/tenantconfig/v1/WatchRequest';
import type { Item } from '../../../proto/generated/tenantconfig/v1/Item';

export type ServerWatchCall = grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>;

export interface RecordedWatch {
  readonly prefixes: string[];
  readonly resumeCursor: string;
  readonly pagedSnapshots: boolean;
  /** `WatchRequest.tenants`: empty for the token's own tenant, ids, or `*`. */
  readonly tenants: string[];
  /** True once the client cancelled the call (or it ended otherwise). */
  cancelled: boolean;
  /** The client's address and port: one per connection. */
  readonly peer: string;
  readonly authorization: string | undefined;
  readonly call: ServerWatchCall;
}

export type WatchScript = (watch: RecordedWatch, index: number) => void;

export class ScriptedWatchServer {
  readonly watches: RecordedWatch[] = [];
  private server?: grpc.Server;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  port = 0;

  /** What each Watch gets; by default an empty INITIAL snapshot at cursor "0-0". */
  script: WatchScript = (watch) => watch.call.write(snapshotEvent([], '0-0'));

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<string> {
    const server = new grpc.Server();
    server.addService(loadConfigProto().tenantconfig.v1.ConfigWatch.service, {
      Watch: (call: ServerWatchCall) => {
        const watch: RecordedWatch = {
          prefixes: [...call.request.prefixes],
          resumeCursor: call.request.resume_cursor,
          pagedSnapshots: call.request.paged_snapshots,
          tenants: [...call.request.tenants],
          cancelled: false,
          peer: call.getPeer(),
          authorization: call.metadata.get('authorization')[0]?.toString(),
          call,
        };
        call.on('cancelled', () => {
          watch.cancelled = true;
        });
        const index = this.watches.push(watch) - 1;
        this.script(watch, index);
        this.waiters = this.waiters.filter((w) => {
          if (this.watches.length < w.count) return true;
          w.resolve();
          return false;
        });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.server = server;
    return this.target;
  }

  /** Resolves once `count` Watch calls have arrived in all. */
  waitForWatches(count: number): Promise<void> {
    if (this.watches.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  get latest(): RecordedWatch {
    const watch = this.watches[this.watches.length - 1];
    if (!watch) throw new Error('no Watch call yet');
    return watch;
  }

  /** Stops at once, cutting every open stream (the service going down). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.forceShutdown();
  }
}

export function item(key: string, value: unknown, version: number, tenantId?: string): Item {
  return {
    key,
    value_json: JSON.stringify(value),
    version,
    updated_at: '2026-11-22T10:00:00.000Z',
    updated_by: 'tester',
    ...(tenantId ? { tenant_id: tenantId } : {}),
  };
}

export function snapshotEvent(items: Item[], cursor: string, reason: 'INITIAL' | 'CURSOR_EXPIRED' = 'INITIAL', more = false): WatchEvent {
  return { snapshot: { items, cursor, reason, more } };
}

export function changeEvent(key: string, value: unknown, version: number, cursor: string, tenantId?: string): WatchEvent {
  return {
    change: {
      key,
      value_json: JSON.stringify(value),
      version,
      deleted: false,
      cursor,
      updated_at: '2026-11-22T10:00:01.000Z',
      updated_by: 'tester',
      ...(tenantId ? { tenant_id: tenantId } : {}),
    },
  };
}

export function deleteEvent(key: string, version: number, cursor: string, tenantId?: string): WatchEvent {
  return { change: { key, value_json: '', version, deleted: true, cursor, ...(tenantId ? { tenant_id: tenantId } : {}) } };
}

export function heartbeatEvent(cursor: string): WatchEvent {
  return { heartbeat: { cursor } };
}

export function reconnectEvent(reason = 'draining'): WatchEvent {
  return { reconnect: { reason } };
}

/** Ends a stream with a status, as a server that drops, refuses or cuts off a subscriber does. */
export function endWith(call: ServerWatchCall, code: grpc.status, details: string): void {
  call.emit('error', { code, details, metadata: new grpc.Metadata() } satisfies Partial<grpc.StatusObject>);
}

/** Sends response headers without an event: what a server does when it accepts a resume. */
export function acceptResume(call: ServerWatchCall): void {
  call.sendMetadata(new grpc.Metadata());
}

/**
 * A fresh scripted server for every test (handed to `use`), and the clients a test made closed
 * after it, before the server stops.
 */
export function scriptedServerPerTest(clients: Array<{ close(): Promise<void> }>, use: (server: ScriptedWatchServer) => void): void {
  let server: ScriptedWatchServer;
  beforeEach(async () => {
    server = new ScriptedWatchServer();
    await server.start();
    use(server);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.stop();
  });
}
