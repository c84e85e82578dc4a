import type { Page } from './backend-port';
import { authorize, mayRead, type TenantAccess } from './access-policy';
import { InvalidRequestError, NotFoundError } from './errors';
import type { ConfigItem, ExpectedVersion, HistoryEntry, JsonValue, PutResult } from './item';
import { parseKey, parseKeyPrefix, type KeyPrefix } from './key';
import type { PageTokenCodec } from './page-token';
import type { TagRouter } from './tag-router';
import { checkValue } from './value-policy';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 20;

/**
 * Read-side hook: where the versioned cache sits (CachedItemReader, docs/design.md §3.7).
 * The default reads the backend.
 * `onWrite` lets a cache learn a write at once, so a writer reads its own write.
 */
export interface ItemReader {
  get(access: TenantAccess, keyRaw: string, load: () => Promise<ConfigItem | undefined>): Promise<ConfigItem | undefined>;
  onWrite?(access: TenantAccess, key: string, change: { item?: ConfigItem; deletedVersion?: number }): Promise<void>;
}

const directReader: ItemReader = { get: (_p, _k, load) => load() };

export interface ListQuery {
  readonly prefix?: string;
  readonly limit?: number;
  readonly nextToken?: string;
}

/**
 * The use cases of the HTTP API, free of HTTP and AWS: parse and check the key, route it by
 * tag, check who may read or write it (core/access-policy.ts), check the value, and page
 * across tags. Every call acts on one tenant, decided at the edge by `accessTo`.
 */
export class ConfigService {
  constructor(
    private readonly router: TagRouter,
    private readonly pageTokens: PageTokenCodec,
    private readonly reader: ItemReader = directReader,
  ) {}

  async get(access: TenantAccess, keyRaw: string): Promise<ConfigItem> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    authorize(access, tag, 'read');
    const item = await this.reader.get(access, key.raw, () => backend.get(access.tenant, key));
    if (!item) throw new NotFoundError(`key '${key.raw}' does not exist`);
    return item;
  }

  async list(access: TenantAccess, query: ListQuery): Promise<{ items: ConfigItem[]; nextToken?: string }> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
    const prefixRaw = query.prefix ?? '';
    // With no prefix the listing walks every tag in registry order.
    const prefixes: KeyPrefix[] = prefixRaw ? [parseKeyPrefix(prefixRaw)] : this.router.registry.all().map((t) => parseKeyPrefix(`${t.name}:`));
    // An unknown tag is a 400 before any read; a named tag the caller may not read is a 403,
    // and a walk of every tag passes over those (so the page token means the same to anyone).
    const readable = prefixes.map((p) => {
      const { tag } = this.router.route(p);
      if (prefixRaw) authorize(access, tag, 'read');
      return mayRead(access.caller, tag);
    });
    const start = query.nextToken ? this.pageTokens.decode(query.nextToken, { tenant: access.tenant, prefix: prefixRaw }) : { tagIndex: 0, cursor: undefined };
    if (start.tagIndex >= prefixes.length) {
      return { items: [] };
    }

    const items: ConfigItem[] = [];
    let tagIndex = start.tagIndex;
    let cursor = start.cursor;
    while (tagIndex < prefixes.length && items.length < limit) {
      if (!readable[tagIndex]) {
        tagIndex += 1;
        cursor = undefined;
        continue;
      }
      const { backend } = this.router.route(prefixes[tagIndex]);
      const page: Page<ConfigItem> = await backend.list(access.tenant, prefixes[tagIndex], {
        limit: limit - items.length,
        cursor,
      });
      items.push(...page.items);
      if (page.cursor) {
        cursor = page.cursor;
      } else {
        tagIndex += 1;
        cursor = undefined;
      }
    }
    while (tagIndex < prefixes.length && !readable[tagIndex] && cursor === undefined) tagIndex += 1;
    const more = tagIndex < prefixes.length;
    return {
      items,
      nextToken: more ? this.pageTokens.encode({ tenant: access.tenant, prefix: prefixRaw, tagIndex, cursor }) : undefined,
    };
  }

  async put(access: TenantAccess, keyRaw: string, value: JsonValue, expectedVersion?: ExpectedVersion): Promise<PutResult> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    authorize(access, tag, 'write');
    checkValue(tag, value);
    const result = await backend.put(access.tenant, { key, value, expectedVersion, updatedBy: access.caller.subject });
    await this.reader.onWrite?.(access, key.raw, { item: result.item });
    return result;
  }

  async delete(access: TenantAccess, keyRaw: string, expectedVersion?: number): Promise<void> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    authorize(access, tag, 'write');
    const { version } = await backend.delete(access.tenant, { key, expectedVersion, deletedBy: access.caller.subject });
    await this.reader.onWrite?.(access, key.raw, { deletedVersion: version });
  }

  async history(access: TenantAccess, keyRaw: string, limit = DEFAULT_HISTORY_LIMIT): Promise<readonly HistoryEntry[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    authorize(access, tag, 'read');
    const entries = await backend.history(access.tenant, key, limit);
    if (entries.length === 0) throw new NotFoundError(`key '${key.raw}' has no history`);
    return entries;
  }
}
