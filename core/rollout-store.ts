/**
 * Where rollout records live (docs/design.md §8.3): the control plane of a rollout, read and
 * written by the API and the driver. The DynamoDB implementation keeps them in the tenant
 * table's `_rollouts` partition (adapters/dynamodb/dynamodb-rollout-store.ts); rows there never
 * reach the cache refresh, whose Pipe filter admits tag keys and the registry only.
 */
import type { Page, PageRequest } from './backend-port';
import type { Rollout } from './rollout';

export interface RolloutStore {
  get(id: string): Promise<Rollout | undefined>;
  /** Stores a new record; ConflictError when the id is taken. */
  create(rollout: Rollout): Promise<void>;
  /** Replaces the record whose revision is `rollout.revision - 1`; PreconditionFailedError when another change came first. */
  update(rollout: Rollout): Promise<void>;
  /** Newest first (ids sort by creation time). */
  list(page: PageRequest): Promise<Page<Rollout>>;
  /** The ones the driver's tick looks at (core/rollout.ts `needsDriver`): in progress, paused, or final but not yet settled. */
  listActive(): Promise<Rollout[]>;
}

/** The state of the named alarms (CloudWatch on AWS, `PUT /local/alarms/{name}` locally); a name no alarm has is left out. */
export interface AlarmStates {
  statesOf(names: readonly string[]): Promise<ReadonlyMap<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>>;
}
