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
import { accessTo } from '../core/access-policy';
import type { ConfigBackend, Page, PageRequest } from '../core/backend-port';
import type { ConfigService } from '../core/config-service';
import { MAX_PAGE_LIMIT } from '../core/config-service';
import type { ConfigItem } from '../core/item';
import type { KeyPrefix } from '../core/key';
import type { Principal } from '../core/principal';
import type { TenantId } from '../core/tenant';
import type { TenantRegistry } from '../core/tenant-registry';

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
   * `reader` is the watcher: only tags it may read are read (none of a secret tag for a tenant
   * reader); the Watch service has already checked it may act on the tenant.
   */
  /** `reader` is the watcher: the snapshot holds only what its rights let it read. */
  open(tenant: TenantId, prefixes: readonly KeyPrefix[], signal: AbortSignal, reader: Principal): SnapshotReader;
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
    open(tenant, prefixes, signal, reader) {
      // With the watcher's rights, so the listing itself passes over the tags it may not read.
      const access = accessTo(reader, tenant);
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

/**
 * The tenants a Watch of every tenant (`"*"`) snapshots: those that hold data now. Tenants
 * created later reach the stream through its changes. Pages may repeat a tenant and include
 * tenants with nothing left; the multi-tenant reader dedupes.
 */
export interface TenantDirectory {
  list(page: PageRequest): Promise<Page<TenantId>>;
}

/**
 * The tenants of the registry (when given: registered tenants with no key of their own still
 * see the defaults), then of every backend (each read once however many tags it serves), one
 * after the other. The cursor says which source and that source's cursor.
 */
export function backendTenantDirectory(backends: Iterable<ConfigBackend>, registry?: Pick<TenantRegistry, 'list'>): TenantDirectory {
  const listers: Array<(page: PageRequest) => Promise<Page<TenantId>>> = [...new Set(backends)].map((b) => {
    const list = b.listTenants?.bind(b);
    if (!list) throw new Error('every backend behind a Watch of every tenant must implement listTenants');
    return list;
  });
  if (registry) {
    listers.unshift(async (page) => {
      const got = await registry.list(page);
      // Offboarded tenants stay in the registry as a record of it; they hold nothing to watch.
      const items = got.items.filter((r) => r.offboarding === undefined).map((r) => r.tenantId);
      return got.cursor === undefined ? { items } : { items, cursor: got.cursor };
    });
  }
  return {
    async list(page) {
      let index = 0;
      let cursor: string | undefined;
      if (page.cursor !== undefined) {
        const parsed = JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8')) as { i: number; c?: string };
        index = parsed.i;
        cursor = parsed.c;
      }
      if (index >= listers.length) return { items: [] };
      const got = await listers[index](cursor === undefined ? { limit: page.limit } : { limit: page.limit, cursor });
      const next = got.cursor !== undefined ? { i: index, c: got.cursor } : index + 1 < listers.length ? { i: index + 1 } : undefined;
      return next ? { items: got.items, cursor: Buffer.from(JSON.stringify(next), 'utf8').toString('base64url') } : { items: got.items };
    },
  };
}

/** A snapshot item with its tenant: what a multi-tenant snapshot is made of. */
export interface TenantItem {
  readonly tenant: TenantId;
  readonly item: ConfigItem;
}

export interface TenantSnapshotReader {
  /** Up to `limit` more items, of one or more tenants; fewer, even none, does not mean the end: `done` does. */
  next(limit: number): Promise<{ readonly items: readonly TenantItem[]; readonly done: boolean }>;
}

/** Most source reads one `next` makes while skipping tenants that hold nothing under the prefixes. */
const MAX_READS_PER_NEXT = 16;
/** Tenants asked of the directory at a time. */
const DIRECTORY_PAGE = 100;

/**
 * The snapshot of several tenants, tenant after tenant, each through the single-tenant source,
 * read only as fast as it is asked for: one tenant's reader open at a time, one directory page
 * of tenant ids held at a time. `tenants` is a list, or a directory (every tenant). The ids
 * already read are remembered so a directory that repeats a tenant does not repeat its items:
 * that set is the one thing that grows with the number of tenants (ids, never values).
 */
export function openTenantsSnapshot(
  source: SnapshotSource,
  tenants: readonly TenantId[] | TenantDirectory,
  prefixes: readonly KeyPrefix[],
  signal: AbortSignal,
  reader: Principal,
  /** Told each tenant as its reading starts, before any of its items (also for tenants with none). */
  onTenant?: (tenant: TenantId) => void,
): TenantSnapshotReader {
  const queue: TenantId[] = Array.isArray(tenants) ? [...tenants] : [];
  const directory = Array.isArray(tenants) ? undefined : (tenants as TenantDirectory);
  let directoryCursor: string | undefined;
  let directoryDone = directory === undefined;
  const seen = new Set<TenantId>();
  let current: { tenant: TenantId; reader: SnapshotReader } | undefined;

  /** The next tenant to read, or undefined when none is left. */
  const nextTenant = async (): Promise<TenantId | undefined> => {
    for (;;) {
      const tenant = queue.shift();
      if (tenant !== undefined) {
        if (seen.has(tenant)) continue;
        seen.add(tenant);
        return tenant;
      }
      if (directoryDone || signal.aborted) return undefined;
      const page = await directory!.list(directoryCursor === undefined ? { limit: DIRECTORY_PAGE } : { limit: DIRECTORY_PAGE, cursor: directoryCursor });
      queue.push(...page.items);
      directoryCursor = page.cursor;
      directoryDone = page.cursor === undefined;
    }
  };

  return {
    async next(limit) {
      const items: TenantItem[] = [];
      for (let reads = 0; reads < MAX_READS_PER_NEXT && items.length < limit; reads++) {
        if (signal.aborted) return { items, done: true };
        if (!current) {
          const tenant = await nextTenant();
          if (tenant === undefined) return { items, done: true };
          onTenant?.(tenant);
          current = { tenant, reader: source.open(tenant, prefixes, signal, reader) };
        }
        const page = await current.reader.next(Math.max(1, limit - items.length));
        for (const item of page.items) items.push({ tenant: current.tenant, item });
        if (page.done) current = undefined;
      }
      return { items, done: signal.aborted };
    },
  };
}
