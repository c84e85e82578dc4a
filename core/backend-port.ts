import type { ConfigKey, KeyPrefix } from './key';
import type { TenantId } from './tenant';
import type { ConfigItem, DeleteCommand, HistoryEntry, PutCommand, PutResult } from './item';

export interface PageRequest {
  /** 1..100 */
  readonly limit: number;
  /** The `cursor` of the previous page; opaque to everyone but the backend that made it. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Present when more items may follow. */
  readonly cursor?: string;
}

/**
 * The one port every storage backend implements. Keys arrive parsed and tenants
 * verified; values are already validated against the tag. Implementations turn
 * their SDK's errors into the domain errors of `errors.ts`:
 * - `put` with `expectedVersion` that does not hold → PreconditionFailedError
 * - `delete` of a missing key → NotFoundError; version mismatch → PreconditionFailedError
 */
export interface ConfigBackend {
  get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined>;
  /** Items whose key starts with the prefix, ordered by key. */
  list(tenant: TenantId, prefix: KeyPrefix, page: PageRequest): Promise<Page<ConfigItem>>;
  put(tenant: TenantId, command: PutCommand): Promise<PutResult>;
  /** Returns the version that was deleted. */
  delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }>;
  /** Newest first, at most `limit` entries (the current version included). */
  history(tenant: TenantId, key: ConfigKey, limit: number): Promise<readonly HistoryEntry[]>;
  /**
   * The tenants that may hold items in this backend, page by page (`limit` is a hint; a page may
   * hold fewer, even none, and still have a cursor). Every tenant holding an item is on some page;
   * a tenant may be listed more than once and one whose items were all deleted may be listed, so
   * callers dedupe and tolerate empty tenants. No order. What a Watch of every tenant (`"*"`)
   * snapshots; a tenant registry will replace the walk the backends do today. Optional, so that
   * decorators and test doubles need not forward it; every production backend implements it.
   */
  listTenants?(page: PageRequest): Promise<Page<TenantId>>;
}
