/**
 * What one fanout process knows of the layers (docs/design.md §8.2), shared by all its streams:
 * every layer's items (platform and every segment of the schema, loaded at start and kept live
 * from the change log), and the attributes of the tenants its streams follow (read from the
 * registry when first needed, kept live from the tenants' `@attributes` log entries). With these
 * a stream works out, in memory, what one default change means for each of its tenants: one log
 * entry reaches every affected stream with no read per tenant.
 */
import { rolloutBucket } from '../core/bucket';
import type { ChangeEvent } from '../core/change-log';
import type { ConfigItem } from '../core/item';
import { parseKeyPrefix } from '../core/key';
import { defaultLayersOf, layerName, layerOwner, PLATFORM, resolveEffective, segmentLayer, type EffectiveItem, type Layer, type Source } from '../core/layers';
import type { GenericLogger } from '../core/logger';
import { rolloutOf } from '../core/rollout-value';
import type { TagRouter } from '../core/tag-router';
import type { TenantAttributes, TenantSchema } from '../core/tenant-attributes';
import type { TenantId } from '../core/tenant';
import type { TenantRegistry } from '../core/tenant-registry';

/** One layer's keys: live items, and the versions of deleted keys (so a late load cannot bring one back). */
interface LayerItems {
  readonly items: Map<string, ConfigItem>;
  readonly deleted: Map<string, number>;
}

/** What the process keeps of a tenant: its layers (interned) and the registry record they come from. */
interface TenantEntry {
  readonly layers: readonly Layer[];
  readonly version: number;
  /** The registry attributes themselves, for streams that asked for them (`WatchRequest.include_attributes`). */
  readonly attributes: Readonly<TenantAttributes>;
  /** False when the registry holds no record of the tenant (never registered, or removed). */
  readonly registered: boolean;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** A tenant's registry attributes as the process holds them (see {@link FanoutLayers.attributesOf}). */
export interface HeldAttributes {
  readonly attributes: Readonly<TenantAttributes>;
  readonly version: number;
  readonly registered: boolean;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** A tenant's layers before and after a change of its attributes. */
export interface AttributesChange {
  readonly before: readonly Layer[];
  readonly after: readonly Layer[];
}

export interface FanoutLayersDeps {
  readonly router: TagRouter;
  readonly tenants: TenantRegistry;
  readonly schema: TenantSchema;
  readonly logger?: GenericLogger;
}

export class FanoutLayers {
  private readonly layers = new Map<string, LayerItems>();
  private readonly tenants = new Map<string, TenantEntry>();
  private readonly loading = new Map<string, Promise<void>>();
  /**
   * One array per distinct list of layers, shared by every tenant with those segments: a
   * default change is resolved once per list (see {@link resolveFor}), not once per tenant.
   */
  private readonly layerSets = new Map<string, readonly Layer[]>();
  private readonly names = new WeakMap<readonly Layer[], readonly Source[]>();
  private readonly platformOnly: readonly Layer[] = this.internLayers([PLATFORM]);

  constructor(private readonly deps: FanoutLayersDeps) {
    for (const layer of [PLATFORM, ...deps.schema.allSegments().map(segmentLayer)]) {
      this.layers.set(layerOwner(layer), { items: new Map(), deleted: new Map() });
    }
  }

  /**
   * Reads every layer's keys from the backends; call after the change hub has started, so nothing
   * falls between. A backend that cannot be read is retried in the background (every
   * `retryMs`, logged) instead of keeping the process from serving: its tenants' own values are
   * unavailable then too, and the defaults arrive as soon as it answers.
   */
  async load(retryMs = 5000): Promise<void> {
    const tags = this.deps.router.registry.all();
    const loadOne = async (owner: string, tagName: string): Promise<void> => {
      const prefix = parseKeyPrefix(`${tagName}:`);
      const { backend } = this.deps.router.route(prefix);
      let cursor: string | undefined;
      do {
        const page = await backend.list(owner as TenantId, prefix, { limit: 100, cursor });
        for (const item of page.items) this.offer(owner, item.key, item.version, item);
        cursor = page.cursor;
      } while (cursor);
    };
    const retry = (owner: string, tagName: string, error: unknown): void => {
      this.deps.logger?.warn('could not read the defaults of a layer; retrying', { owner, tag: tagName, error: String(error) });
      const timer = setTimeout(() => void loadOne(owner, tagName).catch((e: unknown) => retry(owner, tagName, e)), retryMs);
      timer.unref();
    };
    await Promise.all(
      [...this.layers.keys()].flatMap((owner) => tags.map((tag) => loadOne(owner, tag.name).catch((error: unknown) => retry(owner, tag.name, error)))),
    );
  }

  /** A layer's change from the log: applied when newer than what is held. Returns the item it replaced (what the streams compare with under a rollout). */
  applyLayerEvent(event: ChangeEvent): { readonly previous?: ConfigItem; readonly item?: ConfigItem } {
    if (!this.layers.has(event.tenant)) {
      this.deps.logger?.warn('change of a layer the schema does not define: ignored', { owner: event.tenant, key: event.key });
      return {};
    }
    let item: ConfigItem | undefined;
    if (!event.deleted) {
      try {
        item = { key: event.key, value: JSON.parse(event.valueJson ?? 'null'), version: event.version, updatedAt: event.updatedAt, updatedBy: event.updatedBy };
      } catch {
        this.deps.logger?.error('layer change with a value that is not JSON: ignored', { owner: event.tenant, key: event.key });
        return {};
      }
    }
    const previous = this.layers.get(event.tenant)?.items.get(event.key);
    this.offer(event.tenant, event.key, event.version, item);
    return { previous, item };
  }

  item(layer: Layer, key: string): ConfigItem | undefined {
    return this.layers.get(layerOwner(layer))?.items.get(key);
  }

