/**
 * What a consuming service sees of its configuration. Defined here, not imported from
 * core/: the SDK ships to services that have none of the server's code.
 */

/** One configuration entry as the client holds it. `version` increases on every write of the key. */
export interface ClientItem<T = unknown> {
  readonly key: string;
  readonly value: T;
  readonly version: number;
  /** ISO-8601 instant of the write. */
  readonly updatedAt: string;
  readonly updatedBy: string;
  /**
   * Where the value comes from: `tenant` (the tenant's own), `segment:<attribute>=<value>` or
   * `platform` (a default the tenant does not override). Absent from services older than layers.
   */
  readonly source?: string;
}

/** One applied change, as change listeners receive it. */
export interface ConfigChange<T = unknown> {
  /** The tenant whose key changed; set by clients that follow many tenants. */
  readonly tenantId?: string;
  readonly key: string;
  /** The new value; `undefined` when deleted. */
  readonly value: T | undefined;
  /** The version written, or the version deleted. */
  readonly version: number;
  readonly deleted: boolean;
  /** Where the new value comes from (see {@link ClientItem.source}). */
  readonly source?: string;
  /** What the client held before, when it held the key. */
  readonly previous?: { readonly value: T; readonly version: number };
}

/**
 * - `initializing`: no stream yet and no outage either (start() has not run or is connecting);
 * - `live`: a Watch stream is up and the state is what the service last sent;
 * - `interrupted`: the stream cannot be had; reads serve the last state (see `source`);
 * - `stale`: interrupted for longer than the grace (`staleAfterMs`).
 */
export type ConfigClientStatus = 'initializing' | 'live' | 'interrupted' | 'stale';

/** Where the state `get` serves came from. */
/** `bootstrap`: the values given to the constructor (`offline`, `bootstrap`, the test double). */
export type StateSource = 'none' | 'stream' | 'http' | 'snapshot-file' | 'bootstrap';

export interface StatusReport {
  readonly status: ConfigClientStatus;
  readonly source: StateSource;
  /** `Date.now()` when `status` took its current value. */
  readonly since: number;
  /** Why the stream is down, while it is. */
  readonly lastError?: string;
}

export type ChangeListener<T = unknown> = (change: ConfigChange<T>) => void;
export type StatusListener = (status: ConfigClientStatus, report: StatusReport) => void;

/** Structured logging as Powertools Logger and `console` both accept it. */
export interface ConfigClientLogger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** A reconnect the client has scheduled: after a failed attempt, a broken stream, a server's notice or a token refresh. */
export interface ReconnectEvent {
  /** Why the stream is (re)opened. */
  readonly reason: string;
  /** When the attempt is made, from now. */
  readonly delayMs: number;
  /** Consecutive failed attempts before this one (0 after a stream that was up). */
  readonly failures: number;
  /** A server's `reconnect` notice or a clean end: no outage, the status stays `live`. */
  readonly planned: boolean;
}

/** An applied change, timed: `lagMs` from its `updatedAt` (the write) to the moment the client applied it. */
export interface LagEvent {
  readonly lagMs: number;
  readonly key: string;
  readonly version: number;
  /** Set by clients that follow many tenants. */
  readonly tenantId?: string;
}

/**
 * Hooks for a metrics library (Powertools Metrics, prom-client, OpenTelemetry...). Each is
 * optional, called synchronously; one that throws is logged and does not disturb the client.
 */
export interface ConfigClientMetrics {
  /** Every change of status or of the state's source (as `onStatus` listeners hear it). */
  onStatus?(status: ConfigClientStatus, report: StatusReport): void;
  /** Every change applied from the stream (snapshots and HTTP loads carry no per-change timing). */
  onLag?(event: LagEvent): void;
  /** Every reconnect scheduled. */
  onReconnect?(event: ReconnectEvent): void;
}
