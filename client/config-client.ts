/**
 * ConfigClient: what a consuming microservice embeds. It holds the tenant's configuration in
 * memory, kept live by one Watch stream; `get` is synchronous and never touches the network.
 *
 * A façade over small parts that feed one state: the {@link WatchConnection} (attempts,
 * backoff, token retries, resume), the {@link HttpFallbackPoller} (the state over HTTP while
 * the stream is down), the {@link SnapshotWriter} (last-known-good file) and the
 * {@link StatusTracker}. The state itself is the {@link ConfigStore}; every update, whatever
 * its source, goes through `replaceState` or `applyChange` here.
 */
import { ConfigStore, type IncomingChange } from './config-store';
import {
  ConfigClientClosedError,
  ConfigClientOptionsError,
  InvalidTenantIdError,
  type ConfigClientAuthError,
  type ConfigClientPermissionError,
} from './errors';
import { HttpFallbackPoller } from './http-poller';
import { resolveOptions, type ConfigClientOptions, type ResolvedOptions } from './options';
import { SnapshotWriter } from './snapshot-writer';
import { OnDemandFollower } from './on-demand-follower';
import { StatusTracker } from './status-tracker';
import { isTenantId } from './tenant-id';
import { TenantSet } from './tenant-set';
import { TenantView, type TenantViewHost } from './tenant-view';
import { errorMessage } from './token';
import type { ChangeListener, ClientItem, ConfigChange, ConfigClientStatus, StateSource, StatusListener, StatusReport } from './types';
import { createUserTokenVerifier, type UserTokenVerifier } from './user-tokens';
import { WatchConnection, type WatchScope, type WatchSink } from './watch-connection';

interface ChangeSubscription {
  readonly listener: ChangeListener;
  readonly prefix: string;
}

type StartState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'pending'; readonly promise: Promise<void>; resolve(): void; reject(e: Error): void }
  | { readonly phase: 'settled'; readonly promise: Promise<void> };

export class ConfigClient {
  private readonly opts: ResolvedOptions;
  private readonly store = new ConfigStore();
  private readonly changeListeners = new Set<ChangeSubscription>();
  private readonly tracker: StatusTracker;
  private readonly connection: WatchConnection;
  private readonly poller?: HttpFallbackPoller;
  private readonly writer?: SnapshotWriter;
  /** Many tenants (`tenants` set): their state, and on demand which of them the stream names. */
  private readonly tenantSet?: TenantSet;
  private readonly follower?: OnDemandFollower;
  private readonly viewHost?: TenantViewHost;
  private userTokenVerifier?: UserTokenVerifier;
  /** False until a first state (stream, HTTP or file) is held: that first state is loaded silently. */
  private stateLoaded = false;
  private startState: StartState = { phase: 'idle' };
  private closed = false;
  private closing?: Promise<void>;

  constructor(options: ConfigClientOptions) {
    this.opts = resolveOptions(options);
    const { opts } = this;
    this.tracker = new StatusTracker(opts.staleAfterMs, opts.logger);
    let scope: WatchScope | undefined;
    if (opts.tenants) {
      const tenants = new TenantSet(opts.tenants, opts.logger);
      this.tenantSet = tenants;
      if (opts.tenants === 'on-demand') {
        this.follower = new OnDemandFollower(tenants, opts);
        scope = this.follower.scope;
      } else {
        scope = { tenantsFor: () => ['*'] };
      }
      this.viewHost = this.tenantViewHost(tenants);
    }
    this.connection = new WatchConnection(opts, this.watchSink(), scope);
    this.follower?.attach(this.connection);
    if (opts.httpBaseUrl) {
      const {
        httpBaseUrl: baseUrl,
        prefixes,
        token,
        httpRefreshMs: refreshMs,
        backoffBaseMs: retryBaseMs,
        httpRetryCapMs: retryCapMs,
        httpTimeoutMs: timeoutMs,
        logger,
        random,
      } = opts;
      this.poller = new HttpFallbackPoller(
        { baseUrl, prefixes, token, refreshMs, retryBaseMs, retryCapMs, timeoutMs, logger, random },
        { loaded: (items) => this.loadedOverHttp(items), answered: (ok) => this.connection.httpAnswered(ok) },
      );
    }
    if (opts.snapshotFile) {
      this.writer = new SnapshotWriter(opts.snapshotFile, opts.logger, opts.snapshotFileIntervalMs, () => ({
        prefixes: opts.prefixes,
        cursor: this.connection.cursor,
        savedAt: new Date().toISOString(),
        items: this.store.all(),
      }));
    }
  }

  /** `initializing`, `live`, `interrupted` or `stale`. */
  get status(): ConfigClientStatus {
    return this.tracker.status;
  }

  get statusReport(): StatusReport {
    return this.tracker.report;
  }

