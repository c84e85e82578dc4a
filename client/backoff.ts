/**
 * Reconnect delays: exponential backoff with "full jitter" (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): uniform in [0, min(cap, base * 2^attempt)).
 * Full jitter spreads a fleet of clients that lost the same server, so they do not
 * return in lockstep.
 */
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
