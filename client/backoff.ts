/**
 * Reconnect delays: exponential backoff with "full jitter" (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): uniform in [0, min(cap, base * 2^attempt)).
 * Full jitter spreads a fleet of clients that lost the same server, so they do not
 * return in lockstep.
 */
import { DEFAULTS } from './options';

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** The delay before retry number `attempt` (0 = first retry after a failure). */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  // Bounding the exponent keeps 2 ** attempt finite; the cap applies long before it matters.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 52));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(r * ceiling), Math.max(ceiling - 1, 0));
}

/** The stream's retry schedule while interrupted; see {@link streamRetryDelay}. */
export interface StreamRetryPolicy extends BackoffPolicy {
  /** The ceiling while the HTTP fallback's last load succeeded (the service answers); never above `capMs`. */
  readonly capWhileHttpUpMs: number;
}

/**
 * The delay before the stream's retry number `attempt`. While the HTTP fallback answers, the
 * service is up and only the stream is missing, so the ceiling drops to `capWhileHttpUpMs`:
 * the stream comes back within that of the fanout answering, not within the long cap.
 */
export function streamRetryDelay(attempt: number, policy: StreamRetryPolicy, httpUp: boolean, random: () => number): number {
  const capMs = httpUp ? Math.min(policy.capWhileHttpUpMs, policy.capMs) : policy.capMs;
  return fullJitterDelay(attempt, { baseMs: policy.baseMs, capMs }, random);
}

/** The settings that bound how soon an interrupted client comes back; see {@link recoveryBoundMs}. */
export interface RecoverySettings {
  readonly backoffCapMs: number;
  readonly backoffCapWhileHttpUpMs: number;
  readonly httpRetryCapMs: number;
  readonly reconnectJitterMs: number;
}

/**
 * With the HTTP fallback configured: at most this long after the service answers again (HTTP and
 * gRPC), an interrupted client opens a Watch attempt that succeeds; it is live, and holds the
 * store's state, once that attempt's snapshot (or accepted resume) arrives.
 * - a live stream that just broke is retried within `reconnectJitterMs`; when that fails, the
 *   HTTP fallback starts;
 * - the HTTP fallback had not succeeded yet: its next load comes within `httpRetryCapMs`, and its
 *   success retries the stream within `reconnectJitterMs`;
 * - it had: every stream retry is due within `backoffCapWhileHttpUpMs`.
 * Not counted: the HTTP load and the Watch round trip themselves. Without the HTTP fallback the
 * client has no other way to learn that the service is back, and waits up to `backoffCapMs`.
 */
export function recoveryBoundMs(settings: Partial<RecoverySettings> = {}): number {
  const { backoffCapMs, backoffCapWhileHttpUpMs, httpRetryCapMs, reconnectJitterMs } = { ...DEFAULTS, ...definedOnly(settings) };
  return Math.max(Math.min(backoffCapWhileHttpUpMs, backoffCapMs), httpRetryCapMs + reconnectJitterMs);
}

/** Client options leave a setting out, or set it to undefined, for its default. */
function definedOnly<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<T>;
}
