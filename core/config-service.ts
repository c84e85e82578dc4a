import type { ConfigBackend, Page } from './backend-port';
import { authorize, authorizeOperation, mayRead, type TenantAccess } from './access-policy';
import { ConflictError, InvalidRequestError, NotFoundError, ValueTooLargeError } from './errors';
import { MAX_COMMENT_LENGTH, type ConfigItem, type ExpectedVersion, type HistoryEntry, type JsonValue, type PutResult } from './item';
import { parseKey, parseKeyPrefix, type ConfigKey, type KeyPrefix } from './key';
import { isLayerOwner, layerName, layerOfOwner, layerOwner, resolveEffective, type EffectiveItem, type Layer, type Source } from './layers';
import { LayerReads, type LayerSettings, type TenantContext } from './layer-reads';
import { directReader, type ItemReader } from './item-reader';
import type { ListPosition, PageTokenCodec } from './page-token';
import type { Principal } from './principal';
import type { TagRouter } from './tag-router';
import type { TenantAttributes } from './tenant-attributes';
import { refuseRolloutShape, rolloutOf } from './rollout-value';
import { checkValue, valueBytes } from './value-policy';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 20;

export type { ItemReader } from './item-reader';

export interface ListQuery {
  readonly prefix?: string;
  readonly limit?: number;
  readonly nextToken?: string;
}

export interface WriteOptions {
  readonly expectedVersion?: ExpectedVersion;
  /** Kept with the new version in history (≤ 256 characters). */
  readonly comment?: string;
}

/** `tenant`: the tenant's own value only (`?layer=tenant`); `effective` (default): resolved through the layers. */
export type ReadLayer = 'effective' | 'tenant';

/**
 * The use cases of the HTTP API, free of HTTP and AWS: parse and check the key, route it by
 * tag, check who may read or write it (core/access-policy.ts), check the value, and page
 * across tags. Every call acts on one owner, decided at the edge: a tenant (`accessTo`), or a
 * layer of defaults (`layerAccess`, operators write). Reads of a tenant serve effective values
 * (core/layers.ts); writes stay on the tenant's own layer.
 */
export class ConfigService {
  private readonly layers?: LayerReads;

  constructor(
    private readonly router: TagRouter,
    private readonly pageTokens: PageTokenCodec,
    private readonly reader: ItemReader = directReader,
    layerSettings?: LayerSettings,
  ) {
    this.layers = layerSettings && new LayerReads(layerSettings, reader);
  }

  /** The access for one layer's keys: every principal may read them (tag rights apply), only operators write. */
  static layerAccess(caller: Principal, layer: Layer): TenantAccess {
    return { caller, tenant: layerOwner(layer) };
  }

