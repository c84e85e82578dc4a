import type { KeyPrefix, ConfigKey } from '../../core/key';
import type { TenantId } from '../../core/tenant';

/** One key of the index, with when it was last recorded (epoch ms). */
export interface IndexedKey {
  readonly key: string;
  readonly indexedAt: number;
}

/**
 * The keys a tenant keeps in Parameter Store, in key order, so a listing page reads one page
 * of keys and then only those parameters, instead of walking the whole tenant subtree (which
 * Parameter Store returns in its own order, 10 at a time). Parameter Store stays the truth for
 * values and versions; the index may hold a key whose parameter is gone (a listing skips it),
 * never miss one written through the API (it is added before the parameter is written).
 */
export interface ParameterKeyIndex {
  /** Records the key; called under the key's write lease, before the parameter is written. */
  add(tenant: TenantId, key: ConfigKey): Promise<void>;
  /** Forgets the key; called after the parameter was deleted. */
  remove(tenant: TenantId, key: ConfigKey): Promise<void>;
  /**
   * Up to `limit` keys under the prefix after `after`, in key order, and whether more may follow;
   * undefined while the tag has not been indexed for this tenant (see {@link fill}).
   */
  keys(tenant: TenantId, prefix: KeyPrefix, after: string | undefined, limit: number): Promise<{ keys: IndexedKey[]; more: boolean } | undefined>;
  /** Records every key a walk of the tenant's tag found, then marks the tag indexed. */
  fill(tenant: TenantId, tag: string, keys: readonly string[]): Promise<void>;
  /** Forgets a key found to have no parameter, unless it was recorded again since `entry.indexedAt`. */
  prune(tenant: TenantId, entry: IndexedKey): Promise<void>;
}
