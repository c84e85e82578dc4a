import { fullJitterDelay } from '../../client/backoff';

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
