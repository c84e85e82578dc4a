/**
 * A ConfigBackend in process memory with the semantics the contract suite pins down
 * (test/contract/config-backend.contract.ts): versions never go backwards across a
 * delete (a tombstone stays), history is unbounded unless `historyDepth` is given.
 * For tests of the layers above the port, and as the contract suite's own self-check.
 */
import type { ConfigBackend, Page, PageRequest } from '../../core/backend-port';
import { NotFoundError, PreconditionFailedError } from '../../core/errors';
import type { ConfigItem, DeleteCommand, HistoryEntry, JsonValue, PutCommand, PutResult } from '../../core/item';
import type { ConfigKey, KeyPrefix } from '../../core/key';
import type { TenantId } from '../../core/tenant';

interface Slot {
  version: number;
  deleted: boolean;
  /** Newest first; entry 0 is the live item unless `deleted`. */
  history: HistoryEntry[];
}

/** Values are copied in and out through JSON so callers cannot mutate stored state. */
const copy = (value: JsonValue): JsonValue => JSON.parse(JSON.stringify(value)) as JsonValue;

export class InMemoryConfigBackend implements ConfigBackend {
  private readonly slots = new Map<string, Map<string, Slot>>();

  constructor(private readonly options: { historyDepth?: number; clock?: () => Date } = {}) {}

  async get(tenant: TenantId, key: ConfigKey): Promise<ConfigItem | undefined> {
    const slot = this.slot(tenant, key.raw);
    return slot && !slot.deleted ? this.toItem(key.raw, slot) : undefined;
  }

  async listTenants(page: PageRequest): Promise<Page<TenantId>> {
    const tenants = [...this.slots.keys()].sort();
    const after = page.cursor ? Buffer.from(page.cursor, 'base64url').toString('utf8') : undefined;
    const remaining = after === undefined ? tenants : tenants.filter((t) => t > after);
    const chosen = remaining.slice(0, page.limit) as TenantId[];
    const more = remaining.length > chosen.length;
    return more ? { items: chosen, cursor: Buffer.from(chosen[chosen.length - 1], 'utf8').toString('base64url') } : { items: chosen };
  }

  async list(tenant: TenantId, prefix: KeyPrefix, page: PageRequest): Promise<Page<ConfigItem>> {
    const keys = [...(this.slots.get(tenant)?.entries() ?? [])]
      .filter(([raw, slot]) => !slot.deleted && raw.startsWith(prefix.raw))
      .map(([raw]) => raw)
      .sort();
    // The cursor is the last key returned: stable even when items are added or deleted between pages.
    const after = page.cursor ? Buffer.from(page.cursor, 'base64url').toString('utf8') : undefined;
    const remaining = after === undefined ? keys : keys.filter((k) => k > after);
    const chosen = remaining.slice(0, page.limit);
    const items = chosen.map((raw) => this.toItem(raw, this.slot(tenant, raw)!));
    const more = remaining.length > chosen.length;
    return more ? { items, cursor: Buffer.from(chosen[chosen.length - 1], 'utf8').toString('base64url') } : { items };
  }

  async put(tenant: TenantId, command: PutCommand): Promise<PutResult> {
    const existing = this.slot(tenant, command.key.raw);
    const live = existing && !existing.deleted ? existing : undefined;
    const expected = command.expectedVersion;
    if (expected === 'absent' && live) {
      throw new PreconditionFailedError(`key '${command.key.raw}' already exists`, live.version);
    }
    if (typeof expected === 'number' && live?.version !== expected) {
      throw new PreconditionFailedError(`key '${command.key.raw}' is not at version ${expected}`, live?.version);
    }
    const version = (existing?.version ?? 0) + 1;
    const entry: HistoryEntry = {
      version,
      value: copy(command.value),
      updatedAt: this.now(),
      updatedBy: command.updatedBy,
      // Like the real backends: an empty comment is none, and a write without one inherits nothing.
      ...(command.comment ? { comment: command.comment } : {}),
    };
    const depth = this.options.historyDepth;
    const history = [entry, ...(existing?.history ?? [])].slice(0, depth === undefined ? undefined : depth + 1);
    const slot: Slot = { version, deleted: false, history };
    this.tenantSlots(tenant).set(command.key.raw, slot);
    return { item: this.toItem(command.key.raw, slot), created: !live };
  }

  async delete(tenant: TenantId, command: DeleteCommand): Promise<{ version: number }> {
    const slot = this.slot(tenant, command.key.raw);
    if (!slot || slot.deleted) throw new NotFoundError(`key '${command.key.raw}' does not exist`);
    if (command.expectedVersion !== undefined && command.expectedVersion !== slot.version) {
      throw new PreconditionFailedError(`key '${command.key.raw}' is not at version ${command.expectedVersion}`, slot.version);
    }
    slot.deleted = true;
    return { version: slot.version };
  }

  async history(tenant: TenantId, key: ConfigKey, limit: number): Promise<readonly HistoryEntry[]> {
    const slot = this.slot(tenant, key.raw);
    return (slot?.history ?? []).slice(0, limit).map((h) => ({ ...h, value: copy(h.value) }));
  }

  private slot(tenant: TenantId, raw: string): Slot | undefined {
    return this.slots.get(tenant)?.get(raw);
  }

  private tenantSlots(tenant: TenantId): Map<string, Slot> {
    let m = this.slots.get(tenant);
    if (!m) this.slots.set(tenant, (m = new Map()));
    return m;
  }

  private toItem(raw: string, slot: Slot): ConfigItem {
    const { version, value, updatedAt, updatedBy, comment } = slot.history[0];
    return { key: raw, value: copy(value), version, updatedAt, updatedBy, ...(comment !== undefined ? { comment } : {}) };
  }

  private now(): string {
    return (this.options.clock?.() ?? new Date()).toISOString();
  }
}
