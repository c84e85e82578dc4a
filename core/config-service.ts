import type { Page } from './backend-port';
import { ForbiddenError, InvalidRequestError, NotFoundError } from './errors';
import type { ConfigItem, ExpectedVersion, HistoryEntry, JsonValue, PutResult } from './item';
import { parseKey, parseKeyPrefix, type KeyPrefix } from './key';
import type { PageTokenCodec } from './page-token';
import type { Principal } from './principal';
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
  get(principal: Principal, keyRaw: string, load: () => Promise<ConfigItem | undefined>): Promise<ConfigItem | undefined>;
  onWrite?(principal: Principal, key: string, change: { item?: ConfigItem; deletedVersion?: number }): Promise<void>;
}

const directReader: ItemReader = { get: (_p, _k, load) => load() };

export interface ListQuery {
  readonly prefix?: string;
  readonly limit?: number;
  readonly nextToken?: string;
}

/**
 * The use cases of the HTTP API, free of HTTP and AWS: parse and check the key,
 * route it by tag, check the value, enforce who may write, and page across tags.
 */
export class ConfigService {
  constructor(
    private readonly router: TagRouter,
    private readonly pageTokens: PageTokenCodec,
    private readonly reader: ItemReader = directReader,
  ) {}

  async get(principal: Principal, keyRaw: string): Promise<ConfigItem> {
    const key = parseKey(keyRaw);
    const { backend } = this.router.route(key);
    const item = await this.reader.get(principal, key.raw, () => backend.get(principal.tenant, key));
    if (!item) throw new NotFoundError(`key '${key.raw}' does not exist`);
    return item;
  }

  async list(principal: Principal, query: ListQuery): Promise<{ items: ConfigItem[]; nextToken?: string }> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
    const prefixRaw = query.prefix ?? '';
    // With no prefix the listing walks every tag in registry order.
    const prefixes: KeyPrefix[] = prefixRaw
      ? [parseKeyPrefix(prefixRaw)]
      : this.router.registry.all().map((t) => parseKeyPrefix(`${t.name}:`));
    for (const p of prefixes) this.router.route(p); // unknown tag → 400 before any read
    const start = query.nextToken
      ? this.pageTokens.decode(query.nextToken, { tenant: principal.tenant, prefix: prefixRaw })
      : { tagIndex: 0, cursor: undefined };
    if (start.tagIndex >= prefixes.length) {
      return { items: [] };
    }

    const items: ConfigItem[] = [];
    let tagIndex = start.tagIndex;
    let cursor = start.cursor;
    while (tagIndex < prefixes.length && items.length < limit) {
      const { backend } = this.router.route(prefixes[tagIndex]);
      const page: Page<ConfigItem> = await backend.list(principal.tenant, prefixes[tagIndex], {
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
    const more = tagIndex < prefixes.length;
    return {
      items,
      nextToken: more
        ? this.pageTokens.encode({ tenant: principal.tenant, prefix: prefixRaw, tagIndex, cursor })
        : undefined,
    };
  }

  async put(principal: Principal, keyRaw: string, value: JsonValue, expectedVersion?: ExpectedVersion): Promise<PutResult> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    requireAdmin(principal);
    checkValue(tag, value);
    const result = await backend.put(principal.tenant, { key, value, expectedVersion, updatedBy: principal.subject });
    await this.reader.onWrite?.(principal, key.raw, { item: result.item });
    return result;
  }

  async delete(principal: Principal, keyRaw: string, expectedVersion?: number): Promise<void> {
    const key = parseKey(keyRaw);
    const { backend } = this.router.route(key);
    requireAdmin(principal);
    const { version } = await backend.delete(principal.tenant, { key, expectedVersion, deletedBy: principal.subject });
    await this.reader.onWrite?.(principal, key.raw, { deletedVersion: version });
  }

  async history(principal: Principal, keyRaw: string, limit = DEFAULT_HISTORY_LIMIT): Promise<readonly HistoryEntry[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
    const key = parseKey(keyRaw);
    const { backend } = this.router.route(key);
    const entries = await backend.history(principal.tenant, key, limit);
    if (entries.length === 0) throw new NotFoundError(`key '${key.raw}' has no history`);
    return entries;
  }
}

function requireAdmin(principal: Principal): void {
  if (!principal.isAdmin) throw new ForbiddenError('writing configuration requires membership of the admin group');
}
