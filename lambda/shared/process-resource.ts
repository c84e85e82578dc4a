/**
 * What a Lambda process builds on its first invocation and keeps for its life (SDK clients,
 * cache connections, resolved secrets). A failed build is not kept: the next invocation tries
 * again, so a cold start during a passing fault (a throttled secret read, a cache not yet
 * reachable) does not poison the process.
 */
export class ProcessResource<T> {
  private pending: Promise<T> | undefined;

  constructor(
    private readonly build: () => Promise<T>,
    private readonly close: (resource: T) => Promise<void> = async () => undefined,
  ) {}

  get(): Promise<T> {
    const pending = (this.pending ??= this.build().catch((e: unknown) => {
      if (this.pending === pending) this.pending = undefined;
      throw e;
    }));
    return pending;
  }

  /** Closes what was built, if anything was (tests and local runs; a Lambda process just ends). */
  async dispose(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    const resource = await pending?.catch(() => undefined);
    if (resource !== undefined) await this.close(resource);
  }
}
