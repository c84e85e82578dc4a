/**
 * The fanout gRPC server: ConfigWatch and grpc.health.v1 on one port, the one change-log
 * reader, and the drain that a deploy relies on (SIGTERM → stop accepting → `reconnect` to
 * every stream → let the writes flush → exit before the deadline). With an events port, the
 * same Watch service is also served as server-sent events for browsers (fanout/events/).
 */
import * as grpc from '@grpc/grpc-js';
import type { ChangeLog } from '../core/change-log';
import type { FanoutLayers } from './fanout-layers';
import type { TagRegistry } from '../core/tag-registry';
import { loadConfigProto } from '../proto/load';
import { ChangeHub } from './change-hub';
import { HealthStatus, loadHealthProto } from './health';
import { InMemoryFanoutMetrics, type FanoutMetrics } from './metrics';
import type { SnapshotSource, TenantDirectory } from './snapshot-source';
import type { TokenVerifier } from './token-verifier';
import { DEFAULT_WATCH_SETTINGS, WatchService, type WatchServiceSettings } from './watch-service';
import type { WatchStreamStats } from './watch-stream';
import type { GenericLogger } from '../core/logger';
import { DEFAULT_EVENTS_SETTINGS, startEventsServer, type EventsServer, type EventsServerSettings } from './events/events-server';

export const WATCH_SERVICE_NAME = 'tenantconfig.v1.ConfigWatch';

export interface ConnectionSettings {
  /**
   * GOAWAY after this long (grpc-js adds ±10 % jitter), so a client's next stream opens a new
   * connection, which the NLB may place on another task: how load rebalances after scaling.
   * @default 30 min
   */
  readonly maxConnectionAgeMs: number;
  /**
   * Time the streams of a GOAWAY'd connection get before it is closed hard. It outlasts the
   * longest stream age, so streams end through their own `reconnect` rather than a reset.
   * @default maxStreamAgeMs + 1 min
   */
  readonly maxConnectionAgeGraceMs?: number;
  /**
   * Server pings after this much silence on a connection, to find clients that vanished
   * without a FIN (NAT/NLB state lost, host gone). Well under the NLB's 350 s TCP idle timeout.
   * @default 60 s
   */
  readonly keepaliveTimeMs: number;
  /** A ping not answered within this closes the connection. @default 20 s */
  readonly keepaliveTimeoutMs: number;
  /** How long a drain waits for streams to flush before closing what is left. @default 20 s (ECS gives 30 s by default) */
  readonly drainDeadlineMs: number;
}

export const DEFAULT_CONNECTION_SETTINGS: ConnectionSettings = {
  maxConnectionAgeMs: 30 * 60_000,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  drainDeadlineMs: 20_000,
};

export interface FanoutDeps {
  readonly verifier: TokenVerifier;
  readonly changeLog: ChangeLog;
  readonly snapshots: SnapshotSource;
  /** The tenants that hold data: what a Watch of every tenant ("*") snapshots. Without it, "*" is refused. */
  readonly tenants?: TenantDirectory;
  /** The layers of defaults (loaded before the server listens): with them, Watch serves effective values. */
  readonly layers?: FanoutLayers;
  readonly registry: TagRegistry;
  /** @default a fresh InMemoryFanoutMetrics */
  readonly metrics?: FanoutMetrics;
  readonly logger?: GenericLogger;
  readonly watch?: Partial<WatchServiceSettings>;
  readonly connection?: Partial<ConnectionSettings>;
  /** The events endpoint's settings (CORS origins); it listens only when `eventsPort` is given. */
  readonly events?: Partial<EventsServerSettings>;
}

export interface FanoutListen {
  readonly host: string;
  /** gRPC; 0 picks a free port. */
  readonly port: number;
  /** `GET /v1/events` (SSE over HTTP/1.1) on this port, 0 for a free one. @default not served */
  readonly eventsPort?: number;
}

export interface FanoutServer {
  readonly port: number;
  /** The events endpoint's port, when it is served. */
  readonly eventsPort?: number;
  readonly metrics: FanoutMetrics;
  /** Health NOT_SERVING, no new connections or streams, `reconnect` to every stream, flush, stop. Idempotent. */
  drain(): Promise<void>;
  /** Closes everything at once (tests, and the drain's deadline). */
  forceStop(): void;
  /** What each open Watch stream holds (queue, bytes in the transport, snapshot progress). */
  stats(): FanoutStats;
}

export interface FanoutStats {
  readonly openStreams: number;
  readonly streams: readonly WatchStreamStats[];
  /** Open streams of one watcher identity (`tenant:<id>`, `service:<subject>`, `operator:<subject>`). */
  streamsOf(identity: string): number;
}

/**
 * Streams a connection may have open at the HTTP/2 level beyond the Watch limit: room for the
 * health service and for the calls being refused, so the excess is answered with a status
 * that says why, while a client that opens thousands still cannot make the server parse them.
 */
export const HTTP2_STREAM_HEADROOM = 16;