  /** The position in the change log the state is consistent with; what a resume sends. */
  get cursor(): string | undefined {
    return this.connection.cursor;
  }

  /**
   * Connects. Resolves once the first state is held: a snapshot from the stream; or, when the
   * first attempt fails, the snapshot file's state or an HTTP load (status then says
   * `interrupted`, and `statusReport.source` where the state came from). With the service down and
   * neither fallback, it waits for the service. Rejects with ConfigClientAuthError when the
   * service refuses every token (the client is then closed), ConfigClientClosedError on `close()`.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new ConfigClientClosedError());
    if (this.startState.phase !== 'idle') return this.startState.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.startState = { phase: 'pending', promise, resolve, reject };
    this.tracker.outageBegins();
    void this.boot();
    return promise;
  }

  /** The value of `key`, from memory. A multi-tenant client reads through `forTenant(id)` instead. */
  get<T = unknown>(key: string): T | undefined {
    this.singleTenantOnly('get');
    return this.store.get(key)?.value as T | undefined;
  }

  /** The item with its version and provenance, from memory. */
  getItem<T = unknown>(key: string): ClientItem<T> | undefined {
    this.singleTenantOnly('getItem');
    return this.store.get(key) as ClientItem<T> | undefined;
  }

  /** Keys held, sorted; only those starting with `prefix` when given. */
  keys(prefix?: string): string[] {
    this.singleTenantOnly('keys');
    return this.store.keys(prefix);
  }

  /**
   * A view of one tenant's configuration (`tenants: 'all' | 'on-demand'`). On demand, the first
   * use of a tenant starts following it (`get` answers the fallback until `await view.ready()`),
   * and every use makes it the most recently used. Throws InvalidTenantIdError for a malformed id.
   */
  forTenant(tenantId: string): TenantView {
    const host = this.multiTenantOnly('forTenant');
    if (!isTenantId(tenantId)) throw new InvalidTenantIdError(`not a tenant id: ${JSON.stringify(String(tenantId)).slice(0, 80)}`);
    if (this.closed) throw new ConfigClientClosedError();
    host.used(tenantId);
    return new TenantView(host, tenantId);
  }

