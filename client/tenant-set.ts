/**
 * The state of a client that follows many tenants: one version-guarded {@link ConfigStore} per
 * tenant (each item held once, and each default once for all tenants; views only name a tenant), their change listeners, and whether
 * each tenant's first state is in. An item or change lands in the store of the tenant the
 * service says it belongs to, and a read looks in the store of the tenant asked for, never
 * another. Map order is recency of use, for the on-demand mode's least-recently-used drop.
 *
 * Each tenant's registry attributes (for flag rules on `tenant.<name>`) are held beside its store,
 * never in it: they are no key, so `keys`, `get` and change listeners never see them. They are
 * version-guarded like a key, replaced by a snapshot that covers the tenant, and dropped with it.
 */
import { ConfigStore, SharedItems, type IncomingChange } from './config-store';
import type { TenantsMode } from './options';
import { errorMessage } from './token';
import type { ChangeListener, ClientItem, ConfigChange, ConfigClientLogger } from './types';
import type { TenantAttributesUpdate, TenantItem } from './watch-call';

/** Told a tenant's new registry attributes (`{}` once it has none). */
export type AttributesListener = (attributes: Readonly<Record<string, string>>, tenantId: string) => void;

interface HeldAttributes {
  readonly attributes: Readonly<Record<string, string>>;
  readonly version: number;
}

/** `pending`: asked for, not on any stream yet; `joining`: its snapshot is being read; `watched`: on the main stream. */
export type TenantPhase = 'pending' | 'joining' | 'watched';

export interface TenantEntry {
  readonly id: string;
  readonly store: ConfigStore;
  loaded: boolean;
  phase: TenantPhase;
  /** Refused by the service: it is not followed again until asked for again. */
  solo: boolean;
}

interface Subscription {
  readonly listener: ChangeListener;
  readonly prefix: string;
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
}

export class TenantSet {
  private readonly entries = new Map<string, TenantEntry>();
  private readonly listeners = new Map<string, Set<Subscription>>();
  private readonly anyListeners = new Set<Subscription>();
  private readonly waiters = new Map<string, Waiter[]>();
  /** 'all' mode: the fleet's first snapshot is in, so every tenant (those without keys too) is loaded. */
  private fleetLoaded = false;
  private failure?: Error;
  /** Defaults, interned across the tenants' stores. */
  private readonly shared = new SharedItems();
  /** Registry attributes by tenant, apart from the stores (they are no configuration key). */
  private readonly attributes = new Map<string, HeldAttributes>();
  private readonly attributeListeners = new Map<string, Set<AttributesListener>>();

  constructor(
    readonly mode: TenantsMode,
    private readonly logger: ConfigClientLogger,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Tenants held, in order of use (least recent first). */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  entry(id: string): TenantEntry | undefined {
    return this.entries.get(id);
  }

  entriesIn(phase: TenantPhase): TenantEntry[] {
    return [...this.entries.values()].filter((e) => e.phase === phase);
  }

  /** The tenant's entry, created `pending` when absent. Returns it and whether it is new. */
  ensure(id: string): { entry: TenantEntry; created: boolean } {
    const held = this.entries.get(id);
    if (held) return { entry: held, created: false };
    const entry: TenantEntry = { id, store: new ConfigStore(this.shared), loaded: this.mode === 'all' && this.fleetLoaded, phase: 'pending', solo: false };
    this.entries.set(id, entry);
    return { entry, created: true };
  }

  /** Marks `id` the most recently used. */
  touch(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.entries.set(id, entry);
  }

  /** Drops a tenant's state (its listeners stay, for when it is followed again). */
  drop(id: string): void {
    this.entries.get(id)?.store.clear();
    this.entries.delete(id);
    this.attributes.delete(id);
  }

  /** The tenant's registry attributes, undefined when none are held. */
  attributesOf(id: string): Readonly<Record<string, string>> | undefined {
    return this.attributes.get(id)?.attributes;
  }

  /** Listens to one tenant's attribute changes (not its first state). Returns the unsubscribe function. */
  onAttributesChange(id: string, listener: AttributesListener): () => void {
    const set = this.attributeListeners.get(id) ?? new Set();
    this.attributeListeners.set(id, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.attributeListeners.get(id) === set) this.attributeListeners.delete(id);
    };
  }

