/** A RolloutStore in memory with the DynamoDB adapter's semantics (create-once, compare-and-set on revision, newest first). */
import type { Page, PageRequest } from '../../core/backend-port';
import { ConflictError, PreconditionFailedError } from '../../core/errors';
import { needsDriver, type Rollout } from '../../core/rollout';
import type { RolloutStore } from '../../core/rollout-store';

export class InMemoryRolloutStore implements RolloutStore {
  private readonly rows = new Map<string, string>();

  async get(id: string): Promise<Rollout | undefined> {
    const row = this.rows.get(id);
    return row === undefined ? undefined : (JSON.parse(row) as Rollout);
  }

  async create(rollout: Rollout): Promise<void> {
    if (this.rows.has(rollout.id)) throw new ConflictError(`rollout '${rollout.id}' exists already`);
    this.rows.set(rollout.id, JSON.stringify(rollout));
  }

  async update(rollout: Rollout): Promise<void> {
    const held = await this.get(rollout.id);
    if (!held || held.revision !== rollout.revision - 1) throw new PreconditionFailedError(`rollout '${rollout.id}' was changed by another request`);
    this.rows.set(rollout.id, JSON.stringify(rollout));
  }

  async list(page: PageRequest): Promise<Page<Rollout>> {
    const ids = [...this.rows.keys()].sort().reverse();
    const from = page.cursor === undefined ? 0 : ids.indexOf(page.cursor) + 1;
    const slice = ids.slice(from, from + page.limit);
    const items = await Promise.all(slice.map(async (id) => (await this.get(id))!));
    return from + page.limit < ids.length ? { items, cursor: slice[slice.length - 1] } : { items };
  }

  async listActive(): Promise<Rollout[]> {
    const all = await Promise.all([...this.rows.keys()].map(async (id) => (await this.get(id))!));
    return all.filter(needsDriver);
  }
}
