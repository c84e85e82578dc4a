/**
 * What the API reads besides a tenant's own keys to serve effective values: the tenant's
 * attributes (from the registry, through the same read-through cache as keys, under
 * {@link ATTRIBUTES_KEY}) and the items of the layers under it. Every read goes through the
 * ItemReader, so a platform default is one cache entry shared by every tenant.
 */
import type { TenantAccess } from './access-policy';
import type { ConfigBackend } from './backend-port';
import type { ItemReader } from './item-reader';
import { ConflictError, ForbiddenError } from './errors';
import type { ConfigItem } from './item';
import type { ConfigKey, KeyPrefix } from './key';
import { defaultLayersOf, layerOwner, type Layer } from './layers';
import type { Principal } from './principal';
import type { TenantAttributes, TenantSchema } from './tenant-attributes';
import { ATTRIBUTES_KEY, type TenantRecord, type TenantRegistry } from './tenant-registry';

export interface LayerSettings {
  readonly tenants: TenantRegistry;
  readonly schema: TenantSchema;
  /** Refuse tenants missing from the registry (403), instead of serving them platform defaults. @default false */
  readonly requireRegistration?: boolean;
}

/** A tenant as the layers see it: its attributes and the layers under its own values, highest first. */
export interface TenantContext {
  readonly attributes: TenantAttributes;
  readonly layers: readonly Layer[];
  readonly registered: boolean;
  readonly offboarded: boolean;
}

/** Layers hold few keys (defaults, not data): a listing reads a layer's keys under a prefix whole, up to this many. */
export const MAX_LAYER_KEYS_LISTED = 2000;

/** The registry record as a cache entry: value = `{attributes, offboarded}`, version = the record's. */
export function attributesItem(record: TenantRecord): ConfigItem {
  return {
    key: ATTRIBUTES_KEY,
    value: { attributes: { ...record.attributes }, offboarded: record.offboarding !== undefined },
    version: record.version,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
  };
}

export class LayerReads {
  constructor(
    private readonly settings: LayerSettings,
    private readonly reader: ItemReader,
  ) {}

  get schema(): TenantSchema {
    return this.settings.schema;
  }

  /** The tenant's attributes and layers; refuses an unregistered tenant when the stage requires registration. */
  async contextOf(access: TenantAccess, action: 'read' | 'write' = 'read'): Promise<TenantContext> {
    const item = await this.reader.get(access, ATTRIBUTES_KEY, async () => {
      const record = await this.settings.tenants.get(access.tenant);
      return record && attributesItem(record);
    });
    const value = item?.value as { attributes?: TenantAttributes; offboarded?: boolean } | undefined;
    const attributes = value?.attributes ?? {};
    const context = {
      attributes,
      layers: defaultLayersOf(attributes, this.settings.schema),
      registered: item !== undefined,
      offboarded: value?.offboarded === true,
    };
    if (this.settings.requireRegistration && !context.registered) {
      throw new ForbiddenError(`tenant '${access.tenant}' is not registered, and this stage serves registered tenants only`);
    }
    if (action === 'write' && context.offboarded) {
      throw new ConflictError(`tenant '${access.tenant}' has been offboarded: register it again (PUT /v1/tenants/${access.tenant}) before writing`);
    }
    return context;
  }

  /** Whether anything must be read besides the tenant's own value: the registration check. */
  get mustCheckRegistration(): boolean {
    return this.settings.requireRegistration === true;
  }

  /** One key of one layer, read through the cache. */
  item(caller: Principal, layer: Layer, backend: ConfigBackend, key: ConfigKey): Promise<ConfigItem | undefined> {
    const owner = layerOwner(layer);
    return this.reader.get({ caller, tenant: owner }, key.raw, () => backend.get(owner, key));
  }

  /** Every key of one layer under a prefix, in key order (read from the store: listings are not cached). */
  async listing(layer: Layer, backend: ConfigBackend, prefix: KeyPrefix): Promise<ConfigItem[]> {
    const owner = layerOwner(layer);
    const items: ConfigItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await backend.list(owner, prefix, { limit: 100, cursor });
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor && items.length < MAX_LAYER_KEYS_LISTED);
    return items;
  }
}