  /**
   * A change of a tenant's attributes from the stream (or a test double); ignored when not newer
   * than what is held (a delete at an equal version wins), or for a tenant not held or not loaded yet.
   */
  applyAttributes(update: TenantAttributesUpdate): boolean {
    let entry = this.entries.get(update.tenantId);
    if (!entry && this.mode === 'all' && this.fleetLoaded && update.tenantId !== '') {
      entry = this.ensure(update.tenantId).entry;
      entry.phase = 'watched';
    }
    if (!entry?.loaded) return false;
    return this.setAttributes(update, false);
  }

  private setAttributes(update: TenantAttributesUpdate, silent: boolean): boolean {
    const held = this.attributes.get(update.tenantId);
    if (held && (update.attributes === undefined ? update.version < held.version : update.version <= held.version)) return false;
    if (update.attributes === undefined) this.attributes.delete(update.tenantId);
    else this.attributes.set(update.tenantId, { attributes: update.attributes, version: update.version });
    if (!silent && !sameAttributes(held?.attributes, update.attributes)) this.emitAttributes(update.tenantId, update.attributes ?? {});
    return true;
  }

  /** A snapshot's attributes replace those of the tenants it covers: a covered tenant without any has none now. */
  private replaceAttributes(ids: Iterable<string>, byTenant: ReadonlyMap<string, TenantAttributesUpdate>, silent: (id: string) => boolean): void {
    for (const id of ids) {
      const update = byTenant.get(id);
      const held = this.attributes.get(id);
      if (update) {
        // Held at a newer version: the changes that led there follow as duplicates.
        if (held && held.version > update.version) continue;
        this.attributes.delete(id);
        this.attributes.set(id, { attributes: update.attributes ?? {}, version: update.version });
        if (!silent(id) && !sameAttributes(held?.attributes, update.attributes)) this.emitAttributes(id, update.attributes ?? {});
      } else if (held) {
        this.attributes.delete(id);
        if (!silent(id)) this.emitAttributes(id, {});
      }
    }
  }

  private emitAttributes(tenantId: string, attributes: Readonly<Record<string, string>>): void {
    for (const listener of [...(this.attributeListeners.get(tenantId) ?? [])]) {
      try {
        listener(attributes, tenantId);
      } catch (e) {
        this.logger.error('config-client: an attributes listener threw', { tenantId, error: errorMessage(e) });
      }
    }
  }

  /** Distinct default items held for all tenants together (each default value once, however many tenants see it). */
  get sharedItemCount(): number {
    return this.shared.size;
  }

  /** Least recently used first. */
  oldestFirst(): IterableIterator<TenantEntry> {
    return this.entries.values();
  }

  isLoaded(id: string): boolean {
    if (this.mode === 'all') return this.fleetLoaded;
    return this.entries.get(id)?.loaded ?? false;
  }

  item(id: string, key: string): ClientItem | undefined {
    return this.entries.get(id)?.store.get(key);
  }

  keys(id: string, prefix?: string): string[] {
    return this.entries.get(id)?.store.keys(prefix) ?? [];
  }