/** gRPC server options: each keepalive and age setting explained where it is chosen. */
export function serverOptions(
  c: ConnectionSettings,
  maxStreamAgeMs: number,
  maxStreamsPerConnection = DEFAULT_WATCH_SETTINGS.maxStreamsPerConnection,
): grpc.ServerOptions {
  return {
    // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: the protocol's own bound per connection (the
    // Watch limit itself is enforced per call, so its refusal can say which limit it is).
    'grpc.max_concurrent_streams': maxStreamsPerConnection + HTTP2_STREAM_HEADROOM,
    'grpc.max_connection_age_ms': c.maxConnectionAgeMs,
    'grpc.max_connection_age_grace_ms': c.maxConnectionAgeGraceMs ?? maxStreamAgeMs + 60_000,
    'grpc.keepalive_time_ms': c.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': c.keepaliveTimeoutMs,
    // Watch connections sit idle between heartbeats, and a dead one must still be found:
    // keepalive pings go out with or without calls in flight. (grpc-js 1.14's server pings
    // every connection anyway and only its client reads this; set so the intent holds for
    // any transport that does read it.)
    'grpc.keepalive_permit_without_calls': 1,
    // The floor for clients' own pings (the SDK pings every 30 s at most). grpc-js 1.14 does
    // not enforce it (no ping strikes); C-core servers and proxies that honour it will.
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // A snapshot is one message for clients that do not ask for pages; values are bounded (tag limits ≤ 8 KB).
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  };
}

/**
 * One change goes to every stream of its tenant as the same message object; encoding it once
 * instead of once per stream is most of the cost of a broadcast to thousands of streams.
 */
export function encodeSharedMessagesOnce<T extends grpc.ServiceDefinition>(service: T): T {
  const wrapped: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const [name, method] of Object.entries(service)) {
    if (!method.responseStream) {
      wrapped[name] = method;
      continue;
    }
    const encoded = new WeakMap<object, Buffer>();
    const serialize = method.responseSerialize;
    wrapped[name] = {
      ...method,
      responseSerialize: (value: object) => {
        let bytes = encoded.get(value);
        if (!bytes) {
          bytes = serialize(value);
          encoded.set(value, bytes);
        }
        return bytes;
      },
    };
  }
  return wrapped as unknown as T;
}

export async function startFanoutServer(deps: FanoutDeps, listen: FanoutListen): Promise<FanoutServer> {
  const metrics = deps.metrics ?? new InMemoryFanoutMetrics();
  const watchSettings: WatchServiceSettings = { ...DEFAULT_WATCH_SETTINGS, ...deps.watch };
  const connection: ConnectionSettings = { ...DEFAULT_CONNECTION_SETTINGS, ...deps.connection };

  const hub = new ChangeHub(deps.changeLog, metrics, deps.logger, Date.now, deps.layers);
  const watch = new WatchService(
    {
      log: deps.changeLog,
      hub,
      snapshots: deps.snapshots,
      tenants: deps.tenants,
      layers: deps.layers,
      metrics,
      logger: deps.logger,
      verifier: deps.verifier,
      registry: deps.registry,
    },
    watchSettings,
  );
  const health = new HealthStatus([WATCH_SERVICE_NAME]);

  const server = new grpc.Server(serverOptions(connection, watchSettings.maxStreamAgeMs, watchSettings.maxStreamsPerConnection));
  server.addService(encodeSharedMessagesOnce(loadConfigProto().tenantconfig.v1.ConfigWatch.service), watch.handlers());
  server.addService(loadHealthProto().service, health.handlers());

  await hub.start();
  // After the hub's start: a default changed while loading reaches the layers from the log.
  await deps.layers?.load();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${listen.host}:${listen.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  }).catch(async (error: unknown) => {
    await hub.stop();
    throw error;
  });
  deps.logger?.info('fanout listening', { host: listen.host, port });
  let events: EventsServer | undefined;
  if (listen.eventsPort !== undefined) {
    events = await startEventsServer(watch, { host: listen.host, port: listen.eventsPort }, { ...DEFAULT_EVENTS_SETTINGS, ...deps.events }, deps.logger).catch(
      async (error: unknown) => {
        server.forceShutdown();
        await hub.stop();
        throw error;
      },
    );
  }

  let stopped = false;
  const forceStop = (): void => {
    if (stopped) return;
    stopped = true;
    health.endWatches();
    watch.reconnectAll('the server is stopping');
    server.forceShutdown();
    events?.forceClose();
    void hub.stop();
  };

  let draining: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    draining ??= (async () => {
      health.setAll('NOT_SERVING');
      // Stop accepting first: tryShutdown closes the listener and sends GOAWAY on every
      // connection, so clients that reconnect after `reconnect` open a new connection
      // (to another task) instead of a new stream on this one.
      const grpcClosed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const closed = Promise.all([grpcClosed, events?.close()]);
      health.endWatches();
      watch.reconnectAll('the server is draining (deploy or scale-in); reconnect and resume from your cursor');
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        deadline = setTimeout(() => resolve('timeout'), connection.drainDeadlineMs);
      });
      // tryShutdown completes once every stream has ended and its writes have flushed.
      const outcome = await Promise.race([closed.then(() => 'flushed' as const), timedOut]);
      clearTimeout(deadline);
      if (outcome === 'timeout') {
        deps.logger?.warn('drain deadline reached; closing the remaining connections', { openStreams: watch.openStreams });
      }
      forceStop();
      await hub.stop();
    })();
    return draining;
  };

  const stats = (): FanoutStats => ({
    openStreams: watch.openStreams,
    streams: watch.streamStats(),
    streamsOf: (identity) => watch.streamsOf(identity),
  });

  return { port, eventsPort: events?.port, metrics, drain, forceStop, stats };
}
