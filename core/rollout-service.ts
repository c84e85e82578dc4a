/**
 * The rollouts' use cases (docs/design.md §8.3), free of AWS: start, read, list, pause, resume
 * and roll back (operators), and the driver's tick, which the local timer (local/rollout-timer.ts)
 * and on AWS a scheduled Lambda call. Every change is stored first, compare-and-set on the
 * record's revision, and then made true in the layer's item; `reconcile` repeats the second
 * step, so a crash between the two (a Lambda or a process dying mid-wave) is repaired by the
 * next tick, and the layer never runs ahead of the record.
 */
import { authorizeOperation, type TenantAccess } from './access-policy';
import { ConfigService } from './config-service';
import { ConflictError, InvalidRequestError, NotFoundError, PreconditionFailedError } from './errors';
import type { ConfigItem, JsonValue } from './item';
import { parseLayer, type Layer } from './layers';
import type { GenericLogger } from './logger';
import type { OperatorPrincipal, Principal } from './principal';
import {
  command,
  isActive,
  layerCommentOf,
  needsDriver,
  layerValueOf,
  parseRolloutSpec,
  startRollout,
  tick,
  type AlarmState,
  type OperatorCommand,
  type Rollout,
} from './rollout';
import { newRolloutId, ROLLOUT_ID_PATTERN } from './rollout-ids';
import type { AlarmStates, RolloutStore } from './rollout-store';
import { rolloutOf } from './rollout-value';
import type { TenantSchema } from './tenant-attributes';

export const DEFAULT_ROLLOUT_PAGE_LIMIT = 20;
export const MAX_ROLLOUT_PAGE_LIMIT = 100;

export interface RolloutServiceDeps {
  readonly store: RolloutStore;
  readonly alarms: AlarmStates;
  readonly config: ConfigService;
  readonly schema: TenantSchema;
  readonly clock?: () => Date;
  readonly logger?: GenericLogger;
  /** Refuse an alarm name the alarm source does not know (on AWS: no such CloudWatch alarm). @default true */
  readonly requireKnownAlarm?: boolean;
}

/** What `tick` did, for logs and tests. */
export interface TickReport {
  readonly checked: number;
  readonly changed: readonly { id: string; state: Rollout['state']; wave: number }[];
  readonly failed: readonly { id: string; error: string }[];
}

/** Who the driver writes as: the rollout itself, an operator by rights, recorded as `updatedBy`. */
const driverPrincipal = (r: Rollout): OperatorPrincipal => ({ kind: 'operator', subject: `rollout:${r.id}` });

export class RolloutService {
  private readonly clock: () => Date;

  constructor(private readonly deps: RolloutServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async start(caller: Principal, body: unknown): Promise<Rollout> {
    authorizeOperation(caller, 'starting a rollout');
    const spec = parseRolloutSpec(body);
    const layer = parseLayer(spec.layer, this.deps.schema);
    const access = ConfigService.layerAccess(caller, layer);
    const current = await this.deps.config.layerItemForRollout(access, spec.key, spec.value);
    const running = rolloutOf(current?.value);
    if (running) throw new ConflictError(`key '${spec.key}' of ${spec.layer} is already being rolled out (rollout ${running.id})`);
    if (spec.alarm !== undefined && this.deps.requireKnownAlarm !== false) {
      const states = await this.deps.alarms.statesOf([spec.alarm]);
      if (!states.has(spec.alarm)) throw new InvalidRequestError(`alarm '${spec.alarm}' does not exist`);
    }
    const now = this.clock();
    const rollout = startRollout({ ...spec, layer: spec.layer }, current ? { value: current.value } : undefined, {
      id: newRolloutId(now),
      by: caller.subject,
      now,
    });
    // Refused before anything is stored: a rollout whose shape cannot be written would sit in the store, active, failing every tick.
    this.deps.config.checkRolloutFits(access, spec.key, layerValueOf({ ...rollout, wave: rollout.waves.length - 1 })!);
    await this.deps.store.create(rollout);
    await this.apply(rollout, layer, current);
    return rollout;
  }

  async get(caller: Principal, id: string): Promise<Rollout> {
    authorizeOperation(caller, 'reading rollouts');
    return this.load(id);
  }

  async list(caller: Principal, query: { limit?: number; nextToken?: string }): Promise<{ items: Rollout[]; nextToken?: string }> {
    authorizeOperation(caller, 'listing rollouts');
    const limit = query.limit ?? DEFAULT_ROLLOUT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ROLLOUT_PAGE_LIMIT) {
      throw new InvalidRequestError(`limit must be an integer from 1 to ${MAX_ROLLOUT_PAGE_LIMIT}`);
    }
    if (query.nextToken !== undefined && !ROLLOUT_ID_PATTERN.test(query.nextToken)) throw new InvalidRequestError('nextToken is not one this API gave');
    const page = await this.deps.store.list({ limit, cursor: query.nextToken });
    return { items: [...page.items], ...(page.cursor ? { nextToken: page.cursor } : {}) };
  }

  /** pause, resume or rollback; a command that already holds answers the rollout as it is. */
  async command(caller: Principal, id: string, what: OperatorCommand): Promise<Rollout> {
    authorizeOperation(caller, `${what === 'rollback' ? 'rolling back' : what === 'pause' ? 'pausing' : 'resuming'} a rollout`);
    const held = await this.load(id);
    // A settled record's layer is in sync; any other is repaired first. Either way the layer need not be read again.
    const repaired = needsDriver(held) ? await this.repair(held) : undefined;
    return this.transition(id, (r) => command(r, what, caller.subject, this.clock()), repaired ?? held, true);
  }

