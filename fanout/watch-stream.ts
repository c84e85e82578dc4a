/**
 * One Watch stream, from its first event to its status.
 *
 * Start: subscribe to the hub first (its changes are held back in `pending`), then either
 * take the log head and a snapshot consistent with it (no resume cursor, or a trimmed one),
 * or catch up from the resume cursor through `readAfter`. Then the held-back changes follow,
 * minus those already sent: a change is sent once, by cursor, and a snapshot item is not
 * repeated by a later change of the same or an older version. If too many changes pile up
 * while starting, they are dropped and read back from the log instead: never a gap.
 *
 * The snapshot is read page by page from its source. A client that asked for paged snapshots
 * gets each page as one message, and the next page is read only once the previous one has left
 * for the socket: an unread stream holds one page, and its source is not read ahead. Older
 * clients get the whole snapshot as one message, as before.
 *
 * Several tenants: a stream may follow a list of tenants or every tenant (`"*"`). It then keeps
 * one position per log shard its tenants live in, and its cursor (`m1.…`, core/change-log.ts)
 * holds them all, so every change and heartbeat carries a cursor the whole stream resumes from.
 * Its snapshot is paged, tenant after tenant, taken after the heads of all its shards; its
 * catch-up reads each of its shards once. Secret tags are never sent to a principal that may
 * not read them: the Watch service narrows the prefixes to readable tags, and every item and
 * change is checked again here.
 *
 * Live: each change of the followed tenants matching the prefixes is queued for sending; heartbeats
 * carry the newest cursor passed when idle; the stream ends with UNAUTHENTICATED when the
 * token expires, with `reconnect` at its maximum age or on drain, and with RESOURCE_EXHAUSTED
 * when its consumer falls a whole queue behind (reset after a grace when it is not reading at
 * all, so the status reaches it and the buffers go). Cancel, a closed connection or any end
 * stops everything the stream does: the snapshot reader is aborted, timers are cleared, the
 * hub forgets it, its queue is dropped.
 */
