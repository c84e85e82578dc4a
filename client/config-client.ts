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
  ConfigClientStartTimeoutError,
  InvalidTenantIdError,
  type ConfigClientAuthError,
  type ConfigClientPermissionError,
} from './errors';
import { HttpFallbackPoller } from './http-poller';
import { resolveOptions, resolveStartTimeout, type AnyConfigClientOptions, type ResolvedOptions } from './options';
import { SnapshotWriter } from './snapshot-writer';
import { OnDemandFollower } from './on-demand-follower';
import { StatusTracker } from './status-tracker';
import { isTenantId } from './tenant-id';
import { TenantSet } from './tenant-set';
import { TenantView, type TenantViewHost } from './tenant-view';
import { errorMessage } from './token';
import { jsonOf, primitiveOf, type ConfigReader, type ConfigSchema } from './typed-read';
import type { ChangeListener, ClientItem, ConfigChange, ConfigClientStatus, LagEvent, StateSource, StatusListener, StatusReport } from './types';
import { createUserTokenVerifier, type UserTokenVerifier } from './user-tokens';
import { WatchConnection, type WatchScope, type WatchSink } from './watch-connection';

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

interface ChangeSubscription {
  readonly listener: ChangeListener;
  readonly prefix: string;
}

type StartState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'pending'; readonly promise: Promise<void>; resolve(): void; reject(e: Error): void; timer?: NodeJS.Timeout }
  | { readonly phase: 'settled'; readonly promise: Promise<void> };

/** `start()`'s options. */
export interface StartOptions {
  /**
   * Reject with ConfigClientStartTimeoutError when no first state is held after this long.
   * `Infinity` waits for ever. @default the `startTimeoutMs` option (30 000)
   */
  readonly timeoutMs?: number;
}

/** Values given to an offline client or a test double, as items: version 1, written now by `bootstrap`. */
export function bootstrapItems(values: Readonly<Record<string, unknown>>, version = 1): ClientItem[] {
  const updatedAt = new Date().toISOString();
  return Object.entries(values).map(([key, value]) => ({ key, value, version, updatedAt, updatedBy: 'bootstrap' }));
}

export class ConfigClient implements ConfigReader {
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
  /** The snapshot file gave the first state (for a start() that times out). */
  private restoredFromFile = false;
  /** Versions of changes made locally (test double), above every version given. */
  private localVersion = 1;

  constructor(options: AnyConfigClientOptions) {
    this.opts = resolveOptions(options);
    const { opts } = this;
    this.tracker = new StatusTracker(opts.staleAfterMs, opts.logger);
    if (opts.metrics.onStatus) this.tracker.onStatus(opts.metrics.onStatus);
    let scope: WatchScope | undefined;
    if (opts.tenants) {
      // Offline, every tenant there is was given: held as the whole fleet, nothing to follow.
      const tenants = new TenantSet(opts.offline ? 'all' : opts.tenants, opts.logger);
      this.tenantSet = tenants;
      if (opts.offline) {
        scope = { tenantsFor: () => undefined };
      } else if (opts.tenants === 'on-demand') {
        this.follower = new OnDemandFollower(tenants, opts);
        scope = this.follower.scope;
      } else {
        scope = { tenantsFor: () => ['*'] };
      }
      this.viewHost = this.tenantViewHost(tenants);
    }
    this.connection = new WatchConnection(opts, this.watchSink(), scope);
    this.follower?.attach(this.connection);
    if (opts.offline) {
      this.goOffline();
      return;
    }
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
   * first attempt fails, the snapshot file's state (or `bootstrap`) or an HTTP load (status then
   * says `interrupted`, and `statusReport.source` where the state came from). Rejects with
   * ConfigClientStartTimeoutError when none of them answered within `timeoutMs` (default the
   * `startTimeoutMs` option, 30 s; the client keeps trying, `close()` to give up) — resolving
   * instead if the snapshot file or `bootstrap` gave a state meanwhile; with ConfigClientAuthError
   * when the service refuses every token (the client is then closed), ConfigClientClosedError on
   * `close()`. Offline, it resolves at once. Later calls return the first call's promise.
   */
  start(options: StartOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new ConfigClientClosedError());
    if (this.startState.phase !== 'idle') return this.startState.promise;
    let timeoutMs: number;
    try {
      timeoutMs = resolveStartTimeout(options.timeoutMs, this.opts.startTimeoutMs);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: StartState & { phase: 'pending' } = { phase: 'pending', promise, resolve, reject };
    this.startState = pending;
    if (Number.isFinite(timeoutMs)) {
      pending.timer = setTimeout(() => this.startTimedOut(timeoutMs), timeoutMs);
    }
    this.tracker.outageBegins();
    void this.boot();
    return promise;
  }

