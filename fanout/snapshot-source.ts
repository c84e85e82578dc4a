/**
 * Where a Watch snapshot comes from: every item of one tenant under the watched prefixes,
 * read from the backends (the source of truth) after the change-log head was taken, so the
 * snapshot is at least as new as that cursor.
 */
import type { ConfigService } from '../core/config-service';
import { MAX_PAGE_LIMIT } from '../core/config-service';
import type { ConfigItem } from '../core/item';
import type { KeyPrefix } from '../core/key';
import type { TenantId } from '../core/tenant';

export interface SnapshotSource {
  /** All items under any of `prefixes` (every tag when empty), each key once, ordered by key. */
  snapshot(tenant: TenantId, prefixes: readonly KeyPrefix[]): Promise<ConfigItem[]>;
}

/** The snapshot through the same use case the HTTP API lists with, page by page. */
export function configServiceSnapshotSource(service: Pick<ConfigService, 'list'>): SnapshotSource {
  return {
    async snapshot(tenant, prefixes) {
      // A reader principal: snapshots never need to write, and list enforces nothing more.
      const principal = { tenant, subject: 'fanout', isAdmin: false };
      const byKey = new Map<string, ConfigItem>();
      for (const prefix of prefixes.length > 0 ? prefixes.map((p) => p.raw) : ['']) {
        let nextToken: string | undefined;
        do {
          const page = await service.list(principal, { prefix: prefix || undefined, limit: MAX_PAGE_LIMIT, nextToken });
          for (const item of page.items) byKey.set(item.key, item);
          nextToken = page.nextToken;
        } while (nextToken);
      }
      return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
  };
}
