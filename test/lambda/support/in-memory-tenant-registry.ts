/** A TenantRegistry in memory, with the DynamoDB adapter's semantics (compare-and-set, id order, opaque cursor). */
import type { Page, PageRequest } from '../../../core/backend-port';
import { NotFoundError, PreconditionFailedError } from '../../../core/errors';
import type { TenantId } from '../../../core/tenant';
import type { PutTenantCommand, TenantRecord, TenantRegistry } from '../../../core/tenant-registry';

export class InMemoryTenantRegistry implements TenantRegistry {
  private readonly records = new Map<string, TenantRecord>();
  /** Milliseconds added to every timestamp, so successive writes differ. */
  private tick = 0;

  async get(tenant: TenantId): Promise<TenantRecord | undefined> {
    return this.records.get(tenant);
  }

  async put(tenant: TenantId, command: PutTenantCommand): Promise<{ record: TenantRecord; created: boolean }> {
    const current = this.records.get(tenant);
    const expected = command.expectedVersion;
    if (expected === 'absent' && current) throw new PreconditionFailedError(`tenant '${tenant}' is already registered`, current.version);
    if (typeof expected === 'number' && current?.version !== expected) {
      throw new PreconditionFailedError(`tenant '${tenant}' is at version ${current?.version ?? 'none'}, not ${expected}`, current?.version);
    }
    const now = new Date(Date.UTC(2026, 0, 1) + this.tick++).toISOString();
    const offboarding = command.offboarding === null ? undefined : (command.offboarding ?? current?.offboarding);
    const record: TenantRecord = {
      tenantId: tenant,
      attributes: { ...command.attributes },
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      updatedBy: command.updatedBy,
      ...(offboarding ? { offboarding } : {}),
    };
    this.records.set(tenant, record);
    return { record, created: current === undefined };
  }

  async delete(tenant: TenantId): Promise<void> {
    if (!this.records.delete(tenant)) throw new NotFoundError(`tenant '${tenant}' is not registered`);
  }

  async list(page: PageRequest): Promise<Page<TenantRecord>> {
    const ids = [...this.records.keys()].sort().filter((id) => page.cursor === undefined || id > page.cursor);
    const chosen = ids.slice(0, page.limit);
    const more = ids.length > chosen.length;
    return { items: chosen.map((id) => this.records.get(id)!), cursor: more ? chosen[chosen.length - 1] : undefined };
  }
}
