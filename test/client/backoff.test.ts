import { fullJitterDelay, recoveryBoundMs, streamRetryDelay } from '../../client/backoff';
import { CONFIG_CLIENT_DEFAULTS } from '../../client';
import { resolveOptions } from '../../client/options';

describe('fullJitterDelay', () => {
  const policy = { baseMs: 250, capMs: 60_000 };

  it('doubles the ceiling each attempt and holds it at the cap', () => {
    // Arrange: the top of every range (random just under 1) shows the ceiling itself.
    const top = (): number => 0.999999;

    // Act
    const delays = Array.from({ length: 12 }, (_, attempt) => fullJitterDelay(attempt, policy, top));

    // Assert
    expect(delays).toEqual([249, 499, 999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999, 59999]);
  });

  it('draws each delay uniformly below the ceiling: the injected random picks the point', () => {
    const draws = [0, 0.5, 0.25, 0.9, 0.1];
    let i = 0;
    const random = (): number => draws[i++];

    const delays = draws.map((_, attempt) => fullJitterDelay(attempt, { baseMs: 100, capMs: 1_000 }, random));

    // ceilings 100, 200, 400, 800, 1000
    expect(delays).toEqual([0, 100, 100, 720, 100]);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(fullJitterDelay(10_000, policy, () => 0.999999)).toBeLessThan(policy.capMs);
    expect(Number.isFinite(fullJitterDelay(10_000, policy, () => 0.5))).toBe(true);
  });
});

describe('the recovery schedule with the default settings', () => {
  const defaults = resolveOptions({ grpcTarget: '127.0.0.1:50051', token: () => 't' });
  const policy = { baseMs: defaults.backoffBaseMs, capMs: defaults.backoffCapMs, capWhileHttpUpMs: defaults.backoffCapWhileHttpUpMs };
  const top = (): number => 0.999999;

  it('documents a bound of 4 s: the lower stream cap, longer than an HTTP retry plus the reconnect jitter', () => {
    expect(recoveryBoundMs(defaults)).toBe(4_000);
    expect(recoveryBoundMs()).toBe(4_000);
    expect(recoveryBoundMs({ backoffCapWhileHttpUpMs: 1_500, httpRetryCapMs: undefined })).toBe(3_000);
    expect(CONFIG_CLIENT_DEFAULTS).toMatchObject({ backoffCapWhileHttpUpMs: 4_000, httpRetryCapMs: 2_000, reconnectJitterMs: 1_000 });
    expect(defaults.httpRetryCapMs + defaults.reconnectJitterMs).toBeLessThanOrEqual(recoveryBoundMs(defaults));
  });

  it('while the HTTP fallback answers, every stream retry, however many failed before, stays within the bound', () => {
    const delays = Array.from({ length: 200 }, (_, attempt) => streamRetryDelay(attempt, policy, true, top));

    expect(Math.max(...delays)).toBeLessThan(recoveryBoundMs(defaults));
    expect(delays.slice(0, 6)).toEqual([249, 499, 999, 1999, 3999, 3999]);
  });

  it('while it does not, the stream keeps the long backoff up to the 60 s cap', () => {
    const delays = Array.from({ length: 12 }, (_, attempt) => streamRetryDelay(attempt, policy, false, top));

    expect(delays.slice(-2)).toEqual([59_999, 59_999]);
  });

  it('an HTTP load without an answer is retried within the HTTP retry cap, after any number of failures', () => {
    const delays = Array.from({ length: 200 }, (_, attempt) =>
      fullJitterDelay(attempt, { baseMs: defaults.backoffBaseMs, capMs: defaults.httpRetryCapMs }, top),
    );

    expect(Math.max(...delays)).toBeLessThan(defaults.httpRetryCapMs);
  });

  it('the lower cap never exceeds the long one, in the schedule and in the bound', () => {
    const small = { backoffCapMs: 1_000, backoffCapWhileHttpUpMs: 4_000, httpRetryCapMs: 200, reconnectJitterMs: 100 };

    expect(streamRetryDelay(20, { baseMs: 250, capMs: 1_000, capWhileHttpUpMs: 4_000 }, true, top)).toBe(999);
    expect(recoveryBoundMs(small)).toBe(1_000);
  });
});
