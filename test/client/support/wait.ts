/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A logger that keeps every line, for assertions; prints nothing. */
export function recordingLogger(): {
  lines: Array<{ level: string; message: string; details?: Record<string, unknown> }>;
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
} {
  const lines: Array<{ level: string; message: string; details?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, details?: Record<string, unknown>) => {
    lines.push({ level, message, details });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Client options for tests: a fixed token, millisecond-scale backoff and grace, logs kept in memory. */
export function fastTestOptions() {
  return {
    token: () => 'token-1',
    prefixes: ['tenantconfig:'],
    backoffBaseMs: 20,
    backoffCapMs: 400,
    staleAfterMs: 300,
    reconnectJitterMs: 20,
    logger: recordingLogger(),
  };
}

/**
 * A stream whose own retry schedule is slow (30 s base, every random draw at the top of its
 * range), so a client comes back within its recovery bound only through the HTTP fallback's
 * signal: what the recovery tests need to tell the new schedule from the old one.
 */
export function slowStreamRecovery(fast: { backoffCapWhileHttpUpMs: number; httpRetryCapMs: number; reconnectJitterMs: number }) {
  return { backoffBaseMs: 30_000, backoffCapMs: 60_000, staleAfterMs: 20_000, random: () => 0.999, ...fast };
}
