/**
 * The one change-log reader of a fanout process. It follows every shard of the log and
 * hands each change to the subscribers of that change's tenant, in memory, synchronously:
 * a subscriber only queues (see StreamSender), so a slow stream can never hold up the
 * reader or the other streams. Never one log reader per stream.
 *
 * Subscribers are indexed by tenant (`byTenant`): a stream of one tenant is in one set, a
 * stream of a list of tenants in the set of each (one Set entry per followed tenant, no
 * subscription object per tenant; dispatch stays one map lookup per change however many
 * tenants a stream follows). Streams of every tenant ("*") are in a separate `everyTenant`
 * set that every change reaches, including changes of tenants that did not exist when the
 * stream started.
 *
 * Layers: a change of a default (its "tenant" is a layer's owner id, core/layers.ts) is applied
 * to the process's {@link FanoutLayers} first and then handed to every stream once, which works
 * out which of its tenants it affects; a change of a tenant's `@attributes` updates the
 * tenant's layers first, then reaches the tenant's streams like any change of the tenant.
 */
import type { ChangeEvent, ChangeLog, ChangeLogFollower, ParsedCursor } from '../core/change-log';
import type { TenantSelection } from './tenant-selection';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';
import type { FanoutMetrics } from './metrics';
import type { GenericLogger } from '../core/logger';
import { isLayerOwner } from '../core/layers';
import type { ConfigItem } from '../core/item';
import { rolloutOf } from '../core/rollout-value';
import { ATTRIBUTES_KEY } from '../core/tenant-registry';
import type { AttributesChange, FanoutLayers } from './fanout-layers';

/** A change with its cursor parsed once by the hub, not once per subscriber. */
export interface HubChange {
  readonly event: ChangeEvent;
  readonly cursor: ParsedCursor;
  /**
   * The WatchEvent message, built by the first stream that sends it and shared by the rest:
   * one object for all streams is also what lets the server encode it once (server.ts).
   */
  message?: WatchEvent;
  /** A change of a layer (a default): shared messages by tenant and cursor, built by the first stream that needs one. */
  layerMessages?: Map<string, WatchEvent>;
  /** A change of a layer: what it means for each distinct list of layers, worked out once (fanout/watch-stream.ts). */
  layerOutcomes?: Map<readonly unknown[], unknown>;
  /**
   * A change of a layer, live, into, within or out of a rollout (core/rollout-value.ts): the
   * layer's item it replaced, worked out once here for every stream (absent otherwise, and when
   * read from the log while catching up).
   */
  rolloutReplaced?: { readonly item?: ConfigItem };
  /** A change of the tenant's attributes: its layers before and after. */
  attributes?: AttributesChange;
  /** A change of the tenant's attributes: its `@attributes` change, shared by the single-tenant streams that asked for attributes. */
  attributesMessage?: WatchEvent;
}

export interface HubSubscriber {
  /** Called in log order (per shard) for every change of the followed tenants; must not throw or block. */
  onChange(change: HubChange): void;
  /** Changes of a followed tenant's shard may have been lost (the log was re-created): resync. */
  onGap(): void;
}

export class ChangeHub {
  private readonly byTenant = new Map<string, Set<HubSubscriber>>();
  private readonly everyTenant = new Set<HubSubscriber>();
  /** Every subscriber once, for changes of a layer, which may concern any stream. */
  private readonly everyStream = new Set<HubSubscriber>();
  /** Per shard: the newest cursor handed to subscribers. Only advanced after dispatch. */
  private readonly positions = new Map<number, ParsedCursor>();
  private follower?: ChangeLogFollower;

  constructor(
    private readonly log: ChangeLog,
    private readonly metrics: FanoutMetrics,
    private readonly logger?: GenericLogger,
    private readonly now: () => number = Date.now,
    private readonly layers?: FanoutLayers,
  ) {}

  /**
   * Starts following at the newest entry of every shard (streams catch up from older cursors
   * themselves). Resolves once the start positions are fixed: no stream may take a log head
   * before that, or the changes between its head and the hub's start would reach it from nobody.
   */
  async start(): Promise<void> {
    this.follower ??= this.log.follow('now', (events) => this.dispatch(events), {
      onGap: (shard) => this.gap(shard),
      onError: (error) => this.logger?.warn('change log read failed; retrying', { error: String(error) }),
    });
    // Startup waits for the log; say so instead of hanging silently when it is unreachable.
    const slow = setInterval(() => this.logger?.warn('still waiting for the change log to be readable'), 10_000);
    try {
      await this.follower.ready;
    } finally {
      clearInterval(slow);
    }
  }

