import { shardOf } from '../../core/change-log';
import type { CacheSettings } from '../../core/versioned-cache';

/**
 * Redis key names (docs/cache-layout.md). Every key of one log shard carries the hash tag
 * `{<shard>}`, so in cluster mode a tenant's entries, its shard's log stream and the log's
 * epoch live in one hash slot and one Lua script can write them all atomically.
 */
export class RedisKeyLayout {
  constructor(private readonly settings: Pick<CacheSettings, 'namespace' | 'shards'>) {}

  shardOf(tenant: string): number {
    return shardOf(tenant, this.settings.shards);
  }

  /** `tc:{<shard>}:e:<tenant>:<tag>:<name>`; tenant ids hold no ':' so the split is unambiguous. */
  entryKey(tenant: string, key: string): string {
    return `${this.settings.namespace}:{${this.shardOf(tenant)}}:e:${tenant}:${key}`;
  }

  /** The shard's change log, a Redis Stream. */
  logKey(shard: number): string {
    return `${this.settings.namespace}:{${shard}}:log`;
  }

  /** The random id of the log's current incarnation; a lost log gets a new one. */
  epochKey(shard: number): string {
    return `${this.settings.namespace}:{${shard}}:epoch`;
  }
}
