/**
 * Concurrent Watch streams counted per key: per connection, and per watcher identity in this
 * process. The identity is the principal, not the tenants it follows: `tenant:<id>` for a
 * tenant's people (reader and admin share their tenant's budget, as before), `service:<subject>`
 * and `operator:<subject>`. A stream costs one slot however many tenants it follows, so a
 * service following thousands of tenants on one stream is one stream against its limit.
 */
import type { Principal } from '../core/principal';

/** The key a principal's streams are counted under. */
export function watcherIdentity(principal: Principal): string {
  switch (principal.kind) {
    case 'tenant-reader':
    case 'tenant-admin':
      return `tenant:${principal.tenant}`;
    case 'service':
      return `service:${principal.subject}`;
    case 'operator':
      return `operator:${principal.subject}`;
  }
}

/** How a refusal names the identity: "tenant 'acme'", "service 'billing'". */
export function describeIdentity(principal: Principal): string {
  return principal.kind === 'tenant-reader' || principal.kind === 'tenant-admin' ? `tenant '${principal.tenant}'` : `${principal.kind} '${principal.subject}'`;
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