import { status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import {
  compareStreamIds,
  encodeMultiCursor,
  tenantSetId,
  type ChangeEvent,
  type ChangeLog,
  type ParsedCursor,
  type ReadAfterResult,
} from '../core/change-log';
import { MAX_PAGE_LIMIT } from '../core/config-service';
import type { KeyPrefix } from '../core/key';
import type { Principal } from '../core/principal';
import type { ChangeHub, HubChange, HubSubscriber } from './change-hub';
import type { WatchSetupTrace } from './tracing';
import { toStatus } from './grpc-status';
import type { FanoutMetrics } from './metrics';
import { byKey, openTenantsSnapshot, type SnapshotSource, type TenantDirectory, type TenantSnapshotReader } from './snapshot-source';
import { follows, shardsOf, type TenantSelection } from './tenant-selection';
import { StreamSender, type WatchCall } from './stream-sender';
import {
  attributesChangeEvent,
  attributesWireItem,
  changeEvent,
  effectiveChangeEvent,
  heartbeatEvent,
  reconnectEvent,
  snapshotEvent,
  wireItem,
  wireItemBytes,
  type SnapshotReason,
  type WireItem,
} from './watch-events';
import type { GenericLogger } from '../core/logger';
import { isLayerOwner, layerName, layerOfOwner, type EffectiveItem, type Layer, type Source } from '../core/layers';
import type { TenantId } from '../core/tenant';
import { ATTRIBUTES_KEY } from '../core/tenant-registry';
import { rolloutBucket } from '../core/bucket';
import type { FanoutLayers } from './fanout-layers';
import type { WatchEvent } from '../proto/generated/tenantconfig/v1/WatchEvent';

export interface WatchStreamSettings {
  /** An idle stream gets a heartbeat this often. @default 15000 */
  readonly heartbeatIntervalMs: number;
  /**
   * Events waiting to be written before the consumer counts as too slow and is cut off. Keep it
   * above the largest burst one hub batch can carry for one tenant (the follower's batch size,
   * 500 by default): a batch is queued before any of it can reach the socket. @default 1024
   */
  readonly maxQueueEvents: number;
  /** Events per `readAfter` while catching up from a resume cursor. @default 500 */
  readonly catchUpPageSize: number;
  /** A stream older than this is sent `reconnect` and ended, so load rebalances; 0 = never. @default 30 min */
  readonly maxStreamAgeMs: number;
  /** The maximum age is shortened by up to this fraction, at random per stream. @default 0.2 */
  readonly streamAgeSpread: number;
  /**
   * Most bytes (roughly, as encoded) of one snapshot page, for clients that ask for paged
   * snapshots; an item larger than this goes alone. @default 65536
   */
  readonly snapshotPageBytes: number;
  /**
   * A consumer cut off as too slow gets this long to take the status after what is already
   * in the transport; a client that does not read by then gets its stream reset. @default 1000
   */
  readonly slowConsumerGraceMs: number;
}

/** What one stream holds and has done, for tests, the benchmark and operators. */
export interface WatchStreamStats {
  /** The tenant of a single-tenant stream. */
  readonly tenant?: string;
  /** How many tenants the stream follows, or '*' for every tenant. */
  readonly tenants?: number | '*';
  readonly state: 'starting' | 'live' | 'ended';
  readonly pagedSnapshot: boolean;
  /** Events waiting in this stream's queue. */
  readonly queued: number;
  /** Writes handed to the call and not yet sent, and their approximate bytes. */
  readonly inFlightWrites: number;
  readonly inFlightBytes: number;
  /** True while a snapshot page waits for the previous one to be taken by the client. */
  readonly waitingForFlush: boolean;
  readonly snapshotItemsRead: number;
  readonly snapshotReads: number;
  readonly snapshotPagesSent: number;
  /** Hub changes held back while starting. */
  readonly pending: number;
}

export interface WatchStreamDeps {
  readonly log: ChangeLog;
  readonly hub: ChangeHub;
  readonly snapshots: SnapshotSource;
  /** The tenants that hold data, for snapshots of every tenant; without it, `"*"` is refused. */
  readonly tenants?: TenantDirectory;
  /** The process's layers: with them, streams serve effective values (defaults included). */
  readonly layers?: FanoutLayers;
  readonly metrics: FanoutMetrics;
  readonly logger?: GenericLogger;
}

export interface WatchStart {
  /** Who watches: the snapshot is read with its rights. */
  readonly principal: Principal;
  readonly tenants: TenantSelection;
  readonly expiresAtMs: number;
  /** Non-overlapping, and only of tags the watcher may read (empty: every tag it may read). */
  readonly prefixes: readonly KeyPrefix[];
  /** Whether the watcher may read keys of a tag: checked for every item and change, besides the prefixes. */
  readonly mayReadTag: (tag: string) => boolean;
  /** The position of each of the selection's shards, already checked. */
  readonly resume?: ReadonlyMap<number, ParsedCursor>;
  /** The client assembles a snapshot sent in several messages. */
  readonly pagedSnapshot?: boolean;
  /** The setup's trace, when tracing is on: the snapshot and the catch-up become its phases. */
  readonly trace?: WatchSetupTrace;
  /**
   * `WatchRequest.include_attributes`: each followed tenant's registry attributes as an
   * `@attributes` item in the snapshot and a change of that key whenever they change. Needs the
   * process's layers (which hold them); without, none are sent.
   */
  readonly includeAttributes?: boolean;
}

/** Items asked of the source for the first page, before their size is known: few, as they are held until sent. */
const FIRST_READ_ITEMS = 4;

/** setTimeout's limit; longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class WatchStream implements HubSubscriber {
  private state: 'starting' | 'live' | 'ended' = 'starting';
  private readonly sender: StreamSender;
  private unsubscribe?: () => void;
  private opened = false;
  private selection: TenantSelection = { kind: 'list', tenants: new Set() };
  private shards: readonly number[] = [];
  /** Set for a multi-tenant stream: names its tenant set in its cursors. */
  private setId?: string;
  private prefixes: readonly KeyPrefix[] = [];
  private mayReadTag: (tag: string) => boolean = () => false;
  /** Whom the snapshot is read for. */
  private reader?: Principal;
  /** Hub changes that arrived while starting, in log order. */
  private pending: HubChange[] = [];
  private pendingOverflowed = false;
  /** Per shard: the newest cursor this stream has passed (sent, filtered out, or covered by the snapshot). */
  private last = new Map<number, ParsedCursor>();
  /** Versions of the snapshot's own items by tenant and key, until a change of that key has been sent. */
  private snapshotVersions?: Map<string, number>;
  /**
   * With layers: per followed tenant, the keys (under the prefixes, of readable tags) it holds a
   * value of its own for. A default change passes over those tenants; a delete of one falls back
   * to the default. Known from the snapshot (or a silent read when resuming) and the changes since.
   */
  private readonly ownKeys = new Map<string, Set<string>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private heartbeatTimer?: NodeJS.Timeout;
  /** Aborted when the stream ends for any reason: stops the snapshot reader. */
  private readonly abort = new AbortController();
  private pagedSnapshot = false;
  private includeAttributes = false;
  /**
   * With layers: per tenant, the registry version of the attributes its snapshot was worked out
   * with (the process's memory, which may trail the log heads the snapshot was taken at). A change
   * of attributes newer than that is delivered even when its cursor is at or before the heads.
   */
  private readonly attributesSeen = new Map<string, number>();
  private snapshotItemsRead = 0;
  private snapshotReads = 0;
  private snapshotPagesSent = 0;

  constructor(
    call: WatchCall,
    private readonly deps: WatchStreamDeps,
    private readonly settings: WatchStreamSettings,
    private readonly onEnded: (stream: WatchStream) => void,
  ) {
    this.sender = new StreamSender(call, settings.maxQueueEvents, deps.metrics);
    call.on('cancelled', () => this.cleanUp(() => this.sender.abandon()));
  }

  get isEnded(): boolean {
    return this.state === 'ended';
  }

  get stats(): WatchStreamStats {
    const selection = this.selection;
    return {
      tenant: selection.kind === 'one' ? selection.tenant : undefined,
      tenants: selection.kind === 'one' ? 1 : selection.kind === 'list' ? selection.tenants.size : '*',
      state: this.state,
      pagedSnapshot: this.pagedSnapshot,
      queued: this.sender.queued,
      inFlightWrites: this.sender.inFlightWrites,
      inFlightBytes: this.sender.inFlightBytes,
      waitingForFlush: this.sender.waitingForFlush,
      snapshotItemsRead: this.snapshotItemsRead,
      snapshotReads: this.snapshotReads,
      snapshotPagesSent: this.snapshotPagesSent,
      pending: this.pending.length,
    };
  }

  async run(start: WatchStart): Promise<void> {
    if (this.isEnded) return;
    const log = this.deps.log;
    this.selection = start.tenants;
    this.shards = shardsOf(start.tenants, log.shardCount, (t) => log.shardOf(t));
    this.setId = start.tenants.kind === 'one' ? undefined : tenantSetId(start.tenants.kind === 'all' ? '*' : [...start.tenants.tenants]);
    this.prefixes = start.prefixes;
    this.mayReadTag = start.mayReadTag;
    this.reader = start.principal;
    this.pagedSnapshot = start.pagedSnapshot === true;
    this.includeAttributes = start.includeAttributes === true;
    this.opened = true;
    this.deps.metrics.streamOpened();
    this.armTokenExpiry(start.expiresAtMs);
    this.armMaxAge();
    this.unsubscribe = this.deps.hub.subscribe(start.tenants, this);

    if (start.resume) this.last = new Map(start.resume);
    let snapshot: SnapshotReason | undefined = start.resume ? undefined : 'INITIAL';
    // Resuming, the defaults changed while away are not in the tenants' shards: sent again from the process's layers.
    let resyncDefaults: boolean;
    if (start.resume && this.deps.layers) {
      await this.readOwnKeys();
      if (this.isEnded) return;
    }
    for (;;) {
      if (snapshot) {
        const reason = snapshot;
        await (start.trace ? start.trace.phase('snapshot', () => this.sendSnapshot(reason), { 'snapshot.reason': reason }) : this.sendSnapshot(reason));
        snapshot = undefined;
        resyncDefaults = false;
      } else if (!(await (start.trace ? start.trace.phase('catch-up', () => this.catchUp()) : this.catchUp()))) {
        snapshot = 'CURSOR_EXPIRED';
        continue;
      } else {
        resyncDefaults = this.deps.layers !== undefined;
      }
      if (this.isEnded) return;
      if (!this.pendingOverflowed) break;
      // Too many live changes arrived meanwhile: they are in the log, read them from there.
      this.pendingOverflowed = false;
    }
    if (resyncDefaults) await this.resendDefaults();
    if (this.isEnded) return;
    this.state = 'live';
    const held = this.pending;
    this.pending = [];
    for (const change of held) this.deliver(change);
    this.armHeartbeat();
  }

  onChange(change: HubChange): void {
    if (this.state === 'live') {
      this.deliver(change);
    } else if (this.state === 'starting' && !this.pendingOverflowed) {
      if (this.pending.length >= this.settings.maxQueueEvents) {
        this.pending = [];
        this.pendingOverflowed = true;
      } else {
        this.pending.push(change);
      }
    }
  }

  onGap(): void {
    // Resuming with a cursor of the lost log yields a CURSOR_EXPIRED snapshot: the client resyncs.
    this.reconnect('the change log was restarted; reconnect and resume from your cursor');
  }

  /** Graceful end: `reconnect` after everything queued, then OK. */
  reconnect(reason: string): void {
    this.finish('ok', true, reconnectEvent(reason));
  }

  /** Ends the stream with the status of an error (domain errors mapped in one table). */
  fail(error: unknown): void {
    if (this.isEnded) return;
    const status = toStatus(error);
    if (status.code === grpcStatus.INTERNAL) this.deps.logger?.error('watch stream failed', { error: String(error) });
    this.finish(status, false);
  }

  private async sendSnapshot(reason: SnapshotReason): Promise<void> {
    const log = this.deps.log;
    const selection = this.selection;
    // Heads first: every change up to them is already in the backends the snapshot reads.
    const heads = new Map<number, ParsedCursor>();
    if (selection.kind === 'one') {
      const head = log.parseCursor(await log.head(selection.tenant));
      heads.set(head.shard, head);
    } else {
      for (const head of await Promise.all(this.shards.map((shard) => log.headOfShard(shard)))) {
        const parsed = log.parseCursor(head);
        heads.set(parsed.shard, parsed);
      }
    }
    if (this.isEnded) return;
    // Tenants in the order their reading started; those before the last are read whole.
    const started: TenantId[] = selection.kind === 'one' ? [selection.tenant] : [];
    let withDefaults = 0;
    this.ownKeys.clear();
    const reader = this.openSnapshot((tenant) => started.push(tenant));
    const versions = new Map<string, number>();
    this.snapshotVersions = versions;
    const read = async (limit: number): Promise<{ items: WireItem[]; done: boolean } | undefined> => {
      this.snapshotReads += 1;
      const page = await reader.next(limit);
      if (this.isEnded) return undefined;
      this.snapshotItemsRead += page.items.length;
      const items: WireItem[] = [];
      for (const { tenant, item } of page.items) {
        if (!this.mayReadKey(item.key)) continue;
        versions.set(versionKey(tenant, item.key), item.version);
        this.own(tenant).add(item.key);
        items.push(wireItem(item, tenant));
      }
      if (this.deps.layers) {
        const complete = page.done ? started.length : started.length - 1;
        while (withDefaults < complete) items.push(...(await this.defaultItems(started[withDefaults++])));
        if (this.isEnded) return undefined;
      }
      return { items, done: page.done };
    };
    const cursorOf = () => {
      this.last = new Map(heads);
      return this.cursor();
    };

    if (!this.pagedSnapshot) {
      // One message, as clients that do not assemble pages expect it.
      const items: WireItem[] = [];
      for (let done = false; !done;) {
        const page = await read(MAX_PAGE_LIMIT);
        if (!page) return;
        items.push(...page.items);
        done = page.done;
      }
      const cursor = cursorOf();
      await this.sender.waitForRoom();
      if (this.isEnded) return;
      this.snapshotPagesSent += 1;
      this.offer(snapshotEvent(items.sort(byKey), cursor, reason));
      return;
    }

    const pageBytes = this.settings.snapshotPageBytes;
    let limit = FIRST_READ_ITEMS;
    let bytesRead = 0;
    for (let done = false; !done;) {
      // The next page is read only once the previous one has left: an unread stream reads no further.
      await this.sender.waitForFlush();
      if (this.isEnded) return;
      const page = await read(limit);
      if (!page) return;
      done = page.done;
      const pages = splitBySize(page.items, pageBytes);
      if (done && pages.length === 0) pages.push([]);
      for (const [i, items] of pages.entries()) {
        if (i > 0) {
          await this.sender.waitForFlush();
          if (this.isEnded) return;
        }
        const last = done && i === pages.length - 1;
        this.snapshotPagesSent += 1;
        this.offer(snapshotEvent(items, last ? cursorOf() : '', reason, !last));
      }
      // Ask for about one page's worth next time, from the average item size so far.
      for (const item of page.items) bytesRead += wireItemBytes(item);
      if (this.snapshotItemsRead > 0) {
        limit = Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(pageBytes / (bytesRead / this.snapshotItemsRead))));
      }
    }
  }

  /** The tenant's defaults for the keys it holds no value of its own for: what its snapshot adds to its own items. */
  private async defaultItems(tenant: TenantId): Promise<WireItem[]> {
    const layers = this.deps.layers!;
    await layers.ensure(tenant);
    const own = this.own(tenant);
    const tenantLayers = layers.layersOf(tenant);
    const items: WireItem[] = [];
    const held = layers.attributesOf(tenant);
    this.attributesSeen.set(tenant, held?.version ?? 0);
    // Not a configuration key: no prefix or tag selects it, only the request's opt-in.
    if (this.includeAttributes && held?.registered) items.push(attributesWireItem(tenant, held));
    for (const key of layers.keysOf(tenantLayers)) {
      if (own.has(key) || !this.matches(key) || !this.mayReadKey(key)) continue;
      const effective = layers.effective(tenantLayers, key, tenant);
      if (effective) items.push(wireItem(effective, tenant, effective.source));
    }
    return items;
  }

  /** Resuming with layers: which keys the tenants hold of their own, read like a snapshot but not sent. */
  private async readOwnKeys(): Promise<void> {
    const selection = this.selection;
    if (selection.kind === 'one') this.own(selection.tenant);
    const reader = this.openSnapshot((tenant) => this.own(tenant));
    for (;;) {
      const page = await reader.next(MAX_PAGE_LIMIT);
      if (this.isEnded) return;
      for (const { tenant, item } of page.items) if (this.mayReadKey(item.key)) this.own(tenant).add(item.key);
      if (page.done) break;
    }
    await Promise.all([...this.ownKeys.keys()].map((t) => this.deps.layers!.ensure(t as TenantId)));
  }

  /**
   * After a resume: every default of every followed tenant without a value of its own, and the
   * end of each default deleted meanwhile. Versions only grow per source, so a client drops what
   * it already holds; what changed while it was away is thereby caught up.
   */
  private async resendDefaults(): Promise<void> {
    const layers = this.deps.layers!;
    for (const [tenant, own] of this.ownKeys) {
      const tenantLayers = layers.layersOf(tenant);
      // The attributes as held now: a client drops them when it holds that version already.
      const held = this.includeAttributes ? layers.attributesOf(tenant) : undefined;
      if (held && (held.registered || held.version > 0)) {
        await this.sender.waitForRoom();
        if (this.isEnded) return;
        this.offer(attributesChangeEvent(tenant, this.cursor(), { ...held, attributes: held.registered ? held.attributes : undefined }));
      }
      for (const key of layers.keysOf(tenantLayers)) {
        if (own.has(key) || !this.matches(key) || !this.mayReadKey(key)) continue;
        const effective = layers.effective(tenantLayers, key, tenant);
        const deleted = effective ? undefined : layers.deletedIn(tenantLayers, key);
        if (!effective && !deleted) continue;
        await this.sender.waitForRoom();
        if (this.isEnded) return;
        this.offer(
          effectiveChangeEvent(tenant, key, this.cursor(), effective, { ...(deleted ?? { version: 0, source: 'platform' }), updatedAt: '', updatedBy: '' }),
        );
      }
    }
  }

  private own(tenant: string): Set<string> {
    let keys = this.ownKeys.get(tenant);
    if (!keys) {
      keys = new Set();
      this.ownKeys.set(tenant, keys);
    }
    return keys;
  }

  /** One tenant's source, or several tenants one after the other (a list, or the directory for every tenant). */
  private openSnapshot(onTenant?: (tenant: TenantId) => void): TenantSnapshotReader {
    const selection = this.selection;
    const signal = this.abort.signal;
    // Set by run() before any snapshot: reading with no one's rights would read with everyone's.
    const principal = this.reader;
    if (!principal) throw new Error('Watch stream: a snapshot was asked for before run()');
    if (selection.kind === 'one') {
      const reader = this.deps.snapshots.open(selection.tenant, this.prefixes, signal, principal);
      return {
        async next(limit) {
          const page = await reader.next(limit);
          return { items: page.items.map((item) => ({ tenant: selection.tenant, item })), done: page.done };
        },
      };
    }
    // The Watch service refuses "*" when there is no directory.
    const tenants = selection.kind === 'list' ? [...selection.tenants].sort() : this.deps.tenants!;
    return openTenantsSnapshot(this.deps.snapshots, tenants, this.prefixes, signal, principal, onTenant);
  }

  /** Sends the followed tenants' changes after `last` from the log, shard by shard; false when some were trimmed away. */
  private async catchUp(): Promise<boolean> {
    const log = this.deps.log;
    const selection = this.selection;
    const readAfter = (cursor: string): Promise<ReadAfterResult> =>
      selection.kind === 'one'
        ? log.readAfter(selection.tenant, cursor, this.settings.catchUpPageSize)
        : log.readShardAfter(cursor, (t) => follows(selection, t), this.settings.catchUpPageSize);
    for (const shard of this.shards) {
      for (;;) {
        const page = await readAfter(this.last.get(shard)!.raw);
        if (this.isEnded) return true;
        if (page.trimmed) return false;
        for (const event of page.events) {
          await this.sender.waitForRoom();
          if (this.isEnded) return true;
          this.deliver({ event, cursor: log.parseCursor(event.cursor) });
        }
        // The read may have passed other tenants' entries after our last event.
        const stoppedAt = log.parseCursor(page.cursor);
        if (this.isAfterLast(stoppedAt)) this.last.set(shard, stoppedAt);
        if (!page.more) break;
      }
    }
    return true;
  }

  private deliver(change: HubChange): void {
    const { event, cursor } = change;
    if (this.state === 'ended') return;
    if (isLayerOwner(event.tenant)) {
      this.deliverDefault(change);
      return;
    }
    // The hub and the catch-up only hand over followed tenants' changes; checked again, cheaply.
    if (!follows(this.selection, event.tenant)) return;
    const last = this.last.get(cursor.shard);
    if (last && cursor.epoch !== last.epoch) {
      this.onGap();
      return;
    }
    if (!this.isAfterLast(cursor)) {
      // The snapshot's attributes came from memory, which may trail the heads it was taken at: a newer change still counts.
      const seen = event.key === ATTRIBUTES_KEY ? this.attributesSeen.get(event.tenant) : undefined;
      if (seen !== undefined && event.version > seen) this.deliverAttributes(change, true);
      return;
    }
    this.last.set(cursor.shard, cursor);
    if (event.key === ATTRIBUTES_KEY) {
      this.deliverAttributes(change, false);
      return;
    }
    if (!this.matches(event.key) || !this.mayReadKey(event.key)) return;
    if (this.coveredBySnapshot(event)) return;
    const layers = this.deps.layers;
    if (layers) {
      const own = this.own(event.tenant);
      if (event.deleted) {
        own.delete(event.key);
        // The tenant's own value is gone: what it sees now is the default, if one holds the key.
        const fallback = layers.effective(layers.layersOf(event.tenant), event.key, event.tenant);
        if (fallback) {
          const build = (at: string) =>
            effectiveChangeEvent(event.tenant, event.key, at, fallback, { version: 0, source: 'tenant', updatedAt: '', updatedBy: '' });
          this.offer(this.setId === undefined ? (change.message ??= build(event.cursor)) : build(this.cursor()));
          return;
        }
      } else {
        own.add(event.key);
      }
    }
    // A single-tenant stream's cursor is the change's own: one message serves all its streams.
    // A multi-tenant stream's cursor holds its other shards' positions too: a message of its own.
    this.offer(this.setId === undefined ? (change.message ??= changeEvent(event)) : changeEvent(event, this.cursor()));
  }

  /**
   * A default changed: for each followed tenant without a value of its own for the key, whose
   * layers include the changed one and no higher layer holds the key, the new effective value
   * (or the default it falls back to, or the key's end). Other tenants are sent nothing.
   */
  private deliverDefault(change: HubChange): void {
    const layers = this.deps.layers;
    const layer = layerOfOwner(change.event.tenant);
    const { event } = change;
    if (!layers || !layer || !this.matches(event.key) || !this.mayReadKey(event.key)) return;
    const source = layerName(layer);
    const selection = this.selection;
    const tenants: Iterable<string> = selection.kind === 'one' ? [selection.tenant] : selection.kind === 'list' ? selection.tenants : this.ownKeys.keys();
    const outcomes = (change.layerOutcomes ??= new Map()) as Map<readonly Layer[], Map<number, DefaultOutcome>>;
    // Under a rollout (before or after this change) a tenant whose value stays the same is sent nothing: a wave moves only its new tenants.
    const replaced = change.rolloutReplaced;
    const rolloutChange = replaced !== undefined;
    const messages: WatchEvent[] = [];
    for (const tenant of tenants) {
      if (this.ownKeys.get(tenant)?.has(event.key)) continue;
      const tenantLayers = layers.layersOf(tenant);
      // Tenants with the same segments (and, under a rollout, the same bucket) see the same: the change is resolved once for all of them.
      let byBucket = outcomes.get(tenantLayers);
      if (!byBucket) outcomes.set(tenantLayers, (byBucket = new Map()));
      // A change into or out of a rollout: what the tenant saw before depends on its bucket too, even when no layer holds a rollout now.
      const bucket = rolloutChange ? rolloutBucket(event.key, tenant) : layers.rolloutBucketOf(tenantLayers, event.key, tenant);
      let outcome = byBucket.get(bucket);
      if (!outcome) {
        const rank = layers.rankOf(tenantLayers, source);
        const effective = rank < 0 ? undefined : layers.effective(tenantLayers, event.key, tenant);
        let affected = rank >= 0 && !(effective && layers.rankOf(tenantLayers, effective.source) < rank);
        const valueJson = effective ? JSON.stringify(effective.value) : '';
        if (affected && rolloutChange) {
          const before = layers.effective(tenantLayers, event.key, tenant, { layer, item: replaced.item });
          affected = before?.source !== effective?.source || (before ? JSON.stringify(before.value) : '') !== valueJson;
        }
        outcome = { affected, effective, valueJson };
        byBucket.set(bucket, outcome);
      }
      if (!outcome.affected) continue;
      const cursor = this.cursor();
      const id = `${tenant}\n${cursor}`;
      let message = change.layerMessages?.get(id);
      if (!message) {
        const gone = { version: event.version, source, updatedAt: event.updatedAt, updatedBy: event.updatedBy };
        message = effectiveChangeEvent(tenant, event.key, cursor, outcome.effective, gone, outcome.valueJson);
        change.layerMessages?.set(id, message);
      }
      messages.push(message);
    }
    if (messages.length === 1) this.offer(messages[0]);
    else if (messages.length > 1) this.offerExpansion(messages);
  }

  /**
   * A tenant's attributes changed: the new attributes (to a stream that asked for them), then the
   * effective values that differ between its old and new segments. `late`: a change at or before
   * the stream's position that its snapshot did not reflect yet.
   */
  private deliverAttributes(change: HubChange, late: boolean): void {
    const layers = this.deps.layers;
    const moved = change.attributes;
    const { tenant } = change.event;
    const seen = this.attributesSeen.get(tenant);
    if (seen !== undefined) {
      if (change.event.version <= seen) return;
      this.attributesSeen.set(tenant, change.event.version);
    }
    if (this.includeAttributes && layers) this.offerAttributes(change, late);
    // From the log while catching up there is no "before": the defaults are sent again after the catch-up.
    if (!layers || !moved) return;
    const own = this.ownKeys.get(tenant);
    for (const key of layers.keysOf([...moved.before, ...moved.after])) {
      if (own?.has(key) || !this.matches(key) || !this.mayReadKey(key)) continue;
      const before = layers.effective(moved.before, key, tenant);
      const after = layers.effective(moved.after, key, tenant);
      if (!before && !after) continue;
      if (before && after && before.source === after.source && before.version === after.version) continue;
      const gone = {
        version: before?.version ?? 0,
        source: before?.source ?? ('platform' as Source),
        updatedAt: change.event.updatedAt,
        updatedBy: change.event.updatedBy,
      };
      this.offer(effectiveChangeEvent(tenant, key, this.cursor(), after, gone));
    }
  }

  /** The `@attributes` change of a log entry; streams of one tenant at the entry's own cursor share one message. */
  private offerAttributes(change: HubChange, late: boolean): void {
    const { event } = change;
    let attributes: Readonly<Record<string, string>> | undefined;
    if (!event.deleted) {
      // The hub has usually parsed it already (into the layers); the entry's value is `{attributes, offboarded}`.
      const held = this.deps.layers?.attributesOf(event.tenant);
      if (held && held.version === event.version) {
        attributes = held.attributes;
      } else {
        try {
          attributes = (JSON.parse(event.valueJson ?? '{}') as { attributes?: Record<string, string> }).attributes ?? {};
        } catch {
          return;
        }
      }
    }
    const build = (cursor: string) =>
      attributesChangeEvent(event.tenant, cursor, { attributes, version: event.version, updatedAt: event.updatedAt, updatedBy: event.updatedBy });
    this.offer(this.setId === undefined && !late ? (change.attributesMessage ??= build(event.cursor)) : build(this.cursor()));
  }

  private coveredBySnapshot(event: ChangeEvent): boolean {
    const at = versionKey(event.tenant, event.key);
    const held = this.snapshotVersions?.get(at);
    if (held === undefined) return false;
    // A value at or below the snapshot's version, or a delete of an older version, is already reflected.
    if (event.deleted ? event.version < held : event.version <= held) return true;
    // From the first newer change on, log order alone decides.
    this.snapshotVersions!.delete(at);
    return false;
  }

  /** The resume cursor of everything passed so far: the shard's `c1` cursor, or the `m1` cursor of every shard. */
  private cursor(): string {
    if (this.setId === undefined) return this.last.get(this.shards[0])!.raw;
    return encodeMultiCursor(this.setId, this.last.values());
  }

  private mayReadKey(key: string): boolean {
    const colon = key.indexOf(':');
    return colon > 0 && this.mayReadTag(key.slice(0, colon));
  }

  private offer(event: Parameters<StreamSender['offer']>[0]): void {
    if (this.sender.offer(event)) return;
    this.cutOffSlowConsumer();
  }

  /** The changes one log entry means for many tenants of this stream: past the queue's bound (StreamSender.offerExpansion). */
  private offerExpansion(events: readonly WatchEvent[]): void {
    if (this.sender.offerExpansion(events)) return;
    this.cutOffSlowConsumer();
  }

  private cutOffSlowConsumer(): void {
    this.deps.metrics.slowConsumerCut();
    const status = {
      code: grpcStatus.RESOURCE_EXHAUSTED,
      details:
        `consumer too slow: more than ${this.settings.maxQueueEvents} events were waiting to be sent; ` +
        'resync by calling Watch again with resume_cursor set to the cursor of the last event you applied',
    };
    this.cleanUp(() => this.sender.cutOff(status, this.settings.slowConsumerGraceMs));
  }

  private matches(key: string): boolean {
    return this.prefixes.length === 0 || this.prefixes.some((p) => key.startsWith(p.raw));
  }

  private isAfterLast(cursor: ParsedCursor): boolean {
    const last = this.last.get(cursor.shard);
    return !last || (cursor.epoch === last.epoch && compareStreamIds(cursor.id, last.id) > 0);
  }

  private armHeartbeat(): void {
    const interval = this.settings.heartbeatIntervalMs;
    const tick = (): void => {
      if (this.state !== 'live') return;
      const idleMs = Date.now() - this.sender.lastWriteAt;
      if (idleMs >= interval && this.sender.queued === 0) {
        // Every change of the followed tenants up to the hub's position was handed to this stream and written.
        for (const shard of this.shards) {
          const hub = this.deps.hub.position(shard);
          if (hub && this.isAfterLast(hub)) this.last.set(shard, hub);
        }
        this.offer(heartbeatEvent(this.cursor()));
      }
      if (this.state === 'live') {
        // A stalled stream (queue not empty) is looked at again a full interval later, not in a busy loop.
        const idle = Date.now() - this.sender.lastWriteAt;
        this.heartbeatTimer = setTimeout(tick, idle >= interval ? interval : interval - idle);
      }
    };
    this.heartbeatTimer = setTimeout(tick, interval);
  }

  private armTokenExpiry(expiresAtMs: number): void {
    const delay = Math.min(Math.max(0, expiresAtMs - Date.now()), MAX_TIMER_MS);
    this.timers.push(
      setTimeout(
        () => this.finish({ code: grpcStatus.UNAUTHENTICATED, details: 'the token expired; reconnect with a fresh token and resume from your cursor' }, false),
        delay,
      ),
    );
  }

  private armMaxAge(): void {
    const { maxStreamAgeMs, streamAgeSpread } = this.settings;
    if (maxStreamAgeMs <= 0) return;
    // Spread so that streams opened together (after a deploy) do not all reconnect together.
    const age = maxStreamAgeMs * (1 - streamAgeSpread * Math.random());
    this.timers.push(setTimeout(() => this.reconnect('maximum stream age reached; reconnect to rebalance'), Math.min(age, MAX_TIMER_MS)));
  }

  private finish(status: Pick<StatusObject, 'code' | 'details'> | 'ok', flush: boolean, lastEvent?: Parameters<StreamSender['offer']>[0]): void {
    this.cleanUp(() => this.sender.end(status, flush, lastEvent));
  }

  private cleanUp(endSender: () => void): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.abort.abort();
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    clearTimeout(this.heartbeatTimer);
    this.timers.length = 0;
    this.pending = [];
    this.snapshotVersions = undefined;
    endSender();
    if (this.opened) this.deps.metrics.streamClosed();
    this.onEnded(this);
  }
}

const versionKey = (tenant: string, key: string): string => `${tenant}\n${key}`;

/** What one default change means for tenants with one list of layers. */
interface DefaultOutcome {
  /** No higher layer holds the key, so the tenant (without its own value) sees the change. */
  readonly affected: boolean;
  /** What it sees now: the winning default, or nothing. */
  readonly effective?: EffectiveItem;
  /** `effective`'s value as JSON, serialized once. */
  readonly valueJson: string;
}

/** Consecutive runs of items of at most `maxBytes` each (an item larger than that alone). */
function splitBySize(items: readonly WireItem[], maxBytes: number): WireItem[][] {
  const pages: WireItem[][] = [];
  let current: WireItem[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = wireItemBytes(item);
    if (current.length > 0 && size + bytes > maxBytes) {
      pages.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) pages.push(current);
  return pages;
}
