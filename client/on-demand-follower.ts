/**
 * On-demand mode: which tenants the one Watch stream names, and how a tenant joins it.
 *
 * A tenant asked for the first time is `pending`. Pending tenants are batched (everything asked
 * for in the same turn of the event loop, at most 500) and read by a short second Watch on the
 * same connection (`tenants` = the batch): its snapshot loads them, so a first read waits for
 * the batch's keys only. Then the main Watch is re-issued on the same connection with the new
 * list. The service's multi-tenant cursor names its tenant set, so the widened Watch cannot
 * resume the old one: it starts with a snapshot of every tenant held (at most `maxTenants`),
 * paged, applied as differences (unchanged keys tell no listener). That is the cost of a join:
 * one snapshot of the held set per batch, not per tenant, while the state held keeps serving.
 * The second Watch carries the new tenants' changes until the widened Watch's snapshot is in,
 * then it is cancelled; duplicates are dropped by the version guard.
 *
 * At most `maxTenants` are held: once a batch is in, the least recently used beyond the bound
 * are dropped, in the same re-issue. A stream that breaks resumes with the tenants it names;
 * one that has to start over (no cursor) names every tenant asked for and snapshots them all.
 */
import * as grpc from '@grpc/grpc-js';
import { ConfigClientPermissionError } from './errors';
import type { TenantEntry, TenantSet } from './tenant-set';
import type { ConfigClientLogger } from './types';
import type { WatchCall } from './watch-call';
import type { WatchConnection, WatchScope } from './watch-connection';

/** How many tenants one joining Watch reads at most: a burst of new tenants is read in a few snapshots. */
const MAX_BATCH = 500;
/** A join that failed for want of a connection (or an answer) is retried after this. */
const JOIN_RETRY_MS = 250;

export interface OnDemandSettings {
  readonly maxTenants: number;
  readonly logger: ConfigClientLogger;
}

interface Join {
  readonly batch: readonly TenantEntry[];
  side?: WatchCall;
  snapshotIn: boolean;
}

export class OnDemandFollower {
  private connection?: WatchConnection;
  private join?: Join;
  private scheduled = false;
  private retryTimer?: NodeJS.Timeout;
  private started = false;
  private closed = false;

  /** What the main Watch names. */
  readonly scope: WatchScope = {
    tenantsFor: (resuming) => {
      if (!resuming) {
        // A fresh snapshot covers everything asked for: no separate join needed.
        this.abandonJoin();
        for (const entry of this.tenants.oldestFirst()) entry.phase = 'watched';
        // The bound holds here too: a fresh start may come with more tenants asked for than held.
        this.dropOverflow(new Set());
      }
      const ids = this.tenants.entriesIn('watched').map((e) => e.id);
      return ids.length > 0 ? ids : undefined;
    },
  };

  constructor(
    private readonly tenants: TenantSet,
    private readonly settings: OnDemandSettings,
  ) {}

  attach(connection: WatchConnection): void {
    this.connection = connection;
  }

  /** `start()` ran: joins may open the connection from now on. */
  begin(): void {
    this.started = true;
  }

  /** A use of the tenant: followed from now on if it was not, and the most recent either way. */
  follow(id: string): void {
    const { entry, created } = this.tenants.ensure(id);
    this.tenants.touch(id);
    if (created || entry.phase === 'pending') this.schedule();
  }

  /** The main stream is live: what was asked for meanwhile can join. */
  connectionUp(): void {
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.abandonJoin();
  }

  private schedule(delayMs = 0): void {
    if (this.closed || this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.retryTimer = undefined;
      this.runJoin();
    };
    // setImmediate batches everything asked for in this turn of the event loop into one join.
    if (delayMs === 0) setImmediate(run);
    else this.retryTimer = setTimeout(run, delayMs);
  }

