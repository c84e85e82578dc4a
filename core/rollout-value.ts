/**
 * How a running rollout is stored in the data plane (docs/design.md §8.3): the layer's item of
 * the key itself holds both values and the current percent, `{"$rollout": {"id", "percent",
 * "to", "from"?}}`. Every resolver (API, fanout, and through them the SDK) reads that one item
 * as it reads any default and serves each tenant the value of its bucket: no extra store read
 * per tenant, and every wave is one write, one change event and one log entry, like any default
 * change. `from` absent: the layer held no value before, so tenants outside the wave fall
 * through to the layers under it.
 */
import { rolloutBucket } from './bucket';
import { InvalidValueError } from './errors';
import type { ConfigItem, JsonValue } from './item';

export const ROLLOUT_FIELD = '$rollout';

export interface RolloutValue {
  readonly id: string;
  /** Tenants whose bucket is below this get `to`. */
  readonly percent: number;
  readonly to: JsonValue;
  /** Absent when the layer held no value before the rollout. */
  readonly from?: JsonValue;
}

/** The rollout a stored value holds, or undefined for a plain value. */
export function rolloutOf(value: JsonValue | undefined): RolloutValue | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const held = (value as Record<string, JsonValue>)[ROLLOUT_FIELD];
  if (held === undefined || held === null || typeof held !== 'object' || Array.isArray(held)) return undefined;
  const r = held as Record<string, JsonValue>;
  if (typeof r.id !== 'string' || typeof r.percent !== 'number' || !('to' in r)) return undefined;
  return r as unknown as RolloutValue;
}

export function rolloutValue(r: RolloutValue): JsonValue {
  const inner: Record<string, JsonValue> = { id: r.id, percent: r.percent, to: r.to };
  if (r.from !== undefined) inner.from = r.from;
  return { [ROLLOUT_FIELD]: inner };
}

/** Whether `tenant` is on the new value of a rollout of `key` at `percent`. */
export const onNewValue = (key: string, tenant: string, percent: number): boolean => rolloutBucket(key, tenant) < percent;

/**
 * A layer's item as one tenant sees it: the item itself, or under a rollout the value of the
 * tenant's bucket (undefined when that is "no value in this layer").
 */
export function servedItem(item: ConfigItem, tenant: string): ConfigItem | undefined {
  const rollout = rolloutOf(item.value);
  if (!rollout) return item;
  if (onNewValue(item.key, tenant, rollout.percent)) return { ...item, value: rollout.to };
  return rollout.from === undefined ? undefined : { ...item, value: rollout.from };
}

/** Writers other than the rollout driver may not store the driver's shape: it would be served as a rollout. */
export function refuseRolloutShape(value: JsonValue): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && ROLLOUT_FIELD in value) {
    throw new InvalidValueError(`'${ROLLOUT_FIELD}' is reserved for rollouts (POST /v1/rollouts) and may not be written as a value's field`);
  }
}
