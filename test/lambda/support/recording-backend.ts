/**
 * A ConfigBackend decorator for handler tests: counts the calls that reach the store
 * (so "nothing was written" is a fact, not a hope) and can make the next call fail.
 */
import type { ConfigBackend, Page, PageRequest } from '../../../core/backend-port';
import type { ConfigItem, DeleteCommand, HistoryEntry, PutCommand, PutResult } from '../../../core/item';
import type { ConfigKey, KeyPrefix } from '../../../core/key';
import type { TenantId } from '../../../core/tenant';

type Operation = 'get' | 'list' | 'put' | 'delete' | 'history';

export class RecordingBackend implements ConfigBackend {
  readonly calls: Record<Operation, number> = { get: 0, list: 0, put: 0, delete: 0, history: 0 };
  private readonly faults = new Map<Operation, unknown>();

  constructor(private readonly inner: ConfigBackend) {}

  /** Writes that reached the store (put and delete calls). */
  get writes(): number {
    return this.calls.put + this.calls.delete;
  }

  /** The next call of `operation` throws `error` instead of reaching the store. */
  failNext(operation: Operation, error: unknown): void {
    this.faults.set(operation, error);
  }

  private enter(operation: Operation): void {
    this.calls[operation] += 1;
    if (this.faults.has(operation)) {
      const error = this.faults.get(operation);
      this.faults.delete(operation);
      throw error;
    }
  }

  async get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined> {
    this.enter('get');
    return this.inner.get(tenant, key);
  }

  async list(tenant: TenantId, prefix: KeyPrefix, page: PageRequest): Promise<Page<ConfigItem>> {
    this.enter('list');
    return this.inner.list(tenant, prefix, page);
  }

  async put(tenant: TenantId, command: PutCommand): Promise<PutResult> {
    this.enter('put');
    return this.inner.put(tenant, command);
  }

  async delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }> {
    this.enter('delete');
    return this.inner.delete(tenant, command);
  }

  async history(tenant: TenantId, key: ConfigKey, limit: number): Promise<readonly HistoryEntry[]> {
    this.enter('history');
    return this.inner.history(tenant, key, limit);
  }
}
