/**
 * The local driver of rollouts: the same `RolloutService.tick` the AWS driver Lambda runs every
 * minute (lambda/rollout-driver), here every `intervalMs` and at once when a local alarm goes to
 * ALARM (as the alarm's EventBridge rule makes it on AWS). Ticks never overlap.
 */
import type { GenericLogger } from '../core/logger';
import type { RolloutService } from '../core/rollout-service';
import type { LocalAlarms } from './local-alarms';

export const DEFAULT_ROLLOUT_TICK_MS = 250;

export interface RolloutTimer {
  /** Runs one tick now (after the one in flight, if any); resolves when it is done. */
  tickNow(): Promise<void>;
  stop(): Promise<void>;
}

export function startRolloutTimer(service: RolloutService, alarms: LocalAlarms, options: { intervalMs?: number; logger?: GenericLogger } = {}): RolloutTimer {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tickNow = (): Promise<void> => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        const report = await service.tick();
        for (const c of report.changed) options.logger?.info('rollout step', c);
      } catch (error) {
        options.logger?.warn('rollout tick failed; the next one retries', { error: String(error) });
      }
    });
    return running;
  };
  let pending = false;
  const timer = setInterval(() => {
    // A tick slower than the interval is not queued up behind itself.
    if (pending) return;
    pending = true;
    void tickNow().finally(() => (pending = false));
  }, options.intervalMs ?? DEFAULT_ROLLOUT_TICK_MS);
  timer.unref();
  const unsubscribe = alarms.onChange((_name, state) => {
    if (state === 'ALARM') void tickNow();
  });
  return {
    tickNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await running;
    },
  };
}
