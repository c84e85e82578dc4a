/**
 * Where a Watch snapshot comes from: every item of one tenant under the watched prefixes,
 * read from the backends (the source of truth) after the change-log head was taken, so the
 * snapshot is at least as new as that cursor.
 *
 * It is read page by page, on demand: a stream asks for the next page only once the previous
 * one has left the process, so a client that does not read costs one page, not the tenant's
 * whole configuration. Reading stops when the stream's signal aborts (cancel, connection
 * closed, stream ended): no backend read starts after that.
 */
import type { ConfigService } from '../core/config-service';
import { MAX_PAGE_LIMIT } from '../core/config-service';
import type { ConfigItem } from '../core/item';
import type { KeyPrefix } from '../core/key';
import type { TenantId } from '../core/tenant';

export interface SnapshotPage {
  readonly items: readonly ConfigItem[];
  /** No item is left to read (also once the signal aborted). */
  readonly done: boolean;
}

export interface SnapshotReader {
  /** Up to `limit` more items (1 to 100); fewer, even none, does not mean the end: `done` does. */
  next(limit: number): Promise<SnapshotPage>;
}

export interface SnapshotSource {
  /**
   * A reader of all items under any of `prefixes` (every tag when empty), each key once:
   * the prefixes must not overlap (the Watch service drops prefixes another one covers).
   */
  open(tenant: TenantId, prefixes: readonly KeyPrefix[], signal: AbortSignal): SnapshotReader;
}

export const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Every item of a snapshot, ordered by key: for clients that take the snapshot as one message. */
export async function readWholeSnapshot(reader: SnapshotReader, signal?: AbortSignal): Promise<ConfigItem[]> {
  const items: ConfigItem[] = [];
  for (;;) {
    const page = await reader.next(MAX_PAGE_LIMIT);
    items.push(...page.items);
    if (page.done || signal?.aborted) return items.sort(byKey);
  }
}

/** The snapshot through the same use case the HTTP API lists with, one `list` call per page. */
export function configServiceSnapshotSource(service: Pick<ConfigService, 'list'>): SnapshotSource {
  return {
    open(tenant, prefixes, signal) {
      // The fanout reads on the watcher's behalf after the Watch checked who may watch what.
      const access = { caller: { kind: 'operator', subject: 'fanout' }, tenant } as const;
      // Sorted non-overlapping prefixes cover disjoint key ranges in key order.
      const queue = prefixes.length > 0 ? prefixes.map((p) => p.raw).sort() : [''];
      let index = 0;
      let nextToken: string | undefined;
      return {
        async next(limit) {
          if (signal.aborted || index >= queue.length) return { items: [], done: true };
          const prefix = queue[index];
          const page = await service.list(access, {
            prefix: prefix || undefined,
            limit: Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(limit))),
            nextToken,
          });
          nextToken = page.nextToken;
          if (!nextToken) index += 1;
          return { items: page.items, done: index >= queue.length || signal.aborted };
        },
      };
    },
  };
}