  private runJoin(): void {
    const connection = this.connection;
    if (this.closed || this.join || !connection || !this.started) return;
    const pending = this.tenants.entriesIn('pending');
    if (pending.length === 0) return;
    if (connection.idle) {
      // Nothing was watched: the first attempt's snapshot covers the pending tenants.
      connection.open();
      return;
    }
    // Not live: the stream's return (connectionUp) tries again.
    if (!connection.live) return;
    const solo = pending.find((e) => e.solo);
    const batch = solo ? [solo] : pending.slice(-Math.min(MAX_BATCH, this.settings.maxTenants));
    for (const entry of batch) entry.phase = 'joining';
    const join: Join = { batch, snapshotIn: false };
    this.join = join;
    const ids = batch.map((e) => e.id);
    this.settings.logger.debug('config-client: tenants joining the stream', { tenants: ids.length });
    join.side = connection.openSide(ids, {
      event: (event) => {
        if (event.kind === 'snapshot' && !join.snapshotIn) {
          join.snapshotIn = true;
          const joined = batch.filter((e) => this.tenants.entry(e.id) === e && e.phase === 'joining');
          for (const entry of joined) entry.phase = 'watched';
          this.tenants.applySnapshot(
            event.items,
            joined.map((e) => e.id),
            event.attributes,
          );
          this.dropOverflow(new Set(joined));
          this.widen(join);
        } else if (event.kind === 'change' && join.snapshotIn) {
          this.tenants.applyChange(event.tenantId, event.change);
        } else if (event.kind === 'attributes' && join.snapshotIn) {
          this.tenants.applyAttributes(event.update);
        }
      },
      ended: (status) => this.sideEnded(join, status),
    });
    if (!join.side) this.sideEnded(join, { code: grpc.status.UNAVAILABLE, details: 'no live connection', metadata: new grpc.Metadata() });
  }

  /** Re-issues the main Watch with the tenants now watched; the joining Watch serves until its snapshot is in. */
  private widen(join: Join): void {
    const reissued = this.connection?.reissue(() => {
      if (this.join === join) this.join = undefined;
      join.side?.cancel();
      this.schedule();
    });
    // The stream broke meanwhile: its next attempt names the joined tenants (the joining Watch ends with the connection).
    if (!reissued && this.join === join) this.join = undefined;
  }

  private sideEnded(join: Join, status: grpc.StatusObject): void {
    if (join.snapshotIn) return;
    if (this.join === join) this.join = undefined;
    const still = join.batch.filter((e) => this.tenants.entry(e.id) === e && e.phase === 'joining');
    if (status.code === grpc.status.PERMISSION_DENIED) {
      if (still.length === 1) {
        const [entry] = still;
        this.tenants.drop(entry.id);
        this.tenants.refuse(entry.id, new ConfigClientPermissionError(`the service refused to watch tenant ${entry.id} with this token (${status.details})`));
      } else {
        // One refused tenant must not keep the others out: they join one by one.
        for (const entry of still) entry.solo = true;
      }
    }
    for (const entry of still) if (this.tenants.entry(entry.id) === entry) entry.phase = 'pending';
    if (this.closed) return;
    this.schedule(status.code === grpc.status.PERMISSION_DENIED ? 0 : JOIN_RETRY_MS);
  }

  /** Beyond the bound, the least recently used watched tenants go (never those just joined). */
  private dropOverflow(keep: ReadonlySet<TenantEntry>): void {
    let excess = this.tenants.size - this.settings.maxTenants;
    if (excess <= 0) return;
    const dropped: string[] = [];
    for (const entry of this.tenants.oldestFirst()) {
      if (excess <= 0) break;
      if (entry.phase !== 'watched' || keep.has(entry)) continue;
      dropped.push(entry.id);
      excess -= 1;
    }
    for (const id of dropped) this.tenants.drop(id);
    if (dropped.length > 0) this.settings.logger.debug('config-client: least recently used tenants dropped', { tenants: dropped.length });
  }

  private abandonJoin(): void {
    const join = this.join;
    this.join = undefined;
    join?.side?.cancel();
  }
}
