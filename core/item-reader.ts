import type { TenantAccess } from './access-policy';
import type { ConfigItem } from './item';

/**
 * Read-side hook: where the versioned cache sits (CachedItemReader, docs/design.md §3.7).
 * The default reads the backend.
 * `onWrite` lets a cache learn a write at once, so a writer reads its own write.
 */
export interface ItemReader {
  get(access: TenantAccess, keyRaw: string, load: () => Promise<ConfigItem | undefined>): Promise<ConfigItem | undefined>;
  onWrite?(access: TenantAccess, key: string, change: { item?: ConfigItem; deletedVersion?: number }): Promise<void>;
}

/** Reads the backend, with no cache. */
export const directReader: ItemReader = { get: (_p, _k, load) => load() };
