/**
 * The rollout state machine (docs/design.md §8.3), pure: a rollout record and the transitions
 * that time, an alarm and an operator make of it. The driver (core/rollout-driver.ts) stores
 * each new record and then makes the layer's item match it (core/rollout-value.ts), so the
 * record is always the truth and the item never runs ahead of it.
 *
 * - `in_progress`: wave `wave` is live (its percent of tenants on the new value) and baking
 *   since `waveStartedAt`; a tick after `bakeSeconds` moves to the next wave, one wave per
 *   tick, so a late tick (a restart, a slow scheduler) never skips one; after the last wave
 *   (100 %) has baked, `complete`.
 * - `paused`: the wave stays live and does not advance; resume restarts its bake.
 * - An alarm in ALARM while `in_progress` or `paused` (tenants are on the new value in both)
 *   rolls back, as an operator's rollback does: `rolled_back`, every tenant on the old value.
 * - `complete` and `rolled_back` are final.
 */
import { ConflictError, InvalidRequestError } from './errors';
import type { JsonValue } from './item';
import { rolloutValue } from './rollout-value';

export type RolloutState = 'in_progress' | 'paused' | 'complete' | 'rolled_back';
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type RolloutAction = 'started' | 'wave' | 'paused' | 'resumed' | 'rolled_back' | 'completed';

export interface RolloutEvent {
  readonly at: string;
  /** The operator, `alarm:<name>` for an automatic rollback, `rollout` for a wave the timer started. */
  readonly by: string;
  readonly action: RolloutAction;
  readonly wave: number;
  readonly percent: number;
}

export interface RolloutSpec {
  readonly key: string;
  /** `platform` or `segment:<attribute>=<value>`. */
  readonly layer: string;
  readonly value: JsonValue;
  /** Percent of tenants on the new value in each wave: increasing, the last 100. */
  readonly waves: readonly number[];
  readonly bakeSeconds: number;
  readonly alarm?: string;
}

export interface Rollout extends RolloutSpec {
  readonly id: string;
  readonly state: RolloutState;
  /** Index into `waves` of the live wave. */
  readonly wave: number;
  readonly waveStartedAt: string;
  /** The layer's value before the rollout; absent when it held none. */
  readonly previous?: { readonly value: JsonValue };
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** +1 on every stored change: the store compares and sets on it. */
  readonly revision: number;
  /**
   * Set on a final record once the layer's item holds its outcome. Until then the driver keeps
   * picking it up, so a crash between storing `rolled_back` and writing the old value is
   * repaired by the next tick like any other step.
   */
  readonly settled?: boolean;
  readonly events: readonly RolloutEvent[];
}

export const DEFAULT_WAVES: readonly number[] = [1, 10, 50, 100];
export const MAX_WAVES = 10;
export const MAX_BAKE_SECONDS = 86_400;
const ALARM_NAME = /^[\x20-\x7e]{1,255}$/;
const SPEC_FIELDS = new Set(['key', 'layer', 'value', 'waves', 'bakeSeconds', 'alarm']);

export const isActive = (r: Pick<Rollout, 'state'>): boolean => r.state === 'in_progress' || r.state === 'paused';

/** What the driver's tick must look at: active rollouts, and final ones whose last layer write has not been confirmed. */
export const needsDriver = (r: Pick<Rollout, 'state' | 'settled'>): boolean => isActive(r) || r.settled !== true;

/** The percent of tenants on the new value: the live wave's, 100 once complete, 0 once rolled back. */
export function percentOf(r: Rollout): number {
  if (r.state === 'complete') return 100;
  if (r.state === 'rolled_back') return 0;
  return r.waves[r.wave];
}

/** Checks a `POST /v1/rollouts` body; 400 saying what is wrong. Key and layer are parsed by the caller. */
export function parseRolloutSpec(body: unknown): RolloutSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError('body must be a JSON object: {"key", "layer", "value", "waves", "bakeSeconds", "alarm"?}');
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !SPEC_FIELDS.has(k));
  if (unknown !== undefined) throw new InvalidRequestError(`unknown field '${unknown.slice(0, 64)}'`);
  if (typeof b.key !== 'string') throw new InvalidRequestError('key must be a string');
  if (typeof b.layer !== 'string') throw new InvalidRequestError("layer must be 'platform' or 'segment:<attribute>=<value>'");
  if (!('value' in b) || b.value === undefined) throw new InvalidRequestError('value is required');
  const waves = b.waves === undefined ? DEFAULT_WAVES : b.waves;
  if (!Array.isArray(waves) || waves.length < 1 || waves.length > MAX_WAVES) {
    throw new InvalidRequestError(`waves must be an array of 1 to ${MAX_WAVES} percentages`);
  }
  waves.forEach((w, i) => {
    if (!Number.isInteger(w) || (w as number) < 1 || (w as number) > 100) throw new InvalidRequestError(`waves[${i}] must be an integer from 1 to 100`);
    if (i > 0 && (w as number) <= (waves[i - 1] as number)) throw new InvalidRequestError('waves must increase strictly');
  });
  if (waves[waves.length - 1] !== 100) throw new InvalidRequestError('the last wave must be 100: a rollout ends with every tenant on the new value');
  const bakeSeconds = b.bakeSeconds === undefined ? 300 : b.bakeSeconds;
  if (!Number.isInteger(bakeSeconds) || (bakeSeconds as number) < 0 || (bakeSeconds as number) > MAX_BAKE_SECONDS) {
    throw new InvalidRequestError(`bakeSeconds must be an integer from 0 to ${MAX_BAKE_SECONDS}`);
  }
  if (b.alarm !== undefined && (typeof b.alarm !== 'string' || !ALARM_NAME.test(b.alarm))) {
    throw new InvalidRequestError('alarm must be an alarm name: 1 to 255 printable ASCII characters');
  }
  return {
    key: b.key,
    layer: b.layer,
    value: b.value as JsonValue,
    waves: [...(waves as number[])],
    bakeSeconds: bakeSeconds as number,
    ...(b.alarm !== undefined ? { alarm: b.alarm as string } : {}),
  };
}

