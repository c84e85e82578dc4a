/**
 * The alarms of the local system (docs/design.md §8.3): set by `PUT /local/alarms/{name}` body
 * `{"state": "ALARM" | "OK"}` on the local front, read by the rollout driver as CloudWatch's
 * are read on AWS. Any name is an alarm here, OK until set, so a rollout may name one first.
 */
import { InvalidRequestError } from '../core/errors';
import type { AlarmState } from '../core/rollout';
import type { AlarmStates } from '../core/rollout-store';

const SETTABLE: readonly AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];
const NAME = /^[\x20-\x7e]{1,255}$/;

export class LocalAlarms implements AlarmStates {
  private readonly states = new Map<string, AlarmState>();
  private readonly listeners = new Set<(name: string, state: AlarmState) => void>();

  async statesOf(names: readonly string[]): Promise<ReadonlyMap<string, AlarmState>> {
    return new Map(names.map((n) => [n, this.states.get(n) ?? 'OK']));
  }

  /** Sets an alarm from a request body; 400 on anything but `{"state": "ALARM" | "OK" | "INSUFFICIENT_DATA"}`. */
  set(name: string, body: unknown): AlarmState {
    if (!NAME.test(name)) throw new InvalidRequestError('alarm name must be 1 to 255 printable ASCII characters');
    const state = (body as { state?: unknown } | null)?.state;
    if (typeof body !== 'object' || body === null || !SETTABLE.includes(state as AlarmState)) {
      throw new InvalidRequestError('body must be {"state": "ALARM" | "OK" | "INSUFFICIENT_DATA"}');
    }
    this.states.set(name, state as AlarmState);
    for (const listener of this.listeners) listener(name, state as AlarmState);
    return state as AlarmState;
  }

  /** Called on every change: the local driver ticks at once on ALARM, as the alarm's EventBridge rule makes it do on AWS. */
  onChange(listener: (name: string, state: AlarmState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