  /** Resolves once the tenant's first state is held; rejects if it is refused or the client closes. */
  ready(id: string): Promise<void> {
    if (this.isLoaded(id)) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(id, list);
    });
  }

  /** The tenant will not be loaded (refused): its waiters hear why. */
  refuse(id: string, error: Error): void {
    const list = this.waiters.get(id) ?? [];
    this.waiters.delete(id);
    for (const w of list) w.reject(error);
  }

  /** Every waiter, now and later, hears `error` (the client is closed or refused as a whole). */
  fail(error: Error): void {
    this.failure ??= error;
    for (const id of [...this.waiters.keys()]) this.refuse(id, error);
  }

  onChange(id: string | undefined, listener: ChangeListener, prefix = ''): () => void {
    const subscription: Subscription = { listener, prefix };
    let set = this.anyListeners;
    if (id !== undefined) {
      set = this.listeners.get(id) ?? new Set();
      this.listeners.set(id, set);
    }
    set.add(subscription);
    return () => {
      set.delete(subscription);
      if (id !== undefined && set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /**
   * A snapshot covering `covered` (tenant ids, or `*` for the whole fleet) replaces those tenants'
   * state. A tenant's first state is loaded silently; later ones report each difference.
   */
  applySnapshot(items: readonly TenantItem[], covered: readonly string[], attributes: readonly TenantAttributesUpdate[] = []): void {
    const byTenant = new Map<string, ClientItem[]>();
    for (const { tenantId, item } of items) {
      const list = byTenant.get(tenantId);
      if (list) list.push(item);
      else byTenant.set(tenantId, [item]);
    }
    const attributesByTenant = new Map(attributes.filter((a) => a.tenantId !== '').map((a) => [a.tenantId, a]));
    if (covered.includes('*')) {
      const silent = !this.fleetLoaded;
      for (const [id, entry] of this.entries) if (!byTenant.has(id)) this.replaceTenant(entry, [], silent);
      for (const [id, list] of byTenant) {
        if (id === '') continue;
        const { entry } = this.ensure(id);
        entry.phase = 'watched';
        this.replaceTenant(entry, list, silent);
      }
      // A registered tenant with no key of its own is a tenant of the fleet too.
      for (const id of attributesByTenant.keys()) this.ensure(id).entry.phase = 'watched';
      this.replaceAttributes(new Set([...this.attributes.keys(), ...attributesByTenant.keys()]), attributesByTenant, () => silent);
      this.fleetLoaded = true;
      for (const entry of this.entries.values()) entry.loaded = true;
      for (const id of [...this.waiters.keys()]) this.loaded(id);
      return;
    }
    for (const id of covered) {
      const entry = this.entries.get(id);
      // Dropped while its snapshot was on the way.
      if (!entry) continue;
      this.replaceTenant(entry, byTenant.get(id) ?? [], !entry.loaded);
      this.replaceAttributes([id], attributesByTenant, () => !entry.loaded);
      entry.loaded = true;
      this.loaded(id);
    }
  }

  /** One change of one tenant; ignored for a tenant not held (on demand) or not yet loaded. Returns what it changed. */
  applyChange(tenantId: string, change: IncomingChange): ConfigChange | undefined {
    if (tenantId === '') {
      this.logger.debug('config-client: a change without a tenant on a multi-tenant stream; ignored', { key: change.key });
      return undefined;
    }
    let entry = this.entries.get(tenantId);
    if (!entry && this.mode === 'all' && this.fleetLoaded) {
      // A tenant born after the snapshot: its first key is a change like any other.
      entry = this.ensure(tenantId).entry;
      entry.phase = 'watched';
    }
    if (!entry?.loaded) return undefined;
    const applied = entry.store.apply(change);
    if (applied) this.emit(tenantId, [applied]);
    return applied;
  }

  /** A test double's attributes: set as given, above every version held. */
  setLocalAttributes(tenantId: string, attributes: Readonly<Record<string, string>>): void {
    const version = (this.attributes.get(tenantId)?.version ?? 0) + 1;
    this.setAttributes({ tenantId, attributes: Object.freeze({ ...attributes }), version }, false);
  }

  private replaceTenant(entry: TenantEntry, items: readonly ClientItem[], silent: boolean): void {
    const changes = entry.store.replaceAll(items);
    if (!silent) this.emit(entry.id, changes);
  }

  private loaded(id: string): void {
    const list = this.waiters.get(id);
    if (!list) return;
    this.waiters.delete(id);
    for (const w of list) w.resolve();
  }

  private emit(tenantId: string, changes: readonly ConfigChange[]): void {
    const own = this.listeners.get(tenantId);
    if (!own && this.anyListeners.size === 0) return;
    const subscriptions = [...(own ?? []), ...this.anyListeners];
    for (const change of changes) {
      const told: ConfigChange = { ...change, tenantId };
      for (const { listener, prefix } of subscriptions) {
        if (!change.key.startsWith(prefix)) continue;
        try {
          listener(told);
        } catch (e) {
          // One faulty listener must not stop the stream nor the others.
          this.logger.error('config-client: a change listener threw', { tenantId, key: change.key, error: errorMessage(e) });
        }
      }
    }
  }
}

function sameAttributes(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const x = Object.entries(a ?? {});
  const y = b ?? {};
  return x.length === Object.keys(y).length && x.every(([k, v]) => y[k] === v);
}