  /** The value of `key`, from memory; `fallback` when absent. A multi-tenant client reads through `forTenant(id)` instead. */
  get<T = unknown>(key: string): T | undefined;
  get<T>(key: string, fallback: T): T;
  get<T = unknown>(key: string, fallback?: T): T | undefined {
    this.singleTenantOnly('get');
    const item = this.store.get(key);
    return item ? (item.value as T) : fallback;
  }

  /** The value of `key` if it is a finite number; `fallback` when absent; ConfigValueTypeError otherwise. */
  getNumber(key: string): number | undefined;
  getNumber(key: string, fallback: number): number;
  getNumber(key: string, fallback?: number): number | undefined {
    this.singleTenantOnly('getNumber');
    return primitiveOf(key, this.store.get(key), 'number', fallback);
  }

  /** The value of `key` if it is a boolean; `fallback` when absent; ConfigValueTypeError otherwise. */
  getBoolean(key: string): boolean | undefined;
  getBoolean(key: string, fallback: boolean): boolean;
  getBoolean(key: string, fallback?: boolean): boolean | undefined {
    this.singleTenantOnly('getBoolean');
    return primitiveOf(key, this.store.get(key), 'boolean', fallback);
  }

  /** The value of `key` if it is a string; `fallback` when absent; ConfigValueTypeError otherwise. */
  getString(key: string): string | undefined;
  getString(key: string, fallback: string): string;
  getString(key: string, fallback?: string): string | undefined {
    this.singleTenantOnly('getString');
    return primitiveOf(key, this.store.get(key), 'string', fallback);
  }