  async get(access: TenantAccess, keyRaw: string, layer: ReadLayer = 'effective'): Promise<EffectiveItem> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    authorize(access, tag, 'read');
    // A layer's owner is not a tenant: registration is never asked of it.
    const context = this.layers?.mustCheckRegistration && !isLayerOwner(access.tenant) ? await this.contextOf(access) : undefined;
    const own = await this.reader.get(access, key.raw, () => backend.get(access.tenant, key));
    const source = sourceOfOwner(access);
    if (source !== 'tenant' || layer === 'tenant' || own || !this.layers) {
      if (!own) throw new NotFoundError(layer === 'tenant' ? `key '${key.raw}' has no value of the tenant's own` : `key '${key.raw}' does not exist`);
      return { ...own, source };
    }
    const { layers } = context ?? (await this.contextOf(access));
    const items = await Promise.all(layers.map((l) => this.layers!.item(access.caller, l, backend, key)));
    const effective = resolveEffective(undefined, layers, (l) => items[layers.indexOf(l)], access.tenant);
    if (!effective) throw new NotFoundError(`key '${key.raw}' does not exist`);
    return effective;
  }

  /** The tenant's registry attributes (`{}` when unregistered, or without layers), read through the cache as `get` reads them. */
  async attributesOf(access: TenantAccess): Promise<TenantAttributes> {
    return this.layers && !isLayerOwner(access.tenant) ? (await this.contextOf(access)).attributes : {};
  }

  async list(access: TenantAccess, query: ListQuery): Promise<{ items: EffectiveItem[]; nextToken?: string }> {
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
    const start: Omit<ListPosition, 'tenant' | 'prefix'> = query.nextToken
      ? this.pageTokens.decode(query.nextToken, { tenant: access.tenant, prefix: prefixRaw })
      : { tagIndex: 0 };
    if (start.tagIndex >= prefixes.length) return { items: [] };
    const source = sourceOfOwner(access);
    const context = source === 'tenant' && this.layers ? await this.contextOf(access) : undefined;

    // A tag's defaults are read once per call, however many pages of own keys the call reads.
    const defaultsByTag = new Map<number, Promise<EffectiveItem[]>>();
    const defaultsOfTag = (index: number, backend: ConfigBackend): Promise<EffectiveItem[]> => {
      let read = defaultsByTag.get(index);
      if (!read) {
        read = this.defaultsOf(access, context!, backend, prefixes[index]);
        defaultsByTag.set(index, read);
      }
      return read;
    };
    const items: EffectiveItem[] = [];
    let { tagIndex, cursor, afterKey } = start;
    while (tagIndex < prefixes.length && items.length < limit) {
      if (!readable[tagIndex]) {
        [tagIndex, cursor, afterKey] = [tagIndex + 1, undefined, undefined];
        continue;
      }
      const { backend } = this.router.route(prefixes[tagIndex]);
      const room = limit - items.length;
      const page: Page<ConfigItem> = await backend.list(access.tenant, prefixes[tagIndex], { limit: room, cursor });
      const own = page.items.filter((i) => afterKey === undefined || i.key > afterKey).map((i) => ({ ...i, source }));
      // The defaults that fall between the last key returned and the end of this page of own keys.
      const upper = page.cursor ? page.items[page.items.length - 1]?.key : undefined;
      const defaults = context ? inRange(await defaultsOfTag(tagIndex, backend), afterKey, upper, page.cursor !== undefined) : [];
      const ownKeys = new Set(own.map((i) => i.key));
      const merged = [...own, ...defaults.filter((d) => !ownKeys.has(d.key))].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (merged.length > room) {
        // Cut short: the next page reads the same page of own keys again, after the last key returned.
        items.push(...merged.slice(0, room));
        afterKey = items[items.length - 1].key;
        break;
      }
      items.push(...merged);
      if (page.cursor) {
        [cursor, afterKey] = [page.cursor, merged.length > 0 ? merged[merged.length - 1].key : afterKey];
      } else {
        [tagIndex, cursor, afterKey] = [tagIndex + 1, undefined, undefined];
      }
    }
    while (tagIndex < prefixes.length && !readable[tagIndex] && cursor === undefined && afterKey === undefined) tagIndex += 1;
    const more = tagIndex < prefixes.length;
    return {
      items,
      nextToken: more ? this.pageTokens.encode({ tenant: access.tenant, prefix: prefixRaw, tagIndex, cursor, afterKey }) : undefined,
    };
  }

  async put(access: TenantAccess, keyRaw: string, value: JsonValue, options: WriteOptions | ExpectedVersion = {}): Promise<PutResult> {
    const { expectedVersion, comment } = typeof options === 'object' ? options : { expectedVersion: options, comment: undefined };
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    this.authorizeWrite(access, tag);
    checkValue(tag, value);
    refuseRolloutShape(value);
    checkComment(comment);
    if (this.layers && !isLayerOwner(access.tenant)) await this.contextOf(access, 'write');
    const expected = isLayerOwner(access.tenant) ? await this.outsideRollout(access, key, backend, expectedVersion) : expectedVersion;
    const result = await backend.put(access.tenant, {
      key,
      value,
      expectedVersion: expected,
      updatedBy: access.caller.subject,
      ...(comment ? { comment } : {}),
    });
    await this.reader.onWrite?.(access, key.raw, { item: result.item });
    return result;
  }

  async delete(access: TenantAccess, keyRaw: string, expectedVersion?: number): Promise<void> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    this.authorizeWrite(access, tag);
    const expected = isLayerOwner(access.tenant) ? await this.outsideRollout(access, key, backend, expectedVersion) : expectedVersion;
    if (expected === 'absent') throw new NotFoundError(`key '${key.raw}' does not exist`);
    const { version } = await backend.delete(access.tenant, { key, expectedVersion: expected, deletedBy: access.caller.subject });
    await this.reader.onWrite?.(access, key.raw, { deletedVersion: version });
  }

  /**
   * A layer's key as stored (no cache, no resolution): what a rollout starts from and compares
   * and sets on. Checks that the caller may write the key and, when given, the new value.
   */
  async layerItemForRollout(access: TenantAccess, keyRaw: string, value?: JsonValue): Promise<ConfigItem | undefined> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    this.authorizeWrite(access, tag);
    if (value !== undefined) {
      checkValue(tag, value);
      refuseRolloutShape(value);
    }
    return backend.get(access.tenant, key);
  }

  /**
   * The rollout driver's write of a layer's key (core/rollout-service.ts): the rollout's shape,
   * or a final value, or no value (undefined: the layer held none before). Compare-and-set on
   * the version the driver read; the size limit holds for the shape as for any value.
   */
  async writeRolloutStep(
    access: TenantAccess,
    keyRaw: string,
    value: JsonValue | undefined,
    options: { expectedVersion: number | 'absent'; comment: string },
  ): Promise<void> {
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    this.authorizeWrite(access, tag);
    if (value === undefined) {
      if (options.expectedVersion === 'absent') return;
      const { version } = await backend.delete(access.tenant, { key, expectedVersion: options.expectedVersion, deletedBy: access.caller.subject });
      await this.reader.onWrite?.(access, key.raw, { deletedVersion: version });
      return;
    }
    checkRolloutSize(tag, value);
    const { item } = await backend.put(access.tenant, {
      key,
      value,
      expectedVersion: options.expectedVersion,
      updatedBy: access.caller.subject,
      comment: options.comment.slice(0, MAX_COMMENT_LENGTH),
    });
    await this.reader.onWrite?.(access, key.raw, { item });
  }

  /** Whether a rollout's shape for this key fits the tag's size limit (413 otherwise), checked before the rollout is stored. */
  checkRolloutFits(access: TenantAccess, keyRaw: string, shape: JsonValue): void {
    const { tag } = this.router.route(parseKey(keyRaw));
    this.authorizeWrite(access, tag);
    checkRolloutSize(tag, shape);
  }

  /** A layer's key under a running rollout is the rollout's to change (409); else the version to compare and set on. */
  private async outsideRollout(access: TenantAccess, key: ConfigKey, backend: ConfigBackend, expected: ExpectedVersion): Promise<ExpectedVersion> {
    const current = await backend.get(access.tenant, key);
    const rollout = rolloutOf(current?.value);
    if (rollout) {
      throw new ConflictError(
        `key '${key.raw}' of ${sourceOfOwner(access)} is being rolled out (rollout ${rollout.id}): roll it back (POST /v1/rollouts/${rollout.id}/rollback) or let it complete first`,
      );
    }
    if (expected !== undefined) return expected;
    return current ? current.version : 'absent';
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

  /**
   * A new version holding version `version`'s value (never a rewind: history keeps both). Fails
   * with 404 when that version is no longer in history, and compare-and-sets on the version it
   * read, so a write in between is not overwritten silently (412).
   */
  async restore(access: TenantAccess, keyRaw: string, version: number, options: { comment?: string; expectedVersion?: number } = {}): Promise<PutResult> {
    if (!Number.isSafeInteger(version) || version < 1) throw new InvalidRequestError('version must be a positive integer');
    const key = parseKey(keyRaw);
    const { tag, backend } = this.router.route(key);
    this.authorizeWrite(access, tag);
    const entries = await backend.history(access.tenant, key, MAX_PAGE_LIMIT);
    const wanted = entries.find((e) => e.version === version);
    if (!wanted) throw new NotFoundError(`key '${key.raw}' has no version ${version} in its history`);
    const current = await backend.get(access.tenant, key);
    const expectedVersion = options.expectedVersion ?? (current ? current.version : 'absent');
    return this.put(access, key.raw, wanted.value, { expectedVersion, comment: options.comment ?? `restore of version ${version}` });
  }

  /** The layer keys whose effective value a tenant without its own would get, in (after, upper]; upper undefined = no bound. */
  /** The winning default of every key under the prefix for a tenant without its own values (its layers read in parallel). */
  private async defaultsOf(access: TenantAccess, context: TenantContext, backend: ConfigBackend, prefix: KeyPrefix): Promise<EffectiveItem[]> {
    const listings = await Promise.all(context.layers.map((layer) => this.layers!.listing(layer, backend, prefix)));
    const byKey = new Map<string, (ConfigItem | undefined)[]>();
    listings.forEach((items, i) => {
      for (const item of items) {
        let held = byKey.get(item.key);
        if (!held) byKey.set(item.key, (held = new Array<ConfigItem | undefined>(context.layers.length)));
        held[i] = item;
      }
    });
    const winners: EffectiveItem[] = [];
    for (const held of byKey.values()) {
      const winner = resolveEffective(undefined, context.layers, (l) => held[context.layers.indexOf(l)], access.tenant);
      if (winner) winners.push(winner);
    }
    return winners;
  }

  private contextOf(access: TenantAccess, action: 'read' | 'write' = 'read'): Promise<TenantContext> {
    return this.layers!.contextOf(access, action);
  }

  private authorizeWrite(access: TenantAccess, tag: Parameters<typeof authorize>[1]): void {
    if (isLayerOwner(access.tenant)) authorizeOperation(access.caller, 'writing defaults');
    authorize(access, tag, 'write');
  }
}