  /**
   * One step of the driver for every active rollout: read their alarms (one call for all), move
   * each as time and its alarm say, and make every layer item match its record.
   */
  async tick(): Promise<TickReport> {
    const active = await this.deps.store.listActive();
    const names = [...new Set(active.flatMap((r) => (r.alarm ? [r.alarm] : [])))];
    const states = names.length > 0 ? await this.deps.alarms.statesOf(names) : new Map<string, AlarmState>();
    const changed: { id: string; state: Rollout['state']; wave: number }[] = [];
    const failed: { id: string; error: string }[] = [];
    await Promise.all(
      active.map(async (r) => {
        try {
          const alarm = r.alarm ? states.get(r.alarm) : undefined;
          // An alarm goes straight to the rollback, which writes the layer anyway; else a lagging layer is repaired first, and that is the tick.
          const repaired = alarm === 'ALARM' ? undefined : await this.repair(r);
          const after =
            repaired ??
            (await this.transition(r.id, (held) => tick(held, this.clock(), held.alarm ? states.get(held.alarm) : undefined), r, alarm !== 'ALARM'));
          if (after.revision !== r.revision) changed.push({ id: after.id, state: after.state, wave: after.wave });
        } catch (error) {
          failed.push({ id: r.id, error: String(error) });
          this.deps.logger?.error('rollout step failed; the next tick retries it', { rollout: r.id, error: String(error) });
        }
      }),
    );
    return { checked: active.length, changed, failed };
  }

  /**
   * Stores what `change` makes of the record (retrying on a concurrent change), then makes the
   * layer match. `inSync`: the caller has just checked that the layer matches `known`, so an
   * unchanged record needs no second read of it.
   */
  private async transition(id: string, change: (r: Rollout) => Rollout, known?: Rollout, inSync = false): Promise<Rollout> {
    let held = known ?? (await this.load(id));
    for (let attempt = 0; ; attempt++) {
      const next = change(held);
      try {
        if (next !== held) await this.deps.store.update(next);
        if (next !== held || !inSync) await this.reconcile(next);
        return isActive(next) || next.settled ? next : await this.settle(next);
      } catch (error) {
        if (!(error instanceof PreconditionFailedError) || attempt >= 3) throw error;
        held = await this.load(id);
        inSync = false;
      }
    }
  }

  /**
   * A layer left behind its record (a write that failed, a process that died after storing the
   * record): written now, and the wave's bake starts again, because the wave was not live while
   * the layer lagged; so the tick does not advance it, and no wave goes unbaked. Undefined when
   * the layer holds what the record says.
   */
  private async repair(r: Rollout): Promise<Rollout | undefined> {
    const layer = parseLayer(r.layer, this.deps.schema);
    const current = await this.deps.config.layerItemForRollout(this.driverAccess(r, layer), r.key);
    if (!(await this.apply(r, layer, current))) return undefined;
    if (!isActive(r)) return this.settle(r);
    const restarted = { ...r, waveStartedAt: this.clock().toISOString(), updatedAt: this.clock().toISOString(), revision: r.revision + 1 };
    await this.deps.store.update(restarted);
    return restarted;
  }

  /** A final record whose outcome the layer now holds: the driver may forget it. */
  private async settle(r: Rollout): Promise<Rollout> {
    const settled = { ...r, settled: true, revision: r.revision + 1 };
    await this.deps.store.update(settled);
    return settled;
  }

  /** Makes the layer's item hold what the record says, if it does not already (idempotent). */
  private async reconcile(r: Rollout): Promise<void> {
    const layer = parseLayer(r.layer, this.deps.schema);
    const current = await this.deps.config.layerItemForRollout(this.driverAccess(r, layer), r.key);
    await this.apply(r, layer, current);
  }

  /** Writes the layer's item when it does not hold what the record says; true when it wrote. */
  private async apply(r: Rollout, layer: Layer, current: ConfigItem | undefined): Promise<boolean> {
    const wanted = layerValueOf(r);
    if (sameValue(current?.value, wanted)) return false;
    const held = rolloutOf(current?.value);
    // Another rollout's item, or a final rollout whose key has moved on since: not this record's to change.
    if (held ? held.id !== r.id : !isActive(r)) return false;
    await this.deps.config.writeRolloutStep(this.driverAccess(r, layer), r.key, wanted, {
      expectedVersion: current ? current.version : 'absent',
      comment: layerCommentOf(r),
    });
    return true;
  }

  private driverAccess(r: Rollout, layer: Layer): TenantAccess {
    const last = r.events[r.events.length - 1];
    // Recorded as updatedBy: the operator or alarm behind the step, or the rollout for a timed wave.
    const by = last && last.by !== 'rollout' ? last.by : `rollout:${r.id}`;
    return ConfigService.layerAccess({ ...driverPrincipal(r), subject: by }, layer);
  }

  private async load(id: string): Promise<Rollout> {
    if (!ROLLOUT_ID_PATTERN.test(id)) throw new NotFoundError(`no rollout '${id.slice(0, 64)}'`);
    const r = await this.deps.store.get(id);
    if (!r) throw new NotFoundError(`no rollout '${id}'`);
    return r;
  }
}

/** Equal as JSON, whatever the order of object keys a store gives back. */
function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical(a) === canonical(b);
}

function canonical(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
    .join(',')}}`;
}
