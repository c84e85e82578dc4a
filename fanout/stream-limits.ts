/**
 * Concurrent Watch streams counted per key: per connection, and per watcher identity in this
 * process. The identity is a string so that it can name more than a tenant (`tenant:<id>`
 * today; a service principal watching many tenants gets its own kind of key later).
 */
import type { Watcher } from './authenticate';

/** The key a watcher's streams are counted under. */
export function watcherIdentity(watcher: Pick<Watcher, 'tenant'>): string {
  return `tenant:${watcher.tenant}`;
}

export class ConcurrencyLimiter<K> {
  private readonly counts = new Map<K, number>();

  constructor(readonly max: number) {}

  /** Takes a slot for `key`: a release function (idempotent), or undefined when `key` is at the limit. */
  tryAcquire(key: K): (() => void) | undefined {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.max) return undefined;
    this.counts.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  count(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys holding at least one slot. */
  get size(): number {
    return this.counts.size;
  }
}