  /** `forTenant(id)` once the tenant's first state is held. */
  forTenantReady(tenantId: string): Promise<TenantView> {
    try {
      return this.forTenant(tenantId).ready();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Verifies an end user's access token (`userTokens`: issuer, app client, expiry, `token_use`
   * access, a well-formed tenant claim) and returns the view of the tenant it names. Rejects with
   * UserTokenError (answer 401) on any failure. It does not wait for the tenant's state: on demand,
   * `await (await client.forRequest(token)).ready()` for a first read.
   */
  async forRequest(userAccessToken: string): Promise<TenantView> {
    this.multiTenantOnly('forRequest');
    const settings = this.opts.userTokens;
    if (!settings) throw new ConfigClientOptionsError('ConfigClient: forRequest needs the userTokens option ({ issuer, clientId, jwksUri? })');
    this.userTokenVerifier ??= createUserTokenVerifier(settings);
    const { tenantId } = await this.userTokenVerifier(userAccessToken);
    return this.forTenant(tenantId);
  }

  /** The tenants whose state is held (multi-tenant clients), least recently used first. */
  heldTenants(): string[] {
    this.multiTenantOnly('heldTenants');
    return this.tenantSet?.ids() ?? [];
  }

  /**
   * Calls `listener` for every applied change (after the first state, which is loaded silently:
   * read it with `get`). A snapshot that replaces the state reports each difference, deletions
   * included. `prefix` narrows to matching keys. Returns the unsubscribe function.
   */
  onChange<T = unknown>(listener: ChangeListener<T>, filter: { prefix?: string } = {}): () => void {
    // Every tenant's changes, each naming its tenant.
    if (this.tenantSet) return this.tenantSet.onChange(undefined, listener as ChangeListener, filter.prefix);
    const subscription: ChangeSubscription = { listener: listener as ChangeListener, prefix: filter.prefix ?? '' };
    this.changeListeners.add(subscription);
    return () => {
      this.changeListeners.delete(subscription);
    };
  }

  /** Calls `listener` whenever the status or the source of the state changes. Returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.tracker.onStatus(listener);
  }

  /** Cancels the stream and every timer, writes a pending snapshot file, closes the channel. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async boot(): Promise<void> {
    const saved = await this.writer?.restore(this.opts.prefixes);
    if (this.closed) return;
    if (saved) {
      this.replaceState(saved.items, 'snapshot-file');
      this.opts.logger.info('config-client: state restored from the snapshot file', {
        path: this.writer?.path,
        savedAt: saved.savedAt,
        keys: saved.items.length,
      });
    }
    this.follower?.begin();
    this.connection.open();
    // On demand with nothing asked for yet: nothing to watch, so nothing to wait for.
    if (this.connection.idle) this.settleStart();
  }

  private singleTenantOnly(method: string): void {
    if (this.tenantSet) throw new ConfigClientOptionsError(`ConfigClient: ${method} reads one tenant; with tenants, read through forTenant(id).${method}`);
  }

  private multiTenantOnly(method: string): TenantViewHost {
    if (!this.viewHost) throw new ConfigClientOptionsError(`ConfigClient: ${method} needs tenants: 'all' or 'on-demand'`);
    return this.viewHost;
  }

  private tenantViewHost(tenants: TenantSet): TenantViewHost {
    const follower = this.follower;
    return {
      used: follower ? (id) => follower.follow(id) : () => undefined,
      item: (id, key) => tenants.item(id, key),
      keys: (id, prefix) => tenants.keys(id, prefix),
      isLoaded: (id) => tenants.isLoaded(id),
      ready: (id) => (this.closed ? Promise.reject(new ConfigClientClosedError()) : tenants.ready(id)),
      onChange: (id, listener, prefix) => tenants.onChange(id, listener, prefix),
    };
  }

  /** How the connection's news becomes status, state and fallbacks. */
  private watchSink(): WatchSink {
    return {
      snapshot: (items, tenants) => {
        if (this.tenantSet) {
          this.stateLoaded = true;
          this.tenantSet.applySnapshot(items, tenants);
          return;
        }
        this.replaceState(
          items.map((i) => i.item),
          'stream',
        );
        this.writer?.writeNow();
      },
      change: (change, tenantId) => {
        if (this.tenantSet) this.tenantSet.applyChange(tenantId, change);
        else this.applyChange(change);
      },
      up: () => {
        // The stream is the truth again: an HTTP load under way would only be thrown away.
        this.poller?.stop();
        this.tracker.live();
        this.settleStart();
        this.follower?.connectionUp();
      },
      down: () => this.tracker.outageBegins(),
      interrupted: (reason) => this.tracker.interrupted(reason),
      attemptFailed: (reason) => {
        this.tracker.interrupted(reason);
        if (this.stateLoaded) this.settleStart();
        this.poller?.start();
      },
      tokenRefused: (reason, wasLive) => {
        // While start() waits, a first refusal is a token refresh, not an outage.
        if (wasLive || this.startState.phase !== 'pending') this.tracker.interrupted(reason);
        else this.tracker.recordError(reason);
      },
      authExhausted: (error: ConfigClientAuthError) => {
        if (this.startState.phase !== 'pending') return false;
        this.settleStart(error);
        void this.close();
        return true;
      },
      // A single-tenant client keeps retrying a refusal, as it always has.
      ...(this.opts.tenants
        ? {
            permissionDenied: (error: ConfigClientPermissionError) => {
              this.tracker.recordError(error.message);
              if (this.startState.phase !== 'pending') return false;
              this.tenantSet?.fail(error);
              this.settleStart(error);
              void this.close();
              return true;
            },
          }
        : {}),
    };
  }

  private loadedOverHttp(items: ClientItem[]): void {
    if (this.closed || this.connection.live) return;
    this.replaceState(items, 'http');
    this.writer?.writeNow();
    this.settleStart();
  }

  private settleStart(error?: Error): void {
    if (this.startState.phase !== 'pending') return;
    const { promise, resolve, reject } = this.startState;
    this.startState = { phase: 'settled', promise };
    if (error) reject(error);
    else resolve();
  }

  /** `source` 'stream' is announced when the stream goes live, which always follows its snapshot. */
  private replaceState(items: readonly ClientItem[], source: StateSource): void {
    const changes = this.store.replaceAll(items);
    const silent = !this.stateLoaded;
    this.stateLoaded = true;
    if (source !== 'stream') this.tracker.sourceIs(source);
    if (!silent) this.emitChanges(changes);
  }

  private applyChange(change: IncomingChange): void {
    const applied = this.store.apply(change);
    if (!applied) return;
    this.emitChanges([applied]);
    this.writer?.writeSoon();
  }

  private emitChanges(changes: readonly ConfigChange[]): void {
    for (const change of changes) {
      for (const { listener, prefix } of [...this.changeListeners]) {
        if (!change.key.startsWith(prefix)) continue;
        try {
          listener(change);
        } catch (e) {
          // One faulty listener must not stop the stream nor the others.
          this.opts.logger.error('config-client: a change listener threw', { key: change.key, error: errorMessage(e) });
        }
      }
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.follower?.close();
    this.tenantSet?.fail(new ConfigClientClosedError());
    this.connection.close();
    this.tracker.close();
    this.poller?.close();
    this.settleStart(new ConfigClientClosedError());
    await this.writer?.close();
  }
}
