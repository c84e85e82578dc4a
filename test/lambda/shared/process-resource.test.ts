import { ProcessResource } from '../../../lambda/shared/process-resource';

describe('ProcessResource: built once per process, a failed build not kept', () => {
  it('builds on first use and hands every caller the same resource', async () => {
    let builds = 0;
    const resource = new ProcessResource(async () => ({ n: ++builds }));

    const [a, b] = await Promise.all([resource.get(), resource.get()]);
    const c = await resource.get();

    expect(builds).toBe(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('tries again after a failed build, so a passing fault at cold start does not stick', async () => {
    let attempt = 0;
    const resource = new ProcessResource(async () => {
      attempt += 1;
      if (attempt === 1) throw new Error('throttled');
      return 'ready';
    });

    await expect(resource.get()).rejects.toThrow('throttled');
    await expect(resource.get()).resolves.toBe('ready');
    expect(attempt).toBe(2);
  });

  it('dispose closes what was built, once, and the next use builds anew', async () => {
    const closed: number[] = [];
    let builds = 0;
    const resource = new ProcessResource(
      async () => ++builds,
      async (n) => void closed.push(n),
    );

    await resource.get();
    await resource.dispose();
    await resource.dispose();
    await resource.get();

    expect(closed).toEqual([1]);
    expect(builds).toBe(2);
  });

  it('dispose of a resource never built, or whose build failed, closes nothing', async () => {
    const close = jest.fn(async () => undefined);
    const failing = new ProcessResource<number>(async () => {
      throw new Error('no');
    }, close);

    await new ProcessResource(async () => 1, close).dispose();
    await failing.get().catch(() => undefined);
    await failing.dispose();

    expect(close).not.toHaveBeenCalled();
  });
});