export function startRollout(spec: RolloutSpec, previous: { value: JsonValue } | undefined, at: { id: string; by: string; now: Date }): Rollout {
  const now = at.now.toISOString();
  return {
    ...spec,
    id: at.id,
    state: 'in_progress',
    wave: 0,
    waveStartedAt: now,
    ...(previous ? { previous } : {}),
    createdBy: at.by,
    createdAt: now,
    updatedAt: now,
    revision: 1,
    events: [{ at: now, by: at.by, action: 'started', wave: 0, percent: spec.waves[0] }],
  };
}

function next(r: Rollout, change: Partial<Pick<Rollout, 'state' | 'wave' | 'waveStartedAt'>>, action: RolloutAction, by: string, now: Date): Rollout {
  const at = now.toISOString();
  const moved = { ...r, ...change, updatedAt: at, revision: r.revision + 1 };
  return { ...moved, events: [...r.events, { at, by, action, wave: moved.wave, percent: percentOf(moved) }] };
}

/**
 * What time and the alarm make of the rollout: a rollback when the alarm is in ALARM, else the
 * next wave (or completion) once the live wave has baked; the same record when nothing is due.
 */
export function tick(r: Rollout, now: Date, alarm: AlarmState | undefined): Rollout {
  if (!isActive(r)) return r;
  if (alarm === 'ALARM') return next(r, { state: 'rolled_back' }, 'rolled_back', `alarm:${r.alarm ?? ''}`, now);
  if (r.state !== 'in_progress') return r;
  if (now.getTime() - Date.parse(r.waveStartedAt) < r.bakeSeconds * 1000) return r;
  if (r.wave === r.waves.length - 1) return next(r, { state: 'complete' }, 'completed', 'rollout', now);
  return next(r, { wave: r.wave + 1, waveStartedAt: now.toISOString() }, 'wave', 'rollout', now);
}

export type OperatorCommand = 'pause' | 'resume' | 'rollback';

/**
 * An operator's command. Repeating one that already holds (pausing a paused rollout) answers
 * the record unchanged, so a retried request is harmless; a final rollout refuses all (409).
 */
export function command(r: Rollout, what: OperatorCommand, by: string, now: Date): Rollout {
  if (what === 'pause' && r.state === 'paused') return r;
  if (what === 'resume' && r.state === 'in_progress') return r;
  if (what === 'rollback' && r.state === 'rolled_back') return r;
  if (!isActive(r)) throw new ConflictError(`rollout '${r.id}' is ${r.state.replace('_', ' ')}: it cannot be ${PAST[what]}`);
  switch (what) {
    case 'pause':
      return next(r, { state: 'paused' }, 'paused', by, now);
    case 'resume':
      return next(r, { state: 'in_progress', waveStartedAt: now.toISOString() }, 'resumed', by, now);
    case 'rollback':
      return next(r, { state: 'rolled_back' }, 'rolled_back', by, now);
  }
}

const PAST: Record<OperatorCommand, string> = { pause: 'paused', resume: 'resumed', rollback: 'rolled back' };

/** What the layer's item must hold for this record: the rollout's shape, the new value, or the old value (undefined = no item). */
export function layerValueOf(r: Rollout): JsonValue | undefined {
  switch (r.state) {
    case 'complete':
      return r.value;
    case 'rolled_back':
      return r.previous?.value;
    default:
      return rolloutValue({ id: r.id, percent: r.waves[r.wave], to: r.value, ...(r.previous ? { from: r.previous.value } : {}) });
  }
}

/** The note kept in the layer key's history with each write the rollout makes. */
export function layerCommentOf(r: Rollout): string {
  const last = r.events[r.events.length - 1];
  const step =
    r.state === 'complete' ? 'complete' : r.state === 'rolled_back' ? 'rolled back' : `wave ${r.wave + 1} of ${r.waves.length} (${r.waves[r.wave]}%)`;
  return `rollout ${r.id}: ${step}${last ? `, by ${last.by}` : ''}`;
}
