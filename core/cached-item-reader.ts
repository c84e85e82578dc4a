import type { TenantAccess } from './access-policy';
import type { ItemReader } from './config-service';
import type { ConfigItem } from './item';
import type { TagRegistry } from './tag-registry';
import type { TenantId } from './tenant';
import { changeFromItem, type CacheChange, type VersionedCache } from './versioned-cache';
import type { GenericLogger } from './logger';

export interface CachedItemReaderOptions {
  readonly logger?: GenericLogger;
  /** Consecutive cache failures that open the breaker. @default 5 */
  readonly failureThreshold?: number;
  /** How long the breaker stays open before one trial call. @default 5000 */
  readonly coolDownMs?: number;
  /** A cache call slower than this counts as a failure and the read goes to the backend. @default 250 */
  readonly cacheTimeoutMs?: number;
  /** Negative-entry lifetime per key; undefined = the cache's default. See {@link readerPoliciesFromRegistry}. */
  readonly negativeTtlMs?: (key: string) => number | undefined;
  /**
   * Whether the key's store restarts versions after a delete, so items are ordered by their
   * `updatedAt` as store time (Parameter Store). @default never
   */
  readonly usesStoreTime?: (key: string) => boolean;
  readonly now?: () => number;
}

export interface CacheReadCounters {
  /** Reads answered by the cache: a value, a tombstone or a negative entry. */
  hits: number;
  /** Of the hits, those that said "absent". */
  absentHits: number;
  misses: number;
  /** Reads that joined another read's backend call instead of making their own. */
  coalesced: number;
  backendReads: number;
  cacheErrors: number;
  /** Times the breaker opened. */
  breakerOpen: number;
  /** Reads that skipped the cache because the breaker was open. */
  bypassed: number;
  /** API writes that could not be applied to the cache (the change event repairs them). */
  writeErrors: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** The per-key options from the tag registry: `cache.negativeTtlSeconds`, and store time for Parameter Store tags. */
export function readerPoliciesFromRegistry(registry: TagRegistry): Pick<CachedItemReaderOptions, 'negativeTtlMs' | 'usesStoreTime'> {
  const tags = new Map(registry.all().map((t) => [t.name, t]));
  const tagOf = (key: string) => tags.get(key.slice(0, key.indexOf(':')));
  return {
    negativeTtlMs: (key) => {
      const seconds = tagOf(key)?.cache?.negativeTtlSeconds;
      return seconds === undefined ? undefined : seconds * 1000;
    },
    usesStoreTime: (key) => tagOf(key)?.backend === 'ssm',
  };
}

class CacheTimeoutError extends Error {}

/**
 * Read-through over the versioned cache. A miss goes to the backend once per (tenant, key)
 * however many requests miss at the same time, and fills the cache with a version-guarded
 * write. When the cache fails or is slow the read goes to the backend (never an error); after
 * `failureThreshold` failures in a row the breaker opens and the cache is skipped until a
 * trial call after `coolDownMs` succeeds.
 */
export class CachedItemReader implements ItemReader {
  readonly counters: CacheReadCounters = {
    hits: 0,
    absentHits: 0,
    misses: 0,
    coalesced: 0,
    backendReads: 0,
    cacheErrors: 0,
    breakerOpen: 0,
    bypassed: 0,
    writeErrors: 0,
  };
  private readonly inFlight = new Map<string, Promise<ConfigItem | undefined>>();
  private state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;
  private readonly cacheTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly cache: VersionedCache,
    private readonly options: CachedItemReaderOptions = {},
  ) {
    this.failureThreshold = options.failureThreshold ?? 5;
    this.coolDownMs = options.coolDownMs ?? 5000;
    this.cacheTimeoutMs = options.cacheTimeoutMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  get breakerState(): BreakerState {
    return this.state;
  }

  async get(access: TenantAccess, key: string, load: () => Promise<ConfigItem | undefined>): Promise<ConfigItem | undefined> {
    const tenant = access.tenant;
    const lookup = await this.guarded(() => this.cache.get(tenant, key));
    if (lookup?.kind === 'hit') {
      this.counters.hits += 1;
      return lookup.item;
    }
    if (lookup?.kind === 'absent') {
      this.counters.hits += 1;
      this.counters.absentHits += 1;
      return undefined;
    }
    if (lookup) this.counters.misses += 1;
    return this.loadOnce(tenant, key, load);
  }

  async onWrite(access: TenantAccess, key: string, change: { item?: ConfigItem; deletedVersion?: number }): Promise<void> {
    // A read that started before this write must not answer later readers with the old value.
    this.inFlight.delete(flightKey(access.tenant, key));
    const now = this.now();
    const withStoreTime = this.options.usesStoreTime?.(key) ?? false;
    const cacheChange: CacheChange | undefined = change.item
      ? changeFromItem(change.item, withStoreTime)
      : change.deletedVersion !== undefined
        ? {
            key,
            version: change.deletedVersion,
            deleted: true,
            updatedAt: new Date(now).toISOString(),
            updatedBy: access.caller.subject,
            // The delete has completed by now: a safe upper bound for when it happened.
            modifiedAtMs: withStoreTime ? now : undefined,
          }
        : undefined;
    if (!cacheChange) return;
    const applied = await this.guarded(() => this.cache.apply(access.tenant, cacheChange));
    if (applied === undefined) {
      this.counters.writeErrors += 1;
      this.options.logger?.warn('cache: the write could not be applied to the cache; its change event will repair it', {
        tenant: access.tenant,
        key,
        version: cacheChange.version,
      });
    }
  }

  private loadOnce(tenant: TenantId, key: string, load: () => Promise<ConfigItem | undefined>): Promise<ConfigItem | undefined> {
    const id = flightKey(tenant, key);
    const pending = this.inFlight.get(id);
    if (pending) {
      this.counters.coalesced += 1;
      return pending;
    }
    const read = (async () => {
      this.counters.backendReads += 1;
      const item = await load();
      const options = { negativeTtlMs: this.options.negativeTtlMs?.(key), withStoreTime: this.options.usesStoreTime?.(key) ?? false };
      await this.guarded(() => this.cache.fill(tenant, key, item, options));
      return item;
    })();
    this.inFlight.set(id, read);
    const settle = () => {
      if (this.inFlight.get(id) === read) this.inFlight.delete(id);
    };
    read.then(settle, settle);
    return read;
  }

  /** Runs a cache call through the breaker and the timeout; undefined when skipped or failed. */
  private async guarded<T>(call: () => Promise<T>): Promise<T | undefined> {
    const trial = this.admit();
    if (trial === undefined) {
      this.counters.bypassed += 1;
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CacheTimeoutError(`cache call took longer than ${this.cacheTimeoutMs} ms`)), this.cacheTimeoutMs);
        }),
      ]);
      this.succeeded(trial);
      return result;
    } catch (error) {
      this.failed(trial, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** true: this call is the half-open trial; false: a normal call; undefined: skip the cache. */
  private admit(): boolean | undefined {
    if (this.state === 'closed') return false;
    if (this.state === 'open' && this.now() - this.openedAt >= this.coolDownMs) this.state = 'half-open';
    if (this.state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return undefined;
  }

  private succeeded(trial: boolean): void {
    this.failures = 0;
    if (trial) {
      this.trialInFlight = false;
      this.state = 'closed';
      this.options.logger?.info('cache: breaker closed, the cache answers again');
    }
  }

  private failed(trial: boolean, error: unknown): void {
    this.counters.cacheErrors += 1;
    this.failures += 1;
    if (trial) this.trialInFlight = false;
    if (trial || (this.state === 'closed' && this.failures >= this.failureThreshold)) {
      this.state = 'open';
      this.openedAt = this.now();
      this.counters.breakerOpen += 1;
      this.options.logger?.warn('cache: breaker open, reads go to the backend', {
        consecutiveFailures: this.failures,
        coolDownMs: this.coolDownMs,
        error: describe(error),
      });
    } else if (this.state === 'closed') {
      this.options.logger?.warn('cache: call failed, read served by the backend', { error: describe(error) });
    }
  }
}

const flightKey = (tenant: string, key: string) => `${tenant}\u0000${key}`;

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