  /**
   * The value of `key` (any JSON), checked by `schema` when given — a type guard or an object with
   * `parse` (zod-like) — ConfigValueTypeError when it refuses; undefined when absent.
   */
  getJson<T = unknown>(key: string, schema?: ConfigSchema<T>): T | undefined {
    this.singleTenantOnly('getJson');
    return jsonOf(key, this.store.get(key), schema);
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

  /**
   * A test double's change: applied as the stream's would be (a version above every one held),
   * change listeners and `onLag` hear it. `tenantId` for a multi-tenant client.
   */
  protected applyLocal(key: string, value: unknown, deleted: boolean, tenantId?: string): ConfigChange | undefined {
    if (this.closed) throw new ConfigClientClosedError();
    if (this.tenantSet && (tenantId === undefined || !isTenantId(tenantId))) {
      throw new InvalidTenantIdError(`a multi-tenant client's change names its tenant, got ${JSON.stringify(String(tenantId))}`);
    }
    if (!this.tenantSet && tenantId !== undefined) this.singleTenantOnly('a change for a tenant');
    this.localVersion += 1;
    const change: IncomingChange = { key, value, version: this.localVersion, deleted, updatedAt: new Date().toISOString(), updatedBy: 'test' };
    return this.tenantSet ? this.applyTenantChange(tenantId as string, change) : this.applyChange(change);
  }

  /**
   * A test double's registry attributes of a tenant, for flag rules on `tenant.<name>` (a live
   * client gets them from the stream: `WatchRequest.include_attributes`). Multi-tenant clients only:
   * a single-tenant client evaluates no flags.
   */
  protected applyTenantAttributes(tenantId: string, attributes: Readonly<Record<string, string>>): void {
    this.tenantSet?.setLocalAttributes(tenantId, attributes);
  }

  /** A test double's status. */
  protected forceStatus(status: ConfigClientStatus, reason?: string): void {
    this.tracker.force(status, reason);
  }

  private goOffline(): void {
    const { bootstrap, bootstrapTenants } = this.opts;
    if (this.tenantSet) {
      const items = Object.entries(bootstrapTenants ?? {}).flatMap(([tenantId, values]) => bootstrapItems(values).map((item) => ({ tenantId, item })));
      this.tenantSet.applySnapshot(items, ['*']);
      this.stateLoaded = true;
    } else {
      this.replaceState(bootstrapItems(bootstrap ?? {}), 'bootstrap');
    }
    this.tracker.offline();
    this.startState = { phase: 'settled', promise: Promise.resolve() };
  }

  private startTimedOut(timeoutMs: number): void {
    if (this.startState.phase !== 'pending' || this.closed) return;
    // The snapshot file or bootstrap is a first state: serve it rather than fail.
    if (this.stateLoaded) {
      this.settleStart();
      return;
    }
    const error = new ConfigClientStartTimeoutError({
      timeoutMs,
      stream: { target: this.opts.grpcTarget, ...(this.tracker.error ? { lastError: this.tracker.error } : {}) },
      ...(this.opts.httpBaseUrl
        ? { http: { baseUrl: this.opts.httpBaseUrl.href, ...(this.poller?.lastError ? { lastError: this.poller.lastError } : {}) } }
        : {}),
      ...(this.writer ? { snapshotFile: { path: this.writer.path, restored: this.restoredFromFile } } : {}),
    });
    this.opts.logger.error('config-client: start() timed out', { error: error.message });
    this.settleStart(error);
  }

  private async boot(): Promise<void> {
    const saved = await this.writer?.restore(this.opts.prefixes);
    if (this.closed) return;
    if (saved) {
      this.restoredFromFile = true;
      this.replaceState(saved.items, 'snapshot-file');
      this.opts.logger.info('config-client: state restored from the snapshot file', {
        path: this.writer?.path,
        savedAt: saved.savedAt,
        keys: saved.items.length,
      });
    } else if (this.opts.bootstrap && !this.tenantSet) {
      this.replaceState(bootstrapItems(this.opts.bootstrap), 'bootstrap');
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
      attributes: (id) => tenants.attributesOf(id) ?? NO_ATTRIBUTES,
      onAttributesChange: (id, listener) => tenants.onAttributesChange(id, listener),
    };
  }

  /** How the connection's news becomes status, state and fallbacks. */
  private watchSink(): WatchSink {
    return {
      snapshot: (items, tenants, attributes) => {
        if (this.tenantSet) {
          this.stateLoaded = true;
          this.tenantSet.applySnapshot(items, tenants, attributes);
          return;
        }
        this.replaceState(
          items.map((i) => i.item),
          'stream',
        );
        this.writer?.writeNow();
      },
      change: (change, tenantId) => {
        if (this.tenantSet) this.applyTenantChange(tenantId, change);
        else this.applyChange(change);
      },
      // Kept per tenant beside its keys, for the views' flags; a single-tenant client evaluates no flags.
      attributes: (update) => this.tenantSet?.applyAttributes(update),
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
      reconnecting: (event) => {
        const hook = this.opts.metrics.onReconnect;
        if (hook) this.metric('onReconnect', () => hook(event));
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
    const { promise, resolve, reject, timer } = this.startState;
    if (timer) clearTimeout(timer);
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

  private applyChange(change: IncomingChange): ConfigChange | undefined {
    const applied = this.store.apply(change);
    if (!applied) return undefined;
    this.lag(change);
    this.emitChanges([applied]);
    this.writer?.writeSoon();
    return applied;
  }

  private applyTenantChange(tenantId: string, change: IncomingChange): ConfigChange | undefined {
    const applied = this.tenantSet?.applyChange(tenantId, change);
    if (applied) this.lag(change, tenantId);
    return applied;
  }

  /** Write → applied here, for the onLag hook. */
  private lag(change: IncomingChange, tenantId?: string): void {
    const hook = this.opts.metrics.onLag;
    if (!hook) return;
    const written = Date.parse(change.updatedAt);
    if (!Number.isFinite(written)) return;
    const event: LagEvent = { lagMs: Date.now() - written, key: change.key, version: change.version, ...(tenantId ? { tenantId } : {}) };
    this.metric('onLag', () => hook(event));
  }

  private metric(name: string, call: () => void): void {
    try {
      call();
    } catch (e) {
      this.opts.logger.error(`config-client: the metrics hook ${name} threw`, { error: errorMessage(e) });
    }
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