  /** The keys held by any of the layers (live or deleted), each once. */
  keysOf(layers: readonly Layer[]): Set<string> {
    const keys = new Set<string>();
    for (const layer of layers) {
      const held = this.layers.get(layerOwner(layer));
      if (!held) continue;
      for (const key of held.items.keys()) keys.add(key);
      for (const key of held.deleted.keys()) keys.add(key);
    }
    return keys;
  }

  /** For a key no layer holds: the highest of the layers that deleted it, so a client holding it can be told. */
  deletedIn(layers: readonly Layer[], key: string): { version: number; source: Source } | undefined {
    for (const layer of layers) {
      const version = this.layers.get(layerOwner(layer))?.deleted.get(key);
      if (version !== undefined) return { version, source: layerName(layer) };
    }
    return undefined;
  }

  /**
   * The winning default of a key for a tenant with these layers (its own value left aside).
   * `replaced` puts another item in one layer's place: what the tenant saw before a change.
   */
  effective(layers: readonly Layer[], key: string, tenant: string, replaced?: { layer: Layer; item: ConfigItem | undefined }): EffectiveItem | undefined {
    const replacedOwner = replaced && layerOwner(replaced.layer);
    const itemOf = replaced ? (l: Layer) => (layerOwner(l) === replacedOwner ? replaced.item : this.item(l, key)) : (l: Layer) => this.item(l, key);
    return resolveEffective(undefined, layers, itemOf, tenant);
  }

  /**
   * The tenant's rollout bucket for the key when one of these layers holds it under a rollout,
   * else -1: tenants with the same layers and bucket see the same value, so a change is
   * resolved once per (layers, bucket) and never once per tenant.
   */
  rolloutBucketOf(layers: readonly Layer[], key: string, tenant: string): number {
    for (const layer of layers) {
      const item = this.item(layer, key);
      if (item && rolloutOf(item.value)) return rolloutBucket(key, tenant);
    }
    return -1;
  }

  /** The tenant's layers, highest first; platform only until its attributes are known. */
  layersOf(tenant: string): readonly Layer[] {
    return this.tenants.get(tenant)?.layers ?? this.platformOnly;
  }

  /** Makes sure the tenant's attributes are known (one registry read per tenant and process). */
  ensure(tenant: TenantId): Promise<void> {
    if (this.tenants.has(tenant)) return Promise.resolve();
    let pending = this.loading.get(tenant);
    if (!pending) {
      pending = this.deps.tenants.get(tenant).then(
        (record) => {
          this.loading.delete(tenant);
          const held = this.tenants.get(tenant);
          // A live change read meanwhile is newer than or as new as this read.
          if (held && held.version >= (record?.version ?? 0)) return;
          this.setTenant(tenant, record?.attributes ?? {}, record?.version ?? 0, {
            registered: record !== undefined,
            updatedAt: record?.updatedAt ?? '',
            updatedBy: record?.updatedBy ?? '',
          });
        },
        (error: unknown) => {
          this.loading.delete(tenant);
          throw error;
        },
      );
      this.loading.set(tenant, pending);
    }
    return pending;
  }

  /** A tenant's `@attributes` entry from the log: its new layers, and the old ones to compare with. */
  applyAttributesEvent(event: ChangeEvent): AttributesChange | undefined {
    const before = this.layersOf(event.tenant);
    const held = this.tenants.get(event.tenant);
    if (held && held.version >= event.version) return undefined;
    let attributes: TenantAttributes = {};
    if (!event.deleted) {
      try {
        attributes = (JSON.parse(event.valueJson ?? '{}') as { attributes?: TenantAttributes }).attributes ?? {};
      } catch {
        this.deps.logger?.error('attributes change that is not JSON: ignored', { tenant: event.tenant });
        return undefined;
      }
    }
    this.setTenant(event.tenant, attributes, event.version, { registered: !event.deleted, updatedAt: event.updatedAt, updatedBy: event.updatedBy });
    return { before, after: this.layersOf(event.tenant) };
  }

  /** The tenant's registry attributes, once known ({@link ensure}, or a live change); undefined before. */
  attributesOf(tenant: string): HeldAttributes | undefined {
    return this.tenants.get(tenant);
  }

  /** Where a source stands among these layers (0 = highest), -1 when it is not one of them. */
  rankOf(layers: readonly Layer[], source: Source): number {
    let names = this.names.get(layers);
    if (!names) {
      names = layers.map(layerName);
      this.names.set(layers, names);
    }
    return names.indexOf(source);
  }

  private setTenant(tenant: string, attributes: TenantAttributes, version: number, record: Pick<TenantEntry, 'registered' | 'updatedAt' | 'updatedBy'>): void {
    this.tenants.set(tenant, {
      layers: this.internLayers(defaultLayersOf(attributes, this.deps.schema)),
      version,
      attributes: Object.freeze({ ...attributes }),
      ...record,
    });
  }

  private internLayers(layers: readonly Layer[]): readonly Layer[] {
    const id = layers.map(layerName).join('|');
    let held = this.layerSets.get(id);
    if (!held) {
      held = Object.freeze([...layers]);
      this.layerSets.set(id, held);
    }
    return held;
  }

  private offer(owner: string, key: string, version: number, item: ConfigItem | undefined): void {
    const held = this.layers.get(owner);
    if (!held) return;
    const current = held.items.get(key)?.version ?? held.deleted.get(key);
    // A delete carries the version it removed: at an equal version it wins over the value.
    if (current !== undefined && (item ? version <= current : version < current)) return;
    if (item) {
      held.items.set(key, item);
      held.deleted.delete(key);
    } else {
      held.items.delete(key);
      held.deleted.set(key, version);
    }
  }
}
