import { randomBytes } from 'node:crypto';
import { encodeCursor } from '../../core/change-log';
import type { ConfigItem, JsonValue } from '../../core/item';
import type { TenantId } from '../../core/tenant';
import {
  changeFromItem,
  checkChange,
  resolveCacheSettings,
  type ApplyResult,
  type CacheChange,
  type CacheLookup,
  type CacheSettings,
  type FillOptions,
  type VersionedCache,
} from '../../core/versioned-cache';
import { RedisKeyLayout } from './key-layout';
import type { RedisClient } from './redis-connection';
import { cacheScripts, type CacheScripts } from './scripts';

export const newEpoch = (): string => randomBytes(6).toString('hex');

/**
 * The versioned cache in Redis / ElastiCache: one hash per (tenant, key); the version guard,
 * the entry write and the log append run in one Lua script (scripts.ts).
 * Errors are the client's (connection, timeout); callers such as CachedItemReader fall back.
 */
export class RedisVersionedCache implements VersionedCache {
  readonly settings: CacheSettings;
  readonly layout: RedisKeyLayout;
  private readonly scripts: CacheScripts;

  constructor(
    private readonly client: RedisClient,
    settings: Partial<CacheSettings> = {},
  ) {
    this.settings = resolveCacheSettings(settings);
    this.layout = new RedisKeyLayout(this.settings);
    this.scripts = cacheScripts(client);
  }

  async get(tenant: TenantId, key: string): Promise<CacheLookup> {
    const [kind, version, valueJson, updatedAt, updatedBy] = await this.client.hmget(this.layout.entryKey(tenant, key), 'k', 'v', 'j', 'a', 'b');
    switch (kind) {
      case null:
        return { kind: 'miss' };
      case 'n':
        return { kind: 'absent', reason: 'negative' };
      case 't':
        return { kind: 'absent', reason: 'tombstone', version: Number(version) };
      case 'v': {
        const item: ConfigItem = {
          key,
          value: JSON.parse(valueJson as string) as JsonValue,
          version: Number(version),
          updatedAt: updatedAt ?? '',
          updatedBy: updatedBy ?? '',
        };
        return { kind: 'hit', item };
      }
      default:
        throw new Error(`cache entry for '${key}' has an unknown kind '${kind}'`);
    }
  }

  async apply(tenant: TenantId, change: CacheChange): Promise<ApplyResult> {
    checkChange(change);
    const [, id, epoch] = await this.run('apply', tenant, change);
    if (!id) return { applied: false };
    return { applied: true, cursor: encodeCursor(this.layout.shardOf(tenant), epoch, id) };
  }

  async fill(tenant: TenantId, key: string, item: ConfigItem | undefined, options: FillOptions = {}): Promise<boolean> {
    if (!item) {
      const [changed] = await this.scripts.tcApply(
        ...this.keys(tenant, key),
        'negative',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        String(options.negativeTtlMs ?? this.settings.negativeTtlMs),
        '',
        '',
        '',
        '',
      );
      return changed === 1;
    }
    const [changed] = await this.run('fill', tenant, changeFromItem(item, options.withStoreTime ?? false));
    return changed === 1;
  }

  /** The client belongs to whoever created it (it may be shared with a change log). */
  async close(): Promise<void> {}

  private run(mode: 'apply' | 'fill', tenant: TenantId, change: CacheChange): Promise<[number, string, string]> {
    return this.scripts.tcApply(
      ...this.keys(tenant, change.key),
      mode,
      change.deleted ? 't' : 'v',
      String(change.version),
      change.modifiedAtMs === undefined ? '' : String(change.modifiedAtMs),
      change.deleted ? '' : (change.valueJson as string),
      change.updatedAt,
      change.updatedBy,
      String(this.settings.tombstoneTtlMs),
      String(this.settings.negativeTtlMs),
      String(this.settings.logMaxLen),
      tenant,
      change.key,
      newEpoch(),
    );
  }

  private keys(tenant: string, key: string): [string, string, string] {
    const shard = this.layout.shardOf(tenant);
    return [this.layout.entryKey(tenant, key), this.layout.logKey(shard), this.layout.epochKey(shard)];
  }
}