  async stop(): Promise<void> {
    const follower = this.follower;
    this.follower = undefined;
    await follower?.stop();
  }

  /** Adds a subscriber for the selected tenants; the returned function removes it (call it on cancel and on end). */
  subscribe(selection: TenantSelection, subscriber: HubSubscriber): () => void {
    this.everyStream.add(subscriber);
    if (selection.kind === 'all') {
      this.everyTenant.add(subscriber);
      return () => {
        this.everyTenant.delete(subscriber);
        this.everyStream.delete(subscriber);
      };
    }
    const tenants: readonly string[] = selection.kind === 'one' ? [selection.tenant] : [...selection.tenants];
    for (const tenant of tenants) {
      let set = this.byTenant.get(tenant);
      if (!set) {
        set = new Set();
        this.byTenant.set(tenant, set);
      }
      set.add(subscriber);
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.everyStream.delete(subscriber);
      for (const tenant of tenants) {
        const current = this.byTenant.get(tenant);
        if (!current) continue;
        current.delete(subscriber);
        if (current.size === 0) this.byTenant.delete(tenant);
      }
    };
  }

  /**
   * The newest cursor of `shard` this hub has dispatched. A subscriber whose queue is empty
   * has been handed every change of its tenant up to here, so it may heartbeat with it.
   */
  position(shard: number): ParsedCursor | undefined {
    return this.positions.get(shard);
  }

  /** Subscriptions held: one per followed tenant of each stream, plus one per stream of every tenant. */
  get subscriberCount(): number {
    let n = this.everyTenant.size;
    for (const set of this.byTenant.values()) n += set.size;
    return n;
  }

  private dispatch(events: readonly ChangeEvent[]): void {
    const now = this.now();
    for (const event of events) {
      let cursor: ParsedCursor;
      try {
        cursor = this.log.parseCursor(event.cursor);
      } catch (error) {
        this.logger?.error('change log entry with a malformed cursor skipped', { cursor: event.cursor, error: String(error) });
        continue;
      }
      const changedAt = Date.parse(event.updatedAt);
      if (Number.isFinite(changedAt)) this.metrics.logLag(Math.max(0, now - changedAt));
      if (isLayerOwner(event.tenant)) {
        this.dispatchLayer(event, cursor);
        this.positions.set(cursor.shard, cursor);
        continue;
      }
      const attributes = event.key === ATTRIBUTES_KEY ? this.layers?.applyAttributesEvent(event) : undefined;
      const subscribers = this.byTenant.get(event.tenant);
      if (subscribers || this.everyTenant.size > 0) {
        const change: HubChange = attributes ? { event, cursor, attributes } : { event, cursor };
        // Copies: a subscriber may unsubscribe (be cut off) while we iterate.
        for (const s of [...(subscribers ?? []), ...this.everyTenant]) {
          try {
            s.onChange(change);
          } catch (error) {
            this.logger?.error('subscriber failed on a change', { error: String(error) });
          }
        }
      }
      this.positions.set(cursor.shard, cursor);
    }
  }

  private dispatchLayer(event: ChangeEvent, cursor: ParsedCursor): void {
    if (!this.layers) return;
    const { previous, item } = this.layers.applyLayerEvent(event);
    const underRollout = rolloutOf(previous?.value) !== undefined || rolloutOf(item?.value) !== undefined;
    const change: HubChange = {
      event,
      cursor,
      layerMessages: new Map(),
      layerOutcomes: new Map(),
      ...(underRollout ? { rolloutReplaced: { item: previous } } : {}),
    };
    for (const s of [...this.everyStream]) {
      try {
        s.onChange(change);
      } catch (error) {
        this.logger?.error('subscriber failed on a layer change', { error: String(error) });
      }
    }
  }

  private gap(shard: number): void {
    this.logger?.warn('change log shard lost entries; its streams resync', { shard });
    this.positions.delete(shard);
    // A stream of several tenants of the shard is told once.
    const told = new Set<HubSubscriber>(this.everyTenant);
    for (const [tenant, set] of this.byTenant) {
      if (this.log.shardOf(tenant) !== shard) continue;
      for (const s of set) told.add(s);
    }
    for (const s of told) s.onGap();
  }
}