function checkRolloutSize(tag: Parameters<typeof checkValue>[0], value: JsonValue): void {
  const bytes = valueBytes(value);
  if (bytes > tag.maxValueBytes) {
    throw new ValueTooLargeError(
      `a rollout holds the old and the new value together: ${bytes} bytes, and tag '${tag.name}' allows at most ${tag.maxValueBytes}`,
    );
  }
}

/** The defaults in (after, upper]; `bounded` with no upper (an empty page that has more): none. */
function inRange(defaults: readonly EffectiveItem[], after: string | undefined, upper: string | undefined, bounded: boolean): EffectiveItem[] {
  if (bounded && upper === undefined) return [];
  return defaults.filter((d) => (after === undefined || d.key > after) && (upper === undefined || d.key <= upper));
}

/** Where an owner's own items come from: `tenant` for a tenant, the layer's name for a layer owner. */
function sourceOfOwner(access: TenantAccess): Source {
  const layer = layerOfOwner(access.tenant);
  return layer ? layerName(layer) : 'tenant';
}

function checkComment(comment: string | undefined): void {
  if (comment === undefined) return;
  if (typeof comment !== 'string') throw new InvalidRequestError('comment must be a string');
  if ([...comment].length > MAX_COMMENT_LENGTH) throw new InvalidRequestError(`comment is longer than ${MAX_COMMENT_LENGTH} characters`);
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(comment))
    throw new InvalidRequestError('comment must not contain control characters other than tab and newline');
}
